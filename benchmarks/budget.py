"""How well the inline budget's work estimate tracks the time a valuation takes.

For request shapes that stress each driver (paths, method-years, uncertain inputs, value-path
steps) it prints the estimate (`api.limits.valuation_work`, path-years), the seconds one run
took here, and their ratio in microseconds per path-year: a good estimate keeps the ratio in a
narrow band, so ``SYNC_BUDGET`` bounds the time a request can hold a server thread.

    .venv/bin/python benchmarks/budget.py
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

from ipvalue.api.limits import valuation_work
from ipvalue.api.service import run_valuation
from ipvalue.models.valuation import ValuationRequest

ROOT = Path(__file__).resolve().parents[1]
PATENT = json.loads((ROOT / "examples" / "patent.json").read_text())


def shape(paths: int, **simulation: Any) -> dict[str, Any]:
    body = copy.deepcopy(PATENT)
    body["simulation"] = {"paths": paths, "seed": 1, **simulation}
    return body


def many_methods(paths: int, methods: int, years: int) -> dict[str, Any]:
    body = shape(paths)
    rfr = copy.deepcopy(body["methods"][0])
    rfr["revenue"] = [
        {"dist": "triangular", "low": 3e6, "mode": 4e6, "high": 5e6} for _ in range(years)
    ]
    rfr.pop("tab_years", None)
    body["methods"] = [{**rfr, "label": f"m{i}"} for i in range(methods)]
    body.pop("weights", None)
    return body


CASES = {
    "patent.json, 10k paths": shape(10_000),
    "patent.json, 100k paths": shape(100_000),
    "value paths 2 y x 365 steps, 20k": shape(
        20_000, horizon_years=2, volatility=0.3, steps_per_year=365
    ),
    "value paths 10 y x 12 steps, 50k": shape(50_000, horizon_years=10, volatility=0.3),
    "5 methods x 30 uncertain years, 5k": many_methods(5_000, 5, 30),
    "20 methods x 100 uncertain years, 2k": many_methods(2_000, 20, 100),
}


def main() -> None:
    print(f"{'case':40s} {'path-years':>12s} {'seconds':>8s} {'us/path-year':>13s}")
    for name, body in CASES.items():
        request = ValuationRequest.model_validate(body)
        work = valuation_work(request, body)
        run_valuation(body)  # warm-up (imports, caches)
        start = time.perf_counter()
        run_valuation(body)
        seconds = time.perf_counter() - start
        print(f"{name:40s} {work:12,.0f} {seconds:8.3f} {1e6 * seconds / work:13.3f}")


if __name__ == "__main__":
    main()
