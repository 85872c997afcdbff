"""Discounting arithmetic shared by every income method.

Shapes: a rate or life has shape ``(...)`` (a scalar, or ``(paths,)``); a per-year series has shape
``(..., years)``. Everything broadcasts, so one formula serves the point value and the simulation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def per_path(x: ArrayLike) -> FloatArray:
    """Add a trailing year axis to a per-path number so it broadcasts against series."""
    return np.asarray(x, dtype=float)[..., None]


def years_last(years_first: FloatArray) -> FloatArray:
    """View an array of shape ``(years, ...)`` as ``(..., years)`` without copying.

    Per-year arrays are built year by year in this layout, so each year is one contiguous row of
    paths: the recursions below then run on whole rows, and sums over years add rows.
    """
    if years_first.ndim < 2:
        return years_first
    return years_first.transpose((*range(1, years_first.ndim), 0))


def years_first(years_last_array: FloatArray) -> FloatArray:
    """View an array of shape ``(..., years)`` as ``(years, ...)`` without copying: the rows of
    :func:`years_last` arrays, each year's paths contiguous."""
    if years_last_array.ndim < 2:
        return years_last_array
    return np.moveaxis(years_last_array, -1, 0)


TIMING_OFFSETS = {"end": 0.0, "mid": 0.5, "start": 1.0}
"""Years by which each timing's cash flow comes before its year's end."""


def timing_offset(timing: str | None, mid_year: bool = False) -> float:
    """Years a cash flow comes before its year end: 0 at the end, 0.5 mid-year, 1 at the start.

    ``timing`` (``"end"``, ``"mid"``, ``"start"``) wins over ``mid_year`` when given.
    """
    if timing is None:
        return 0.5 if mid_year else 0.0
    return TIMING_OFFSETS[timing]


@dataclass(frozen=True)
class TermRates:
    """A discount rate per year (a term structure of one-year forward rates).

    Year t's cash flow discounts by prod_{s <= t} (1 + k_s) (mid-year: by the product to year
    t - 1 times (1 + k_t)^(1/2)). Years after the last rate given keep the last rate (the
    terminal value and a TAB period longer than the rates are discounted at it).

    Attributes
    ----------
    rates : array (..., m)
        k_1..k_m, annual decimals, years last (``(paths, m)`` in the simulation).
    """

    rates: FloatArray

    @property
    def years(self) -> int:
        """How many years have their own rate."""
        return int(self.rates.shape[-1])

    def year(self, t: int) -> FloatArray:
        """The rate of year ``t`` (1-based; the last rate after the last year given), (...)."""
        return np.asarray(self.rates[..., min(max(t, 1), self.years) - 1], dtype=float)

    def factors(
        self, n_years: int, mid_year: bool = False, timing: str | None = None
    ) -> FloatArray:
        """Discount factors of years 1..n, array (..., n_years) (``timing`` as for
        :func:`discount_factors`: at the start, year t's flow discounts to the end of t - 1)."""
        v = 1.0 / (1.0 + np.asarray(self.rates, dtype=float))
        out = np.empty((n_years, *v.shape[:-1]))
        end = np.ones(v.shape[:-1])
        offset = timing_offset(timing, mid_year)
        for t in range(n_years):
            v_t = v[..., min(t, self.years - 1)]
            out[t] = end if offset == 1.0 else end * np.sqrt(v_t) if offset == 0.5 else end * v_t
            end = end * v_t
        return years_last(out)

    def end_factor(self, n_years: int) -> FloatArray:
        """Discount factor of the end of year ``n_years``, prod (1 + k_s)^-1 over s <= n, (...)."""
        return self.factors(n_years)[..., -1] if n_years else np.ones(self.rates.shape[:-1])

    def at(self, times: ArrayLike) -> FloatArray:
        """Discount factors of amounts at ``times`` (years, fractions allowed), (broadcast).

        An amount at t discounts by the factor to the end of year floor(t) (the running product
        of :meth:`factors`) times (1 + k_{floor(t)+1})^-(t - floor(t)); after the last year m
        given, by year m's factor times (1 + k_m)^-(t - m). At whole years within the rates
        these are :meth:`factors`' year-end numbers exactly; mid-year, its numbers up to rounding.

        Parameters
        ----------
        times : float or array (...)
            Years from the valuation date, at least 0; broadcasts with the rates' leading
            shape (one time per path, or per stage and path).
        """
        t = np.maximum(np.asarray(times, dtype=float), 0.0)
        v = 1.0 / (1.0 + np.asarray(self.rates, dtype=float))
        m = self.years
        lead = v.shape[:-1]
        ends = np.concatenate([np.ones((*lead, 1)), np.cumprod(v, axis=-1)], axis=-1)
        whole = np.minimum(np.floor(t), float(m))
        shape = np.broadcast_shapes(t.shape, lead)
        index = np.broadcast_to(whole.astype(np.intp), shape)[..., None]
        end = np.take_along_axis(np.broadcast_to(ends, (*shape, m + 1)), index, axis=-1)[..., 0]
        rate_index = np.minimum(index, m - 1)
        v_next = np.take_along_axis(np.broadcast_to(v, (*shape, m)), rate_index, axis=-1)[..., 0]
        return np.asarray(end * v_next ** (t - whole), dtype=float)


