"""Monitoring-run benchmark: N loans (one to three pledged rights each) in a fresh SQLite book.

Run: ``.venv/bin/python benchmarks/monitor.py [--loans N] [--paths N] [--workers N]``
(the issue's goal: 10,000 loans x 10,000 paths under 5 minutes and 2 GB on a 2-core machine).

Builds the book (assets with a relief-from-royalty appraisal and a volatility, loans pledging
one to three of them), copies the database, then runs :func:`ipvalue.api.monitor.run_monitoring`
once in this process and once with a ``distributed.LocalCluster`` of ``--workers`` processes (one
thread each) as its executor (the workers evaluate chunks of loans, this process keeps the
leases, reads and writes), each on its own copy; both sides are warmed first. Prints loans per
second, wall and CPU seconds, peak memory (max RSS of this process and of each worker), the
speed-up (wall, and what the CPU seconds allow on free cores, since other work shares this
machine), and whether the stored evaluations (each loan's whole result) and the run's lines are
identical: each loan's collateral is seeded by its id and the run date, so they must be. Times
are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import insert, select

from ipvalue.api.book import BookStore
from ipvalue.api.db import dispose, engine_for, migrate, now
from ipvalue.api.monitor import run_monitoring
from ipvalue.api.monitor_evaluation import EVALUATION_KIND
from ipvalue.api.tables import records, tenants

TENANT = "bench"
AS_OF = dt.date(2026, 6, 1)
GOAL_SECONDS = 300.0
GOAL_BYTES = 2 * 1024**3


def asset_doc(rng: np.random.Generator, i: int, j: int) -> dict[str, Any]:
    """Right ``j`` of loan ``i``: a granted patent with a relief-from-royalty appraisal."""
    return {
        "asset": {
            "name": f"P{i}-{j}",
            "kind": "patent",
            "sector": ["energy", "medtech", "software"][j % 3],
            "legal": {"status": "granted", "filing_date": f"{2012 + j}-03-01"},
        },
        "external_ids": {},
        "appraisal": {
            "valuation_date": "2026-01-15",
            "currency": "EUR",
            "methods": [
                {
                    "method": "relief_from_royalty",
                    "revenue": {"base": float(rng.uniform(5e5, 5e6)), "growth": 0.02, "years": 8},
                    "royalty_rate": 0.04,
                    "tax_rate": 0.25,
                    "discount_rate": 0.15,
                }
            ],
            "simulation": {"volatility": float(rng.uniform(0.2, 0.6))},
        },
        "events": [],
        "unclassified_events": [],
    }


def loan_doc(rng: np.random.Generator, i: int, asset_ids: list[str]) -> dict[str, Any]:
    """Loan ``i`` pledging ``asset_ids``."""
    return {
        "borrower": f"B{i}",
        "amount": float(rng.uniform(1e5, 1e6)),
        "currency": "EUR",
        "start_date": "2026-02-01",
        "term_years": 3,
        "pledged_asset_ids": asset_ids,
        "annual_pd": 0.02,
        "asset_correlation": 0.5,
    }


def build_book(url: str, n_loans: int, seed: int = 2026) -> None:
    """A book of ``n_loans`` loans, each pledging one to three fresh assets."""
    rng = np.random.default_rng(seed)
    engine = engine_for(url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(tenants), {"name": TENANT, "created_at": now()})
    store = BookStore(engine)
    for i in range(n_loans):
        ids = []
        for j in range(int(rng.integers(1, 4))):
            doc = asset_doc(rng, i, j)
            ids.append(store.create("asset", TENANT, doc, {"label": doc["asset"]["name"]})["id"])
        loan = loan_doc(rng, i, ids)
        store.create("loan", TENANT, loan, {"label": loan["borrower"], "currency": "EUR"})


def warm(paths: int) -> float:
    """Evaluate a few loans in memory (imports, caches), so the clock measures monitoring, not
    a first call; the same in this process and in each worker. Returns this process's CPU
    seconds so far."""
    from ipvalue.api.monitor_evaluation import ChunkSpec, LoanJob, evaluate_jobs
    from ipvalue.models.book import LoanBody

    rng = np.random.default_rng(1)
    jobs = []
    for i in range(3):
        assets = tuple((f"warm-{i}-{j}", asset_doc(rng, i, j), None) for j in range(i + 1))
        loan = LoanBody.model_validate(loan_doc(rng, i, [a for a, _, _ in assets]))
        jobs.append(LoanJob(f"warm-{i}", loan, assets, None))
    evaluate_jobs(ChunkSpec(TENANT, AS_OF, None, paths), jobs)
    return cpu_seconds()


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process so far."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def peak_rss() -> int:
    """Peak resident memory of this process, bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def evaluations(url: str) -> dict[str, str]:
    """Each loan's stored evaluation (its whole result, as JSON)."""
    with engine_for(url).connect() as conn:
        rows = conn.execute(
            select(records.c.subject, records.c.result).where(records.c.kind == EVALUATION_KIND)
        ).all()
    return {subject: result for subject, result in rows}


def serial_round(url: str, loan_ids: list[str], paths: int) -> tuple[dict[str, Any], float, float]:
    """A run in this process: (its answer, wall seconds, CPU seconds)."""
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    out = run_monitoring(url, TENANT, AS_OF, loan_ids, paths=paths)
    return out, time.perf_counter() - t0, cpu_seconds() - cpu0


