"""The income family: the request's inputs of each income method meet their formula.

Each ``value_<method>`` has the registry's signature ``(inputs, call) -> MethodOutcome``. The
shared steps live in :func:`_income`: the economic life cut, a renewing trademark's renewal fees,
and for the point value the assumptions and the warning when the legal expiry cuts the income.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ipvalue.models.errors import InputError
from ipvalue.models.income_methods import (
    DCFInputs,
    EquivalentInvestmentSplitInputs,
    ExcessEarningsInputs,
    ProfitSplitInputs,
    ReliefFromRoyaltyInputs,
    WithAndWithoutInputs,
)
from ipvalue.models.uncertain import base_value
from ipvalue.valuation import income as formulas
from ipvalue.valuation.derive.rates import check_term_years, last_rate
from ipvalue.valuation.discounting import periodic_cost_pv, timing_offset
from ipvalue.valuation.income_value import IncomeValue
from ipvalue.valuation.methods import excess
from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome, optional
from ipvalue.valuation.resolve import resolve_series
from ipvalue.valuation.staging import Staged, stage_weighting

Computed = tuple[IncomeValue, Any, dict[str, Any]]
"""An income formula's result, the discount rate it used and method-specific audit figures."""


def _common(m: Any, call: MethodCall, life: Any) -> dict[str, Any]:
    timing = m.cash_flow_timing
    return {
        "life_years": life,
        "mid_year": timing == "mid",
        "timing": timing,
        "terminal_growth": optional(call.draw, f"{call.path}.terminal_growth", m.terminal_growth),
        "terminal_multiple": optional(
            call.draw, f"{call.path}.terminal_multiple", m.terminal_multiple
        ),
        "lost_case": call.lost_case,
    }


def _staged(m: Any, call: MethodCall, result: IncomeValue, rate: Any) -> tuple[Any, Staged]:
    """The rNPV of ``result`` under ``m.stages``: each year's present value and the terminal
    value weighted by the probability of receiving them, the TAB factor, less the stage costs."""
    p, draw = call.path, call.draw
    n_years = result.years
    stage = [
        (
            draw(f"{p}.stages[{i}].probability", s.probability),
            draw(f"{p}.stages[{i}].cost", s.cost),
            draw(f"{p}.stages[{i}].years", s.years),
        )
        for i, s in enumerate(m.stages)
    ]
    total = float(np.max(sum(np.asarray(y, dtype=float) for _, _, y in stage)))
    if call.point and total > n_years:
        raise InputError.for_field(
            f"{p}.stages",
            f"the stages last {total:g} years but the income covers {n_years}; give income for "
            "the years after the last stage",
        )
    times = np.arange(1, n_years + 1, dtype=float) - timing_offset(m.cash_flow_timing)
    weighted = stage_weighting(
        [x for x, _, _ in stage], [c for _, c, _ in stage], [y for _, _, y in stage], times, rate
    )
    before_tab = (result.present_values * weighted.weights).sum(axis=-1)
    before_tab = before_tab + result.terminal_value * weighted.success
    return before_tab * result.tab_factor - weighted.costs_pv, weighted


def renewal_fees_pv(call: MethodCall, rate: Any, life: Any, years: int, terminal: bool) -> Any:
    """Present value of a renewing trademark's renewal fees while its income lasts, or None.

    Income lasts for the method's explicit ``years`` (for ever with a terminal value), cut at
    ``life``; a renewal at or after that end is not paid.
    """
    renewal = call.legal.renewal
    if renewal is None or renewal.fee == 0:
        return None
    until = life if terminal else np.minimum(life, years)
    return periodic_cost_pv(renewal.fee, rate, renewal.first_years, renewal.every_years, until)


def cut_by_expiry(call: MethodCall, life: Any, years: int, terminal: bool) -> bool:
    """True when the legal expiry, not the economic life, ends income the method projects."""
    legal = call.legal
    if not legal.limited:
        return False
    ends = float(np.min(np.asarray(life, dtype=float)))
    return ends >= legal.years and (terminal or legal.years < years)


