"""The value process of a right: lognormal with legal stops and jumps; one for every endpoint.

``V_t = V_0 exp((drift - sigma^2 / 2) t + sigma W_t) x L_t`` with ``L_t = 0`` from the time the
right stops (invalidation, lapse, expiry), ``L_t = 1 - loss_share`` from the time an infringement
case is lost, else 1. ``sigma`` is one annual volatility or one per path (posterior draws), and
``V_0`` one value or one per path (a valuation's simulated values). With ``drift = 0`` the value
before legal events is a martingale: ``E[V_t] = V_0``.

Three ways to use it, all through :func:`lognormal_factor`:

- :meth:`ValueProcess.at`: the exact value at one date (a float or one per path) from normal
  scores ``z``;
- :meth:`ValueProcess.at_times`: exact values at several dates per path, jointly (Brownian
  increments between each path's sorted dates);
- :meth:`ValueProcess.steps`: stepped over a term on a time grid (monitoring dates, bands).

The portfolio screen's float32 blocks call :func:`lognormal_factor` and :func:`apply_stops` on
its ``(assets, paths)`` arrays in place, so the arithmetic is the same in both precisions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
AnyFloat = NDArray[np.floating]


def log_terms(sigma: ArrayLike, drift: float, years: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Location ``(drift - sigma^2 / 2) t`` and scale ``sigma sqrt(t)`` of ``ln(V_t / V_0)``."""
    s = np.asarray(sigma, dtype=float)
    t = np.asarray(years, dtype=float)
    return np.asarray((drift - 0.5 * s * s) * t), np.asarray(s * np.sqrt(t))


def lognormal_factor(
    z: AnyFloat, loc: ArrayLike, scale: ArrayLike, *, out: AnyFloat | None = None
) -> AnyFloat:
    """``exp(loc + scale z)`` in the dtype of ``z`` (``out=z`` works in place).

    Parameters
    ----------
    z : array
        Standard normal scores (float64, or the portfolio's float32 blocks).
    loc, scale : float or array broadcasting with ``z``
        From :func:`log_terms`.
    out : array, optional
        Where to write; ``z`` itself for an in-place update.
    """
    dtype = z.dtype
    res = np.multiply(z, np.asarray(scale, dtype=dtype), out=out)
    res += np.asarray(loc, dtype=dtype)
    return np.exp(res, out=res)


def apply_stops(values: AnyFloat, stopped: NDArray[np.bool_]) -> AnyFloat:
    """Set the value to 0 where the right has stopped (in place); returns ``values``."""
    values[stopped] = 0.0
    return values


@dataclass(frozen=True)
class LegalStops:
    """Legal events on the paths, as per-path times (years from now).

    Attributes
    ----------
    stop_times : array (paths,), optional
        The right stops (invalidation, lapse, expiry): the value is 0 from then.
    loss_times : array (paths,), optional
        An infringement case is lost: the value falls by ``loss_share`` from then.
    loss_share : float
        Share of value lost with a lost case, decimal in [0, 1].
    """

    stop_times: FloatArray | None = None
    loss_times: FloatArray | None = None
    loss_share: float = 0.0

    def apply(self, values: AnyFloat, t: ArrayLike) -> FloatArray:
        """The values at time ``t`` (float or per path) after the events up to then."""
        t = np.asarray(t, dtype=float)
        out = values
        if self.stop_times is not None:
            out = np.where(self.stop_times > t, out, 0.0)
        if self.loss_share > 0 and self.loss_times is not None:
            out = np.where(self.loss_times <= t, out * (1.0 - self.loss_share), out)
        return np.asarray(out, dtype=float)

    def stopped_by(self, t: ArrayLike) -> NDArray[np.bool_]:
        """Paths whose right has stopped by ``t``."""
        t = np.asarray(t, dtype=float)
        if self.stop_times is None:
            return np.zeros(np.shape(t), dtype=bool)
        return np.asarray(self.stop_times <= t)


NO_EVENTS = LegalStops()