def dask_round(
    client: Any, url: str, loan_ids: list[str], paths: int
) -> tuple[dict[str, Any], float, float, list[float]]:
    """A run with the cluster as executor: (its answer, wall seconds, this process's CPU
    seconds, each worker's CPU seconds)."""
    before = client.run(cpu_seconds)
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    out = run_monitoring(url, TENANT, AS_OF, loan_ids, paths=paths, executor=client)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    after = client.run(cpu_seconds)
    return out, wall, cpu, [after[w] - before[w] for w in after]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=2, help="serial and Dask runs, alternating (best kept)"
    )
    args = parser.parse_args()
    print(f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    folder = tempfile.mkdtemp(prefix="ipvalue-monitor-bench-")
    try:
        built_url = f"sqlite:///{folder}/built.sqlite"
        t0 = time.perf_counter()
        build_book(built_url, args.loans)
        dispose(built_url)
        print(f"built {args.loans} loans in {time.perf_counter() - t0:.1f} s")
        loan_ids = [e["id"] for e in BookStore(engine_for(built_url)).all_current("loan", TENANT)]
        dispose(built_url)

        import dask
        from distributed import Client, LocalCluster

        # the workers' housekeeping wakes their event loop (and takes the GIL from the task)
        # many times a second: the statistical profiler every 10 ms, the loop's health check
        # every 20 ms, the memory and system monitors every 0.1 and 0.5 s; measured, that is
        # 10-25 % of a task's CPU. Profiler off, the others less often.
        dask.config.set(
            {
                "distributed.worker.profile.enabled": False,
                "distributed.admin.tick.interval": "500ms",
                "distributed.admin.system-monitor.interval": "2s",
                "distributed.worker.memory.monitor-interval": "1s",
            }
        )
        serial: list[tuple[float, float]] = []
        parallel: list[tuple[float, float, list[float]]] = []
        same = True
        with LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster:
            with Client(cluster) as client:
                client.run(warm, args.paths)  # up and warm before the clock
                warm(args.paths)
                for r in range(args.rounds):  # alternating, so changing load hits both
                    urls = []
                    for side in ("serial", "dask"):
                        shutil.copyfile(f"{folder}/built.sqlite", f"{folder}/{side}{r}.sqlite")
                        urls.append(f"sqlite:///{folder}/{side}{r}.sqlite")
                    one, wall, cpu = serial_round(urls[0], loan_ids, args.paths)
                    serial.append((wall, cpu))
                    many, p_wall, p_cpu, w_cpu = dask_round(client, urls[1], loan_ids, args.paths)
                    parallel.append((p_wall, p_cpu, w_cpu))
                    same = same and one["loans"] == many["loans"]
                    same = same and evaluations(urls[0]) == evaluations(urls[1])
                    print(
                        f"round {r + 1}: serial {wall:.1f} s (CPU {cpu:.1f} s), dask "
                        f"{p_wall:.1f} s (CPU this process {p_cpu:.1f} s, workers "
                        f"{' + '.join(f'{c:.1f}' for c in w_cpu)} s): {wall / p_wall:.2f}x; "
                        f"load {os.getloadavg()[0]:.1f}"
                    )
                    for url in urls:
                        dispose(url)
                worker_rss = client.run(peak_rss)
        n = one["loans_checked"]
        best = min(serial)
        rate = n / best[0]
        print(
            f"serial: {n} loans in {best[0]:.1f} s = {rate:.1f} loans/s (CPU {best[1]:.1f} s, "
            f"{1000 * best[1] / n:.1f} ms a loan); peak RSS {peak_rss() / 1024**2:.0f} MiB; at "
            f"this rate 10,000 loans take {10_000 / rate:.0f} s (goal < {GOAL_SECONDS:.0f} s, "
            f"< {GOAL_BYTES / 1024**3:.0f} GB)"
        )
        p_best = min(parallel, key=lambda x: x[0])
        print(
            f"dask x{args.workers}: {many['loans_checked']} loans in {p_best[0]:.1f} s = "
            f"{many['loans_checked'] / p_best[0]:.1f} loans/s; speed-up {best[0] / p_best[0]:.2f}x "
            f"(best over best; per round "
            f"{', '.join(f'{s[0] / p[0]:.2f}' for s, p in zip(serial, parallel, strict=True))}; "
            f"goal >= 1.6x); peak RSS of the workers "
            f"{' + '.join(f'{r / 1024**2:.0f}' for r in worker_rss.values())} MiB"
        )
        # with the cores free, a run takes at least its busiest worker's CPU time, and at
        # least all its CPU time (workers and this process) spread over the cores
        s_cpu = min(c for _, c in serial)
        p_total = min(c + sum(w) for _, c, w in parallel)
        floor = min(max(max(w), (c + sum(w)) / args.workers) for _, c, w in parallel)
        print(
            f"  CPU-time speed-up (what the work allows on {args.workers} free cores): "
            f"{s_cpu / floor:.2f}x; parallel CPU over serial {p_total / s_cpu:.2f}x"
        )
        if best[0] > 1.2 * best[1]:
            print(
                "  (wall time above CPU time: other processes shared the cores, by different "
                "amounts in the runs, so the wall-time speed-up is noisy)"
            )
        print(f"evaluations identical: {same}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
