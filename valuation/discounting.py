"""Discounting arithmetic shared by every income method.

Shapes: a rate or life has shape ``(...)`` (a scalar, or ``(paths,)``); a per-year series has shape
``(..., years)``. Everything broadcasts, so one formula serves the point value and the simulation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

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


def _factor_rows(
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
    for t, row in enumerate(_factor_rows(k, n_years, mid_year, timing)):
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
    for row in _factor_rows(k, n_years, mid_year):
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
        whole = int(np.floor(t))
        before = ends[..., whole - 1] if whole else 1.0
        factor = before * (1.0 + term.year(whole + 1)) ** -(t - whole)
        total = total + np.where(until > t, a * factor, 0.0)
        t += every_years
    tail = periodic_cost_pv(a * ends[..., -1], term.year(m + 1), t - m, every_years, until - m)
    return np.asarray(total + tail, dtype=float)


@dataclass(frozen=True)
class LostCase:
    """Income falls by ``share`` from ``years`` on (a lost infringement case): a simulated path's
    legal event. The right itself lives on; only its income is cut.

    Attributes
    ----------
    years : float or array (...)
        When the case is lost, years from the valuation date (``inf``: never).
    share : float
        Share of the income lost from then on, decimal in [0, 1].
    """

    years: ArrayLike
    share: float

    def cut(self, life_years: ArrayLike, n: int) -> tuple[NDArray[np.intp], FloatArray]:
        """The paths (of ``n``) whose case is lost while the right still earns, and their lives
        cut at the case; every other path keeps its value."""
        life = np.broadcast_to(np.asarray(life_years, dtype=float), (n,))
        when = np.broadcast_to(np.asarray(self.years, dtype=float), (n,))
        hit = np.flatnonzero(when < life)
        return hit, when[hit]

    def weigh(self, life_years: ArrayLike, at_life: Callable[[ArrayLike], FloatArray]) -> Any:
        """``(1 - share) f(life) + share f(min(life, years))`` for a ``f`` linear in the
        per-year life weights (the income inside a life, the terminal value)."""
        cut = np.minimum(np.asarray(life_years, dtype=float), self.years)
        return (1.0 - self.share) * at_life(life_years) + self.share * at_life(cut)


@dataclass(frozen=True)
class IncomeValue:
    """Present value of an income stream with everything a reviewer needs to follow it.

    The value is computed without any ``(..., years)`` array but the cumulative present value
    (see :func:`discount_income`); the per-year figures of the audit trail (``income``,
    ``life_weights``, ``discount_factors``, ``present_values``) are computed from the same inputs
    when first read, so a simulation that only needs the value never makes them.

    Attributes
    ----------
    value : array (...)
        Value after life limits, terminal value and TAB, in currency.
    terminal_value : array (...)
        Present value of income after the explicit years (Gordon growth or exit multiple; 0
        without either).
    value_before_tab : array (...)
    tab_factor : array (...)
        1 without ``tab_years``.
    series : array (..., years)
        The income series before the per-path ``scale`` (income = series x scale).
    scale : float or array (...)
        Per-path factor of the income (e.g. royalty rate x (1 - tax)), 1 when none.
    discount_rate : float or array (...)
    life_years : float or array (...)
    mid_year : bool
    timing : str or None
        When each year's income falls (:func:`timing_offset`).
    lost_case : LostCase or None
        A lost case that cut the income (simulated paths only).
    """

    value: FloatArray
    terminal_value: FloatArray
    value_before_tab: FloatArray
    tab_factor: FloatArray
    series: FloatArray
    scale: FloatArray
    discount_rate: FloatArray | TermRates
    life_years: FloatArray
    mid_year: bool
    timing: str | None = None
    lost_case: LostCase | None = None

    @property
    def years(self) -> int:
        """Number of explicit years."""
        return int(self.series.shape[-1])

    @cached_property
    def income(self) -> FloatArray:
        """Income attributed to the asset per year before the life limit, currency, (..., years)."""
        return np.asarray(self.series * per_path(self.scale), dtype=float)

    @cached_property
    def _shape(self) -> tuple[int, ...]:
        k = self.discount_rate
        rate_shape = (*k.rates.shape[:-1], 1) if isinstance(k, TermRates) else per_path(k).shape
        return np.broadcast_shapes(self.income.shape, rate_shape, per_path(self.life_years).shape)

    @cached_property
    def life_weights(self) -> FloatArray:
        """Share of each year inside the remaining life (after a lost case, the share that
        still earns), (..., years)."""
        n = self.years
        if self.lost_case is None:
            weights = life_weights(self.life_years, n)
        else:
            weights = self.lost_case.weigh(self.life_years, lambda life: life_weights(life, n))
        return _broadcast(
            np.asarray(weights, dtype=float), np.broadcast_shapes(self._shape, weights.shape)
        )

    @cached_property
    def discount_factors(self) -> FloatArray:
        """(..., years)."""
        factors = discount_factors(self.discount_rate, self.years, self.mid_year, self.timing)
        return _broadcast(factors, self._shape)

    @cached_property
    def present_values(self) -> FloatArray:
        """income x life weight x discount factor, (..., years)."""
        return np.asarray(self.income * self.discount_factors * self.life_weights, dtype=float)


def _broadcast(x: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    return x if x.shape == shape else np.broadcast_to(x, shape)


def cumulative_present_value(
    series: ArrayLike,
    discount_rate: ArrayLike | TermRates,
    mid_year: bool = False,
    timing: str | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Present value of the first t years of a series, for t = 0..n, and the year-n factor.

    Parameters
    ----------
    series : array (..., years)
        Income at each year end (or mid-year), currency.
    discount_rate : float or array (...)
        Annual decimal.
    mid_year : bool
        Cash flows fall mid-year.
    timing : {"end", "mid", "start"}, optional
        Overrides ``mid_year`` (:func:`discount_factors`).

    Returns
    -------
    cumulative : array (years + 2, ...)
        Row ``t`` is sum_{s <= t} series_s (1 + k)^-s (row 0 is 0); the last row repeats row
        ``n``, so a life of exactly ``n`` years reads row ``n`` itself. Years first: each row is
        one contiguous run of paths.
    factor_n : array (...)
        The discount factor of year ``n`` (for the terminal value).
    """
    rows = years_first(np.asarray(series, dtype=float))
    k: Any = discount_rate
    if isinstance(k, TermRates):
        lead = k.rates.shape[:-1]
    else:
        k = np.asarray(discount_rate, dtype=float)
        lead = k.shape
    n = rows.shape[0]
    cum = np.empty((n + 2, *np.broadcast_shapes(rows.shape[1:], lead)))
    cum[0] = 0.0
    factor_n: FloatArray = np.ones(lead)
    for t, factor in enumerate(_factor_rows(k, n, mid_year, timing)):
        np.multiply(rows[t], factor, out=cum[t + 1, ...])
        cum[t + 1, ...] += cum[t]
        factor_n = factor
    cum[n + 1] = cum[n]
    return cum, factor_n


