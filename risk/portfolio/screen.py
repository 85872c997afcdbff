"""Monte Carlo screening of a portfolio: value ranges, tail risk with dependence, ranking.

Model, per asset i with value ``V_i`` today, annual volatility ``sigma_i`` and horizon ``H``,
the kernel's lognormal value process with a legal stop at the horizon
(:func:`risk.kernel.process.lognormal_factor` and :func:`~risk.kernel.process.apply_stops` on
float32 blocks, the same arithmetic as the float64 paths of the other endpoints)::

    X_i = V_i exp((mu - sigma_i^2 / 2) H + sigma_i sqrt(H) Z_i) 1[protection survives]

``Z_i`` come from a Gaussian copula with one factor per group (sector, or technology):
``Z_i = sqrt(inter) G + sqrt(intra - inter) S_g(i) + sqrt(1 - intra) e_i``, so assets in one
group correlate ``intra`` and assets in different groups ``inter``. Loss of protection is an
independent Bernoulli with the probability of :mod:`risk.portfolio.legal`; on loss the value at
the horizon is zero. With ``mu = 0`` the expected value at the horizon is ``V_i (1 - q_i)``.

Computation: assets are processed in blocks of :data:`BLOCK_ASSETS`; each block draws from its
own stream ``SeedSequence(entropy, spawn_key=(1, block))`` and the factors from
``spawn_key=(0,)`` (:func:`risk.kernel.seeds.child`), so results are bit-identical whatever
the order or the process that runs a block (sequentially here, or as Dask tasks in
``benchmarks/portfolio.py``). Each block holds ``(block, paths)`` float32 arrays; each block's
total per path is kept in float64 (a ``(blocks, paths)`` array, summed in block order).
Peak memory is a few times ``BLOCK_ASSETS x paths x 4`` bytes plus ``(groups + 2) x paths``.

Per asset, the block's draws are sorted in place along the paths after the path totals are
taken. Figures follow the kernel's one convention (:mod:`risk.kernel.measures`): the p-quantile
of n draws is the ``ceil(n p)``-th smallest (inverted CDF, no interpolation), ``VaR_a = V -
q_{1-a}``, ``ES_a = V -`` the Acerbi-Tasche mean of the worst ``1 - a`` share; a quantile's
standard error is the width of its 95 % binomial order-statistic interval divided by 3.92.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ipvalue.models.portfolio import PortfolioRequest
from ipvalue.risk.kernel import measures, seeds
from ipvalue.risk.kernel.measures import Z95, order_index
from ipvalue.risk.kernel.process import apply_stops, lognormal_factor
from ipvalue.risk.portfolio.legal import LegalOutlook, legal_outlook
from ipvalue.valuation.discounting import FloatArray

F32Array = NDArray[np.float32]

BLOCK_ASSETS = 256
"""Assets per random stream and per chunk of work."""

Progress = Callable[[int, int], None]

__all__ = ["BLOCK_ASSETS", "Z95", "order_index"]


@dataclass(frozen=True)
class ScreenPlan:
    """Everything a block needs, as plain arrays (picklable for Dask workers).

    Attributes
    ----------
    values : array (assets,)
        Point values today, currency.
    log_drift : array (assets,)
        ``(mu - sigma^2 / 2) H`` per asset.
    scale : array (assets,)
        ``sigma sqrt(H)`` per asset.
    q : array (assets,)
        Probability of losing protection within the horizon.
    group : array of int (assets,)
        Copula group of each asset, in ``range(n_groups)``.
    n_groups : int
    loadings : tuple of float
        ``(market, group, own)`` factor loadings.
    paths : int
    entropy : int
        SeedSequence entropy.
    levels : tuple of float
        Portfolio confidence levels (each in [0.5, 1)).
    """

    values: FloatArray
    log_drift: FloatArray
    scale: FloatArray
    q: FloatArray
    group: np.ndarray
    n_groups: int
    loadings: tuple[float, float, float]
    paths: int
    entropy: int
    levels: tuple[float, ...]

    @property
    def n_assets(self) -> int:
        return len(self.values)

    @property
    def n_blocks(self) -> int:
        return -(-self.n_assets // BLOCK_ASSETS)

    @property
    def probabilities(self) -> tuple[float, ...]:
        """Per-asset quantiles kept: p05, p50, p95, then ``1 - level`` for each level."""
        return (0.05, 0.5, 0.95, *(1.0 - a for a in self.levels))


@dataclass
class PartialStats:
    """Results for a contiguous range of assets (ratio figures already in currency).

    Attributes
    ----------
    start : int
        Index of the first asset.
    mean, se_mean, se_p05, se_p50 : arrays (assets,)
    quantiles : array (assets, len(plan.probabilities))
    tail_means, se_tail_means : arrays (assets, len(plan.levels))
        Acerbi-Tasche mean of the worst ``1 - level`` share of outcomes, and its standard error.
    totals : array (blocks, paths)
        Per block, the sum over its assets of the value at the horizon on each path, float64;
        :func:`path_totals` adds the blocks in block order, so the sum does not depend on how
        blocks were grouped into tasks.
    """

    start: int
    mean: FloatArray
    se_mean: FloatArray
    se_p05: FloatArray
    se_p50: FloatArray
    quantiles: FloatArray
    tail_means: FloatArray
    se_tail_means: FloatArray
    totals: FloatArray

    def path_totals(self) -> FloatArray:
        """Portfolio value at the horizon on each path, array (paths,), currency."""
        return self.totals.sum(axis=0)


def plan_screen(request: PortfolioRequest, outlook: LegalOutlook | None = None) -> ScreenPlan:
    """Turn a request into per-asset arrays, groups and the recorded seed entropy."""
    assets = request.assets
    h = request.horizon_years
    if outlook is None:
        outlook = legal_outlook(
            assets, request.valuation_date, h, request.challenge_loss_probability
        )
    sigma = np.array([a.volatility for a in assets])
    by = request.correlation.group_by
    keys = [(a.technology or a.sector) if by == "technology" else a.sector for a in assets]
    _, group = np.unique(np.array(keys, dtype=object), return_inverse=True)
    corr = request.correlation
    loadings = (
        math.sqrt(corr.inter),
        math.sqrt(corr.intra - corr.inter),
        math.sqrt(1.0 - corr.intra),
    )
    entropy = seeds.record_seed(request.seed)
    return ScreenPlan(
        values=np.array([a.value for a in assets]),
        log_drift=(request.drift - 0.5 * sigma**2) * h,
        scale=sigma * math.sqrt(h),
        q=outlook.q,
        group=group.astype(np.intp).ravel(),
        n_groups=int(group.max()) + 1,
        loadings=loadings,
        paths=request.paths,
        entropy=int(entropy),
        levels=tuple(request.confidence_levels),
    )


def factor_scores(plan: ScreenPlan) -> tuple[F32Array, F32Array]:
    """Market factor ``G`` (paths,) and group factors ``S`` (groups, paths), float32."""
    rng = seeds.child(plan.entropy, seeds.SCREEN_FACTORS)
    draws = rng.standard_normal((1 + plan.n_groups, plan.paths), dtype=np.float32)
    return draws[0], draws[1:]


def _ratios(plan: ScreenPlan, factors: tuple[F32Array, F32Array], block: int) -> F32Array:
    """Value at the horizon over value today, array (block assets, paths) float32."""
    lo = block * BLOCK_ASSETS
    hi = min(lo + BLOCK_ASSETS, plan.n_assets)
    rng = seeds.child(plan.entropy, seeds.SCREEN_BLOCKS, block)
    a_market, a_group, a_own = plan.loadings
    x = rng.standard_normal((hi - lo, plan.paths), dtype=np.float32)
    x *= np.float32(a_own)
    g, s = factors
    if a_market:
        x += np.float32(a_market) * g
    if a_group:
        x += np.float32(a_group) * s[plan.group[lo:hi]]
    lognormal_factor(x, plan.log_drift[lo:hi, None], plan.scale[lo:hi, None], out=x)
    q = plan.q[lo:hi]
    if np.any(q > 0):
        u = rng.random((hi - lo, plan.paths), dtype=np.float32)
        apply_stops(x, u < q[:, None].astype(np.float32))
    return x


def simulate_block(
    plan: ScreenPlan, factors: tuple[F32Array, F32Array], block: int
) -> PartialStats:
    """Simulate one block of assets and reduce it to per-asset figures and a path total."""
    x = _ratios(plan, factors, block)
    lo = block * BLOCK_ASSETS
    v = plan.values[lo : lo + x.shape[0]]
    n = plan.paths
    total: FloatArray = np.sum(x * v[:, None], axis=0, dtype=np.float64)
    mean = x.mean(axis=1, dtype=np.float64)
    sd = x.std(axis=1, dtype=np.float64)
    probs = plan.probabilities
    idx = [order_index(n, p) for p in probs]
    (lo05, hi05), (lo50, hi50) = measures.interval_indices(n, (0.05, 0.5))
    x.sort(axis=1)  # in place, after the path totals; a SIMD sort beats a many-kth partition
    ordered = x
    quantiles = ordered[:, idx].astype(np.float64)
    betas = [1.0 - a for a in plan.levels]
    tail_means = np.stack([measures.lower_tail_mean(ordered, b) for b in betas], axis=1)
    se_tails = np.stack([measures.lower_tail_se(ordered, b) for b in betas], axis=1)
    se_p05 = (ordered[:, hi05].astype(np.float64) - ordered[:, lo05]) / (2 * Z95)
    se_p50 = (ordered[:, hi50].astype(np.float64) - ordered[:, lo50]) / (2 * Z95)
    return PartialStats(
        start=lo,
        mean=mean * v,
        se_mean=sd / math.sqrt(n) * v,
        se_p05=se_p05 * v,
        se_p50=se_p50 * v,
        quantiles=quantiles * v[:, None],
        tail_means=tail_means * v[:, None],
        se_tail_means=se_tails * v[:, None],
        totals=total[None, :],
    )


def simulate_blocks(
    plan: ScreenPlan,
    factors: tuple[F32Array, F32Array],
    blocks: range,
    progress: Progress | None = None,
) -> PartialStats:
    """Simulate consecutive blocks and merge them; calls ``progress(done, total)`` per block."""
    parts = []
    for b in blocks:
        parts.append(simulate_block(plan, factors, b))
        if progress is not None:
            done = min((b + 1) * BLOCK_ASSETS, plan.n_assets)
            progress(done, plan.n_assets)
    return merge(parts)


def merge(parts: list[PartialStats]) -> PartialStats:
    """Join partial results of consecutive ranges, in order; totals add up."""
    parts = sorted(parts, key=lambda p: p.start)
    return PartialStats(
        start=parts[0].start,
        mean=np.concatenate([p.mean for p in parts]),
        se_mean=np.concatenate([p.se_mean for p in parts]),
        se_p05=np.concatenate([p.se_p05 for p in parts]),
        se_p50=np.concatenate([p.se_p50 for p in parts]),
        quantiles=np.concatenate([p.quantiles for p in parts]),
        tail_means=np.concatenate([p.tail_means for p in parts]),
        se_tail_means=np.concatenate([p.se_tail_means for p in parts]),
        totals=np.concatenate([p.totals for p in parts]),
    )