def _income(compute: Callable[[Any, MethodCall, Any], Computed]) -> Any:
    def value(m: Any, call: MethodCall) -> MethodOutcome:
        p, draw = call.path, call.draw
        life: Any = call.life
        economic = optional(draw, f"{p}.economic_life_years", m.economic_life_years)
        if economic is not None:
            life = np.minimum(life, economic)
        if call.point and m.terminal_growth is not None:  # before Gordon growth divides by k - g
            k = draw(f"{p}.discount_rate", m.discount_rate)
            _check_growth(m, call, last_rate(k))
        result, rate, extra = compute(m, call, life)
        n_years = result.years
        if call.point:
            check_term_years(rate, n_years, f"{p}.discount_rate")
        out = MethodOutcome(value=result.value, figures={"income": result, "life": life} | extra)
        if m.stages is not None:
            out.value, staged = _staged(m, call, result, rate)
            out.figures["stages"] = {
                "names": [s.name for s in m.stages],
                "ends_years": staged.ends,
                "probability_of_reaching": staged.reach,
                "cumulative_probability": staged.success,
                "cash_flow_weights": staged.weights,
                "costs_pv": staged.costs_pv,
                "unweighted_value": result.value,
            }
        initial = optional(draw, f"{p}.initial_cash_flow", m.initial_cash_flow)
        if initial is not None:
            out.value = out.value + np.asarray(initial, dtype=float)
            out.figures["initial_cash_flow"] = initial
        terminal = m.terminal_growth is not None  # an exit price ends the income at year n
        fee_life: Any = life
        if call.fee_life is not None:
            fee_life = call.fee_life if economic is None else np.minimum(call.fee_life, economic)
        fees = renewal_fees_pv(call, rate, fee_life, n_years, terminal)
        if fees is not None:
            out.value = out.value - fees
            out.figures["renewal_fees_pv"] = fees
        if call.point:
            _explain(m, call, out, economic, fees is not None)
            _explain_terminal(m, out, life, n_years)
            out.cut_by_expiry = cut_by_expiry(call, life, n_years, terminal)
        return out

    value.__name__ = compute.__name__.replace("_compute", "value")
    value.__doc__ = compute.__doc__
    return value


def _check_growth(m: Any, call: MethodCall, rate: Any) -> None:
    """Refuse a terminal growth at or above a derived discount rate (the plain rate is checked
    when the request is read)."""
    g, k = base_value(m.terminal_growth), float(np.asarray(rate))
    if g >= k:
        raise InputError.for_field(
            f"{call.path}.terminal_growth",
            f"must be below the derived discount_rate ({g:g} >= {k:g}); "
            "the Gordon growth value is infinite otherwise",
        )


def _explain(m: Any, call: MethodCall, out: MethodOutcome, economic: Any, fees: bool) -> None:
    if economic is not None:
        out.assumptions.append(
            f"economic life {float(np.asarray(economic)):g} years, "
            "shorter than or equal to legal life where it cuts"
        )
    if m.terminal_growth is not None:
        out.assumptions.append("terminal value by Gordon growth, ended at the remaining legal life")
    if m.stages is not None:
        out.assumptions.append(
            "risk-adjusted NPV: each cash flow weighted by the probability of passing the stages "
            "ended by its time, each stage's cost (paid at its start) by the probability of "
            "reaching it; the TAB factor does not apply to the stage costs"
        )
    if m.initial_cash_flow is not None:
        out.assumptions.append("initial_cash_flow at t = 0, undiscounted, added after the TAB")
    if getattr(m, "tab_years", None):
        out.assumptions.append(
            f"tax amortisation benefit over {m.tab_years} years: factor 1 / (1 - T/n x PVA(k, n))"
        )
    if fees:
        renewal = call.legal.renewal
        assert renewal is not None
        out.assumptions.append(
            f"renewal fee {renewal.fee:,.2f} every {renewal.every_years:g} years from "
            f"{call.legal.expiry_date}, deducted at its present value while income lasts"
        )
    out.assumptions.append(TIMING_TEXT[m.cash_flow_timing])