@dataclass(frozen=True)
class ValueProcess:
    """A right's value process: lognormal with legal stops and jumps.

    Attributes
    ----------
    value0 : float or array (paths,)
        Value now, currency.
    sigma : float or array (paths,)
        Annual volatility of the log value, decimal (one posterior draw per path allowed).
    drift : float
        Expected annual return, decimal.
    legal : LegalStops
        Per-path legal event times.
    """

    value0: ArrayLike
    sigma: ArrayLike
    drift: float = 0.0
    legal: LegalStops = NO_EVENTS

    def at(self, years: ArrayLike, z: FloatArray) -> FloatArray:
        """Exact values at ``years`` (float or one per path) from normal scores ``z`` (paths,)."""
        loc, scale = log_terms(self.sigma, self.drift, years)
        grown = np.asarray(self.value0, dtype=float) * lognormal_factor(
            np.asarray(z, dtype=float), loc, scale
        )
        return self.legal.apply(grown, years)

    def at_times(self, times: FloatArray, z: FloatArray) -> FloatArray:
        """Exact values at several dates per path, jointly.

        Parameters
        ----------
        times : array (paths, k)
            Years from now, in any order within a row.
        z : array (paths, k)
            Independent standard normal scores.

        Returns
        -------
        array (paths, k)
            ``V`` at each path's dates: the Brownian motion is built from increments between
            the row's sorted dates, so two dates on one path are correlated as they should be.
        """
        order = np.argsort(times, axis=1)
        sorted_t = np.take_along_axis(times, order, axis=1)
        dt = np.diff(sorted_t, axis=1, prepend=0.0)
        sigma = np.asarray(self.sigma, dtype=float)
        sig = sigma[:, None] if sigma.ndim == 1 else sigma
        w = np.cumsum(np.sqrt(dt) * z, axis=1)
        log_v = (self.drift - 0.5 * sig * sig) * sorted_t + sig * w
        v0 = np.asarray(self.value0, dtype=float)
        grown_sorted = (v0[:, None] if v0.ndim == 1 else v0) * np.exp(log_v)
        grown = np.empty_like(grown_sorted)
        np.put_along_axis(grown, order, grown_sorted, axis=1)
        out = np.empty_like(grown)
        for j in range(times.shape[1]):
            out[:, j] = self.legal.apply(grown[:, j], times[:, j])
        return out

    def steps(
        self, times: FloatArray, rng: np.random.Generator, paths: int
    ) -> Iterator[tuple[float, FloatArray]]:
        """Values on a time grid, one step at a time (memory: a few arrays of ``paths``).

        Parameters
        ----------
        times : array (steps + 1,)
            Years from now, ascending, starting at 0.
        rng : numpy.random.Generator
            Draws ``paths`` standard normals per step.
        paths : int

        Yields
        ------
        t : float
            The date, years.
        values : array (paths,)
            Values at ``t`` after legal events up to then, currency.
        """
        v0 = np.broadcast_to(np.asarray(self.value0, dtype=float), (paths,))
        sigma = np.broadcast_to(np.asarray(self.sigma, dtype=float), (paths,))
        log_move = np.zeros(paths)
        for j, t in enumerate(times):
            if j == 0:
                value = v0.copy()
            else:
                loc, scale = log_terms(sigma, self.drift, float(t - times[j - 1]))
                log_move += loc + scale * rng.standard_normal(paths)
                value = v0 * np.exp(log_move)
            yield float(t), self.legal.apply(value, t)

    def on_grid(self, times: FloatArray, z: FloatArray) -> FloatArray:
        """Values on a time grid as one block: with ``z = rng.standard_normal((steps, paths))``
        the numbers of :meth:`steps` with ``rng``, bit for bit.

        The same draws in the same order (every step's ``paths`` normals, drawn by the caller
        in one call) and the same arithmetic, without a Python round per step for the legal
        events; the block is ``(steps + 1) x paths`` (8 bytes each), rows dates, so a row is
        contiguous.

        Parameters
        ----------
        times : array (steps + 1,)
            Years from now, ascending, starting at 0.
        z : array (steps, paths)
            Standard normal scores, row ``j`` moving the paths from ``times[j]`` to
            ``times[j + 1]``; overwritten.

        Returns
        -------
        array (steps + 1, paths)
            Values at each date after legal events up to then, currency.
        """
        paths = z.shape[1]
        v0 = np.broadcast_to(np.asarray(self.value0, dtype=float), (paths,))
        sigma = np.broadcast_to(np.asarray(self.sigma, dtype=float), (paths,))
        out = np.empty((times.size, paths))
        out[0] = v0
        log_move = np.zeros(paths)
        terms: dict[float, tuple[FloatArray, FloatArray]] = {}
        for j in range(1, times.size):
            step = float(times[j] - times[j - 1])
            if step not in terms:  # equal steps share their terms
                terms[step] = log_terms(sigma, self.drift, step)
            loc, scale = terms[step]
            z_j = z[j - 1]
            z_j *= scale
            z_j += loc
            log_move += z_j
            np.exp(log_move, out=out[j])
            out[j] *= v0
        legal = self.legal
        grid_t = times[:, None]
        if legal.stop_times is not None:
            out[legal.stop_times[None, :] <= grid_t] = 0.0
        if legal.loss_share > 0 and legal.loss_times is not None:
            lost = legal.loss_times[None, :] <= grid_t
            out[lost] *= 1.0 - legal.loss_share
        return out


def time_grid(horizon_years: float, steps_per_year: int) -> FloatArray:
    """Dates 0, dt, ..., horizon with ``ceil(horizon x steps_per_year)`` equal steps."""
    steps = max(math.ceil(horizon_years * steps_per_year - 1e-9), 1)
    return np.linspace(0.0, horizon_years, steps + 1)


def volatility_per_path(rng: np.random.Generator, volatility: ArrayLike, paths: int) -> FloatArray:
    """One annual volatility per path: the number itself, or posterior draws used equally often.

    With draws, path ``i`` takes draw ``perm[i] mod draws`` for a random permutation ``perm`` of
    the paths, so every draw serves ``paths / draws`` paths (up to one) and the assignment is
    random. A single number (or a list of one) takes no random numbers.

    Parameters
    ----------
    rng : numpy.random.Generator
        The stream that assigns draws to paths.
    volatility : float or array (draws,)
        Annual volatility, decimal, or its posterior draws.
    paths : int
    """
    draws = np.atleast_1d(np.asarray(volatility, dtype=float))
    if draws.size == 1:
        return np.full(paths, draws[0])
    return np.asarray(draws[rng.permutation(paths) % draws.size], dtype=float)
