"""Chunks of a Monte Carlo valuation: sample every uncertain input, value each path.

Paths are simulated in chunks of :data:`CHUNK_PATHS`. Chunk ``i`` draws from its own stream,
``SeedSequence(seed, spawn_key=(0, i))``, so the numbers do not depend on how many worker
threads run the chunks or in what order, and a run is bit-identical from its recorded seed.
Within a chunk every input is an inverse-CDF transform of a standard normal score
(pseudo-random, or ``Phi^-1`` of scrambled Sobol points), correlated through a copula where the
request asks, and mirrored (``-z``) for antithetic variates. Each method is valued by
:func:`valuation.methods.value_method` on arrays of shape ``(block,)``; there is no loop over
paths.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import special
from scipy.stats import qmc

from ipvalue.models.asset import DEAD_STATUSES
from ipvalue.models.errors import InputError
from ipvalue.models.methods import INCOME_METHODS, MarketInputs, RealOptionInputs
from ipvalue.models.uncertain import base_value, is_uncertain
from ipvalue.models.valuation import Simulation, ValuationRequest, method_keys
from ipvalue.risk.montecarlo.copula import CopulaPlan, correlate, plan_copula
from ipvalue.risk.montecarlo.legal import EVENTS, LegalPlan, event_times, flat, plan_legal_risk
from ipvalue.risk.montecarlo.normals import standard_normal
from ipvalue.risk.montecarlo.sampling import (
    UncertainInput,
    clip_to_bounds,
    crosses,
    from_normal_scores,
    uncertain_inputs,
)
from ipvalue.valuation.discounting import FloatArray
from ipvalue.valuation.life import LegalLife, remaining_legal_life
from ipvalue.valuation.methods import value_method
from ipvalue.valuation.reconcile import normalise_weights, weighted_value
from ipvalue.valuation.resolve import uncertain_paths

CHUNK_PATHS = 1 << 16
"""Paths per chunk (and per independent random stream); 65,536 keeps temporaries in cache."""
VALUE_BLOCK = 1 << 14
"""Paths valued at once within a chunk: each (paths, years) temporary stays in the L2 cache
(fresh multi-megabyte temporaries cost page faults on every chunk)."""
SENSITIVITY_PATHS = 1 << 15
"""The sensitivity ranking uses the inputs of the first this many paths."""
STREAM_INPUTS = 0
STREAM_VALUE_PATHS = 1
STREAM_VOLATILITY_DRAWS = 2
QMC_EDGE = 1e-12
"""Sobol points are kept this far inside (0, 1) before ``Phi^-1``."""
CORRELATIONS_FIELD = "simulation.correlations.inputs"


@dataclass(frozen=True)
class Plan:
    """Everything a chunk needs; read-only, so chunks can run in worker threads."""

    request: ValuationRequest
    sim: Simulation
    seed: int
    life: LegalLife
    keys: list[str]
    weights: dict[str, float]
    inputs: list[UncertainInput]
    copula: CopulaPlan | None
    correlated: list[int]
    legal: LegalPlan
    all_rows_copula: CopulaPlan | None = None
    """When every input is correlated: the copula with its factor's rows and columns in input
    order, so the scores are correlated in one pass without gathering and scattering rows."""

    @property
    def chunks(self) -> int:
        return -(-self.sim.paths // CHUNK_PATHS)

    def chunk_size(self, index: int) -> int:
        return min(CHUNK_PATHS, self.sim.paths - index * CHUNK_PATHS)


@dataclass
class ChunkOut:
    """What one chunk hands back (arrays of shape ``(chunk,)``)."""

    total: FloatArray
    by_method: dict[str, FloatArray]
    pair_means: FloatArray | None
    clipped: dict[str, int]
    events: dict[str, FloatArray] = field(default_factory=dict)
    samples: dict[str, FloatArray] = field(default_factory=dict)


def _generator(seed: int, stream: int, index: int | None = None) -> np.random.Generator:
    key = (stream,) if index is None else (stream, index)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _normal_scores(plan: Plan, rng: np.random.Generator, n: int) -> FloatArray:
    """Standard normal scores, shape (inputs, n): independent, Sobol, correlated, mirrored."""
    d = len(plan.inputs)
    half = -(-n // 2) if plan.sim.antithetic else n
    if d == 0:
        return np.empty((0, n))
    if plan.sim.qmc:
        sobol = qmc.Sobol(d, scramble=True, seed=rng)
        u = sobol.random_base2(max(math.ceil(math.log2(half)), 0))[:half]
        z = special.ndtri(np.clip(u.T, QMC_EDGE, 1.0 - QMC_EDGE))
    else:
        z = standard_normal(rng, (d, half))
    if plan.copula is not None:
        chi2 = rng.chisquare(plan.copula.dof, half) if plan.copula.kind == "student_t" else None
        if plan.all_rows_copula is not None:
            z = correlate(z, plan.all_rows_copula, chi2)
        else:
            idx = plan.correlated
            z[idx] = correlate(z[idx], plan.copula, chi2)
    if plan.sim.antithetic:
        z = np.concatenate([z, -z], axis=1)[:, :n]
    return z


def _legal_uniforms(plan: Plan, rng: np.random.Generator, n: int) -> FloatArray:
    half = -(-n // 2) if plan.sim.antithetic else n
    u = 1.0 - rng.random((half, len(EVENTS)))  # in (0, 1]
    if plan.sim.antithetic:
        u = np.concatenate([u, 1.0 - u])[:n]
    return u


def _sample(plan: Plan, z: FloatArray) -> tuple[dict[str, FloatArray], dict[str, int]]:
    samples: dict[str, FloatArray] = {}
    clipped: dict[str, int] = {}
    for j, item in enumerate(plan.inputs):
        x = from_normal_scores(item.dist, z[j])
        if item.bounds is not None and crosses(item.dist, item.bounds):
            x, count = clip_to_bounds(x, item.bounds)
            if count:
                clipped[item.path] = count
        samples[item.path] = x
    return samples, clipped


def _draw_from(samples: dict[str, FloatArray]) -> Any:
    def draw(path: str, model: Any) -> Any:
        found = samples.get(path)
        if found is not None:
            return found
        if is_uncertain(model):
            raise KeyError(f"input {path} was not sampled")  # pragma: no cover - a bug
        return base_value(model)

    return draw


def _value_methods(
    plan: Plan, draw: Any, n: int, times: dict[str, FloatArray]
) -> dict[str, FloatArray]:
    """Each method's value per path, with legal events applied."""
    legal_years = plan.life.years
    stop = np.minimum(times["invalidation"], times["lapse"]) if times else None
    life = None if stop is None else np.minimum(legal_years, stop)
    share = plan.legal.loss_share if times and plan.legal.has_litigation() else 0.0
    out: dict[str, FloatArray] = {}
    for i, (key, m) in enumerate(zip(plan.keys, plan.request.methods, strict=True)):
        value = value_method(m, i, draw, legal_years, life_years=life, audit=False).value
        uses_life = m.method in INCOME_METHODS or (
            isinstance(m, MarketInputs) and m.comparables[0].price is None
        )
        if share > 0 and uses_life:
            # Income falls by `share` from the lost case on: exactly a mix of the income cut at
            # the case and the income uncut, since both are linear in the per-year life weights.
            cut_life = np.minimum(
                life if life is not None else legal_years, times["litigation_loss"]
            )
            cut = value_method(m, i, draw, legal_years, life_years=cut_life, audit=False).value
            value = (1.0 - share) * np.asarray(value) + share * np.asarray(cut)
        if isinstance(m, RealOptionInputs) and stop is not None:
            years = np.minimum(np.asarray(draw(f"methods[{i}].years", m.years)), legal_years)
            value = np.where(stop > years, value, 0.0)
        value = np.asarray(value, dtype=float)
        out[key] = value if value.shape == (n,) else np.broadcast_to(value, (n,))
    return out


