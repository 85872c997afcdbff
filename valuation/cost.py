"""Cost-approach methods: replacement cost and the multiplier (倍加系数) method.

Per-path numbers have shape ``(...)``; money is in currency, rates are decimals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.valuation.discounting import FloatArray


@dataclass(frozen=True)
class CostValue:
    """A cost-approach value and its steps.

    Attributes
    ----------
    value : array (...)
        Depreciated replacement cost, currency.
    replacement_cost : array (...)
        Cost new, with developer's profit and entrepreneurial incentive, currency.
    obsolescence_factor : array (...)
        (1 - functional)(1 - technological)(1 - economic).
    depreciation_rate : array (...)
        Age-life depreciation, years used / (used + remaining); 0 when not given.
    """

    value: FloatArray
    replacement_cost: FloatArray
    obsolescence_factor: FloatArray
    depreciation_rate: FloatArray


def age_life_depreciation(years_used: ArrayLike, years_remaining: ArrayLike) -> FloatArray:
    """Age-life depreciation rate = years used / (years used + years remaining).

    Five years used and three remaining give 62.5 %. With no life at all (0 / 0) the rate is 1.
    """
    used = np.asarray(years_used, dtype=float)
    total = used + np.asarray(years_remaining, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, used / np.where(total > 0, total, 1.0), 1.0)


def _depreciate(
    cost_new: FloatArray,
    obsolescence: FloatArray,
    years_used: ArrayLike | None,
    years_remaining: ArrayLike | None,
) -> CostValue:
    if years_used is None or years_remaining is None:
        rate = np.zeros_like(cost_new)
    else:
        rate = age_life_depreciation(years_used, years_remaining)
    value = cost_new * obsolescence * (1.0 - rate)
    return CostValue(
        value=np.asarray(value, dtype=float),
        replacement_cost=cost_new,
        obsolescence_factor=np.broadcast_to(obsolescence, np.shape(value)).astype(float),
        depreciation_rate=np.broadcast_to(rate, np.shape(value)).astype(float),
    )


def replacement_cost(
    total_cost: ArrayLike,
    *,
    developer_profit_rate: ArrayLike = 0.0,
    entrepreneurial_incentive_rate: ArrayLike = 0.0,
    functional: ArrayLike = 0.0,
    technological: ArrayLike = 0.0,
    economic: ArrayLike = 0.0,
    years_used: ArrayLike | None = None,
    years_remaining: ArrayLike | None = None,
) -> CostValue:
    """Replacement cost less obsolescence and age-life depreciation.

    RC = costs x (1 + developer's profit) x (1 + entrepreneurial incentive); the incentive is
    earned on cost plus developer's profit. Value = RC (1 - f)(1 - t)(1 - e)(1 - used/(used+rem)).

    Parameters
    ----------
    total_cost : float or array (...)
        Direct and indirect cost of recreating the asset, currency.
    developer_profit_rate, entrepreneurial_incentive_rate : float or array (...)
        Decimals.
    functional, technological, economic : float or array (...)
        Obsolescence, decimal shares of value lost.
    years_used, years_remaining : float or array (...), optional
        For age-life depreciation, years.
    """
    cost_new = (
        np.asarray(total_cost, dtype=float)
        * (1.0 + np.asarray(developer_profit_rate, dtype=float))
        * (1.0 + np.asarray(entrepreneurial_incentive_rate, dtype=float))
    )
    obsolescence = (
        (1.0 - np.asarray(functional, dtype=float))
        * (1.0 - np.asarray(technological, dtype=float))
        * (1.0 - np.asarray(economic, dtype=float))
    )
    return _depreciate(cost_new, obsolescence, years_used, years_remaining)


def multiplier_cost(
    material_cost: ArrayLike,
    labour_cost: ArrayLike,
    research_labour_cost: ArrayLike,
    research_multiplier: ArrayLike,
    failure_rate: ArrayLike,
    profit_rate: ArrayLike,
    *,
    years_used: ArrayLike | None = None,
    years_remaining: ArrayLike | None = None,
) -> CostValue:
    """Multiplier method: RC = (C + beta1 V) / (1 - beta2) x (1 + L), then age-life depreciation.

    Parameters
    ----------
    material_cost, labour_cost : float or array (...)
        C, material and other labour cost, currency.
    research_labour_cost : float or array (...)
        V, research labour cost, currency.
    research_multiplier : float or array (...)
        beta1, the multiplier on research labour.
    failure_rate : float or array (...)
        beta2, the research failure rate, decimal below 1.
    profit_rate : float or array (...)
        L, decimal.
    """
    base = np.asarray(material_cost, dtype=float) + np.asarray(labour_cost, dtype=float)
    research = np.asarray(research_multiplier, dtype=float) * np.asarray(
        research_labour_cost, dtype=float
    )
    cost_new = (
        (base + research)
        / (1.0 - np.asarray(failure_rate, dtype=float))
        * (1.0 + np.asarray(profit_rate, dtype=float))
    )
    return _depreciate(cost_new, np.ones_like(cost_new), years_used, years_remaining)
