"""Market approach: comparable prices or royalty rates, adjusted, and a royalty regression."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.valuation.discounting import FloatArray

MIN_REGRESSION_EXCESS = 3
"""A regression needs at least this many comparables more than it has coefficients."""


@dataclass(frozen=True)
class ComparableSummary:
    """Centre and spread of adjusted comparables.

    Attributes
    ----------
    adjusted : array (..., comparables)
        Each comparable times the product of its adjustment factors.
    median : array (...)
        Robust centre, used as the indication.
    low, high, q25, q75 : array (...)
        Spread of the adjusted comparables.
    """

    adjusted: FloatArray
    median: FloatArray
    low: FloatArray
    high: FloatArray
    q25: FloatArray
    q75: FloatArray


def adjust_comparables(values: ArrayLike, factors: ArrayLike) -> ComparableSummary:
    """Adjust comparables by multiplicative factors and take the median and spread.

    Parameters
    ----------
    values : array (..., comparables)
        Comparable prices (currency) or royalty rates (decimal).
    factors : array (..., comparables)
        Product of each comparable's adjustment factors (time, scope, territory, exclusivity,
        remaining life, ...).
    """
    adjusted = np.asarray(values, dtype=float) * np.asarray(factors, dtype=float)
    ordered = _sorted_columns(adjusted)
    q = [_linear_quantile(ordered, p) for p in (0.0, 0.25, 0.5, 0.75, 1.0)]
    return ComparableSummary(
        adjusted=adjusted, median=q[2], low=q[0], high=q[4], q25=q[1], q75=q[3]
    )


SORTING_NETWORK_MAX = 8
"""Up to this many comparables are ordered by a sorting network over whole columns of paths."""


def _sorted_columns(adjusted: FloatArray) -> list[FloatArray]:
    """The comparables of each path in ascending order, as columns ``(...)`` per rank.

    A few comparables per path (the usual case) are ordered by odd-even transposition: ``n``
    rounds of neighbour compare-exchanges (``minimum``, ``maximum``) on whole columns, the same
    numbers as ``np.sort`` along the last axis without its per-row calls; more use ``np.sort``.
    """
    n = adjusted.shape[-1]
    if n > SORTING_NETWORK_MAX:
        ordered = np.sort(adjusted, axis=-1)
        return [ordered[..., i] for i in range(n)]
    cols = [adjusted[..., i] for i in range(n)]
    for r in range(n):
        for i in range(r % 2, n - 1, 2):
            low, high = np.minimum(cols[i], cols[i + 1]), np.maximum(cols[i], cols[i + 1])
            cols[i], cols[i + 1] = low, high
    return cols


def _linear_quantile(ordered: list[FloatArray], p: float) -> FloatArray:
    """Quantile ``p`` of values in ascending columns, interpolated linearly between order
    statistics (numpy's default ``linear`` method): one ordering serves every quantile, and a
    few comparables per path order far faster than ``np.quantile`` selects."""
    n = len(ordered)
    h = (n - 1) * p
    lo = int(np.floor(h))
    hi = min(lo + 1, n - 1)
    frac = h - lo
    a, b = ordered[lo], ordered[hi]
    return np.asarray(a if frac == 0 else a + (b - a) * frac, dtype=float)


@dataclass(frozen=True)
class RoyaltyRegression:
    """OLS of comparables' royalty rates on their characteristics, and the subject's prediction.

    Attributes
    ----------
    predicted_rate : float
        Fitted royalty rate for the subject's characteristics, decimal.
    interval : tuple of float
        95 % prediction interval for one new licence, decimal.
    coefficients : dict
        Name -> estimate; ``const`` is the intercept.
    std_errors : dict
    r_squared : float
    n_observations : int
    """

    predicted_rate: float
    interval: tuple[float, float]
    coefficients: dict[str, float]
    std_errors: dict[str, float]
    r_squared: float
    n_observations: int


def royalty_regression(
    rates: ArrayLike, characteristics: dict[str, ArrayLike], subject: dict[str, float]
) -> RoyaltyRegression:
    """Regress adjusted royalty rates on the comparables' characteristics (statsmodels OLS).

    Parameters
    ----------
    rates : array (comparables,)
        Adjusted royalty rates, decimal.
    characteristics : dict of name -> array (comparables,)
        Numeric traits of each comparable (e.g. remaining life, claims, exclusivity 0/1).
    subject : dict of name -> float
        The subject's traits, same names.

    Raises
    ------
    ValueError
        With fewer than ``len(characteristics) + 1 + MIN_REGRESSION_EXCESS`` comparables, a
        characteristic the same for every comparable, or a subject missing a characteristic.
    """
    import statsmodels.api as sm

    names = sorted(characteristics)
    y = np.asarray(rates, dtype=float)
    need = len(names) + 1 + MIN_REGRESSION_EXCESS
    if y.size < need:
        raise ValueError(f"the regression needs at least {need} comparables; got {y.size}")
    missing = [n for n in names if n not in subject]
    if missing:
        raise ValueError("subject lacks characteristics " + ", ".join(missing))
    same = [n for n in names if np.ptp(np.asarray(characteristics[n], float)) == 0]
    if same:
        raise ValueError(f"characteristic {same[0]!r} is the same for every comparable")
    x = sm.add_constant(np.column_stack([np.asarray(characteristics[n], float) for n in names]))
    fit = sm.OLS(y, x, hasconst=True).fit()
    row = np.array([[1.0, *(float(subject[n]) for n in names)]])
    frame = fit.get_prediction(row).summary_frame(alpha=0.05)
    labels = ["const", *names]
    return RoyaltyRegression(
        predicted_rate=float(frame["mean"].iloc[0]),
        interval=(float(frame["obs_ci_lower"].iloc[0]), float(frame["obs_ci_upper"].iloc[0])),
        coefficients={n: float(v) for n, v in zip(labels, fit.params, strict=True)},
        std_errors={n: float(v) for n, v in zip(labels, fit.bse, strict=True)},
        r_squared=float(fit.rsquared),
        n_observations=int(fit.nobs),
    )