TIMING_TEXT = {
    "end": "cash flows at year ends",
    "mid": "cash flows mid-year (t - 0.5)",
    "start": "cash flows at the start of each year (t - 1, an annuity due)",
}


def _explain_terminal(m: Any, out: MethodOutcome, life: Any, n_years: int) -> None:
    """How the legal (or economic) life meets an exit multiple."""
    if m.terminal_multiple is None:
        return
    ends = float(np.min(np.asarray(life, dtype=float)))
    if ends <= n_years:
        out.warnings.append(
            f"terminal_multiple: the remaining life ({ends:.2f} years) ends within the "
            f"{n_years} explicit years, so the exit value is not counted"
        )
        return
    text = f"exit value = terminal_multiple x year-{n_years} income, at the end of year {n_years}"
    if math.isfinite(ends):
        text += (
            f"; the multiple must price only the {ends - n_years:.2f} years of protection left "
            "after it"
        )
    out.assumptions.append(text)


def _dcf_compute(m: DCFInputs, call: MethodCall, life: Any) -> Computed:
    """Discounted cash flow of the asset's own cash flows."""
    k = call.draw(f"{call.path}.discount_rate", m.discount_rate)
    flows = resolve_series(m.cash_flows, f"{call.path}.cash_flows", call.draw)
    return formulas.dcf(flows, k, **_common(m, call, life)), k, {"discount_rate": k}


def _relief_from_royalty_compute(
    m: ReliefFromRoyaltyInputs, call: MethodCall, life: Any
) -> Computed:
    """Relief from royalty: the after-tax royalty saved, discounted (x TAB)."""
    p, draw = call.path, call.draw
    k = draw(f"{p}.discount_rate", m.discount_rate)
    rev = resolve_series(m.revenue, f"{p}.revenue", draw)
    rr, tax = draw(f"{p}.royalty_rate", m.royalty_rate), draw(f"{p}.tax_rate", m.tax_rate)
    extra = {"discount_rate": k, "royalty_rate": rr, "tax_rate": tax, "revenue": rev}
    result = formulas.relief_from_royalty(
        rev, rr, tax, k, tab_years=m.tab_years, **_common(m, call, life)
    )
    return result, k, extra


def _excess_earnings_compute(m: ExcessEarningsInputs, call: MethodCall, life: Any) -> Computed:
    """Multi-period excess earnings with contributory asset charges (by rate or by value)."""
    p, draw = call.path, call.draw
    k = draw(f"{p}.discount_rate", m.discount_rate)
    rev = resolve_series(m.revenue, f"{p}.revenue", draw)
    margin = draw(f"{p}.operating_margin", m.operating_margin)
    tax = draw(f"{p}.tax_rate", m.tax_rate)
    n_years = rev.shape[-1]
    charges = excess.charges(m, call, tax, n_years)
    surviving = excess.survival(m, call, n_years)
    extra: dict[str, Any] = {"discount_rate": k, "operating_margin": margin, "tax_rate": tax}
    if call.point:
        extra |= excess.figures(charges, rev, surviving)
    result = formulas.excess_earnings(
        rev,
        margin,
        tax,
        charges.total_rate,
        k,
        tab_years=m.tab_years,
        contributory_charges=charges.amounts,
        survival=surviving,
        **_common(m, call, life),
    )
    return result, k, extra


def _with_and_without_compute(m: WithAndWithoutInputs, call: MethodCall, life: Any) -> Computed:
    """With and without: the pre-tax profit the right adds, after tax, discounted."""
    p, draw = call.path, call.draw
    k = draw(f"{p}.discount_rate", m.discount_rate)
    profit = resolve_series(m.incremental_profit, f"{p}.incremental_profit", draw)
    tax = draw(f"{p}.tax_rate", m.tax_rate)
    result = formulas.with_and_without(profit, tax, k, **_common(m, call, life))
    return result, k, {"discount_rate": k, "tax_rate": tax}