def discount_factor_at(rate: ArrayLike | TermRates, times: ArrayLike) -> FloatArray:
    """Discount factor of an amount at ``times`` years: (1 + k)^-t, or :meth:`TermRates.at`.

    Parameters
    ----------
    rate : float or array (...), or TermRates
        Annual decimal, or a rate per year.
    times : float or array (...)
        Years from the valuation date (fractions allowed), broadcasting with the rate's shape.

    Returns
    -------
    array (broadcast of the rate's shape and ``times``)
    """
    if isinstance(rate, TermRates):
        return rate.at(times)
    k = np.asarray(rate, dtype=float)
    return np.asarray((1.0 + k) ** -np.asarray(times, dtype=float), dtype=float)


def factor_rows(
    k: FloatArray | TermRates, n_years: int, mid_year: bool, timing: str | None = None
) -> Iterator[FloatArray]:
    """The discount factors of years 1..n, one row (shape of ``k``) at a time.

    A running product of the one-year factor v = 1 / (1 + k): v^t = v^(t-1) v (mid-year,
    v^(t-1/2) = sqrt(v) v^(t-1); at the start, v^(t-1) from 1). ``timing`` (``"end"``,
    ``"mid"``, ``"start"``) wins over ``mid_year`` when given. The row is one buffer updated in
    place: use it before the next one is made. A rate per year gives its own factors.
    """
    if isinstance(k, TermRates):
        yield from years_first(k.factors(n_years, mid_year, timing))
        return
    v = 1.0 / (1.0 + k)
    offset = timing_offset(timing, mid_year)
    if offset == 1.0:
        row = np.ones(np.shape(v))
    elif offset == 0.5:
        row = np.sqrt(v)
    else:
        row = np.array(v, dtype=float, copy=True)
    for t in range(n_years):
        if t:
            row *= v
        yield row


def discount_factors(
    rate: ArrayLike | TermRates,
    n_years: int,
    mid_year: bool = False,
    timing: str | None = None,
) -> FloatArray:
    """Discount factors (1 + rate)^-t for t = 1..n (or t - 0.5 mid-year, t - 1 at the start).

    Computed as running products of the one-year factor v = 1 / (1 + rate): v^t = v^(t-1) v
    (mid-year, v^(t-1/2) = sqrt(v) v^(t-1)), the same numbers as the power up to rounding.

    Parameters
    ----------
    rate : float or array of shape (...), or TermRates
        Annual discount rate, decimal (a rate per year: :meth:`TermRates.factors`).
    n_years : int
        Number of years.
    mid_year : bool
        Cash flows fall mid-year.
    timing : {"end", "mid", "start"}, optional
        Overrides ``mid_year``; ``"start"`` is an annuity due (t = 0, 1, ..., n - 1).

    Returns
    -------
    array of shape (..., n_years)
    """
    if isinstance(rate, TermRates):
        return rate.factors(n_years, mid_year, timing)
    k = np.asarray(rate, dtype=float)
    out = np.empty((n_years, *k.shape))
    for t, row in enumerate(factor_rows(k, n_years, mid_year, timing)):
        out[t] = row
    return years_last(out)