def value_at_life(
    cumulative: FloatArray, life_years: ArrayLike, paths: NDArray[np.intp] | None = None
) -> FloatArray:
    """Present value of the income inside the remaining life, from :func:`cumulative_present_value`.

    With life L, year t (covering (t-1, t]) counts with the weight clip(L - t + 1, 0, 1)
    (:func:`life_weights`): the value is C_m + f (C_{m+1} - C_m) with m = floor(L) full years,
    f = L - m the share of the next one and C the cumulative present value (read per path).

    Parameters
    ----------
    paths : array of int, optional
        Read only these paths (columns of a ``(years + 2, paths)`` cumulative value);
        ``life_years`` then has one life per listed path.

    Returns
    -------
    array: the broadcast shape of a row of ``cumulative`` and ``life_years`` (with ``paths``,
    one value per listed path)
    """
    n = cumulative.shape[0] - 2
    life = np.asarray(life_years, dtype=float)
    if life.ndim == 0:
        if life >= n:
            return np.array(cumulative[n], dtype=float, copy=True)
        span = min(max(float(life), 0.0), float(n))  # NaN: the share stays NaN
        full = 0 if np.isnan(span) else math.floor(span)
        low, high = cumulative[full], cumulative[full + 1]
        return np.asarray(low + (span - full) * (high - low), dtype=float)
    span = np.maximum(life, 0.0)
    np.minimum(span, float(n), out=span)  # NaN stays NaN
    floor = np.floor(span)
    share = span - floor
    with np.errstate(invalid="ignore"):  # NaN life: any row is read, the share stays NaN
        full = floor.astype(np.intp)
    np.maximum(full, 0, out=full)
    rows = cumulative.shape[1:]
    if not rows:  # one income for every path (fixed inputs): read it at each life
        low = cumulative[full]
        high = cumulative[full + 1]
    elif cumulative.ndim == 2 and (paths is not None or full.shape == rows):
        # the simulation: one life per path (or per listed path)
        flat = full
        flat *= rows[0]
        flat += np.arange(rows[0]) if paths is None else paths
        low = cumulative.take(flat)
        flat += rows[0]
        high = cumulative.take(flat)
    else:
        shape = np.broadcast_shapes(rows, full.shape)
        lead = (1,) * (len(shape) - len(rows))
        stack = np.broadcast_to(cumulative.reshape((n + 2, *lead, *rows)), (n + 2, *shape))
        index = np.broadcast_to(full, shape)[None]
        low = np.take_along_axis(stack, index, axis=0)[0]
        high = np.take_along_axis(stack, index + 1, axis=0)[0]
    high -= low
    high *= share
    high += low
    return np.asarray(high, dtype=float)


