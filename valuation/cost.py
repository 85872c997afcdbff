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
        Physical depreciation, 1 - newness rate (age-life years used / (used + remaining), an
        observed newness rate, or their weighted combination); 0 when not given.
    functional_amount, economic_amount : array (...)
        Obsolescence given as amounts (excess operating cost, lost income), currency; 0 if none.
    """

    value: FloatArray
    replacement_cost: FloatArray
    obsolescence_factor: FloatArray
    depreciation_rate: FloatArray
    functional_amount: FloatArray | float = 0.0
    economic_amount: FloatArray | float = 0.0


DEFAULT_NEWNESS_WEIGHTS = (0.4, 0.6)
"""Weights of the age-life (theoretical) and the observed newness rate used when a caller gives
none: 0.4 and 0.6, a weighting often seen in Chinese equipment appraisals (综合成新率 =
年限法成新率 x 40 % + 观察法成新率 x 60 %); a convention, not a rule, so requests must name
their weights (``newness_weights``)."""


def age_life_depreciation(years_used: ArrayLike, years_remaining: ArrayLike) -> FloatArray:
    """Age-life depreciation rate = years used / (years used + years remaining).

    Five years used and three remaining give 62.5 %. With no life at all (0 / 0) the rate is 1.
    """
    used = np.asarray(years_used, dtype=float)
    total = used + np.asarray(years_remaining, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, used / np.where(total > 0, total, 1.0), 1.0)


def depreciation_rate(
    years_used: ArrayLike | None = None,
    years_remaining: ArrayLike | None = None,
    observed_newness: ArrayLike | None = None,
    weights: tuple[float, float] = DEFAULT_NEWNESS_WEIGHTS,
) -> FloatArray:
    """Physical depreciation = 1 - newness rate (成新率), in [0, 1].

    Age-life: used / (used + remaining); an observed newness rate n: 1 - n; both: the
    newness rates weighted, 1 - (``weights[0]`` x age-life newness + ``weights[1]`` x n).
    Neither gives 0 (no depreciation).

    Parameters
    ----------
    years_used, years_remaining : float or array (...), optional
        Years, for the age-life rate.
    observed_newness : float or array (...), optional
        Newness rate by direct observation, decimal (1 = as new).
    weights : (float, float)
        Weights of the age-life and the observed newness; they sum to 1.
    """
    age = (
        None
        if years_used is None or years_remaining is None
        else age_life_depreciation(years_used, years_remaining)
    )
    if age is None and observed_newness is None:
        return np.asarray(0.0)
    if observed_newness is None:
        return np.asarray(age, dtype=float)
    seen = 1.0 - np.asarray(observed_newness, dtype=float)
    if age is None:
        return seen
    return weights[0] * age + weights[1] * seen


def restate_by_index(amount: ArrayLike, index_from: ArrayLike, index_to: ArrayLike) -> FloatArray:
    """A historical cost restated by a price index (物价指数调整): amount x index_to / index_from.

    Parameters
    ----------
    amount : float or array (...)
        Cost when spent, currency of that time.
    index_from, index_to : float or array (...)
        Price index when the cost was spent and at the valuation date (same base).
    """
    return (
        np.asarray(amount, dtype=float)
        * np.asarray(index_to, dtype=float)
        / np.asarray(index_from, dtype=float)
    )


def annuity_pv(rate: ArrayLike, years: ArrayLike) -> FloatArray:
    """Present value of 1 a year at year ends: PVA(k, n) = (1 - (1 + k)^-n) / k (n when k = 0).

    ``years`` may be fractional; for whole years it equals ``discounting.annuity_factor``.
    """
    k = np.asarray(rate, dtype=float)
    n = np.asarray(years, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k == 0, n, (1.0 - (1.0 + k) ** -n) / np.where(k == 0, 1.0, k))


def after_tax_annuity(
    annual_amount: ArrayLike, tax_rate: ArrayLike, rate: ArrayLike, years: ArrayLike
) -> FloatArray:
    """A pre-tax amount a year, after tax, for ``years`` years: A (1 - T) PVA(k, n).

    Functional obsolescence from excess operating cost (超额运营成本 x (1 - T) x (P/A, r, n)) and
    economic obsolescence from lost income (年收益损失额 x (1 - T) x (P/A, r, n)) both use it.
    """
    return (
        np.asarray(annual_amount, dtype=float)
        * (1.0 - np.asarray(tax_rate, dtype=float))
        * annuity_pv(rate, years)
    )


def capacity_obsolescence_rate(
    capacity_used: ArrayLike, capacity: ArrayLike, scale_exponent: ArrayLike
) -> FloatArray:
    """Economic obsolescence rate from idle capacity: 1 - (used / capacity)^x.

    x is the economies-of-scale exponent (规模经济效益指数, commonly 0.6 to 0.7).
    """
    share = np.asarray(capacity_used, dtype=float) / np.asarray(capacity, dtype=float)
    return 1.0 - share ** np.asarray(scale_exponent, dtype=float)


def _depreciate(
    cost_new: FloatArray,
    obsolescence: FloatArray,
    depreciation: FloatArray,
    functional_amount: ArrayLike,
    economic: ArrayLike,
    economic_amount: ArrayLike,
) -> CostValue:
    """RC x newness x (1 - f)(1 - t) - F, then x (1 - e) - E (the textbook order: the economic
    rate applies to the value after physical and functional obsolescence)."""
    before_economic = cost_new * (1.0 - depreciation) * obsolescence - np.asarray(
        functional_amount, float
    )
    value = before_economic * (1.0 - np.asarray(economic, float)) - np.asarray(
        economic_amount, float
    )
    factor = obsolescence * (1.0 - np.asarray(economic, float))
    shape = np.shape(value)
    return CostValue(
        value=np.asarray(value, dtype=float),
        replacement_cost=cost_new,
        obsolescence_factor=np.broadcast_to(factor, shape).astype(float),
        depreciation_rate=np.broadcast_to(depreciation, shape).astype(float),
        functional_amount=np.broadcast_to(np.asarray(functional_amount, float), shape),
        economic_amount=np.broadcast_to(np.asarray(economic_amount, float), shape),
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
    observed_newness: ArrayLike | None = None,
    newness_weights: tuple[float, float] = DEFAULT_NEWNESS_WEIGHTS,
    functional_amount: ArrayLike = 0.0,
    economic_amount: ArrayLike = 0.0,
) -> CostValue:
    """Replacement cost less depreciation and obsolescence.

    RC = costs x (1 + developer's profit) x (1 + entrepreneurial incentive); the incentive is
    earned on cost plus developer's profit. Value = (RC x newness x (1 - f)(1 - t) - F) x (1 - e)
    - E, newness = 1 - used/(used+rem) (age-life), an observed rate, or their weighted mix.

    Parameters
    ----------
    total_cost : float or array (...)
        Direct and indirect cost of recreating the asset (restated to the valuation date),
        currency.
    developer_profit_rate, entrepreneurial_incentive_rate : float or array (...)
        Decimals.
    functional, technological, economic : float or array (...)
        Obsolescence, decimal shares of value lost.
    years_used, years_remaining : float or array (...), optional
        For age-life depreciation, years.
    observed_newness : float or array (...), optional
        Newness rate by direct observation (成新率), decimal.
    newness_weights : (float, float)
        Weights of age-life and observed newness when both are given.
    functional_amount, economic_amount : float or array (...)
        Obsolescence as amounts (excess operating cost, lost income), currency.
    """
    cost_new = (
        np.asarray(total_cost, dtype=float)
        * (1.0 + np.asarray(developer_profit_rate, dtype=float))
        * (1.0 + np.asarray(entrepreneurial_incentive_rate, dtype=float))
    )
    obsolescence = (1.0 - np.asarray(functional, dtype=float)) * (
        1.0 - np.asarray(technological, dtype=float)
    )
    depreciation = depreciation_rate(years_used, years_remaining, observed_newness, newness_weights)
    return _depreciate(
        cost_new, obsolescence, depreciation, functional_amount, economic, economic_amount
    )


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
    observed_newness: ArrayLike | None = None,
    newness_weights: tuple[float, float] = DEFAULT_NEWNESS_WEIGHTS,
    functional: ArrayLike = 0.0,
    technological: ArrayLike = 0.0,
    economic: ArrayLike = 0.0,
    functional_amount: ArrayLike = 0.0,
    economic_amount: ArrayLike = 0.0,
) -> CostValue:
    """Multiplier method: RC = (C + beta1 V) / (1 - beta2) x (1 + L), then depreciation and
    obsolescence as in :func:`replacement_cost`.

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
    obsolescence = (1.0 - np.asarray(functional, dtype=float)) * (
        1.0 - np.asarray(technological, dtype=float)
    )
    depreciation = depreciation_rate(years_used, years_remaining, observed_newness, newness_weights)
    return _depreciate(
        cost_new, obsolescence, depreciation, functional_amount, economic, economic_amount
    )
