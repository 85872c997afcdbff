"""Chunks of a Monte Carlo valuation: draw a chunk's inputs, value each of its paths.

A chunk's numbers come from its own stream (see :mod:`risk.montecarlo.plan`) and its draws from
:mod:`risk.montecarlo.draws`. Each method is valued through the method registry
(:func:`valuation.methods.value_method`) on arrays of shape ``(block,)``, with the legal life and
the fixed steps of the point valuation and without an audit trail; there is no loop over paths.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ipvalue.models.option_method import RealOptionInputs
from ipvalue.risk.kernel import seeds
from ipvalue.risk.montecarlo.draws import draw_from, legal_uniforms, normal_scores, sample
from ipvalue.risk.montecarlo.legal import event_times
from ipvalue.risk.montecarlo.plan import CHUNK_PATHS, SENSITIVITY_PATHS, Plan
from ipvalue.valuation.derive import derived_draw
from ipvalue.valuation.discounting import FloatArray
from ipvalue.valuation.income_value import LostCase
from ipvalue.valuation.methods import MethodCall, value_method
from ipvalue.valuation.reconcile import weighted_value
from ipvalue.valuation.resolve import Draw

VALUE_BLOCK = 1 << 15
"""Paths valued at once within a chunk. A block's per-year arrays (the income series and its
cumulative present value, ``(years, block)``) stay in the cache, and the per-block Python
steps of the method functions are paid twice per chunk; 16,384 and 65,536 measured within a
few per cent of it."""


@dataclass
class ChunkOut:
    """What one chunk hands back (arrays of shape ``(chunk,)``)."""

    total: FloatArray
    by_method: dict[str, FloatArray]
    pair_means: FloatArray | None
    clipped: dict[str, int]
    events: dict[str, FloatArray] = field(default_factory=dict)
    samples: dict[str, FloatArray] = field(default_factory=dict)


def _value_methods(
    plan: Plan, draw: Draw, n: int, times: dict[str, FloatArray]
) -> dict[str, FloatArray]:
    """Each method's value per path (inputs from ``draw``), with legal events applied."""
    legal = plan.life
    stop = np.minimum(times["invalidation"], times["lapse"]) if times else None
    life: Any = legal.years if stop is None else np.minimum(legal.years, stop)
    share = plan.legal.loss_share if times and plan.legal.has_litigation() else 0.0
    # Income falls by `share` from a lost case on: each method that values income over a life
    # reads it off the same per-path sums at the cut life too (valuation.income_value.LostCase).
    lost = LostCase(times["litigation_loss"], share) if share > 0 else None
    out: dict[str, FloatArray] = {}
    for i, (key, m) in enumerate(zip(plan.keys, plan.request.methods, strict=True)):
        path, fixed = f"methods[{i}]", plan.point.fixed[i]
        call = MethodCall(path, draw, legal, life, fixed, point=False, lost_case=lost)
        value = value_method(m, call).value
        if isinstance(m, RealOptionInputs) and stop is not None:
            years = np.minimum(np.asarray(draw(f"{path}.years", m.years)), legal.years)
            value = np.where(stop > years, value, 0.0)
        value = np.asarray(value, dtype=float)
        out[key] = value if value.shape == (n,) else np.broadcast_to(value, (n,))
    return out


def run_chunk(plan: Plan, index: int, keep_samples: bool = False) -> ChunkOut:
    """Simulate chunk ``index`` of ``plan``; the same plan and index give the same numbers.

    The chunk's inputs are drawn at once (its random stream fixes them); the methods are then
    valued on blocks of :data:`VALUE_BLOCK` paths, whose ``(years, block)`` arrays stay in
    the core's cache. Values are per path, so blocking does not change a single number.
    """
    n = plan.chunk_size(index)
    rng = seeds.child(plan.seed, seeds.VALUATION_INPUTS, index)
    z = normal_scores(plan, rng, n)
    samples, clipped = sample(plan, z)
    del z
    times: dict[str, FloatArray] = {}
    if not plan.legal.is_none():
        u = legal_uniforms(plan, rng, n)
        hazards = {e: samples[p] for e, p in plan.legal.uncertain.items()}
        times = event_times(plan.legal, u, hazards)
    by_method = {key: np.empty(n) for key in plan.keys}
    total = np.empty(n)
    for start in range(0, n, VALUE_BLOCK):
        block = slice(start, min(start + VALUE_BLOCK, n))
        size = block.stop - start
        derived_clipped: dict[str, int] = {}
        values = _value_methods(
            plan,
            derived_draw(
                draw_from({k: v[block] for k, v in samples.items()}), None, derived_clipped
            ),
            size,
            {k: v[block] for k, v in times.items()},
        )
        for k, count in derived_clipped.items():  # derived rates clipped into their range
            clipped[k] = clipped.get(k, 0) + count
        for key, v in values.items():
            by_method[key][block] = v
        if len(values) == 1 and plan.weights == {plan.keys[0]: 1.0}:
            total[block] = values[plan.keys[0]]  # 1.0 x v is v
        else:
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