TerminalAt = Callable[[ArrayLike, Callable[[Any], Any]], FloatArray]
"""``(life, pick) -> terminal value``: the terminal value at ``life``, each per-path argument
taken through ``pick`` (all paths, or the paths a lost case cuts)."""


def _terminal_after(
    terminal: FloatArray,
    lost_case: LostCase,
    hit: NDArray[np.intp] | None,
    life_years: ArrayLike,
    at: TerminalAt,
) -> FloatArray:
    """The terminal value with income cut by ``lost_case``: on the ``hit`` paths only when
    given (each argument taken at those paths), else on every path."""
    if hit is None:
        return np.asarray(lost_case.weigh(life_years, lambda life: at(life, _same)), dtype=float)
    if hit.size == 0:
        return terminal
    shape = terminal.shape

    def pick(x: Any) -> Any:
        if isinstance(x, TermRates):
            rates = x.rates if x.rates.ndim == 1 else np.broadcast_to(x.rates, (*shape, x.years))
            return x if x.rates.ndim == 1 else TermRates(rates[hit])
        a = np.asarray(x, dtype=float)
        return a if a.ndim == 0 else np.broadcast_to(a, shape)[hit]

    cut = np.minimum(pick(life_years), pick(lost_case.years))
    out = np.array(np.broadcast_to(terminal, shape), dtype=float)
    out[hit] = (1.0 - lost_case.share) * out[hit] + lost_case.share * at(cut, pick)
    return out


def _same(x: ArrayLike) -> Any:
    return x


