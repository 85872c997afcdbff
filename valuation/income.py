"""Income-approach methods (IVS 210, IDW S 5, DIN 77100, Chinese appraisal practice).

Each function takes per-year series of shape ``(..., years)`` and per-path numbers of shape
``(...)`` (scalars for a point value, ``(paths,)`` in a simulation) and returns an
:class:`~valuation.income_value.IncomeValue`. The keywords shared by all of them (``life_years``,
``mid_year`` / ``timing``, ``terminal_growth`` / ``terminal_multiple``, ``lost_case``) are those
of :func:`~valuation.income_value.discount_income`. Money is in the request's currency; rates are
annual decimals; lives are in years.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.valuation.discounting import FloatArray, per_path
from ipvalue.valuation.income_value import IncomeValue, LostCase, discount_income


def _series(x: ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def _after_tax(rate: ArrayLike, tax_rate: ArrayLike) -> FloatArray:
    """rate (1 - T), per path: shape (...)."""
    return np.asarray(rate, dtype=float) * (1.0 - np.asarray(tax_rate, dtype=float))


def dcf(
    cash_flows: ArrayLike,
    discount_rate: ArrayLike,
    *,
    life_years: ArrayLike = np.inf,
    mid_year: bool = False,
    terminal_growth: ArrayLike | None = None,
    timing: str | None = None,
    terminal_multiple: ArrayLike | None = None,
    lost_case: LostCase | None = None,
) -> IncomeValue:
    """Discounted cash flow: V = sum CF_t / (1+k)^t (+ Gordon terminal value).

    Parameters
    ----------
    cash_flows : array (..., years)
        The asset's own cash flows at year ends, currency.
    discount_rate : float or array (...)
        Annual decimal.
    """
    return discount_income(
        _series(cash_flows),
        discount_rate,
        life_years=life_years,
        mid_year=mid_year,
        terminal_growth=terminal_growth,
        timing=timing,
        terminal_multiple=terminal_multiple,
        lost_case=lost_case,
    )


def relief_from_royalty(
    revenue: ArrayLike,
    royalty_rate: ArrayLike,
    tax_rate: ArrayLike,
    discount_rate: ArrayLike,
    *,
    tab_years: int | None = None,
    life_years: ArrayLike = np.inf,
    mid_year: bool = False,
    terminal_growth: ArrayLike | None = None,
    timing: str | None = None,
    terminal_multiple: ArrayLike | None = None,
    lost_case: LostCase | None = None,
) -> IncomeValue:
    """Relief from royalty: V = sum Rev_t RR (1 - T) / (1+k)^t, times the TAB factor if asked.

    Parameters
    ----------
    revenue : array (..., years)
        Revenue the right earns, currency per year.
    royalty_rate : float or array (...)
        Royalty the owner saves, decimal share of revenue.
    tax_rate : float or array (...)
        Income tax rate, decimal.
    discount_rate : float or array (...)
        Annual decimal.
    tab_years : int, optional
        Tax amortisation period, years.
    """
    # The per-path factor RR (1 - T) multiplies the discounted sum, not every year.
    return discount_income(
        _series(revenue),
        discount_rate,
        scale=_after_tax(royalty_rate, tax_rate),
        life_years=life_years,
        mid_year=mid_year,
        terminal_growth=terminal_growth,
        timing=timing,
        terminal_multiple=terminal_multiple,
        tab_years=tab_years,
        tax_rate=tax_rate,
        lost_case=lost_case,
    )


def excess_earnings(
    revenue: ArrayLike,
    operating_margin: ArrayLike,
    tax_rate: ArrayLike,
    contributory_charge_rate: ArrayLike,
    discount_rate: ArrayLike,
    *,
    tab_years: int | None = None,
    life_years: ArrayLike = np.inf,
    mid_year: bool = False,
    terminal_growth: ArrayLike | None = None,
    timing: str | None = None,
    terminal_multiple: ArrayLike | None = None,
    lost_case: LostCase | None = None,
    contributory_charges: ArrayLike | None = None,
    survival: ArrayLike | None = None,
) -> IncomeValue:
    """Multi-period excess earnings: EE_t = S_t (Rev_t (margin (1 - T) - sum of CAC rates) - CAC_t).

    Parameters
    ----------
    revenue : array (..., years)
        Revenue, currency per year.
    operating_margin : float or array (...)
        Operating (pre-tax) margin, decimal share of revenue.
    tax_rate : float or array (...)
        Decimal.
    contributory_charge_rate : float or array (...)
        Sum of the contributory asset charges, decimal share of revenue (after tax).
    discount_rate : float or array (...)
        Annual decimal.
    contributory_charges : array (..., years), optional
        Charges given as amounts (asset value x required return + return of, after tax),
        currency per year (see :mod:`valuation.contributory`).
    survival : array (..., years), optional
        Share of the revenue (and of the charges it needs) surviving attrition each year.
    """
    margin_after_tax = _after_tax(operating_margin, tax_rate)
    excess = margin_after_tax - np.asarray(contributory_charge_rate, dtype=float)
    series: FloatArray = _series(revenue)
    scale: Any = excess
    if contributory_charges is not None or survival is not None:
        # Charges by amount or a survivor curve vary by year: the series carries them.
        series = series * per_path(excess)
        if contributory_charges is not None:
            series = series - np.asarray(contributory_charges, dtype=float)
        if survival is not None:
            series = series * np.asarray(survival, dtype=float)
        scale = 1.0
    return discount_income(
        series,
        discount_rate,
        scale=scale,
        life_years=life_years,
        mid_year=mid_year,
        terminal_growth=terminal_growth,
        timing=timing,
        terminal_multiple=terminal_multiple,
        tab_years=tab_years,
        tax_rate=tax_rate,
        lost_case=lost_case,
    )


def with_and_without(
    incremental_profit: ArrayLike,
    tax_rate: ArrayLike,
    discount_rate: ArrayLike,
    *,
    life_years: ArrayLike = np.inf,
    mid_year: bool = False,
    terminal_growth: ArrayLike | None = None,
    timing: str | None = None,
    terminal_multiple: ArrayLike | None = None,
    lost_case: LostCase | None = None,
) -> IncomeValue:
    """With and without: V = sum (profit_with - profit_without)_t (1 - T) / (1+k)^t.

    Parameters
    ----------
    incremental_profit : array (..., years)
        Pre-tax profit the right adds each year (cost savings, price premium, volume), currency.
    """
    return discount_income(
        _series(incremental_profit),
        discount_rate,
        scale=1.0 - np.asarray(tax_rate, dtype=float),
        life_years=life_years,
        mid_year=mid_year,
        terminal_growth=terminal_growth,
        timing=timing,
        terminal_multiple=terminal_multiple,
        lost_case=lost_case,
    )


def split_rate_from_royalty(royalty_rate: ArrayLike, operating_margin: ArrayLike) -> FloatArray:
    """Profit split implied by a royalty on sales: K = royalty / operating margin.

    2 % of sales at a 10 % operating margin is a 20 % profit split.
    """
    return np.asarray(royalty_rate, dtype=float) / np.asarray(operating_margin, dtype=float)


def equivalent_investment_split_rate(
    ip_cost: ArrayLike,
    ip_cost_profit_rate: ArrayLike,
    other_investment: ArrayLike,
    other_investment_profit_rate: ArrayLike,
) -> FloatArray:
    """约当投资分成法: K = C_ip (1 + L_ip) / (C_ip (1 + L_ip) + C_other (1 + L_other)).

    Parameters
    ----------
    ip_cost, other_investment : float or array (...)
        Invested cost of the IP and of the other assets, currency.
    ip_cost_profit_rate, other_investment_profit_rate : float or array (...)
        Each investment's profit rate, decimal.
    """
    ip = np.asarray(ip_cost, dtype=float) * (1.0 + np.asarray(ip_cost_profit_rate, dtype=float))
    other = np.asarray(other_investment, dtype=float) * (
        1.0 + np.asarray(other_investment_profit_rate, dtype=float)
    )
    return ip / (ip + other)


def profit_split(
    profit: ArrayLike,
    split_rate: ArrayLike,
    tax_rate: ArrayLike,
    discount_rate: ArrayLike,
    *,
    life_years: ArrayLike = np.inf,
    mid_year: bool = False,
    terminal_growth: ArrayLike | None = None,
    timing: str | None = None,
    terminal_multiple: ArrayLike | None = None,
    split_by_year: bool = False,
    lost_case: LostCase | None = None,
) -> IncomeValue:
    """Profit split (分成法): V = sum K_t profit_t (1 - T) / (1+k)^t.

    Parameters
    ----------
    profit : array (..., years)
        Profit per year, pre-tax (use ``tax_rate=0`` for after-tax profit), currency.
    split_rate : float or array (...), or array (..., years) with ``split_by_year``
        The right's share K of profit, decimal (one per year when the margin behind it
        varies).
    split_by_year : bool
        ``split_rate`` has a trailing year axis.
    """
    series, scale = _series(profit), _after_tax(split_rate, tax_rate)
    if split_by_year:  # the split varies by year: it weights each year's profit
        series = series * np.asarray(split_rate, dtype=float)
        scale = _after_tax(1.0, tax_rate)
    return discount_income(
        series,
        discount_rate,
        scale=scale,
        life_years=life_years,
        mid_year=mid_year,
        terminal_growth=terminal_growth,
        timing=timing,
        terminal_multiple=terminal_multiple,
        lost_case=lost_case,
    )
