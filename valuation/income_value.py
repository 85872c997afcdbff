"""The value of an income stream: cut at its life, a lost case, a terminal value, the TAB.

:func:`discount_income` is the one formula every income method ends in. It reads the value off
the cumulative present value at each path's life (:func:`cumulative_present_value`,
:func:`value_at_life`), so the simulation builds no ``(paths, years)`` arrays of weights or
factors; :class:`IncomeValue` makes the per-year figures only when the audit trail reads them.
The discount factors and closed forms it uses are in :mod:`ipvalue.valuation.discounting`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipvalue.valuation.discounting import (
    FloatArray,
    TermRates,
    discount_factors,
    exit_value_pv,
    factor_rows,
    life_weights,
    per_path,
    tab_factor,
    terminal_value_pv,
    years_first,
)


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
    for t, factor in enumerate(factor_rows(k, n, mid_year, timing)):
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
