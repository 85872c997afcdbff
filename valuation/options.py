"""Real options: Black-Scholes-Merton with a continuous yield (value lost while waiting)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from ipvalue.valuation.discounting import FloatArray


@dataclass(frozen=True)
class OptionValue:
    """Black-Scholes-Merton prices and their intermediate terms.

    Attributes
    ----------
    call : array (...)
        Call value, currency.
    d1, d2 : array (...)
    n_d1, n_d2 : array (...)
        N(d1) and N(d2), the standard normal CDF at d1 and d2.
    spot_pv, strike_pv : array (...)
        S e^{-qT} and K e^{-rT}, currency.
    put : array (...)
        Put value, currency (computed when first read: a simulation of the call never pays
        for it).
    """

    call: FloatArray
    d1: FloatArray
    d2: FloatArray
    n_d1: FloatArray
    n_d2: FloatArray
    spot_pv: FloatArray
    strike_pv: FloatArray

    @cached_property
    def put(self) -> FloatArray:
        """P = K e^{-rT} N(-d2) - S e^{-qT} N(-d1)."""
        return np.asarray(
            self.strike_pv * ndtr(-self.d2) - self.spot_pv * ndtr(-self.d1), dtype=float
        )


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
    n_d1, n_d2 = ndtr(d1), ndtr(d2)
    call = spot_pv * n_d1 - strike_pv * n_d2
    return OptionValue(
        call=call, d1=d1, d2=d2, n_d1=n_d1, n_d2=n_d2, spot_pv=spot_pv, strike_pv=strike_pv
    )