def life_weights(life_years: ArrayLike, n_years: int) -> FloatArray:
    """Share of each year that falls within the remaining life, in [0, 1].

    Year t (1-based) covers (t-1, t]; with 2.5 years of life the weights are 1, 1, 0.5, 0, ...
    An infinite life gives all ones; zero life gives all zeros.

    Returns
    -------
    array of shape (..., n_years)
    """
    life = np.asarray(life_years, dtype=float)
    start = np.arange(n_years, dtype=float).reshape((n_years,) + (1,) * life.ndim)
    out = life - start
    np.maximum(out, 0.0, out=out)  # clip to [0, 1] (NaN stays NaN, as with np.clip)
    np.minimum(out, 1.0, out=out)
    return years_last(out)


def annuity_factor(rate: ArrayLike | TermRates, n_years: int, mid_year: bool = False) -> FloatArray:
    """Present value of 1 a year for ``n_years`` years: PVA(k, n) = sum (1+k)^-t.

    The discount factors are added year by year as they are made (no ``(..., years)`` array).
    """
    if isinstance(rate, TermRates):
        return np.asarray(rate.factors(n_years, mid_year).sum(axis=-1), dtype=float)
    k = np.asarray(rate, dtype=float)
    total = np.zeros(k.shape)
    for row in factor_rows(k, n_years, mid_year):
        total += row
    return total


def tab_factor(
    tax_rate: ArrayLike,
    discount_rate: ArrayLike | TermRates,
    tab_years: int,
    mid_year: bool = False,
) -> FloatArray:
    """Tax amortisation benefit factor: 1 / (1 - (T / n) * PVA(k, n)).

    Parameters
    ----------
    tax_rate : float or array (...)
        Income tax rate, decimal.
    discount_rate : float or array (...)
        Annual discount rate, decimal.
    tab_years : int
        Tax amortisation period in years (15 under US section 197).
    """
    share = np.asarray(tax_rate, dtype=float) / tab_years
    return 1.0 / (1.0 - share * annuity_factor(discount_rate, tab_years, mid_year))


def terminal_value_pv(
    last_cash_flow: ArrayLike,
    discount_rate: ArrayLike | TermRates,
    growth: ArrayLike,
    n_years: int,
    life_years: ArrayLike = np.inf,
    mid_year: bool = False,
    timing: str | None = None,
    *,
    factor_n: ArrayLike | None = None,
) -> FloatArray:
    """Present value of income after the explicit years, growing at ``growth``, until life ends.

    With an unbounded life this is Gordon growth, CF_{n+1} / (k - g), discounted from year n.
    With a finite life L > n it is the growing annuity for the L - n years left, so income after
    legal expiry is not counted; with L <= n it is zero. Requires k > g (validated upstream).
    With a rate per year (:class:`TermRates`) k is year n's rate and the value is discounted
    from year n through each year's rate.

    Parameters
    ----------
    timing : {"end", "mid", "start"}, optional
        When the cash flows fall (overrides ``mid_year``; :func:`timing_offset`).
    factor_n : float or array (...), optional
        The discount factor of year ``n`` as :func:`discount_factors` gives it
        ((1 + k)^-(n - offset)), when the caller has it; computed otherwise.

    Returns
    -------
    array of shape (...)
    """
    term = discount_rate if isinstance(discount_rate, TermRates) else None
    k = term.year(n_years) if term is not None else np.asarray(discount_rate, dtype=float)
    g = np.asarray(growth, dtype=float)
    remaining = np.maximum(np.asarray(life_years, dtype=float) - n_years, 0.0)
    next_cf = np.asarray(last_cash_flow, dtype=float) * (1.0 + g)
    ratio = (1.0 + g) / (1.0 + k)
    with np.errstate(over="ignore", invalid="ignore"):
        horizon_share = 1.0 - np.where(np.isinf(remaining), 0.0, ratio**remaining)
    at_n = next_cf / (k - g) * horizon_share
    if factor_n is None and term is not None:
        factor_n = (1.0 + k) ** timing_offset(timing, mid_year) * term.end_factor(n_years)
    elif factor_n is None:
        factor_n = (1.0 + k) ** (timing_offset(timing, mid_year) - n_years)
    return np.asarray(at_n * np.asarray(factor_n, dtype=float), dtype=float)


