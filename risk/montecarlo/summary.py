"""Assemble the chunks of a simulation into the ``distribution`` object of the API."""

from __future__ import annotations

import numpy as np

from ipvalue.models.errors import InputError
from ipvalue.models.simulation import (
    CorrelationsUsed,
    Driver,
    Histogram,
    LegalRiskUsed,
    MethodSummary,
    ProbabilityBelow,
    QuantileCI,
    SimulationResult,
    TailRisk,
    ValuePathBands,
)
from ipvalue.models.simulation import DistributionSummary as DistributionModel
from ipvalue.risk.kernel import measures, seeds
from ipvalue.risk.kernel.process import volatility_per_path
from ipvalue.risk.montecarlo import stats
from ipvalue.risk.montecarlo.chunks import ChunkOut
from ipvalue.risk.montecarlo.legal import HazardSchedule
from ipvalue.risk.montecarlo.paths import LegalJumps, simulate_value_paths
from ipvalue.risk.montecarlo.plan import CHUNK_PATHS, SENSITIVITY_PATHS, Plan
from ipvalue.valuation.discounting import FloatArray

CI_LEVEL = 0.95
METHOD_QUANTILES = (0.05, 0.5, 0.95)
"""Each method's quantiles in ``by_method``."""
EVENT_WINDOW_YEARS = 20.0
"""Event probabilities are reported over the legal life, or this many years when it is longer."""


def _ranks(n: int) -> list[int]:
    """Every rank the distribution's statistics and histogram read (one ``numpy.partition``)."""
    ranks = stats.histogram_ranks(n) + measures.quantile_ranks(n, stats.QUANTILES, CI_LEVEL)
    for level in stats.TAIL_LEVELS:
        ranks += measures.tail_ranks(n, level)
    return ranks


def _concat(chunks: list[ChunkOut], pick: str, key: str | None = None) -> FloatArray:
    parts = [getattr(c, pick) if key is None else getattr(c, pick)[key] for c in chunks]
    return np.concatenate(parts)


def _distribution(
    values: FloatArray,
    point: float,
    thresholds: list[float],
    pair_means: FloatArray | None = None,
    ordered: FloatArray | None = None,
) -> DistributionModel:
    """``ordered``: ``values`` in order at `_ranks` (sorted or selected), when the caller has it
    (one selection serves every statistic)."""
    if ordered is None:
        ordered = measures.select(values, _ranks(values.size))
    m = stats.moments(values, pair_means)
    qs = stats.quantiles_with_ci(ordered, stats.QUANTILES, CI_LEVEL, presorted=True)
    named = {stats.quantile_name(q.p): q for q in qs}
    tails = {t.level: t for t in stats.tail_risk(ordered, point, presorted=True)}
    return DistributionModel(
        mean=m.mean,
        sd=m.sd,
        se_mean=m.se_mean,
        p05=named["p05"].value,
        p50=named["p50"].value,
        p95=named["p95"].value,
        quantiles={
            k: QuantileCI(value=q.value, ci_low=q.ci_low, ci_high=q.ci_high)
            for k, q in named.items()
        },
        tail=TailRisk(
            var95=tails[0.95].var,
            es95=tails[0.95].es,
            var99=tails[0.99].var,
            es99=tails[0.99].es,
            se_var95=tails[0.95].se_var,
            se_es95=tails[0.95].se_es,
            se_var99=tails[0.99].se_var,
            se_es99=tails[0.99].se_es,
        ),
        prob_below=[
            ProbabilityBelow(threshold=p.threshold, probability=p.probability, se=p.se)
            for p in stats.prob_below(values, thresholds)
        ],
    )


def _hazard_out(s: HazardSchedule, uncertain: bool) -> float | list[float] | None:
    if uncertain:
        return None
    if len(s.probabilities) == 1:
        return s.probabilities[0]
    return list(s.probabilities)


