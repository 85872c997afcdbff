"""Real options: Black-Scholes-Merton with a continuous yield (value lost while waiting)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from ipvalue.valuation.discounting import FloatArray


@dataclass(frozen=True)
class OptionValue:
    """Black-Scholes-Merton prices and their intermediate terms.

    Attributes
    ----------
    call, put : array (...)
        Option values, currency.
    d1, d2 : array (...)
    n_d1, n_d2 : array (...)
        N(d1) and N(d2), the standard normal CDF at d1 and d2.
    """

    call: FloatArray
    put: FloatArray
    d1: FloatArray
    d2: FloatArray
    n_d1: FloatArray
    n_d2: FloatArray


def black_scholes(
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    volatility: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike = 0.0,
) -> OptionValue:
    """European call and put by Black-Scholes-Merton.

    C = S e^{-qT} N(d1) - K e^{-rT} N(d2); P = K e^{-rT} N(-d2) - S e^{-qT} N(-d1),
    d1 = (ln(S/K) + (r - q + sigma^2/2) T) / (sigma sqrt T), d2 = d1 - sigma sqrt T.

    Parameters
    ----------
    spot : float or array (...)
        Present value of the underlying (the right's expected cash flows), currency.
    strike : float or array (...)
        Exercise cost, currency.
    years : float or array (...)
        Time to expiry, years (> 0).
    volatility : float or array (...)
        Annual volatility of the underlying's value, decimal (> 0).
    rate : float or array (...)
        Continuously compounded risk-free rate, annual decimal.
    dividend_yield : float or array (...)
        Continuous yield: value lost per year of waiting (1 / remaining life for a patent).
    """
    s = np.asarray(spot, dtype=float)
    k = np.asarray(strike, dtype=float)
    t = np.asarray(years, dtype=float)
    sigma = np.asarray(volatility, dtype=float)
    r = np.asarray(rate, dtype=float)
    q = np.asarray(dividend_yield, dtype=float)
    root_t = sigma * np.sqrt(t)
    d1 = (np.log(s / k) + (r - q + 0.5 * sigma**2) * t) / root_t
    d2 = d1 - root_t
    spot_pv = s * np.exp(-q * t)
    strike_pv = k * np.exp(-r * t)
    call = spot_pv * ndtr(d1) - strike_pv * ndtr(d2)
    put = strike_pv * ndtr(-d2) - spot_pv * ndtr(-d1)
    return OptionValue(call=call, put=put, d1=d1, d2=d2, n_d1=ndtr(d1), n_d2=ndtr(d2))


_BLOCK_NODES = 1 << 17
"""Nodes x paths of one block of the backward induction (about 1 MB per array, in cache)."""


def rising_delay_yield(year: ArrayLike, life_years: ArrayLike) -> FloatArray:
    """Damodaran's rising cost of delay: 1 / (remaining life) in each year of waiting.

    In year ``y`` (0 for the first year, t in [y, y + 1)) the yield is 1 / (n - y): 1/17 the first
    year of a 17-year patent, 1/16 the next, ... (Damodaran, *Damodaran on Valuation*,
    Illustration 12.5).

    Parameters
    ----------
    year : int or array
        Whole years waited, ``y`` >= 0 (with ``y`` < ``life_years``).
    life_years : float or array (...)
        Remaining life ``n`` of the right at the valuation date, years.

    Returns
    -------
    array
        Annual continuous yield, decimal.
    """
    return 1.0 / (np.asarray(life_years, dtype=float) - np.asarray(year, dtype=float))


def delay_leakage(times: ArrayLike, life_years: ArrayLike) -> FloatArray:
    """Integral of the rising cost of delay from 0 to ``times``: sum of 1 / (n - y) per year.

    The value left after waiting ``t`` years is ``exp(-leakage)``. Year ``y`` contributes
    1 / (n - y) for each (fraction of a) year waited in it.

    Parameters
    ----------
    times : array (..., m)
        Waiting times, years, each at most ``life_years``.
    life_years : float or array (...)
        Remaining life ``n``, years (> 0).

    Returns
    -------
    array (..., m)
    """
    t = np.asarray(times, dtype=float)
    n = np.asarray(life_years, dtype=float)[..., None]
    last = np.ceil(n) - 1.0  # the year in which the life ends
    year = np.minimum(np.floor(t + 1e-9), last)
    year = np.maximum(year, 0.0)
    whole = int(np.max(year)) if year.size else 0
    # Cumulative yield of the whole years before each year: cum[k] = sum_{y < k} 1 / (n - y).
    steps = np.arange(whole + 1, dtype=float)
    per_year = 1.0 / (n - steps)  # (..., whole + 1); every y here is < n
    cum = np.concatenate([np.zeros_like(per_year[..., :1]), np.cumsum(per_year, axis=-1)], -1)
    idx = year.astype(np.intp)
    idx_b = np.broadcast_to(idx, np.broadcast_shapes(idx.shape, (*cum.shape[:-1], 1)))
    cum_b = np.broadcast_to(cum, idx_b.shape[:-1] + cum.shape[-1:])
    before = np.take_along_axis(cum_b, idx_b, axis=-1)
    return np.asarray(before + (t - year) / (n - year), dtype=float)


def mean_delay_yield(years: ArrayLike, life_years: ArrayLike) -> FloatArray:
    """Average of the rising cost of delay over the option's life: leakage(T) / T.

    A European call under a deterministic yield is Black-Scholes with this average yield.
    """
    t = np.asarray(years, dtype=float)
    return np.asarray(delay_leakage(t[..., None], life_years)[..., 0] / t, dtype=float)


@dataclass(frozen=True)
class LatticeValue:
    """A binomial lattice's option value and what explains it.

    Attributes
    ----------
    value : array (...)
        Option value (the call's, or the put's with ``put=True``), currency.
    steps : int
    up_probability : array (...)
        Risk-neutral probability of an up move, (e^{r dt} - d) / (u - d).
    up : array (...)
        Up factor u = e^{sigma sqrt dt}.
    """

    value: FloatArray
    steps: int
    up_probability: FloatArray
    up: FloatArray


def binomial(
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    volatility: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike = 0.0,
    *,
    steps: int,
    american: bool = False,
    delay_life: ArrayLike | None = None,
    put: bool = False,
) -> LatticeValue:
    """Call (or put) on a Cox-Ross-Rubinstein binomial lattice, European or with early exercise.

    u = e^{sigma sqrt dt}, d = 1/u, dt = T / steps. The yield (value lost while waiting) is a
    known leakage: node i of step j is worth S u^i d^{j-i} e^{-Q(t_j)} with Q(t) the yield
    integrated to t (q t for a constant yield, :func:`delay_leakage` for the rising cost of
    delay), so the lattice of S e^{Q(t)} carries the risk-free drift and its up probability is
    p = (e^{r dt} - d) / (u - d). Backward induction: V_j = e^{-r dt} (p V_{j+1}^{up} +
    (1 - p) V_{j+1}^{down}), and with early exercise V_j = max(V_j, S_node - K) (K - S_node for
    a put). Without a yield this is Hull's tree exactly. As steps grow
    the European value converges to Black-Scholes-Merton (error about 1/steps).

    The paths are valued at once: the induction runs on a (steps + 1, paths) array, a block of
    paths at a time (each block's arrays stay in the core's cache); the work is paths x
    steps^2 / 2 node updates.

    Parameters
    ----------
    spot, strike, years, volatility, rate : float or array (...)
        As for :func:`black_scholes` (currency, currency, years > 0, annual decimal > 0,
        continuously compounded annual decimal).
    dividend_yield : float or array (...)
        Constant continuous yield, annual decimal; ignored with ``delay_life``.
    steps : int
        Time steps of the lattice (>= 1).
    american : bool
        Allow exercise at every node (the right can be exercised at any time).
    delay_life : float or array (...), optional
        Remaining life ``n`` of the right for the rising cost of delay: the yield in year y is
        1 / (n - y) (:func:`rising_delay_yield`), replacing ``dividend_yield``.
    put : bool
        Value the put (the right to sell at ``strike``) instead of the call.

    Returns
    -------
    LatticeValue
        Shapes (...) of the inputs broadcast together.
    """
    arrays = np.broadcast_arrays(
        *(
            np.asarray(x, dtype=float)
            for x in (
                spot,
                strike,
                years,
                volatility,
                rate,
                dividend_yield,
                np.inf if delay_life is None else delay_life,
            )
        )
    )
    shape = arrays[0].shape
    s, k, t, sigma, r, q, life = (a.reshape(-1) for a in arrays)
    dt = t / steps
    up = np.exp(sigma * np.sqrt(dt))
    down = 1.0 / up
    p = (np.exp(r * dt) - down) / (up - down)
    p_used = np.clip(p, 0.0, 1.0)
    call = np.empty_like(s)
    block = max(1, _BLOCK_NODES // (steps + 1))
    for start in range(0, s.size, block):
        part = slice(start, min(start + block, s.size))
        call[part] = _induct(
            s[part],
            k[part],
            dt[part],
            up[part],
            r[part],
            p_used[part],
            q[part],
            None if delay_life is None else life[part],
            steps,
            american,
            -1.0 if put else 1.0,
        )
    return LatticeValue(
        value=call.reshape(shape),
        steps=steps,
        up_probability=p.reshape(shape),
        up=up.reshape(shape),
    )


def _leak(q: FloatArray, life: FloatArray | None, dt: FloatArray, steps: int) -> FloatArray:
    """e^{-Q(t_j)} for j = 0..steps, shape (steps + 1, paths)."""
    j = np.arange(steps + 1, dtype=float)[:, None]
    times = j * dt[None, :]
    if life is None:
        return np.asarray(np.exp(-q[None, :] * times), dtype=float)
    return np.asarray(np.exp(-delay_leakage(times.T, life).T), dtype=float)


def _induct(
    s: FloatArray,
    k: FloatArray,
    dt: FloatArray,
    up: FloatArray,
    r: FloatArray,
    p: FloatArray,
    q: FloatArray,
    life: FloatArray | None,
    steps: int,
    american: bool,
    sign: float,
) -> FloatArray:
    """Backward induction for one block of paths (arrays of shape (paths,)); ``sign`` is 1 for
    a call (payoff S - K), -1 for a put (K - S)."""
    leak = _leak(q, life, dt, steps)
    disc = np.exp(-r * dt)
    disc_p, disc_q = disc * p, disc * (1.0 - p)
    # The underlying at the last step: S u^(2i - steps) e^{-Q(T)}, i = 0..steps up moves.
    i = np.arange(steps + 1, dtype=float)[:, None]
    node = s[None, :] * np.exp((2.0 * i - steps) * np.log(up)[None, :]) * leak[steps][None, :]
    value = sign * (node - k[None, :])
    np.maximum(value, 0.0, out=value)
    tmp = np.empty_like(value)
    for j in range(steps - 1, -1, -1):
        lo, hi = value[: j + 1], value[1 : j + 2]
        np.multiply(hi, disc_p, out=tmp[: j + 1])
        lo *= disc_q
        lo += tmp[: j + 1]
        if american:
            # One step back, same i: u^(2i - j) = u^(2i - (j + 1)) u, and the leakage undone.
            nodes = node[: j + 1]
            nodes *= up * (leak[j] / leak[j + 1])
            if sign > 0:
                np.subtract(nodes, k, out=tmp[: j + 1])
            else:
                np.subtract(k, nodes, out=tmp[: j + 1])
            np.maximum(lo, tmp[: j + 1], out=lo)
    return np.asarray(value[0], dtype=float)
