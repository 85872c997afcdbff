"""Yearly probabilities and event times: one place for every endpoint.

An event with a constant yearly probability ``p`` (the chance it happens within any one year)
has the intensity ``lambda = -ln(1 - p)`` per year and an exponential event time: ``P(T <= t) =
1 - (1 - p)**t``. Times are drawn by inversion, ``T = -ln(1 - R) / lambda`` with ``R`` uniform on
[0, 1), one uniform per path whatever ``p`` (so changing an input leaves the stream's other uses
alone); ``p = 0`` gives ``inf`` (never).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def intensity(p: ArrayLike) -> FloatArray:
    """Constant intensity per year with yearly probability ``p`` (decimal in [0, 1))."""
    return np.asarray(-np.log1p(-np.asarray(p, dtype=float)), dtype=float)


def prob_within(p: float, years: float) -> float:
    """Probability that the event happens within ``years``: ``1 - (1 - p)**years``."""
    return float(-np.expm1(years * np.log1p(-p)))


def times_from_uniforms(u: FloatArray, p: ArrayLike) -> FloatArray:
    """Event times (years) from uniforms ``u`` on (0, 1] for yearly probabilities ``p``
    (float or array broadcasting with ``u``); ``inf`` where ``p`` is 0."""
    lam = intensity(p)
    with np.errstate(divide="ignore"):
        return np.asarray(
            np.where(lam > 0, -np.log(u) / np.where(lam > 0, lam, 1.0), np.inf), dtype=float
        )


def event_times(rng: np.random.Generator, p: ArrayLike, n: int) -> FloatArray:
    """Draw ``n`` event times (years) for yearly probability ``p``; ``inf`` where ``p`` is 0.

    Always takes ``n`` uniforms from ``rng``.
    """
    r = rng.random(n)
    lam = intensity(p)
    with np.errstate(divide="ignore"):
        return np.asarray(
            np.where(lam > 0, -np.log1p(-r) / np.where(lam > 0, lam, 1.0), np.inf), dtype=float
        )