def run_chunk(plan: Plan, index: int, keep_samples: bool = False) -> ChunkOut:
    """Simulate chunk ``index`` of ``plan``; the same plan and index give the same numbers.

    The chunk's inputs are drawn at once (its random stream fixes them); the methods are then
    valued on blocks of :data:`VALUE_BLOCK` paths, whose ``(block, years)`` temporaries stay in
    the core's cache. Values are per path, so blocking does not change a single number.
    """
    n = plan.chunk_size(index)
    rng = _generator(plan.seed, STREAM_INPUTS, index)
    z = _normal_scores(plan, rng, n)
    samples, clipped = _sample(plan, z)
    del z
    times: dict[str, FloatArray] = {}
    if not plan.legal.is_none():
        u = _legal_uniforms(plan, rng, n)
        hazards = {e: samples[p] for e, p in plan.legal.uncertain.items()}
        times = event_times(plan.legal, u, hazards)
    by_method = {key: np.empty(n) for key in plan.keys}
    total = np.empty(n)
    for start in range(0, n, VALUE_BLOCK):
        block = slice(start, min(start + VALUE_BLOCK, n))
        size = block.stop - start
        values = _value_methods(
            plan,
            _draw_from({k: v[block] for k, v in samples.items()}),
            size,
            {k: v[block] for k, v in times.items()},
        )
        for key, v in values.items():
            by_method[key][block] = v
        total[block] = weighted_value(dict[str, Any](values), plan.weights)
    pair_means = None
    if plan.sim.antithetic:
        half = -(-n // 2)
        pairs = n - half
        pair_means = 0.5 * (total[:pairs] + total[half : half + pairs])
    return ChunkOut(
        total=total,
        by_method=by_method,
        pair_means=pair_means,
        clipped=clipped,
        events=times,
        samples=samples if keep_samples else {},
    )


def run_chunks(
    plan: Plan, indices: list[int], progress: Callable[[float], None] | None = None
) -> list[ChunkOut]:
    """Simulate several chunks in this thread, reporting the completed fraction after each."""
    out = []
    for done, i in enumerate(indices, start=1):
        out.append(_run_one(plan, i))
        if progress is not None:
            progress(done / len(indices))
    return out


def _check_correlation_inputs(names: list[str], inputs: list[UncertainInput], request: Any) -> None:
    known = {item.path for item in inputs}
    every = {p for p, _ in _all_numeric_paths(request)}
    for i, name in enumerate(names):
        if name in known:
            continue
        field_path = f"{CORRELATIONS_FIELD}[{i}]"
        if name in every:
            raise InputError.for_field(
                field_path,
                f"{name} is a fixed number; only inputs given as distributions can be correlated",
            )
        listed = ", ".join(sorted(known)[:10]) or "none"
        raise InputError.for_field(
            field_path, f"no uncertain input is called {name!r}; the uncertain inputs are {listed}"
        )


def _all_numeric_paths(request: ValuationRequest) -> list[tuple[str, Any]]:
    return [p for i, m in enumerate(request.methods) for p in uncertain_paths(m, f"methods[{i}]")]


def _legal_inputs(request: ValuationRequest, sim: Simulation) -> list[UncertainInput]:
    if sim.legal_risk is None:
        return []
    found = uncertain_inputs(sim.legal_risk, "simulation.legal_risk")
    return [item for item in found if item.path.endswith("_hazard")]


def make_plan(request: ValuationRequest, seed: int | None = None) -> Plan:
    """Validate the simulation settings and fix everything the chunks share.

    Raises
    ------
    InputError
        Unknown or fixed inputs in ``simulation.correlations.inputs``; a correlation matrix that
        is not positive semi-definite (without ``repair``); value paths without a volatility.
    """
    sim = request.simulation or Simulation()
    if seed is None:
        seed = sim.seed if sim.seed is not None else secrets.randbits(63)
    inputs = [
        item for i, m in enumerate(request.methods) for item in uncertain_inputs(m, f"methods[{i}]")
    ]
    inputs += _legal_inputs(request, sim)
    copula, correlated, all_rows_copula = None, [], None
    if sim.correlations is not None:
        _check_correlation_inputs(sim.correlations.inputs, inputs, request)
        position = {item.path: j for j, item in enumerate(inputs)}
        correlated = [position[name] for name in sim.correlations.inputs]
        copula = plan_copula(
            sim.correlations.matrix,
            repair=sim.correlations.repair,
            kind=sim.copula,
            dof=sim.copula_dof,
        )
        if sorted(correlated) == list(range(len(inputs))):
            factor = np.empty_like(copula.factor)
            factor[np.ix_(correlated, correlated)] = copula.factor
            all_rows_copula = replace(copula, factor=factor)
    if sim.horizon_years is not None and sim.volatility is None:
        raise InputError.for_field(
            "simulation.volatility",
            "value paths over horizon_years need the value's annual volatility, e.g. 0.4",
        )
    life = remaining_legal_life(request.asset, request.valuation_date)
    legal = plan_legal_risk(request.asset, request.valuation_date, sim.legal_risk)
    if request.asset.legal.status in DEAD_STATUSES:
        legal = LegalPlan({e: flat(0.0) for e in EVENTS}, {}, 0.0, legal.sources)
    keys = method_keys(request.methods)
    return Plan(
        request=request,
        sim=sim,
        seed=seed,
        life=life,
        keys=keys,
        weights=normalise_weights(keys, request.weights),
        inputs=inputs,
        copula=copula,
        correlated=correlated,
        legal=legal,
        all_rows_copula=all_rows_copula,
    )


def _run_one(plan: Plan, index: int) -> ChunkOut:
    return run_chunk(plan, index, keep_samples=index * CHUNK_PATHS < SENSITIVITY_PATHS)


MALLOC_WARMUP_BYTES = 32_000_000
"""Size of the block :func:`_keep_freed_memory` allocates and frees (just under glibc's 32 MiB
cap on its dynamic mmap threshold)."""


def _keep_freed_memory() -> None:
    """Let the allocator reuse each block's freed temporaries instead of faulting in new pages.

    glibc hands the top of its heap back to the system once more than its trim threshold (128
    KiB at first) lies free there, and serves large requests with fresh ``mmap`` pages; each
    block's few megabytes of ``(paths, years)`` temporaries were then faulted in anew, which
    took as long as the arithmetic. glibc raises both thresholds by itself when a large
    ``mmap``-ed block is freed, as after any big numpy temporary; freeing one such block up front
    puts the process in that state from the first chunk. Nothing is touched (no page is
    faulted), and a threshold set explicitly (``MALLOC_TRIM_THRESHOLD_``) is left as it is.
    """
    block = np.empty(MALLOC_WARMUP_BYTES, dtype=np.uint8)
    del block


def simulate_chunks(
    plan: Plan, workers: int = 1, progress: Callable[[float], None] | None = None
) -> list[ChunkOut]:
    """Run every chunk of ``plan``, in this thread or spread over ``workers`` threads.

    Each chunk draws from its own stream, so the numbers do not depend on ``workers``. Threads
    run in parallel here: the time goes to numpy and scipy array loops (random draws, inverse
    CDFs, the per-year arithmetic), which release the GIL, and each chunk's results are written
    straight into its own arrays (worker processes had to pickle every path's value back
    through a pipe, which cost as much as the simulation). The chunk arithmetic calls no BLAS,
    so no thread pool is nested under the workers. ``progress`` receives the completed fraction
    of chunks, from this (the calling) thread.
    """
    indices = list(range(plan.chunks))
    _keep_freed_memory()
    if workers <= 1 or len(indices) < 2:
        return run_chunks(plan, indices, progress)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="montecarlo") as pool:
        futures = [pool.submit(_run_one, plan, i) for i in indices]
        for done, _ in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress(done / len(futures))
        return [f.result() for f in futures]
