"""Survivor curves of customer-type intangibles: the share of revenue still earned each year.

An existing customer base earns less each year as customers leave. The survival share S(t)
multiplies year t's revenue (and the charges it needs), read when that year's cash flow falls:
at the year end t, at t - 0.5 mid-year, at t - 1 for cash flows at the start of the year.

- Exponential (a constant yearly attrition rate a): S(t) = (1 - a)^t, the retention
  convention of customer-relationship valuations (10 % attrition keeps 90 % a year).
- Weibull (shape k, scale lambda, years): S(t) = exp(-(t / lambda)^k); k = 1 is exponential
  with a continuous rate 1 / lambda, k > 1 an attrition rising with age, k < 1 a falling one.

Iowa curves (Winfrey 1935) are tables, not formulas; they are not built here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.valuation.discounting import FloatArray, per_path


def survival_times(n_years: int, offset: float = 0.0) -> FloatArray:
    """The times at which year 1..n's survival is read, years: when its cash flow falls,
    t - ``offset`` (0 at year ends, 0.5 mid-year, 1 at the start of the year)."""
    return np.arange(1, n_years + 1, dtype=float) - offset


def exponential_survival(attrition_rate: ArrayLike, times: ArrayLike) -> FloatArray:
    """S(t) = (1 - a)^t for a constant yearly attrition rate a.

    Parameters
    ----------
    attrition_rate : float or array (...)
        Share of the customers lost each year, decimal below 1.
    times : array (years,)
        Years from the valuation date.

    Returns
    -------
    array (..., years)
        Survival shares in [0, 1], non-increasing in t.
    """
    keep = 1.0 - per_path(attrition_rate)
    return np.asarray(keep ** np.asarray(times, dtype=float), dtype=float)


def weibull_survival(shape: ArrayLike, scale: ArrayLike, times: ArrayLike) -> FloatArray:
    """S(t) = exp(-(t / scale)^shape), the Weibull survivor function.

    Parameters
    ----------
    shape : float or array (...)
        k, above 0.
    scale : float or array (...)
        lambda, years; S(lambda) = exp(-1) whatever the shape.
    times : array (years,)
        Years from the valuation date.

    Returns
    -------
    array (..., years)
    """
    ratio = np.asarray(times, dtype=float) / per_path(scale)
    return np.asarray(np.exp(-(ratio ** per_path(shape))), dtype=float)
