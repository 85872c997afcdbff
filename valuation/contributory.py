"""Contributory asset charges (CAC) of the excess earnings method, and their reconciliation.

The subject intangible earns its income only with the help of other assets; each is paid a
fair return out of that income before the excess earnings remain (Appraisal Foundation, VFR
Valuation Advisory #1, "Identification of Contributory Assets and Calculation of Economic
Rents", 2010; Reilly and Schweihs, "Guide to Intangible Asset Valuation"):

- the return ON an asset: its value x its required return (after tax);
- the return OF an asset that is used up (fixed assets: depreciation; workforce and other
  intangibles: amortisation), a pre-tax expense, so after tax it costs return_of x (1 - T);
  working capital is not used up and earns the return on only.

A charge is thus CAC_t = V_t r + RO_t (1 - T), or a given share of revenue. The charges
reconcile to the assets when the required returns of all the business's assets, weighted by
their values (the weighted average return on assets, WARA), come back to the business's WACC:
WARA = (sum V_i r_i + V_subject k) / (sum V_i + V_subject).

Shapes: per-path numbers ``(...)``, per-year series ``(..., years)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.valuation.discounting import FloatArray, per_path


@dataclass(frozen=True)
class ValueCharge:
    """One charge given by the asset's value.

    Attributes
    ----------
    values : array (..., years)
        The asset's value each year, currency.
    return_on : array (..., years)
        values x required return, currency.
    return_of : array (..., years)
        Depreciation or amortisation after tax, return_of x (1 - T), currency.
    charge : array (..., years)
        return_on + return_of, currency.
    """

    values: FloatArray
    return_on: FloatArray
    return_of: FloatArray
    charge: FloatArray


def value_charge(
    values: ArrayLike,
    required_return: ArrayLike,
    tax_rate: ArrayLike,
    *,
    return_of: ArrayLike | None = None,
    life_years: ArrayLike | None = None,
) -> ValueCharge:
    """The charge for one contributory asset: V_t r + RO_t (1 - T).

    Parameters
    ----------
    values : array (..., years)
        The asset's value each year, currency.
    required_return : float or array (...)
        After-tax annual return on the asset, decimal.
    tax_rate : float or array (...)
        Decimal; the return of is tax-deductible.
    return_of : float or array (...), optional
        Pre-tax depreciation or amortisation a year, currency.
    life_years : float or array (...), optional
        Straight-line life: return of = V_t / life a year, years.
    """
    v = np.asarray(values, dtype=float)
    on = v * per_path(required_return)
    if life_years is not None:
        of_pre_tax = v / per_path(life_years)
    elif return_of is not None:
        of_pre_tax = np.broadcast_to(per_path(return_of), np.broadcast_shapes(v.shape, on.shape))
    else:
        of_pre_tax = np.zeros_like(on)
    of = of_pre_tax * (1.0 - per_path(tax_rate))
    return ValueCharge(values=v, return_on=on, return_of=of, charge=on + of)


@dataclass(frozen=True)
class Weighting:
    """Required returns weighted by each asset's share of the total.

    Attributes
    ----------
    weights : list of float
        Each entry's share of the total (values over their sum, or the weights given).
    weighted : list
        Each entry's share x its required return, annual decimal (float or array (...) of
        paths); None for the entry whose return is the unknown.
    total : float or array (...)
        Sum of the known weighted returns, annual decimal: the weighted average return on the
        assets (WARA) when every return is known.
    """

    weights: list[float]
    weighted: list[Any]
    total: Any


def weigh_returns(
    returns: Sequence[ArrayLike | None],
    *,
    values: Sequence[float] | None = None,
    weights: Sequence[float] | None = None,
) -> Weighting:
    """Value-weighted required returns: sum_i w_i r_i with w_i = V_i / sum_j V_j.

    The one weighting of returns on assets: the excess earnings' WARA check weighs every
    asset's return (the subject's at its discount rate) and compares the total with the WACC;
    the ``wara`` derivation weighs the other assets' returns and solves the subject's (given
    as None) so the total meets the WACC.

    Parameters
    ----------
    returns : sequence of float, array (...) or None
        Each asset's required return, annual decimal; None for the one to be solved (it keeps
        its weight and is left out of the total).
    values : sequence of float, optional
        Each asset's value, currency; the weights are the values' shares of their sum.
    weights : sequence of float, optional
        Each asset's share of the capital, decimal (summing to 1), taken as given. Exactly one
        of ``values`` and ``weights``.

    Returns
    -------
    Weighting
    """
    if (values is None) == (weights is None):
        raise ValueError("give the values or the weights, exactly one")
    if values is not None:
        total_value = float(sum(values))
        shares = [float(v) / total_value for v in values]
    else:
        shares = [float(w) for w in weights or ()]
    if len(shares) != len(returns):
        raise ValueError(f"{len(returns)} returns for {len(shares)} weights")
    weighted = [
        None if r is None else w * np.asarray(r, dtype=float)
        for w, r in zip(shares, returns, strict=True)
    ]
    total: Any = sum((x for x in weighted if x is not None), np.float64(0.0))
    return Weighting(weights=shares, weighted=weighted, total=total)


@dataclass(frozen=True)
class Wara:
    """The weighted average return on the assets against the WACC.

    Attributes
    ----------
    wara : float
        (sum V_i r_i + V_subject k) / (sum V_i + V_subject), decimal.
    wacc : float
        The business's WACC, decimal.
    gap : float
        wara - wacc.
    weights : dict
        Each contributory asset's share of the total value.
    subject_weight : float
        The subject's share of the total value.
    """

    wara: float
    wacc: float
    gap: float
    weights: dict[str, float]
    subject_weight: float


def weighted_return(
    values: dict[str, float],
    returns: dict[str, float],
    subject_value: float,
    subject_rate: float,
    wacc: float,
) -> Wara:
    """WARA of the contributory assets and the subject, reconciled to ``wacc``.

    Parameters
    ----------
    values, returns : dict
        Each contributory asset's value (currency) and required return (decimal).
    subject_value : float
        The subject intangible's value, currency (above 0).
    subject_rate : float
        Its discount rate, decimal.
    wacc : float
        The business's WACC, decimal.
    """
    names = list(values)
    w = weigh_returns(
        [returns[n] for n in names] + [subject_rate],
        values=[values[n] for n in names] + [subject_value],
    )
    wara = float(w.total)
    weights = dict(zip(names, w.weights[:-1], strict=True))
    return Wara(wara, wacc, wara - wacc, weights, w.weights[-1])
