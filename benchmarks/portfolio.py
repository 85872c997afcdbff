"""Portfolio screening benchmark: 10,000 assets x 10,000 paths, then the same on Dask.

Run: ``.venv/bin/python benchmarks/portfolio.py [--assets N] [--paths N] [--workers N]``.

Prints the wall time and peak memory of :func:`risk.portfolio.screen_portfolio` against the
goal (under 60 s and under 4 GB on a 2-core machine), then runs the same blocks as tasks on a
``distributed.LocalCluster`` (one thread per worker process) and prints the speed-up and
whether the two results are bit-identical (they must be: each block has its own random
stream). Beside the speed-up it prints the speed-up the machine offers at that moment to the
same number of processes doing plain numpy work, since other jobs on a small shared machine
take cores away. Times are not asserted anywhere; the ratios are the point.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import resource
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ipvalue.models.portfolio import PortfolioAsset, PortfolioRequest
from ipvalue.risk.portfolio import screen_portfolio
from ipvalue.risk.portfolio.assemble import assemble
from ipvalue.risk.portfolio.legal import legal_outlook
from ipvalue.risk.portfolio.screen import factor_scores, merge, plan_screen, simulate_blocks

GOAL_SECONDS = 60.0
GOAL_BYTES = 4 * 1024**3
KINDS = ("patent", "trademark", "software", "copyright", "design", "utility_model", "trade_secret")


def synthetic_request(n_assets: int, paths: int, seed: int = 2026) -> PortfolioRequest:
    """A fund-like portfolio: lognormal values, 40 sectors, mixed kinds and legal states."""
    rng = np.random.default_rng(seed)
    day = dt.date(2026, 11, 27)
    assets = []
    for i in range(n_assets):
        life = float(rng.uniform(0.2, 18.0)) if rng.random() < 0.6 else None
        assets.append(
            PortfolioAsset(
                id=f"A{i:06d}",
                kind=KINDS[i % len(KINDS)],
                sector=f"sector-{int(rng.integers(40)):02d}",
                value=float(rng.lognormal(14.0, 1.2)),
                volatility=float(rng.uniform(0.1, 0.8)),
                remaining_life_years=life,
                under_challenge=bool(rng.random() < 0.03),
            )
        )
    return PortfolioRequest(assets=assets, paths=paths, seed=seed, valuation_date=day)


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _numpy_work(seed: int) -> float:
    """A fixed slice of the screening's own work (normals, exp, sort); returns its seconds."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(10):
        x = rng.standard_normal((256, 10_000), dtype=np.float32)
        np.exp(x, out=x)
        x.sort(axis=1)
    return time.perf_counter() - start


def parallel_capacity(workers: int) -> float:
    """Speed-up the machine offers right now: one slice alone vs ``workers`` slices at once."""
    import multiprocessing

    alone = _numpy_work(0)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(_numpy_work, range(workers))  # warm-up: interpreter start and imports
        start = time.perf_counter()
        pool.map(_numpy_work, range(workers))
        together = time.perf_counter() - start
    return workers * alone / together


def run_local(request: PortfolioRequest):
    """Timed run, then a second run under tracemalloc for the peak of traced allocations."""
    start = time.perf_counter()
    result = screen_portfolio(request)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    again = screen_portfolio(request)
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if again.model_dump() != result.model_dump():
        raise AssertionError("two local runs with one seed differ")
    return result, seconds, traced


def timed_blocks(plan, factors, blocks):
    """``simulate_blocks`` and the seconds it took inside the worker."""
    start = time.perf_counter()
    stats = simulate_blocks(plan, factors, blocks)
    return stats, time.perf_counter() - start


def run_dask(request: PortfolioRequest, workers: int, tasks_per_worker: int = 2):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("ipvalue.risk.portfolio.screen"))  # warm the workers' imports
        start = time.perf_counter()
        outlook = legal_outlook(
            request.assets,
            request.valuation_date,
            request.horizon_years,
            request.challenge_loss_probability,
        )
        plan = plan_screen(request, outlook)
        plan_f = client.scatter(plan, broadcast=True)
        factors_f = client.scatter(factor_scores(plan), broadcast=True)
        edges = np.linspace(0, plan.n_blocks, workers * tasks_per_worker + 1).astype(int)
        ranges = [range(a, b) for a, b in itertools.pairwise(edges) if b > a]
        # Pin tasks round-robin: with the inputs broadcast everywhere the scheduler would
        # otherwise queue them on one worker and rebalance only by slow work stealing.
        names = sorted(client.scheduler_info()["workers"])
        futures = [
            client.submit(
                timed_blocks, plan_f, factors_f, r, pure=False, workers=[names[i % len(names)]]
            )
            for i, r in enumerate(ranges)
        ]
        timed = client.gather(futures)
        result = assemble(request, plan, merge([stats for stats, _ in timed]), outlook)
        seconds = time.perf_counter() - start
        worker_rss = client.run(peak_rss_bytes)
    task_seconds = sum(sec for _, sec in timed)
    return result, seconds, max(worker_rss.values()), task_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()

    build = time.perf_counter()
    request = synthetic_request(args.assets, args.paths)
    print(f"load average before: {os.getloadavg()[0]:.2f} (other processes share the CPUs)")
    print(
        f"built {args.assets:,} assets in {time.perf_counter() - build:.1f} s; "
        f"{args.paths:,} paths; {os.cpu_count()} CPUs"
    )

    local, seconds, traced = run_local(request)
    rss = peak_rss_bytes()
    print(
        f"local:  {seconds:6.2f} s  (goal {GOAL_SECONDS:.0f} s, ratio {seconds / GOAL_SECONDS:.3f})"
    )
    print(
        f"        peak traced allocations {traced / 1024**2:,.0f} MiB, "
        f"peak RSS {rss / 1024**2:,.0f} MiB "
        f"(goal {GOAL_BYTES / 1024**3:.0f} GiB, ratio {rss / GOAL_BYTES:.3f})"
    )
    t = local.totals
    print(
        f"        portfolio {t.total_value:,.0f}: VaR95 {t.var95:,.0f}, ES99 {t.es99:,.0f}, "
        f"diversification benefit 95 % {t.diversification_benefit95:,.0f}"
    )
    if args.no_dask:
        return 0

    capacity = parallel_capacity(args.workers)
    distributed, dseconds, worker_rss, task_seconds = run_dask(request, args.workers)
    same = distributed.model_dump() == local.model_dump()
    print(
        f"dask:   {dseconds:6.2f} s on {args.workers} worker processes "
        f"(peak worker RSS {worker_rss / 1024**2:,.0f} MiB)"
    )
    print(
        f"        speed-up {seconds / dseconds:.2f}x; the machine offered {capacity:.2f}x to "
        f"{args.workers} processes of plain numpy work at the time; "
        f"bit-identical to local: {same}"
    )
    print(
        f"        simulation tasks took {task_seconds:.2f} s of worker time in all; "
        f"{task_seconds / (args.workers * dseconds):.0%} of {args.workers} workers x wall time "
        "(the rest is the serial plan/assembly and Dask overhead)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