def _profit_split_compute(m: ProfitSplitInputs, call: MethodCall, life: Any) -> Computed:
    """Profit split: a given split rate, or royalty rate / operating margin (per year or not)."""
    p, draw = call.path, call.draw
    k = draw(f"{p}.discount_rate", m.discount_rate)
    tax = draw(f"{p}.tax_rate", m.tax_rate)
    extra: dict[str, Any] = {"discount_rate": k}
    by_year = False
    if m.split_rate is not None:
        profit = resolve_series(m.profit, f"{p}.profit", draw)
        split = draw(f"{p}.split_rate", m.split_rate)
        extra["split_basis"] = "given split_rate"
    else:
        by_year = isinstance(m.operating_margin, list)
        if by_year:
            margin = resolve_series(m.operating_margin, f"{p}.operating_margin", draw)
        else:
            margin = np.asarray(draw(f"{p}.operating_margin", m.operating_margin), dtype=float)
        royalty = np.asarray(draw(f"{p}.royalty_rate", m.royalty_rate), dtype=float)
        split = formulas.split_rate_from_royalty(royalty[..., None] if by_year else royalty, margin)
        if call.point:
            _check_split(p, split, royalty, margin)
        if m.revenue is not None:
            rev = resolve_series(m.revenue, f"{p}.revenue", draw)
            profit = rev * (margin if by_year else margin[..., None])
            extra["split_basis"] = "royalty_rate / operating_margin"
        else:
            profit = resolve_series(m.profit, f"{p}.profit", draw)
            extra["split_basis"] = "royalty_rate / operating_margin, applied to the given profit"
        extra |= {"royalty_rate": royalty, "operating_margin": margin, "profit": profit}
    extra |= {"split_rate": split, "tax_rate": tax}
    result = formulas.profit_split(
        profit, split, tax, k, split_by_year=by_year, **_common(m, call, life)
    )
    return result, k, extra


def _check_split(p: str, split: Any, royalty: Any, margin: Any) -> None:
    """Refuse a derived royalty above the margin (a split above 100 %); plain ones are checked
    when the request is read."""
    worst = float(np.max(np.asarray(split)))
    if worst > 1.0:
        raise InputError.for_field(
            f"{p}.royalty_rate",
            f"{float(royalty):g} above the operating_margin "
            f"{float(np.min(np.asarray(margin))):g} gives a split of {worst:g}, above 100 %; "
            "check the royalty's derivation and the margin",
        )


def _equivalent_investment_split_compute(
    m: EquivalentInvestmentSplitInputs, call: MethodCall, life: Any
) -> Computed:
    """Equivalent-investment split of after-tax profit."""
    p, draw = call.path, call.draw
    k = draw(f"{p}.discount_rate", m.discount_rate)
    split = formulas.equivalent_investment_split_rate(
        draw(f"{p}.ip_cost", m.ip_cost),
        draw(f"{p}.ip_cost_profit_rate", m.ip_cost_profit_rate),
        draw(f"{p}.other_investment", m.other_investment),
        draw(f"{p}.other_investment_profit_rate", m.other_investment_profit_rate),
    )
    profit = resolve_series(m.profit, f"{p}.profit", draw)
    extra = {"discount_rate": k, "split_rate": split, "split_basis": "equivalent investment"}
    return formulas.profit_split(profit, split, 0.0, k, **_common(m, call, life)), k, extra


value_dcf = _income(_dcf_compute)
value_relief_from_royalty = _income(_relief_from_royalty_compute)
_excess_earnings = _income(_excess_earnings_compute)


def value_excess_earnings(m: ExcessEarningsInputs, call: MethodCall) -> MethodOutcome:
    """Multi-period excess earnings with contributory asset charges (by rate or by value)."""
    out = _excess_earnings(m, call)
    if call.point:
        excess.explain(m, call, out)
    return out


value_with_and_without = _income(_with_and_without_compute)
value_profit_split = _income(_profit_split_compute)
value_equivalent_investment_split = _income(_equivalent_investment_split_compute)
