"""Which model a series gets, and the returns it is fitted on."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ipvalue.models.errors import InputError

AUTO_STOCHASTIC_VOLATILITY_FROM = 150
"""``model="auto"`` fits stochastic volatility from this many returns on."""
SV_MIN_RETURNS = 30
"""Fewest returns the stochastic-volatility model accepts when asked for explicitly."""
SV_MAX_RETURNS = 2000
"""Most returns the stochastic-volatility model takes (one latent value per return)."""
MODELS = ("student_t", "hierarchical", "stochastic_volatility")
"""The models ``model`` may name (besides ``auto``)."""


def to_returns(series: list[float] | NDArray[np.float64], kind: str) -> NDArray[np.float64]:
    """Per-period log returns of a series.

    Parameters
    ----------
    series : sequence of float
        Positive levels, or log returns.
    kind : {"levels", "returns"}

    Returns
    -------
    ndarray, shape (n,)
        ``diff(log(levels))`` for levels, the series itself for returns.
    """
    x = np.asarray(series, dtype=np.float64)
    return np.diff(np.log(x)) if kind == "levels" else x.copy()


def choose_model(n_returns: int, n_related: int, requested: str = "auto") -> str:
    """Model for a series of ``n_returns`` returns with ``n_related`` peer series.

    ``auto``: peers -> ``hierarchical``; from 150 returns (up to 2,000) ->
    ``stochastic_volatility``; otherwise ``student_t``. An explicit choice is checked.

    Raises
    ------
    InputError
        When the data cannot support the requested model.
    """
    if requested == "auto":
        if n_related:
            return "hierarchical"
        if AUTO_STOCHASTIC_VOLATILITY_FROM <= n_returns <= SV_MAX_RETURNS:
            return "stochastic_volatility"
        return "student_t"
    if requested == "stochastic_volatility":
        if n_returns < SV_MIN_RETURNS:
            raise InputError.for_field(
                "series",
                f"the stochastic_volatility model needs at least {SV_MIN_RETURNS} returns;"
                f' got {n_returns}. Use "model": "student_t" for short series',
            )
        if n_returns > SV_MAX_RETURNS:
            raise InputError.for_field(
                "series",
                f"the stochastic_volatility model takes at most {SV_MAX_RETURNS} returns;"
                f" got {n_returns}. Send the most recent {SV_MAX_RETURNS}",
            )
    if requested not in MODELS:
        raise InputError.for_field(
            "model",
            "must be one of auto, student_t, hierarchical, stochastic_volatility;"
            f" got {requested!r}",
        )
    return requested


def sv_path_length(n_returns: int) -> int:
    """Latent path length compiled for ``n_returns`` returns (stochastic volatility).

    Lengths are rounded up to a multiple of 50 (of 250 above 500), so series of nearby
    lengths share one compiled model; the padding is masked out of the fit.
    """
    step = 50 if n_returns <= 500 else 250
    return int(-(-n_returns // step) * step)
