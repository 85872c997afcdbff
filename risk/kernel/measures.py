"""Risk measures of a simulated sample, each with its Monte Carlo error: one convention.

The convention, for every endpoint of the service:

- **Quantile**: the inverted empirical CDF, the ``ceil(n p)``-th smallest of ``n`` draws
  (``numpy.quantile(x, p, method="inverted_cdf")``; no interpolation, so a quantile is always a
  simulated outcome and atoms, e.g. many zero values, are kept).
- **Quantile interval**: distribution-free, from binomial order statistics: the 0-based ranks
  ``binom(n, p).ppf(a / 2) - 1`` and ``binom(n, p).isf(a / 2)`` with ``a = 1 - level``, exactly
  ``scipy.stats.quantile_test(x, p=p).confidence_interval(level)`` (Hahn & Meeker, *Statistical
  Intervals*, 2.4); coverage is at least ``level`` for a continuous distribution. Where a rank
  falls outside the sample (tiny samples, extreme ``p``) the sample's end is used.
- **Losses** are measured from a reference value (the starting value of collateral and portfolio
  screening, the point value of a valuation): ``loss = reference - value``, positive numbers
  being losses. ``VaR_a = reference - q_{1 - a}``.
- **Expected shortfall** is the Acerbi-Tasche estimator of the mean of the worst ``1 - a`` share
  of outcomes, ``ES_a = reference - [q - E[(q - X)+] / (1 - a)]`` with ``q = q_{1 - a}`` (right
  for samples with atoms, such as a share of paths whose right has stopped). Its standard error
  is the standard deviation of the influence values ``q - (q - x)+ / (1 - a)`` over ``sqrt(n)``
  (equal to the asymptotic formula of Manistre & Hancock 2005). Upper-tail measures of a loss
  sample (insurance) are the same with the sign turned: :func:`upper_tail`.
- **Mean** and **proportion** carry ``sd / sqrt(n)`` and ``sqrt(p (1 - p) / n)``.

Functions take float64 or float32 arrays; sums are taken in float64. ``presorted=True`` says the
sample is already in order for what the function reads: sorted ascending, or selected at the
ranks it reads (:func:`select` with :func:`quantile_ranks` and :func:`tail_ranks`: the order
statistic at each such rank in place, everything before it no larger), which is all a quantile,
its interval, VaR and ES read, in one pass of ``numpy.partition`` instead of a sort.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

FloatArray = NDArray[np.floating]

CI_LEVEL = 0.95
"""Confidence level of every quantile interval."""
Z95 = 1.959963984540054
"""Standard normal 97.5 % quantile: a quantile's standard error is its interval width / 3.92."""


def _p(p: float) -> float:
    """A probability with floating noise removed (``1 - 0.95`` is 0.05, not 0.050000000000000044),
    so ``ceil(n p)`` counts as a person would."""
    return round(float(p), 12)


def order_index(n: int, p: float) -> int:
    """0-based index of the inverted-CDF ``p``-quantile among ``n`` sorted draws,
    ``ceil(n p) - 1`` (at least 0)."""
    return min(max(math.ceil(n * _p(p)) - 1, 0), n - 1)


def interval_indices(n: int, probs: tuple[float, ...], level: float = CI_LEVEL) -> NDArray[np.intp]:
    """0-based indices (low, high) of the order statistics bracketing each ``p``-quantile.

    Parameters
    ----------
    n : int
        Sample size.
    probs : tuple of float
        Probabilities in (0, 1).
    level : float
        Confidence level.

    Returns
    -------
    array of int, shape (len(probs), 2)
        ``binom(n, p).ppf(a / 2) - 1`` and ``binom(n, p).isf(a / 2)``, clipped to ``[0, n - 1]``.
    """
    return np.array(_interval_indices(int(n), tuple(_p(x) for x in probs), float(level)))


def quantile_ranks(n: int, probs: tuple[float, ...], level: float = CI_LEVEL) -> list[int]:
    """The 0-based ranks :func:`quantiles` reads for ``probs``: each quantile and its interval."""
    bounds = interval_indices(n, probs, level)
    return [order_index(n, p) for p in probs] + [int(i) for i in bounds.ravel()]


def tail_ranks(n: int, level: float) -> list[int]:
    """The 0-based ranks :func:`tail` reads at ``level``: the ``1 - level`` quantile with its
    interval and the ends of the lowest share (:func:`lower_tail_mean`, :func:`lower_tail_se`)."""
    beta = _p(1.0 - level)
    m = min(math.floor(n * beta + 1e-9), n - 1)
    return [*quantile_ranks(n, (beta,)), m]