def _legal_used(plan: Plan, chunks: list[ChunkOut]) -> LegalRiskUsed:
    legal = plan.legal
    window = min(plan.life.years, EVENT_WINDOW_YEARS)
    probs = {}
    for event in ("invalidation", "lapse", "litigation_loss"):
        if chunks and chunks[0].events:
            hits = sum(int(np.count_nonzero(c.events[event] <= window)) for c in chunks)
            probs[event] = hits / sum(c.events[event].size for c in chunks)
        else:
            probs[event] = 0.0
    lapse = legal.schedules["lapse"]
    return LegalRiskUsed(
        invalidation_hazard=_hazard_out(
            legal.schedules["invalidation"], "invalidation" in legal.uncertain
        ),
        lapse_hazard=_hazard_out(lapse, "lapse" in legal.uncertain),
        lapse_schedule_starts=list(lapse.starts) if len(lapse.starts) > 1 else None,
        litigation_loss_hazard=_hazard_out(
            legal.schedules["litigation_loss"], "litigation_loss" in legal.uncertain
        ),
        litigation_loss_share=legal.loss_share,
        sources=legal.sources,
        within_years=window,
        prob_invalidated=probs["invalidation"],
        prob_lapsed=probs["lapse"],
        prob_litigation_loss=probs["litigation_loss"],
        applies_to=(
            "income methods and royalty-based market values: income stops at invalidation or "
            "lapse and falls by the loss share after a lost case; real options: worthless if "
            "the right stops before exercise; cost and price-based market values: unaffected"
        ),
    )


def _value_paths(
    plan: Plan, chunks: list[ChunkOut], total: FloatArray, point: float
) -> ValuePathBands:
    sim = plan.sim
    assert sim.horizon_years is not None and sim.volatility is not None
    jumps = None
    if chunks and chunks[0].events:
        stop = np.minimum(
            _concat(chunks, "events", "invalidation"), _concat(chunks, "events", "lapse")
        )
        share = plan.legal.loss_share if plan.legal.has_litigation() else 0.0
        jumps = LegalJumps(
            stop_times=stop,
            loss_times=_concat(chunks, "events", "litigation_loss"),
            loss_share=share,
        )
    draws = np.atleast_1d(np.asarray(sim.volatility, dtype=float))
    sigma: FloatArray | float = float(draws[0])
    if draws.size > 1:  # posterior draws: each path takes one, so the bands carry their spread
        rng = seeds.child(plan.seed, seeds.VALUATION_VOLATILITY_DRAWS)
        sigma = volatility_per_path(rng, draws, total.size)
    vp = simulate_value_paths(
        np.maximum(total, 0.0),  # a lender's value: a negative path value starts from 0
        sigma,
        sim.horizon_years,
        sim.steps_per_year,
        paths=total.size,
        seed=seeds.child(plan.seed, seeds.VALUATION_VALUE_PATHS),
        drift=sim.drift,
        legal=jumps,
        keep_paths=False,
    )
    return ValuePathBands(
        horizon_years=sim.horizon_years,
        volatility=float(draws.mean()),
        volatility_draws=int(draws.size),
        drift=sim.drift,
        times=[float(t) for t in vp.times],
        bands={k: [float(x) for x in v] for k, v in vp.bands.items()},
        mean=[float(x) for x in vp.mean],
        prob_stopped=[float(x) for x in vp.prob_stopped],
        at_horizon=_distribution(vp.terminal, point, sim.thresholds),
    )


def _check_finite(plan: Plan, chunks: list[ChunkOut]) -> None:
    for key in plan.keys:
        bad = sum(int(np.count_nonzero(~np.isfinite(c.by_method[key]))) for c in chunks)
        if bad:
            raise InputError.for_field(
                "simulation",
                f"method {key!r} gives no finite value on {bad} of {plan.sim.paths} paths; "
                "narrow the input distributions (e.g. keep terminal_growth below discount_rate, "
                "royalty_rate below operating_margin)",
            )