def discount_income(
    income: ArrayLike,
    discount_rate: ArrayLike | TermRates,
    *,
    life_years: ArrayLike = np.inf,
    mid_year: bool = False,
    terminal_growth: ArrayLike | None = None,
    tab_years: int | None = None,
    tax_rate: ArrayLike = 0.0,
    timing: str | None = None,
    terminal_multiple: ArrayLike | None = None,
    scale: ArrayLike = 1.0,
    lost_case: LostCase | None = None,
) -> IncomeValue:
    """Discount an income stream, cut at the end of its life, with optional terminal value and TAB.

    V = s (sum_t I_t w_t (1 + k)^-t + TV) x TAB, with w_t the share of year t inside the life
    (:func:`life_weights`). The sum is read off the cumulative present value at the life
    (:func:`cumulative_present_value`, :func:`value_at_life`): one pass over the years, with
    no ``(..., years)`` array of weights, factors or products.

    Parameters
    ----------
    income : array (..., years)
        Income attributable to the asset at each year end (after tax), in currency; with
        ``scale``, the series that ``scale`` multiplies.
    discount_rate : float or array (...)
        Annual discount rate, decimal.
    life_years : float or array (...)
        Remaining life (the shortest of legal and economic life), years; income after it is not
        counted.
    mid_year : bool
        Cash flows fall mid-year.
    terminal_growth : float or array (...), optional
        Growth after the last explicit year (Gordon growth, cut at the end of life).
    tab_years : int, optional
        Tax amortisation period; multiplies the value by the TAB factor.
    tax_rate : float or array (...)
        Tax rate for the TAB factor, decimal.
    timing : {"end", "mid", "start"}, optional
        When each year's income falls; overrides ``mid_year`` (:func:`discount_factors`).
    terminal_multiple : float or array (...), optional
        Exit multiple of the last year's income instead of Gordon growth (:func:`exit_value_pv`).
    scale : float or array (...)
        Per-path factor of every year's income (a royalty rate after tax, say): the income is
        ``income x scale``. Applied to the sum, not to each year.
    lost_case : LostCase, optional
        Income falls by its share from its time on: the value is the mix
        ``(1 - share) V(life) + share V(min(life, time))`` (exact, as V is linear in the life
        weights), both read off the same cumulative present value.
    """
    series = np.asarray(income, dtype=float)
    n_years = series.shape[-1]
    s = np.asarray(scale, dtype=float)
    cum, factor_n = cumulative_present_value(series, discount_rate, mid_year, timing)
    value = value_at_life(cum, life_years)
    losing = lost_case is not None and lost_case.share > 0
    hit: NDArray[np.intp] | None = None
    if lost_case is not None and losing:
        if value.ndim == 1 and cum.ndim <= 2:
            # Only the paths whose case is lost while the right earns change: read their
            # cumulative values again at the cut life and mix.
            hit, cut = lost_case.cut(life_years, value.size)
            if hit.size:
                lost = value_at_life(cum, cut, paths=hit if cum.ndim == 2 else None)
                value[hit] = (1.0 - lost_case.share) * value[hit] + lost_case.share * lost
        else:
            value = lost_case.weigh(life_years, lambda life: value_at_life(cum, life))
    last = series[..., -1]
    at: TerminalAt | None = None
    if terminal_multiple is not None:
        multiple = terminal_multiple

        def at(life: ArrayLike, pick: Callable[[Any], Any]) -> FloatArray:
            return exit_value_pv(pick(last), pick(discount_rate), pick(multiple), n_years, life)

    elif terminal_growth is not None:
        growth = terminal_growth

        def at(life: ArrayLike, pick: Callable[[Any], Any]) -> FloatArray:
            return terminal_value_pv(
                pick(last),
                pick(discount_rate),
                pick(growth),
                n_years,
                life,
                mid_year,
                timing,
                factor_n=pick(factor_n),
            )

    if at is None:
        terminal = np.zeros(np.broadcast_shapes(value.shape, s.shape))
    else:
        terminal = at(life_years, _same)
        if lost_case is not None and losing:
            terminal = _terminal_after(terminal, lost_case, hit, life_years, at)
        value = value + terminal
        terminal = terminal * s
    value = value * s if s.ndim or s != 1.0 else value
    if tab_years is None:
        factor = np.ones_like(value)
        total = value
    else:
        factor = np.broadcast_to(
            tab_factor(tax_rate, discount_rate, tab_years, mid_year), value.shape
        )
        total = value * factor
    return IncomeValue(
        value=total,
        terminal_value=terminal,
        value_before_tab=value,
        tab_factor=np.asarray(factor, dtype=float),
        series=series,
        scale=s,
        discount_rate=(
            discount_rate
            if isinstance(discount_rate, TermRates)
            else np.asarray(discount_rate, dtype=float)
        ),
        life_years=np.asarray(life_years, dtype=float),
        mid_year=mid_year,
        timing=timing,
        lost_case=lost_case,
    )
