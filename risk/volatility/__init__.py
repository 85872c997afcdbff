"""Bayesian volatility of an asset's value: PyMC models, nutpie sampling, ArviZ diagnostics.

Public API::

    estimate_volatility(request) -> VolatilityEstimate   # .to_result(), .summary()
    prob_volatility_rose(estimate, previous_sigma) -> float
    VolatilityEstimate.posterior_sigma_draws              # per-path draws for Monte Carlo

Compile caches live under ``$IPVALUE_CACHE_DIR`` (default ``~/.cache/ipvalue``), created on
demand: PyTensor's in ``pytensor/`` (unless ``PYTENSOR_FLAGS`` already names a
``base_compiledir``; this takes effect only if PyTensor has not been imported yet) and nutpie's
compiled models in ``nutpie/`` (:mod:`risk.volatility.compiled`). PyMC and nutpie are imported
on first use, so importing this package is cheap; a model found in the ``nutpie/`` cache is
sampled without importing PyMC or PyTensor at all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _configure_compile_dir() -> None:
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "compiledir" in flags or "pytensor" in sys.modules:
        return
    root = os.environ.get("IPVALUE_CACHE_DIR") or str(Path.home() / ".cache" / "ipvalue")
    setting = f"base_compiledir={Path(root) / 'pytensor'}"
    os.environ["PYTENSOR_FLAGS"] = f"{flags},{setting}" if flags else setting


_configure_compile_dir()

from ipvalue.risk.volatility.fit import (  # noqa: E402
    choose_model,
    clear_cache,
    estimate_volatility,
    parse_request,
    to_returns,
    warm_up,
)
from ipvalue.risk.volatility.priors import VolatilityPrior, choose_prior  # noqa: E402
from ipvalue.risk.volatility.results import (  # noqa: E402
    Diagnostics,
    VolatilityEstimate,
    prob_volatility_rose,
)

__all__ = [
    "Diagnostics",
    "VolatilityEstimate",
    "VolatilityPrior",
    "choose_model",
    "choose_prior",
    "clear_cache",
    "estimate_volatility",
    "parse_request",
    "prob_volatility_rose",
    "to_returns",
    "warm_up",
]
