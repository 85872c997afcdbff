"""Bayesian volatility of an asset's value: PyMC models, nutpie sampling, ArviZ diagnostics.

Public API::

    estimate_volatility(request) -> VolatilityEstimate   # .to_result(), .summary()
    prob_volatility_rose(estimate, previous_sigma) -> float
    VolatilityEstimate.posterior_sigma_draws              # per-path draws for Monte Carlo

Compile caches live under ``$IPVALUE_CACHE_DIR`` (default ``~/.cache/ipvalue``), created on
demand, private to the service's user: PyTensor's in ``pytensor/`` (unless ``PYTENSOR_FLAGS``
already names a ``base_compiledir``; set before the first compile, never on import) and nutpie's
compiled models in ``nutpie/`` (:mod:`risk.volatility.compiled`, signed entries). PyMC and nutpie
are imported on first use, so importing this package is cheap and changes no environment
variable; a model found in the ``nutpie/`` cache is sampled without importing PyMC or PyTensor.
"""

from __future__ import annotations

from ipvalue.risk.volatility.choice import choose_model, to_returns
from ipvalue.risk.volatility.fit import estimate_volatility, warm_up
from ipvalue.risk.volatility.model_cache import clear_cache
from ipvalue.risk.volatility.priors import VolatilityPrior, choose_prior
from ipvalue.risk.volatility.request import parse_request
from ipvalue.risk.volatility.results import (
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