def select(values: FloatArray, ranks: list[int]) -> FloatArray:
    """``values`` partially ordered: the order statistic of every rank in ``ranks`` in its place
    and every value before it no larger (``numpy.partition``), a new array.

    What quantiles, their intervals, VaR and ES read (``presorted=True`` with the ranks of
    :func:`quantile_ranks` and :func:`tail_ranks`) for less than a sort: on one 2-core machine
    23 ms against 53 ms for 1M float64 draws where numpy's vectorised sort does not engage.
    """
    n = values.shape[-1]
    kth = sorted({min(max(int(r), 0), n - 1) for r in ranks})
    return np.partition(values, kth) if n else values.copy()


@functools.lru_cache(maxsize=512)
def _interval_indices(n: int, probs: tuple[float, ...], level: float) -> NDArray[np.intp]:
    """`interval_indices`, computed once per (n, probs, level): the binomial quantiles cost
    far more than the order statistics they pick (callers get a copy)."""
    p = np.array(probs, dtype=float)
    half = (1.0 - level) / 2.0
    low = sps.binom.ppf(half, n, p) - 1
    high = sps.binom.isf(half, n, p)
    out = np.stack([low, high], axis=-1)
    return np.clip(np.nan_to_num(out, nan=0.0), 0, n - 1).astype(np.intp)


@dataclass(frozen=True)
class Quantile:
    """A quantile with its distribution-free interval (the sample's unit).

    Attributes
    ----------
    p : float
        Probability.
    value, ci_low, ci_high : float
    """

    p: float
    value: float
    ci_low: float
    ci_high: float

    @property
    def se(self) -> float:
        """Standard error: the interval's width over 3.92 (its normal-theory equivalent)."""
        return (self.ci_high - self.ci_low) / (2 * Z95)


def quantiles(
    values: FloatArray,
    probs: tuple[float, ...],
    level: float = CI_LEVEL,
    *,
    presorted: bool = False,
) -> list[Quantile]:
    """Inverted-CDF quantiles with their order-statistic intervals.

    Parameters
    ----------
    values : array (n,)
    probs : tuple of float
        Probabilities in (0, 1).
    level : float
        Confidence level of the intervals.
    presorted : bool
        ``values`` is sorted ascending.
    """
    ordered = values if presorted else np.sort(values)
    n = ordered.size
    bounds = interval_indices(n, probs, level)
    return [
        Quantile(
            p,
            float(ordered[order_index(n, p)]),
            float(ordered[lo]),
            float(ordered[hi]),
        )
        for p, (lo, hi) in zip(probs, bounds, strict=True)
    ]


def quantile_values(
    values: FloatArray, probs: tuple[float, ...], *, presorted: bool = False
) -> NDArray[np.float64]:
    """Inverted-CDF quantiles without their intervals (bands drawn at every step of a path).

    One sort serves every probability (measured where numpy's vectorised sort engages, it
    outran ``np.partition`` at a handful of ranks; where it does not, :func:`select` is the
    faster order); the same numbers as :func:`quantiles`.
    """
    ordered = values if presorted else np.sort(values)
    n = ordered.size
    return np.asarray(ordered[[order_index(n, p) for p in probs]], dtype=np.float64)


def quantile(
    values: FloatArray, p: float, level: float = CI_LEVEL, *, presorted: bool = False
) -> Quantile:
    """One quantile with its interval; see :func:`quantiles`."""
    return quantiles(values, (p,), level, presorted=presorted)[0]


@dataclass(frozen=True)
class Tail:
    """VaR and ES at one level with their standard errors (losses, the sample's unit).

    Attributes
    ----------
    level : float
        Confidence level ``a``, e.g. 0.95.
    var, es : float
        Value at risk and expected shortfall.
    se_var, se_es : float
        Their standard errors.
    """

    level: float
    var: float
    es: float
    se_var: float
    se_es: float


def lower_tail_mean(ordered: FloatArray, beta: float) -> NDArray[np.float64]:
    """Acerbi-Tasche mean of the lowest ``beta`` share along the last axis of sorted draws.

    ``[sum of the m lowest + (n beta - m) x_(m + 1)] / (n beta)`` with ``m = floor(n beta)``;
    for whole ``n beta`` the plain mean of the ``n beta`` lowest. Works on a 2-D block of rows
    (the portfolio's float32 assets x paths), summing in float64.
    """
    n = ordered.shape[-1]
    beta = _p(beta)
    m = min(math.floor(n * beta + 1e-9), n - 1)
    head = np.sum(ordered[..., :m], axis=-1, dtype=np.float64)
    rest = n * beta - m
    nxt = ordered[..., m].astype(np.float64)
    return np.asarray((head + rest * nxt) / (n * beta), dtype=np.float64)


