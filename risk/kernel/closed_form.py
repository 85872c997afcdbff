"""Closed forms of the lognormal value with a legal stop: the reference of the agreement test.

At a date ``t`` the value is ``V = V_0 exp(m + s Z)`` with ``m = (drift - sigma^2 / 2) t``,
``s = sigma sqrt(t)``, on the paths where the right survives (probability ``1 - q``), and 0
where it has stopped (probability ``q``, independent of ``Z``). So ``F(x) = q + (1 - q)
Phi((ln(x / V_0) - m) / s)`` for ``x > 0``:

- quantile: ``Q(u) = 0`` for ``u <= q``, else ``V_0 exp(m + s Phi^-1((u - q) / (1 - q)))``;
- lower partial mean: ``int_0^b Q(u) du = (1 - q) V_0 e^{drift t} Phi(Phi^-1(b') - s)`` with
  ``b' = (b - q) / (1 - q)`` (0 for ``b <= q``);
- ``VaR_a = V_0 - Q(1 - a)`` and ``ES_a = V_0 - int_0^{1-a} Q(u) du / (1 - a)``: losses from the
  starting value, the convention of :mod:`risk.kernel.measures`.
"""

from __future__ import annotations

import math

from scipy.special import ndtr, ndtri


def _terms(sigma: float, drift: float, years: float) -> tuple[float, float]:
    return (drift - 0.5 * sigma * sigma) * years, sigma * math.sqrt(years)


def quantile(
    value0: float, sigma: float, years: float, u: float, *, drift: float = 0.0, stop: float = 0.0
) -> float:
    """The ``u``-quantile of the value at ``years``, currency.

    Parameters
    ----------
    value0 : float
        Value now, currency.
    sigma : float
        Annual volatility, decimal.
    years : float
        Date, years from now.
    u : float
        Probability in (0, 1).
    drift : float
        Expected annual return, decimal.
    stop : float
        Probability that the right has stopped by then (value 0), decimal in [0, 1).
    """
    if u <= stop:
        return 0.0
    m, s = _terms(sigma, drift, years)
    return value0 * math.exp(m + s * float(ndtri((u - stop) / (1.0 - stop))))


def lower_partial_mean(
    value0: float, sigma: float, years: float, b: float, *, drift: float = 0.0, stop: float = 0.0
) -> float:
    """``int_0^b Q(u) du``: the mean of the value times 1[among the lowest ``b`` share]."""
    if b <= stop:
        return 0.0
    _, s = _terms(sigma, drift, years)
    inner = float(ndtri((b - stop) / (1.0 - stop)))
    return (1.0 - stop) * value0 * math.exp(drift * years) * float(ndtr(inner - s))


def var(
    value0: float,
    sigma: float,
    years: float,
    level: float,
    *,
    drift: float = 0.0,
    stop: float = 0.0,
) -> float:
    """Value at risk at ``level``, loss from ``value0``."""
    return value0 - quantile(value0, sigma, years, 1.0 - level, drift=drift, stop=stop)


def expected_shortfall(
    value0: float,
    sigma: float,
    years: float,
    level: float,
    *,
    drift: float = 0.0,
    stop: float = 0.0,
) -> float:
    """Expected shortfall at ``level``, loss from ``value0``: ``V_0 - E[V | worst 1 - level]``."""
    beta = 1.0 - level
    return value0 - lower_partial_mean(value0, sigma, years, beta, drift=drift, stop=stop) / beta


def mean(value0: float, years: float, *, drift: float = 0.0, stop: float = 0.0) -> float:
    """Expected value at ``years``: ``(1 - q) V_0 e^{drift t}``."""
    return (1.0 - stop) * value0 * math.exp(drift * years)
