"""A licence's price (issue 14, item 6): the licensor's floor, the terms, their equivalents.

- Minimum transfer price (无形资产转让的最低收费额), Chinese practice:
  P_min = C_net x s + (L + D): net replacement cost C_net times the licensee's share of use s
  (转让成本分摊率) plus the opportunity cost, the present values of the licensor's lost sales
  income L and added development cost D.
- Upfront + running royalty: PV = U + sum r R_t / (1 + k)^t over the licensed years. The
  running royalties are an income stream like relief from royalty's: cut at the right's life
  (per path when legal events stop it) and, on a simulated path whose infringement case is
  lost, cut by the loss share from then on (:class:`~ipvalue.valuation.income_value.LostCase`);
  the upfront fee is paid at the valuation date whatever happens later. The pure running rate
  of equal present value is r* = PV / sum R_t / (1+k)^t (the sales' present value cut the same
  way) and the pure lump sum is PV itself.
- The negotiation range runs from the licensor's minimum to the licensee's maximum (its value
  of the right).

Every function is vectorised: floats for the point value, arrays of paths in the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.valuation.cost import age_life_depreciation
from ipvalue.valuation.discounting import FloatArray, TermRates
from ipvalue.valuation.income_value import IncomeValue, LostCase, discount_income


def net_replacement_cost(
    replacement_cost: ArrayLike, years_used: ArrayLike, years_remaining: ArrayLike
) -> FloatArray:
    """重置成本净值 = replacement cost x years remaining / (years used + years remaining)."""
    rate = age_life_depreciation(years_used, years_remaining)
    return np.asarray(replacement_cost, dtype=float) * (1.0 - rate)


def minimum_transfer_price(
    net_cost: ArrayLike, cost_share: ArrayLike, lost_income: ArrayLike, added_cost: ArrayLike
) -> FloatArray:
    """转让最低收费额 = net replacement cost x cost share + lost income + added cost.

    Parameters
    ----------
    net_cost : float or array (...)
        Net replacement cost of the right (重置成本净值), currency.
    cost_share : float or array (...)
        The licensee's share of the right's use (转让成本分摊率), decimal.
    lost_income, added_cost : float or array (...)
        Present values of the licensor's lost sales income and added development cost (the
        opportunity cost, 机会成本), currency.
    """
    opportunity = np.asarray(lost_income, dtype=float) + np.asarray(added_cost, dtype=float)
    return np.asarray(net_cost, dtype=float) * np.asarray(cost_share, dtype=float) + opportunity


@dataclass(frozen=True)
class LicenceTerms:
    """The present value of an upfront + running royalty structure and its equivalents.

    Attributes
    ----------
    value : array (...)
        Present value of the terms, currency: upfront + running royalties' present value.
    upfront : array (...)
        Upfront fee at the valuation date, currency.
    running : IncomeValue or None
        The running royalties year by year and their present value (None without revenue).
    revenue_pv : array (...) or None
        Present value of the licensee's sales over the same years (the running rate's base).
    equivalent_running_rate : array (...) or None
        The pure running royalty rate whose present value equals ``value`` (decimal).
    """

    value: FloatArray
    upfront: FloatArray
    running: IncomeValue | None
    revenue_pv: FloatArray | None
    equivalent_running_rate: FloatArray | None

    @property
    def equivalent_lump_sum(self) -> FloatArray:
        """The pure lump sum at the valuation date of equal present value, currency."""
        return self.value


def licence_terms(
    upfront: ArrayLike,
    running_royalty_rate: ArrayLike | None = None,
    revenue: ArrayLike | None = None,
    discount_rate: ArrayLike | TermRates | None = None,
    *,
    life_years: ArrayLike = np.inf,
    mid_year: bool = False,
    lost_case: LostCase | None = None,
    equivalents: bool = True,
) -> LicenceTerms:
    """Present value of U + running royalty r on sales R_t, and its pure equivalents.

    Parameters
    ----------
    upfront : float or array (...)
        Upfront fee paid at the valuation date (t = 0), currency.
    running_royalty_rate : float or array (...), optional
        Running royalty, decimal share of sales (0 without one).
    revenue : array (..., years), optional
        The licensee's sales per year, currency; needed for a running royalty.
    discount_rate : float or array (...), or TermRates, optional
        Annual discount rate, decimal (or a rate per year); needed with ``revenue``.
    life_years : float or array (...)
        Years the royalties are paid (the right's remaining life); later years count nothing.
    mid_year : bool
        Royalties fall mid-year.
    lost_case : LostCase, optional
        A simulated lost case: the royalties (and the sales they are paid on) fall by its share
        from its time on.
    equivalents : bool
        Also compute the sales' present value and the pure running rate (the audit's figures;
        the simulation does without them).
    """
    fee = np.asarray(upfront, dtype=float)
    if revenue is None or discount_rate is None:
        return LicenceTerms(fee, fee, None, None, None)
    rate = 0.0 if running_royalty_rate is None else running_royalty_rate
    sales = np.atleast_1d(np.asarray(revenue, dtype=float))

    def stream(scale: ArrayLike) -> IncomeValue:
        return discount_income(
            sales,
            discount_rate,
            life_years=life_years,
            mid_year=mid_year,
            scale=scale,
            lost_case=lost_case,
        )

    running = stream(rate)
    value = fee + running.value
    if not equivalents:
        return LicenceTerms(value, fee, running, None, None)
    base = stream(1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        positive = base.value > 0
        equivalent = np.where(positive, value / np.where(positive, base.value, 1.0), np.nan)
    return LicenceTerms(value, fee, running, base.value, equivalent)
