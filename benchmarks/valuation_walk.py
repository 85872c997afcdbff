"""A valuation's walk, end to end: the five-method request over the one-method request.

``examples/five_methods.json`` (relief from royalty, excess earnings, market with royalty
comparables, replacement cost, real option; 100,000 paths) and the same request with only its
relief from royalty are posted through the API's test client (validation, point value, simulation,
statistics, the stored record) on a fresh SQLite file. Goal (issue 9): the five-method request at
most 5x the one-method request in the same run. Before the straight walk this request took
202x the one-method request (42 s vs 0.21 s on a loaded machine): the audit trail was turned into
Python lists on every block of the simulation, and the market regression refitted on each.

The machine is shared, so the sides alternate and each keeps its best of several rounds; the
load average is printed. Run: ``.venv/bin/python benchmarks/valuation_walk.py`` (under a minute).
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from ipvalue.api import create_app
from ipvalue.api.keys import create_key

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5


def requests() -> tuple[dict[str, Any], dict[str, Any]]:
    """The five-method request and its relief-from-royalty-only twin."""
    five = json.loads((ROOT / "examples" / "five_methods.json").read_text())
    one = copy.deepcopy(five)
    one["methods"] = one["methods"][:1]
    return five, one


def best_time(client: Any, body: dict[str, Any]) -> float:
    """Seconds of one POST (checked to be a 201 answered in the request)."""
    start = time.perf_counter()
    resp = client.post("/v1/valuations", json=body)
    elapsed = time.perf_counter() - start
    if resp.status_code != 201:
        raise SystemExit(f"POST /v1/valuations answered {resp.status_code}: {resp.get_json()}")
    return elapsed


def main() -> None:
    five, one = requests()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite",
                "RATE_LIMIT": 0,
                "SYNC_BUDGET": 1e12,
            }
        )
        client = app.test_client()
        key = create_key(app.extensions["ipvalue.engine"], "bench").secret
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        best_time(client, five)  # warm: imports, statsmodels, first allocations
        best_time(client, one)
        times: dict[str, list[float]] = {"five": [], "one": []}
        for _ in range(ROUNDS):
            times["five"].append(best_time(client, five))
            times["one"].append(best_time(client, one))
        app.extensions["ipvalue.jobs"].shutdown()
    t5, t1 = min(times["five"]), min(times["one"])
    paths = five["simulation"]["paths"]
    print(f"load average {os.getloadavg()[0]:.2f}; {paths:,} paths, best of {ROUNDS} rounds")
    print(f"five methods (RfR, MPEEM, market royalty, replacement cost, option): {t5 * 1e3:.0f} ms")
    print(f"relief from royalty only:                                        {t1 * 1e3:.0f} ms")
    print(f"ratio five / one: {t5 / t1:.2f}x (goal <= 5x)")


if __name__ == "__main__":
    main()