def summarise(plan: Plan, chunks: list[ChunkOut], point: float) -> SimulationResult:
    """Statistics of the simulated values; see :class:`models.simulation.SimulationResult`."""
    _check_finite(plan, chunks)
    sim = plan.sim
    total = _concat(chunks, "total")
    ordered = measures.select(total, _ranks(total.size))
    pair_means = _concat(chunks, "pair_means") if sim.antithetic else None
    dist = _distribution(total, point, sim.thresholds, pair_means, ordered)
    by_method = {}
    for key in plan.keys:
        # One method of weight 1 gives the total itself (1.0 x v is v): its moments and ordered
        # values are already here.
        if plan.weights == {key: 1.0}:
            m = (
                stats.moments(total)
                if sim.antithetic
                else stats.Moments(dist.mean, dist.sd, dist.se_mean)
            )
            sorted_values = ordered
        else:
            values = _concat(chunks, "by_method", key)
            m = stats.moments(values)
            sorted_values = (
                ordered
                if np.array_equal(values, total)
                else measures.select(values, measures.quantile_ranks(values.size, METHOD_QUANTILES))
            )
        q = stats.quantiles_with_ci(sorted_values, METHOD_QUANTILES, CI_LEVEL, presorted=True)
        by_method[key] = MethodSummary(
            mean=m.mean, sd=m.sd, se_mean=m.se_mean, p05=q[0].value, p50=q[1].value, p95=q[2].value
        )
    kept = [c for c in chunks if c.samples]
    sens_n = min(sum(c.total.size for c in kept), SENSITIVITY_PATHS)
    drivers = []
    if kept:
        inputs = {
            item.path: np.concatenate([c.samples[item.path] for c in kept])[:sens_n]
            for item in plan.inputs
        }
        sens_values = np.concatenate([c.total for c in kept])[:sens_n]
        drivers = [
            Driver(
                input=d.input, rank_correlation=d.rank_correlation, variance_share=d.variance_share
            )
            for d in stats.sensitivity(inputs, sens_values)
        ]
    clipped: dict[str, int] = {}
    for c in chunks:
        for k, v in c.clipped.items():
            clipped[k] = clipped.get(k, 0) + v
    warnings = []
    for k, v in clipped.items():
        share = v / sim.paths
        if share > 0.01:
            warnings.append(
                f"{k}: {share:.1%} of draws fell outside the field's range and were clipped; "
                "a bounded distribution (pert, triangular, truncated normal) fits better"
            )
    below = int(np.count_nonzero(total < 0))
    if below:
        warnings.append(
            f"{below / total.size:.1%} of simulated values are below zero (lowest "
            f"{float(total.min()):,.2f}); the distribution keeps them signed"
            + (
                ", and the value paths over the horizon start them from 0 (a lender's value)"
                if sim.horizon_years is not None
                else ""
            )
        )
    corr = None
    if plan.copula is not None and sim.correlations is not None:
        corr = CorrelationsUsed(
            inputs=sim.correlations.inputs,
            rank_matrix=[[float(x) for x in row] for row in plan.copula.rank_matrix],
            repaired=plan.copula.repaired,
            copula=plan.copula.kind,
            copula_dof=plan.copula.dof if plan.copula.kind == "student_t" else None,
        )
        if plan.copula.repaired:
            warnings.append(
                "the correlation matrix was not positive semi-definite; the nearest valid "
                "matrix (correlations.rank_matrix) was used"
            )
    hist = stats.histogram(total, ordered=ordered)
    return SimulationResult(
        mean=dist.mean,
        sd=dist.sd,
        p05=dist.p05,
        p50=dist.p50,
        p95=dist.p95,
        se_mean=dist.se_mean,
        point_value=point,
        quantiles=dist.quantiles,
        ci_level=CI_LEVEL,
        var95=dist.tail.var95,
        es95=dist.tail.es95,
        var99=dist.tail.var99,
        es99=dist.tail.es99,
        prob_below=dist.prob_below,
        histogram=Histogram(edges=hist.edges, counts=hist.counts),
        sensitivity=drivers,
        sensitivity_paths=sens_n if drivers else 0,
        by_method=by_method,
        paths=sim.paths,
        seed=plan.seed,
        entropy=str(plan.seed),
        chunk_paths=CHUNK_PATHS,
        antithetic=sim.antithetic,
        qmc=sim.qmc,
        se_method=_se_method(sim.antithetic, sim.qmc),
        correlations=corr,
        clipped=clipped,
        legal_risk=_legal_used(plan, chunks),
        value_paths=(
            _value_paths(plan, chunks, total, point) if sim.horizon_years is not None else None
        ),
        warnings=warnings,
    )


def _se_method(antithetic: bool, qmc: bool) -> str:
    if antithetic:
        return "antithetic pair averages"
    if qmc:
        return "iid formula sd / sqrt(paths), conservative for scrambled Sobol points"
    return "iid formula sd / sqrt(paths)"
