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
import json
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
            doc = {
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
                            "revenue": {
                                "base": float(rng.uniform(5e5, 5e6)),
                                "growth": 0.02,
                                "years": 8,
                            },
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
            ids.append(store.create("asset", TENANT, doc, {"label": doc["asset"]["name"]})["id"])
        loan = {
            "borrower": f"B{i}",
            "amount": float(rng.uniform(1e5, 1e6)),
            "currency": "EUR",
            "start_date": "2026-02-01",
            "term_years": 3,
            "pledged_asset_ids": ids,
            "annual_pd": 0.02,
            "asset_correlation": 0.5,
        }
        store.create("loan", TENANT, loan, {"label": loan["borrower"], "currency": "EUR"})


def _task(url: str, loan_ids: list[str], paths: int) -> dict[str, Any]:
    out = run_monitoring(url, TENANT, AS_OF, loan_ids, paths=paths)
    return {
        "loans_checked": out["loans_checked"],
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def _warm() -> None:
    """Import what a task needs, so the clock measures monitoring, not imports."""
    import ipvalue.api.monitor
    import ipvalue.risk.book.monitor  # noqa: F401


def evaluations(url: str) -> dict[str, tuple[float, float | None, float | None]]:
    """Each loan's (value, LTV, breach probability) as stored."""
    with engine_for(url).connect() as conn:
        rows = conn.execute(
            select(records.c.subject, records.c.result).where(records.c.kind == EVALUATION_KIND)
        ).all()
    found = {}
    for subject, result in rows:
        doc = json.loads(result)
        c = doc["collateral"] or {}
        found[subject] = (doc["value"], c.get("ltv"), (c.get("prob_ltv_breach") or {}).get("value"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=200)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
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

        t0 = time.perf_counter()
        serial = _task(serial_url, loan_ids, args.paths)
        serial_s = time.perf_counter() - t0
        rate = serial["loans_checked"] / serial_s
        print(
            f"serial: {serial['loans_checked']} loans in {serial_s:.1f} s = {rate:.1f} loans/s; "
            f"peak RSS {serial['rss'] / 1024**2:.0f} MiB; at this rate 10,000 loans take "
            f"{10_000 / rate:.0f} s (goal {GOAL_SECONDS:.0f} s, {GOAL_BYTES / 1024**3:.0f} GB)"
        )

        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True) as cluster:
            with Client(cluster) as client:
                parts = [loan_ids[k :: args.workers] for k in range(args.workers)]
                client.run(_warm)  # workers up and imported before the clock starts
                t0 = time.perf_counter()
                done = client.gather(
                    [client.submit(_task, parallel_url, p, args.paths, pure=False) for p in parts]
                )
                parallel_s = time.perf_counter() - t0
        checked = sum(d["loans_checked"] for d in done)
        print(
            f"dask x{args.workers}: {checked} loans in {parallel_s:.1f} s; speed-up "
            f"{serial_s / parallel_s:.2f}x (goal 1.6x); worker peak RSS "
            f"{max(d['rss'] for d in done) / 1024**2:.0f} MiB"
        )
        same = evaluations(serial_url) == evaluations(parallel_url)
        print(f"evaluations identical: {same}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
