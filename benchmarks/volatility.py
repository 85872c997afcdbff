"""Benchmark of the Bayesian volatility estimate: 40 observations, 4 chains x 1,000 draws.

Prints, measured in one run:

- cold: the first estimate in a new Python process (interpreter start, imports, compile,
  sampling), measured in a subprocess; with the compile cache on disk this is the restart cost;
- warm: an estimate in a process that has compiled the model (median of several, new data each);
- warm time relative to an ``arch`` GARCH(1,1) fit of the same data;
- ESS per second (smallest bulk ESS of the reported quantities / warm time);
- PyMC's default sampler on the same model, cold and warm, beside ours.

Run: ``.venv/bin/python benchmarks/volatility.py``.
"""

from __future__ import annotations

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
REPEATS = 5

COLD = """
import time, sys
t0 = time.perf_counter()
import numpy as np
from risk.volatility import estimate_volatility
t1 = time.perf_counter()
r = np.random.default_rng(0).normal(0.0, 0.3 / np.sqrt(12), size=40)
est = estimate_volatility({"series": list(r), "kind": "returns", "periods_per_year": 12,
                           "seed": 1})
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
"""


def series(seed: int) -> list[float]:
    """A 40-month series of log returns with 30 % annual volatility."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return list(rng.standard_t(5, size=N) * 0.3 / np.sqrt(PERIODS) * np.sqrt(3 / 5))


def cold_start() -> tuple[float, float, float]:
    """Wall time of the first estimate in a fresh process: (total, imports, estimate)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", COLD],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    total = time.perf_counter() - start
    imports, estimate = (float(x) for x in out.stdout.split()[-2:])
    return total, imports, estimate


def main() -> None:
    """Run the benchmark and print its table."""
    import warnings

    warnings.simplefilter("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)

    from arch import arch_model

    from risk.volatility import estimate_volatility

    first_total, _, _ = cold_start()
    cold_total, cold_imports, cold_estimate = cold_start()

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

    t = time.perf_counter()
    estimate_volatility(body(100))
    in_process_first = time.perf_counter() - t
    warm_times, ess = [], []
    for k in range(REPEATS):
        t = time.perf_counter()
        est = estimate_volatility(body(k))
        warm_times.append(time.perf_counter() - t)
        ess.append(est.diagnostics.ess_bulk)
    warm = statistics.median(warm_times)

    garch_times = []
    for k in range(REPEATS):
        data = 100 * np.asarray(series(k))
        t = time.perf_counter()
        arch_model(data, vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
        garch_times.append(time.perf_counter() - t)
    garch = statistics.median(garch_times)

    import pymc as pm

    from risk.volatility.models import student_t_model
    from risk.volatility.priors import DEFAULT_PRIOR

    pymc_times = []
    for k in range(2):
        t = time.perf_counter()
        model = student_t_model(np.asarray(series(k)), PERIODS, DEFAULT_PRIOR)
        with model:
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

    print(
        f"Bayesian volatility, {N} monthly returns, {CHAINS} chains x {DRAWS} draws ({TUNE} tune)"
    )
    print(f"  first run of this benchmark, new process (may compile):  {first_total:7.2f} s")
    print(
        f"  cold: first estimate in a new process, cache on disk:    {cold_total:7.2f} s"
        f"  (imports {cold_imports:.2f} s, compile + sample {cold_estimate:.2f} s)"
    )
    print(f"  first estimate in this process (compile, cache on disk): {in_process_first:7.2f} s")
    print(f"  warm estimate (nutpie, median of {REPEATS}):              {warm:7.3f} s")
    print(f"  arch GARCH(1,1) fit of the same data:                    {garch:7.3f} s")
    print(f"  warm / GARCH:                                            {warm / garch:7.1f} x")
    print(f"  min bulk ESS per second (warm):                          {min(ess) / warm:7.0f}")
    print(f"  PyMC default sampler, first call in this process:        {pymc_times[0]:7.2f} s")
    print(f"  PyMC default sampler, warm:                              {pymc_times[1]:7.2f} s")
    print(
        f"  PyMC default warm / ours warm:                           {pymc_times[1] / warm:7.1f} x"
    )


if __name__ == "__main__":
    main()
