"""Sampling a compiled model with nutpie's NUTS, and the seeds it starts from."""

from __future__ import annotations

import os
from typing import Any

from ipvalue.models.errors import InputError

RERUN_TUNE_FACTOR = 3
"""A fit that fails its diagnostics is re-run once with this many times the tuning steps."""
TARGET_ACCEPT: dict[str, float] = {
    "student_t": 0.95,
    "hierarchical": 0.98,
    "stochastic_volatility": 0.95,
}
"""NUTS target acceptance per model. At 0.8 half of 40 seeded 40-month Student-t fits had one
or two divergences and were re-run (0.1 s became 0.5-0.8 s); at 0.9 three in 40, at 0.95 none,
for about 0.2 s each. The hierarchical model has a funnel where the pooling sd
nears zero (an 8-point series with four peers diverged 5-6 times at 0.9, none at 0.98); the
latent random walk of stochastic volatility needs small steps too (a 300-day S&P 500 fit
diverged hundreds of times at 0.8, none at 0.95)."""
RERUN_TARGET_ACCEPT = 0.99
"""Target acceptance of a re-run after divergences (smaller steps)."""


def sampler_name() -> str:
    """Name and version of the sampler, as recorded in results."""
    import nutpie

    return f"nutpie {nutpie.__version__} NUTS (numba)"


def sample(
    compiled: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
) -> Any:
    import nutpie

    try:
        return nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=min(chains, os.cpu_count() or 1),
            seed=seed,
            save_warmup=False,
            progress_bar=False,
            target_accept=target_accept,
        )
    except RuntimeError as exc:
        if "initialization" not in str(exc).lower():
            raise
        raise InputError.for_field(
            "series",
            "the sampler could not start from these data (the log density is not finite at "
            "any starting point); check the series' units and scale, or set priors",
        ) from exc
