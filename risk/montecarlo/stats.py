"""Summaries of a simulated distribution, each with its Monte Carlo error.

Pure functions of an array of path values (shape ``(paths,)``, in currency). Quantiles, their
intervals, VaR, ES, means and proportions are those of :mod:`risk.kernel.measures`, the one
convention of the service (inverted-CDF quantiles with distribution-free binomial intervals,
losses from a reference value, Acerbi-Tasche ES); this module names them for the
``distribution`` object and adds the histogram and the sensitivity ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.risk.kernel import measures
from ipvalue.risk.kernel.measures import Quantile as QuantileEstimate
from ipvalue.risk.kernel.measures import Tail
from ipvalue.valuation.discounting import FloatArray

QUANTILES = (0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)
TAIL_LEVELS = (0.95, 0.99)

__all__ = ["QUANTILES", "TAIL_LEVELS", "QuantileEstimate", "Tail"]


def quantile_name(p: float) -> str:
    """``0.05 -> "p05"``."""
    return f"p{round(p * 100):02d}"


def quantile_ranks(n: int, p: float, level: float = 0.95) -> tuple[int, int]:
    """0-based ranks (lo, hi) of the order statistics bracketing the p-quantile.

    ``P(X_(lo) <= q_p <= X_(hi)) >= level`` for ``n`` independent draws; see
    :func:`risk.kernel.measures.interval_indices`.
    """
    return quantiles_ranks(n, (p,), level)[0]


def quantiles_ranks(n: int, probs: tuple[float, ...], level: float = 0.95) -> list[tuple[int, int]]:
    """:func:`quantile_ranks` for several probabilities in one vectorised binomial call."""
    return [(int(lo), int(hi)) for lo, hi in measures.interval_indices(n, probs, level)]


def quantiles_with_ci(
    values: FloatArray,
    probs: tuple[float, ...] = QUANTILES,
    level: float = 0.95,
    *,
    presorted: bool = False,
) -> list[QuantileEstimate]:
    """Inverted-CDF quantiles with order-statistic intervals.

    See :func:`risk.kernel.measures.quantiles`.

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
    return measures.quantiles(values, probs, level, presorted=presorted)


def tail_risk(
    values: FloatArray,
    reference: float,
    levels: tuple[float, ...] = TAIL_LEVELS,
    *,
    presorted: bool = False,
) -> list[Tail]:
    """VaR and ES as losses from ``reference`` (the point value), with standard errors.

    ``VaR_a = reference - q_{1-a}``; ``ES_a`` the Acerbi-Tasche mean of the worst ``1 - a``
    share, as a loss from ``reference`` (:func:`risk.kernel.measures.tail`).
    """
    ordered = values if presorted else np.sort(values)
    return [measures.tail(ordered, reference, a, presorted=True) for a in levels]


@dataclass(frozen=True)
class Moments:
    """Mean, standard deviation and the standard error of the mean (currency)."""

    mean: float
    sd: float
    se_mean: float


def moments(values: FloatArray, pair_means: FloatArray | None = None) -> Moments:
    """Mean, sd and standard error of the mean (:func:`risk.kernel.measures.mean`).

    Parameters
    ----------
    values : array (paths,)
    pair_means : array (pairs,), optional
        With antithetic variates, the average of each (path, mirror path) pair; these are
        independent, so the standard error comes from them.
    """
    m = measures.mean(values, pair_means)
    return Moments(m.value, m.sd, m.se)


@dataclass(frozen=True)
class ProbabilityBelow:
    """Share of paths below a threshold, with its binomial standard error."""

    threshold: float
    probability: float
    se: float


def prob_below(values: FloatArray, thresholds: ArrayLike) -> list[ProbabilityBelow]:
    """P(value < threshold) for each threshold (currency)."""
    out = []
    for t in np.asarray(thresholds, dtype=float).ravel():
        p = measures.proportion(values < t)
        out.append(ProbabilityBelow(float(t), p.value, p.se))
    return out


@dataclass(frozen=True)
class Histogram:
    """Bin edges (bins + 1) and counts (bins) for plotting."""

    edges: list[float]
    counts: list[int]


def histogram_ranks(n: int) -> list[int]:
    """The 0-based ranks :func:`histogram` reads for its range: 0.1 %, 99.9 %, the ends."""
    return [int(0.001 * (n - 1)), int(np.ceil(0.999 * (n - 1))), 0, n - 1]


def histogram(
    values: FloatArray,
    bins: int = 50,
    *,
    presorted: bool = False,
    ordered: FloatArray | None = None,
) -> Histogram:
    """Histogram over the 0.1 %-99.9 % range; the outer bins also hold the tails beyond it.

    Bin ``i`` counts ``edges[i] <= x < edges[i + 1]`` (the last bin also ``x = hi``), as
    ``numpy.histogram``; from sorted values the counts are differences of ``searchsorted``.

    Parameters
    ----------
    values : array (n,)
    bins : int
    presorted : bool
        ``values`` is sorted ascending.
    ordered : array (n,), optional
        ``values`` sorted, or selected at :func:`histogram_ranks` (``measures.select``): the
        range is read from it and the counts from ``values`` by ``numpy.histogram``.
    """
    n = values.size
    if presorted:
        ordered = values
    elif ordered is None:
        ordered = measures.select(values, histogram_ranks(n))
    low, high, first, last = histogram_ranks(n)
    lo, hi = ordered[low], ordered[high]
    if not hi > lo:
        lo, hi = float(ordered[first]), float(ordered[last])
        if not hi > lo:
            lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    if presorted:
        # Clipping to [lo, hi] moves values into the outer bins only, so the inner edges split
        # the sorted values where they split the clipped ones.
        below = np.searchsorted(ordered, edges[1:-1], side="left")
        counts = np.diff(np.concatenate(([0], below, [n])))
    else:
        counts, _ = np.histogram(np.clip(values, lo, hi), bins, (lo, hi))
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
