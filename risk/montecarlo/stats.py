"""Summaries of a simulated distribution, each with its Monte Carlo error.

Pure functions of an array of path values (shape ``(paths,)``, in currency). Quantile confidence
intervals are distribution-free: the order statistics whose ranks bracket the binomial
(paths, p) count (e.g. Hahn & Meeker, *Statistical Intervals*, 2.4), so their coverage is at least
the nominal level for any continuous distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from ipvalue.valuation.discounting import FloatArray

QUANTILES = (0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)
TAIL_LEVELS = (0.95, 0.99)


def quantile_name(p: float) -> str:
    """``0.05 -> "p05"``."""
    return f"p{round(p * 100):02d}"


@dataclass(frozen=True)
class QuantileEstimate:
    """A quantile with its distribution-free confidence interval (currency)."""

    p: float
    value: float
    ci_low: float
    ci_high: float


def quantile_ranks(n: int, p: float, level: float = 0.95) -> tuple[int, int]:
    """0-based ranks (lo, hi) of the order statistics bracketing the p-quantile.

    ``P(X_(lo) <= q_p <= X_(hi)) >= level`` for ``n`` independent draws (1-based ranks
    ``l = F^-1(a/2)`` and ``u = F^-1(1 - a/2) + 1`` of the binomial (n, p) distribution).
    """
    return quantiles_ranks(n, (p,), level)[0]


def quantiles_ranks(n: int, probs: tuple[float, ...], level: float = 0.95) -> list[tuple[int, int]]:
    """:func:`quantile_ranks` for several probabilities in one vectorised binomial ppf call."""
    alpha = 1.0 - level
    p = np.asarray(probs, dtype=float)
    q = np.concatenate([np.full(p.size, alpha / 2), np.full(p.size, 1 - alpha / 2)])
    ranks = sps.binom.ppf(q, n, np.concatenate([p, p]))
    lo, hi = ranks[: p.size], ranks[p.size :] + 1
    return [(max(int(a), 1) - 1, min(int(b), n) - 1) for a, b in zip(lo, hi, strict=True)]


def quantiles_with_ci(
    values: FloatArray,
    probs: tuple[float, ...] = QUANTILES,
    level: float = 0.95,
    *,
    presorted: bool = False,
) -> list[QuantileEstimate]:
    """Quantiles (linear interpolation, as ``numpy.quantile``) with order-statistic CIs.

    Parameters
    ----------
    values : array (paths,)
    probs : tuple of float
        Probabilities in (0, 1).
    level : float
        Confidence level of the intervals.
    presorted : bool
        ``values`` is already sorted ascending (one sort then serves every statistic).
    """
    n = values.size
    ordered = values if presorted else np.sort(values)
    out = []
    for p, (lo, hi) in zip(probs, quantiles_ranks(n, probs, level), strict=True):
        x = (n - 1) * p
        below = int(np.floor(x))
        above = min(below + 1, n - 1)
        value = ordered[below] + (x - below) * (ordered[above] - ordered[below])
        out.append(QuantileEstimate(p, float(value), float(ordered[lo]), float(ordered[hi])))
    return out


@dataclass(frozen=True)
class Tail:
    """Value at risk and expected shortfall at one level, as losses from a reference value."""

    level: float
    var: float
    es: float


def tail_risk(
    values: FloatArray,
    reference: float,
    levels: tuple[float, ...] = TAIL_LEVELS,
    *,
    presorted: bool = False,
) -> list[Tail]:
    """VaR and ES as losses from ``reference`` (the point value).

    ``VaR_a = reference - q_{1-a}``; ``ES_a = reference - mean of the worst (1 - a) share of
    paths`` (the ceil((1 - a) n) lowest values). ``presorted``: ``values`` is sorted ascending.
    """
    n = values.size
    ordered = values if presorted else np.sort(values)
    out = []
    for a in levels:
        k = max(int(np.ceil((1 - a) * n)), 1)
        x = (n - 1) * (1 - a)
        below = int(np.floor(x))
        above = min(below + 1, n - 1)
        q = ordered[below] + (x - below) * (ordered[above] - ordered[below])
        out.append(Tail(a, reference - float(q), reference - float(ordered[:k].mean())))
    return out


@dataclass(frozen=True)
class Moments:
    """Mean, standard deviation and the standard error of the mean (currency)."""

    mean: float
    sd: float
    se_mean: float


def moments(values: FloatArray, pair_means: FloatArray | None = None) -> Moments:
    """Mean, sd and standard error of the mean.

    Parameters
    ----------
    values : array (paths,)
    pair_means : array (pairs,), optional
        With antithetic variates, the average of each (path, mirror path) pair; these are
        independent, so the standard error comes from them.
    """
    n = values.size
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else 0.0
    if pair_means is not None and pair_means.size > 1:
        se = float(pair_means.std(ddof=1) / np.sqrt(pair_means.size))
    else:
        se = sd / float(np.sqrt(n))
    return Moments(mean, sd, se)


@dataclass(frozen=True)
class ProbabilityBelow:
    """Share of paths below a threshold, with its binomial standard error."""

    threshold: float
    probability: float
    se: float


def prob_below(values: FloatArray, thresholds: ArrayLike) -> list[ProbabilityBelow]:
    """P(value < threshold) for each threshold (currency)."""
    n = values.size
    out = []
    for t in np.asarray(thresholds, dtype=float).ravel():
        p = float(np.count_nonzero(values < t)) / n
        out.append(ProbabilityBelow(float(t), p, float(np.sqrt(p * (1 - p) / n))))
    return out


@dataclass(frozen=True)
class Histogram:
    """Bin edges (bins + 1) and counts (bins) for plotting."""

    edges: list[float]
    counts: list[int]


def histogram(values: FloatArray, bins: int = 50, *, presorted: bool = False) -> Histogram:
    """Histogram over the 0.1 %-99.9 % range; the outer bins also hold the tails beyond it.

    Bin ``i`` counts ``edges[i] <= x < edges[i + 1]`` (the last bin also ``x = hi``), as
    ``numpy.histogram``; from sorted values the counts are differences of ``searchsorted``.
    """
    ordered = values if presorted else np.sort(values)
    n = values.size
    lo, hi = ordered[int(0.001 * (n - 1))], ordered[int(np.ceil(0.999 * (n - 1)))]
    if not hi > lo:
        lo, hi = float(ordered[0]), float(ordered[-1])
        if not hi > lo:
            lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    # Clipping to [lo, hi] moves values into the outer bins only, so the inner edges split the
    # sorted values where they split the clipped ones.
    below = np.searchsorted(ordered, edges[1:-1], side="left")
    counts = np.diff(np.concatenate(([0], below, [n])))
    return Histogram([float(e) for e in edges], [int(c) for c in counts])


@dataclass(frozen=True)
class Driver:
    """One input's part in the spread of the value.

    Attributes
    ----------
    input : str
        Request path of the input.
    rank_correlation : float
        Spearman correlation of the input with the value, in [-1, 1].
    variance_share : float
        rank_correlation^2 over the sum of squares of all inputs (a normalised contribution to
        variance, exact for a monotone additive model with independent inputs).
    """

    input: str
    rank_correlation: float
    variance_share: float


def _ranks(x: FloatArray) -> FloatArray:
    """Average ranks (1-based) of a 1-D array of numbers; ties share their mean rank.

    The same numbers as ``scipy.stats.rankdata(x)``: the average rank of a tie group does not
    depend on the order within it, so an unstable (faster) argsort serves.
    """
    n = x.size
    order = np.argsort(x)
    xs = x[order]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(xs[1:], xs[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    ranks = np.empty(n)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def sensitivity(inputs: dict[str, FloatArray], values: FloatArray) -> list[Driver]:
    """Rank the inputs by |Spearman correlation| with the value.

    Parameters
    ----------
    inputs : dict
        Path -> array (paths,) of that input's draws.
    values : array (paths,)
        The values on the same paths.
    """
    if not inputs:
        return []
    names = list(inputs)
    r = np.column_stack([_ranks(np.ascontiguousarray(inputs[k])) for k in names] + [_ranks(values)])
    r = r - r.mean(axis=0)
    norms = np.sqrt((r * r).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (r[:, :-1] * r[:, -1:]).sum(axis=0) / (norms[:-1] * norms[-1])
    rho = np.nan_to_num(rho)
    total = float((rho**2).sum())
    drivers = [
        Driver(name, float(c), float(c * c / total) if total > 0 else 0.0)
        for name, c in zip(names, rho, strict=True)
    ]
    return sorted(drivers, key=lambda d: -abs(d.rank_correlation))
