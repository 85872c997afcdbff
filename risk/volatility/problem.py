"""One fit's data in the shape its model needs, and how to build that model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ipvalue.risk.volatility.choice import sv_path_length
from ipvalue.risk.volatility.priors import VolatilityPrior, prior_data_values


@dataclass(frozen=True)
class Problem:
    """Data of one fit in the shape its model factory needs; ``key`` names the compiled shape."""

    model: str
    key: tuple[Any, ...]
    data: dict[str, Any]
    build: Callable[[], Any]
    prior: VolatilityPrior


def make_problem(
    name: str,
    returns: NDArray[np.float64],
    peers: list[NDArray[np.float64]],
    periods_per_year: float,
    prior: VolatilityPrior,
) -> Problem:
    def factories() -> Any:
        from ipvalue.risk.volatility import models  # imports PyMC: only when a model must be built

        return models

    data: dict[str, Any] = {"periods_per_year": float(periods_per_year)}
    data.update(prior_data_values(prior))
    if name == "hierarchical":
        flat = np.concatenate([returns, *peers])
        index = np.concatenate(
            [np.full(len(s), k, dtype=np.int64) for k, s in enumerate([returns, *peers])]
        )
        data.update(returns=flat, series_index=index)
        k = len(peers) + 1
        return Problem(
            name,
            (name, k),
            data,
            lambda: factories().hierarchical_model(flat, index, k, periods_per_year, prior),
            prior,
        )
    data["returns"] = returns
    if name == "stochastic_volatility":
        length = sv_path_length(len(returns))
        mask = np.zeros(length)
        mask[: len(returns)] = 1.0
        data.update(
            returns=np.concatenate([returns, np.zeros(length - len(returns))]),
            observed_mask=mask,
            last_index=np.int64(len(returns) - 1),
        )
        return Problem(
            name,
            (name, length),
            data,
            lambda: factories().stochastic_volatility_model(
                returns, periods_per_year, prior, length
            ),
            prior,
        )
    return Problem(
        name,
        (name,),
        data,
        lambda: factories().student_t_model(returns, periods_per_year, prior),
        prior,
    )
