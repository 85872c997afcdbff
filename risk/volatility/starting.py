"""The sampler's starting points, in nutpie's unconstrained coordinates.

nutpie's PyMC route starts each chain at PyMC's initial point, computed from the data the model
was *compiled* with, not the data of the current request. :class:`InitialPoint` replaces it:
the prior's centre in unconstrained space for the current request plus PyMC's uniform(-1, 1)
jitter, drawn from the per-chain seed nutpie passes. Fresh and loaded models therefore start
from the same points, and a seeded estimate gives the same draws in a cold and a warm process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ipvalue.risk.kernel import seeds
from ipvalue.risk.volatility.priors import VolatilityPrior

_LOG_SCALE_OF_PRIOR: dict[str, str] = {
    "sigma_annual_log__": "sigma_median",
    "sigma_population_log__": "sigma_median",
    "sigma_level_log__": "sigma_median",
    "pooling_sd_log__": "pooling_sd",
    "step_annual_log__": "step_sd",
}
"""Log-transformed free variables centred on the log of a prior scale."""
NU_MINUS_2_CENTRE = math.log(20.0)
"""Log of the mean of the Gamma(2, 0.1) prior of ``nu - 2`` (see ``models.NU_ALPHA``)."""


def initial_centre(
    names: list[str], sizes: list[int], prior: VolatilityPrior
) -> NDArray[np.float64]:
    """Centre of the starting points in nutpie's unconstrained coordinates.

    Parameters
    ----------
    names, sizes : list
        Free (value) variables in nutpie's order and their sizes.
    prior : VolatilityPrior
        The request's prior: log scales start at the log of the prior's scale (the log-normal's
        median, the half-normal's scale), ``nu - 2`` at its prior mean, everything else
        (drifts, standardised innovations) at 0.
    """
    parts = []
    for name, size in zip(names, sizes, strict=True):
        if name in _LOG_SCALE_OF_PRIOR:
            value = math.log(float(getattr(prior, _LOG_SCALE_OF_PRIOR[name])))
        elif name == "nu_minus_2_log__":
            value = NU_MINUS_2_CENTRE
        else:
            value = 0.0
        parts.append(np.full(size, value))
    return np.concatenate(parts) if parts else np.zeros(0)


@dataclass(frozen=True)
class InitialPoint:
    """nutpie's ``initial_point_func``: ``centre + uniform(-1, 1)`` from the chain's seed."""

    centre: NDArray[np.float64]

    def __call__(self, seed: int | None = None) -> NDArray[np.float64]:
        rng = seeds.generator(seed)
        out = self.centre + rng.uniform(-1.0, 1.0, size=self.centre.shape)
        return np.ascontiguousarray(out, dtype=np.float64)


def free_variables(compiled: Any) -> tuple[list[str], list[int]]:
    """Names and sizes of a compiled model's free variables, in its flat order."""
    names, slices, _ = compiled.shape_info
    free = [(n, s.stop - s.start) for n, s in zip(names, slices, strict=True)]
    total = 0
    out_names, out_sizes = [], []
    for name, size in free:
        if total >= compiled.n_dim:
            break
        out_names.append(name)
        out_sizes.append(size)
        total += size
    return out_names, out_sizes
