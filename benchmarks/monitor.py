"""Monitoring-run benchmark: N loans (one to three pledged rights each) in a fresh SQLite book.

Run: ``.venv/bin/python benchmarks/monitor.py [--loans N] [--paths N] [--workers N]``
(the issue's goal: 10,000 loans x 10,000 paths under 5 minutes and 2 GB on a 2-core machine).

Builds the book (assets with a relief-from-royalty appraisal and a volatility, loans pledging
one to three of them), copies the database, then runs :func:`ipvalue.api.monitor.run_monitoring`
once serially and once as ``--workers`` tasks on a ``distributed.LocalCluster`` (one thread per
worker process, the loans split evenly), each on its own copy. Prints loans per second, peak
memory (max RSS of this process and the workers), the speed-up, and whether the evaluations
(value, LTV, breach probability per loan) are identical: each loan's collateral is seeded by
its id and the run date, so they must be. Times are printed, never asserted.
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
from ipvalue.api.monitor import EVALUATION_KIND, run_monitoring
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
    from ipvalue.api.monitor import ChunkSpec, LoanJob, evaluate_jobs
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    folder = tempfile.mkdtemp(prefix="ipvalue-monitor-bench-")
    try:
        serial_url = f"sqlite:///{folder}/serial.sqlite"
        t0 = time.perf_counter()
        build_book(serial_url, args.loans)
        dispose(serial_url)
        print(f"built {args.loans} loans in {time.perf_counter() - t0:.1f} s")
        parallel_url = f"sqlite:///{folder}/parallel.sqlite"
        shutil.copyfile(f"{folder}/serial.sqlite", f"{folder}/parallel.sqlite")
        loan_ids = [e["id"] for e in BookStore(engine_for(serial_url)).all_current("loan", TENANT)]

        cpu0 = warm(args.paths)
        t0 = time.perf_counter()
        serial = run_monitoring(serial_url, TENANT, AS_OF, loan_ids, paths=args.paths)
        serial_s = time.perf_counter() - t0
        serial_cpu = cpu_seconds() - cpu0
        rate = serial["loans_checked"] / serial_s
        print(
            f"serial: {serial['loans_checked']} loans in {serial_s:.1f} s = {rate:.1f} loans/s "
            f"(CPU {serial_cpu:.1f} s); peak RSS {peak_rss() / 1024**2:.0f} MiB; at this rate "
            f"10,000 loans take {10_000 / rate:.0f} s (goal < {GOAL_SECONDS:.0f} s, "
            f"< {GOAL_BYTES / 1024**3:.0f} GB)"
        )

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
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True) as cluster:
            with Client(cluster) as client:
                worker_cpu0 = client.run(warm, args.paths)  # up and warm before the clock
                cpu0 = cpu_seconds()
                t0 = time.perf_counter()
                parallel = run_monitoring(
                    parallel_url, TENANT, AS_OF, loan_ids, paths=args.paths, executor=client
                )
                parallel_s = time.perf_counter() - t0
                driver_cpu = cpu_seconds() - cpu0
                worker_cpu = client.run(cpu_seconds)
                worker_rss = client.run(peak_rss)
        worker_used = [worker_cpu[w] - worker_cpu0[w] for w in worker_cpu]
        print(
            f"dask x{args.workers}: {parallel['loans_checked']} loans in {parallel_s:.1f} s = "
            f"{parallel['loans_checked'] / parallel_s:.1f} loans/s; speed-up "
            f"{serial_s / parallel_s:.2f}x (goal >= 1.6x); CPU: this process {driver_cpu:.1f} s, "
            f"workers {' + '.join(f'{c:.1f}' for c in worker_used)} s; peak RSS of the workers "
            f"{' + '.join(f'{r / 1024**2:.0f}' for r in worker_rss.values())} MiB"
        )
        if serial_s > 1.2 * serial_cpu or parallel_s * args.workers > 1.2 * sum(worker_used):
            print(
                "  (wall time above CPU time: other processes share the cores, so the speed-up "
                "is a lower bound; the CPU seconds show the work each side did)"
            )
        same = evaluations(serial_url) == evaluations(parallel_url)
        same_lines = serial["loans"] == parallel["loans"]
        print(f"evaluations identical: {same and same_lines}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