def exit_value_pv(
    last_cash_flow: ArrayLike,
    discount_rate: ArrayLike | TermRates,
    multiple: ArrayLike,
    n_years: int,
    life_years: ArrayLike = np.inf,
) -> FloatArray:
    """Present value of an exit value at the end of the explicit years: M CF_n / (1+k)^n.

    The exit value is a price at the end of year n, so it is discounted from n whatever the
    cash flows' timing. It counts only where the life lasts beyond n (a right that has expired
    by then has nothing left to sell); elsewhere it is zero.

    Parameters
    ----------
    last_cash_flow : float or array (...)
        Income of the last explicit year, currency.
    discount_rate : float or array (...)
        Annual decimal.
    multiple : float or array (...)
        Exit multiple of the last year's income (> 0).
    n_years : int
        Explicit years.
    life_years : float or array (...)
        Remaining life, years.

    Returns
    -------
    array (...)
    """
    if isinstance(discount_rate, TermRates):
        factor = discount_rate.end_factor(n_years)
    else:
        factor = (1.0 + np.asarray(discount_rate, dtype=float)) ** -n_years
    alive = np.asarray(life_years, dtype=float) > n_years
    value = np.asarray(multiple, dtype=float) * np.asarray(last_cash_flow, dtype=float)
    return np.asarray(np.where(alive, value, 0.0) * factor, dtype=float)


def periodic_cost_pv(
    amount: ArrayLike,
    discount_rate: ArrayLike | TermRates,
    first_years: float,
    every_years: float,
    until_years: ArrayLike = np.inf,
) -> FloatArray:
    """Present value of ``amount`` paid at ``first``, ``first + every``, ... before ``until``.

    PV = A v^f (1 - v^(e m)) / (1 - v^e) with v = 1 / (1 + k) and m the number of payment times
    below ``until`` (m = ceil((until - f) / e); all of them when ``until`` is infinite).
    A trademark's renewal fees are such a cost: paid only while the right still earns.

    Parameters
    ----------
    amount : float or array (...)
        Payment each time, currency.
    discount_rate : float or array (...)
        Annual decimal, above 0.
    first_years, every_years : float
        Years to the first payment (> 0) and between payments (> 0).
    until_years : float or array (...)
        Payments at or after this time are not made (the end of the income), years.

    Returns
    -------
    array (...)
    """
    if isinstance(discount_rate, TermRates):
        return _term_periodic_cost_pv(amount, discount_rate, first_years, every_years, until_years)
    k = np.asarray(discount_rate, dtype=float)
    until = np.asarray(until_years, dtype=float)
    v_every = (1.0 + k) ** -every_years
    with np.errstate(invalid="ignore", over="ignore"):
        count = np.where(until > first_years, np.ceil((until - first_years) / every_years), 0.0)
        share = np.where(np.isinf(count), 1.0, 1.0 - v_every**count)
    pv = np.asarray(amount, dtype=float) * (1.0 + k) ** -first_years * share / (1.0 - v_every)
    return np.asarray(pv, dtype=float)


def _term_periodic_cost_pv(
    amount: ArrayLike,
    term: TermRates,
    first_years: float,
    every_years: float,
    until_years: ArrayLike,
) -> FloatArray:
    """:func:`periodic_cost_pv` with a rate per year.

    A payment at time t within the years given discounts by the factor to year floor(t) times
    (1 + k_{floor(t)+1})^-(t - floor(t)); the payments after the last year m given are the
    closed form at the last rate, from year m's factor.
    """
    m = term.years
    ends = term.factors(m)
    until = np.asarray(until_years, dtype=float)
    a = np.asarray(amount, dtype=float)
    total: FloatArray = np.zeros(np.broadcast_shapes(a.shape, ends.shape[:-1], until.shape))
    t = first_years
    while t <= m:
        total = total + np.where(until > t, a * term.at(t), 0.0)
        t += every_years
    tail = periodic_cost_pv(a * ends[..., -1], term.year(m + 1), t - m, every_years, until - m)
    return np.asarray(total + tail, dtype=float)