def lower_tail_se(ordered: FloatArray, beta: float) -> NDArray[np.float64]:
    """Standard error of :func:`lower_tail_mean` along the last axis of sorted draws.

    The sd of the influence values ``q - (q - x)+ / beta`` over ``sqrt(n)``, with ``q`` the
    inverted-CDF ``beta``-quantile; only the ``ceil(n beta)`` lowest draws have ``(q - x)+ > 0``,
    so a block of rows costs a pass over its lowest ``beta`` share.
    """
    n = ordered.shape[-1]
    if n < 2:
        return np.zeros(ordered.shape[:-1])
    k = order_index(n, beta)
    beta = _p(beta)
    q = ordered[..., k : k + 1].astype(np.float64)
    d = q - ordered[..., : k + 1].astype(np.float64)
    s1 = d.sum(axis=-1)
    s2 = (d * d).sum(axis=-1)
    var_d = np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1)
    return np.asarray(np.sqrt(var_d) / beta / math.sqrt(n), dtype=np.float64)


def tail(
    values: FloatArray,
    reference: float,
    level: float,
    *,
    presorted: bool = False,
) -> Tail:
    """VaR and ES of ``values`` at ``level``, as losses from ``reference``.

    ``VaR = reference - q`` with ``q`` the inverted-CDF ``1 - level`` quantile;
    ``ES = reference - [q - E[(q - X)+] / (1 - level)]`` (Acerbi-Tasche,
    :func:`lower_tail_mean`). Standard errors: the quantile interval's width over 3.92, and the
    influence values' sd over ``sqrt(n)`` (:func:`lower_tail_se`).

    Parameters
    ----------
    values : array (n,)
        Simulated outcomes (e.g. values at the horizon), currency.
    reference : float
        The value losses are measured from, currency.
    level : float
        Confidence level in (0, 1).
    presorted : bool
        ``values`` is sorted ascending.
    """
    ordered = values if presorted else np.sort(values)
    beta = _p(1.0 - level)
    q = quantile(ordered, beta, presorted=True)
    es = reference - float(lower_tail_mean(ordered, beta))
    return Tail(level, reference - q.value, es, q.se, float(lower_tail_se(ordered, beta)))


def upper_tail(losses: FloatArray, level: float, *, presorted: bool = False) -> Tail:
    """VaR and ES of a loss sample (larger is worse) at ``level``.

    ``VaR`` is the inverted-CDF ``level`` quantile and ``ES = VaR + E[(L - VaR)+] / (1 - level)``
    (Acerbi-Tasche); standard errors as in :func:`tail`.
    """
    ordered = losses if presorted else np.sort(losses)
    q = quantile(ordered, level, presorted=True)
    beta = _p(1.0 - level)
    influence = q.value + np.maximum(ordered.astype(np.float64) - q.value, 0.0) / beta
    n = ordered.size
    se_es = float(influence.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return Tail(level, q.value, float(influence.mean()), q.se, se_es)


def upper_tail_influence(losses: FloatArray, level: float) -> NDArray[np.float64]:
    """Influence values ``VaR + (L - VaR)+ / (1 - level)`` of the upper-tail ES (mean = ES);
    a delta-method standard error of a price built on ES takes them per path."""
    var = quantile(losses, level).value
    return var + np.maximum(losses.astype(np.float64) - var, 0.0) / _p(1.0 - level)


@dataclass(frozen=True)
class Mean:
    """Sample mean, standard deviation and the standard error of the mean."""

    value: float
    sd: float
    se: float


def mean(values: FloatArray, pair_means: FloatArray | None = None) -> Mean:
    """Mean with its standard error ``sd / sqrt(n)``.

    Parameters
    ----------
    values : array (n,)
    pair_means : array (pairs,), optional
        With antithetic variates, the average of each (path, mirror path) pair; these are
        independent, so the standard error comes from them.
    """
    n = values.size
    m = float(np.mean(values, dtype=np.float64))
    sd = float(np.std(values, ddof=1, dtype=np.float64)) if n > 1 else 0.0
    if pair_means is not None and pair_means.size > 1:
        se = float(np.std(pair_means, ddof=1, dtype=np.float64) / math.sqrt(pair_means.size))
    else:
        se = sd / math.sqrt(n)
    return Mean(m, sd, se)


@dataclass(frozen=True)
class Proportion:
    """Share of hits with its binomial standard error."""

    value: float
    se: float


def proportion(hits: NDArray[np.bool_] | FloatArray) -> Proportion:
    """Share of true (or 1) entries, with ``sqrt(p (1 - p) / n)``."""
    n = hits.size
    p = float(np.count_nonzero(hits)) / n
    return Proportion(p, math.sqrt(p * (1.0 - p) / n))
