"""Benchmark of the Bayesian volatility estimate: 40 observations, 4 chains x 1,000 draws.

Prints, measured in one run, ours (nutpie) beside PyMC's default sampler:

- cold: the first estimate in a new Python process, wall time from process start to exit
  (interpreter start, imports, loading or compiling the model, sampling, diagnostics, exit),
  median of three processes, measured after one process has made sure the compile caches are
  on disk; with time to the result and whether PyMC was imported;
- warm: an estimate in a process that already has the model (median of ten, new data each),
  with the slowest and how many were re-run after failing their diagnostics;
- warm time relative to an ``arch`` GARCH(1,1) fit of the same data;
- ESS per second (smallest bulk ESS of the reported quantities / warm time);
- the load average before and after (other work on the machine slows every figure).

Run: ``.venv/bin/python benchmarks/volatility.py``.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N = 40
PERIODS = 12
DRAWS, TUNE, CHAINS = 1000, 1000, 4
REPEATS = 10
COLD_REPEATS = 3

COLD = """
import time
t0 = time.perf_counter()
import json, sys
import numpy as np
from ipvalue.risk.volatility import estimate_volatility
t1 = time.perf_counter()
r = np.random.default_rng(0).normal(0.0, 0.3 / np.sqrt(12), size=40)
est = estimate_volatility({"series": list(r), "kind": "returns", "periods_per_year": 12,
                           "seed": 1})
t2 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "estimate": t2 - t1, "pymc": "pymc" in sys.modules}))
"""

PYMC_COLD = """
import time
t0 = time.perf_counter()
import json, logging, os, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import ipvalue.risk.volatility  # sets PyTensor's compile folder
import pymc as pm
from ipvalue.risk.volatility.models import student_t_model
from ipvalue.risk.volatility.priors import DEFAULT_PRIOR
logging.getLogger("pymc").setLevel(logging.ERROR)
t1 = time.perf_counter()
r = np.random.default_rng(0).normal(0.0, 0.3 / np.sqrt(12), size=40)
with student_t_model(r, 12, DEFAULT_PRIOR):
    pm.sample(draws=1000, tune=1000, chains=4, cores=min(4, os.cpu_count() or 1),
              random_seed=1, progressbar=False, compute_convergence_checks=False)
t2 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "estimate": t2 - t1, "pymc": True}))
"""


def series(seed: int) -> list[float]:
    """A 40-month series of log returns with 30 % annual volatility."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return list(rng.standard_t(5, size=N) * 0.3 / np.sqrt(PERIODS) * np.sqrt(3 / 5))


def new_process(code: str) -> tuple[float, dict[str, object]]:
    """Wall time of a fresh Python process running ``code`` (start to exit), and its report."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    total = time.perf_counter() - start
    return total, dict(json.loads(out.stdout.strip().splitlines()[-1]))


def cold(code: str) -> tuple[float, float, float, dict[str, object]]:
    """(first process, median wall, median time to result, report) of new processes."""
    first, _ = new_process(code)
    runs = [new_process(code) for _ in range(COLD_REPEATS)]
    walls = [w for w, _ in runs]
    to_result = [float(r["imports"]) + float(r["estimate"]) for _, r in runs]  # type: ignore[arg-type]
    return first, statistics.median(walls), statistics.median(to_result), runs[-1][1]


def load() -> str:
    """The 1, 5 and 15 minute load averages and the number of cores."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    """Run the benchmark and print its table."""
    import warnings

    warnings.simplefilter("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)

    from arch import arch_model

    load_before = load()
    ours_first, ours_cold, ours_result, ours_report = cold(COLD)
    pymc_first, pymc_cold, pymc_result, _ = cold(PYMC_COLD)

    from ipvalue.risk.volatility import estimate_volatility

    def body(seed: int) -> dict[str, object]:
        return {
            "series": series(seed),
            "kind": "returns",
            "periods_per_year": PERIODS,
            "seed": seed,
            "draws": DRAWS,
            "tune": TUNE,
            "chains": CHAINS,
        }

    estimate_volatility(body(100))
    warm_times, ess, reruns = [], [], 0
    for k in range(REPEATS):
        t = time.perf_counter()
        est = estimate_volatility(body(k))
        warm_times.append(time.perf_counter() - t)
        ess.append(est.diagnostics.ess_bulk)
        reruns += est.diagnostics.reruns
    warm = statistics.median(warm_times)

    garch_times = []
    for k in range(REPEATS):
        data = 100 * np.asarray(series(k))
        t = time.perf_counter()
        arch_model(data, vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
        garch_times.append(time.perf_counter() - t)
    garch = statistics.median(garch_times)

    import pymc as pm

    from ipvalue.risk.volatility.models import student_t_model
    from ipvalue.risk.volatility.priors import DEFAULT_PRIOR

    pymc_times = []
    for k in range(3):
        t = time.perf_counter()
        with student_t_model(np.asarray(series(k)), PERIODS, DEFAULT_PRIOR):
            pm.sample(
                draws=DRAWS,
                tune=TUNE,
                chains=CHAINS,
                cores=min(CHAINS, os.cpu_count() or 1),
                random_seed=k,
                progressbar=False,
                compute_convergence_checks=False,
            )
        pymc_times.append(time.perf_counter() - t)
    pymc_warm = statistics.median(pymc_times[1:])

    print(
        f"Bayesian volatility, {N} monthly returns, {CHAINS} chains x {DRAWS} draws ({TUNE} tune)"
    )
    print(f"  {load_before} (before)")
    print(f"  {'':50s} {'ours (nutpie)':>14s} {'PyMC default':>14s}")
    print(
        f"  {'first new process of this run (fills caches)':50s}"
        f" {ours_first:12.2f} s {pymc_first:12.2f} s"
    )
    print(
        f"  {f'cold: new process, caches on disk (median of {COLD_REPEATS})':50s}"
        f" {ours_cold:12.2f} s {pymc_cold:12.2f} s"
    )
    print(
        f"  {'  of which process start to result':50s} {ours_result:12.2f} s {pymc_result:12.2f} s"
    )
    print(
        f"  {f'warm estimate (median of {REPEATS} / {len(pymc_times) - 1})':50s}"
        f" {warm:12.3f} s {pymc_warm:12.3f} s"
    )
    print(
        f"  {'warm / arch GARCH(1,1) fit of the same data':50s}"
        f" {warm / garch:12.1f} x {pymc_warm / garch:12.1f} x"
    )
    print(f"  {'min bulk ESS per second (warm)':50s} {min(ess) / warm:14.0f}")
    print(
        f"  ours warm: slowest {max(warm_times):.3f} s, {reruns} of {REPEATS} re-run for"
        " failed diagnostics"
    )
    print(
        f"  arch GARCH(1,1) fit: {garch * 1000:.1f} ms; ours imported PyMC when cold:"
        f" {ours_report['pymc']}"
    )
    print(f"  {load()} (after)")


if __name__ == "__main__":
    main()
