"""The ``licence`` method: a licence's price between the licensor's floor and the licensee's cap.

Its value is, by ``value_basis``, the present value of the terms (upfront + running royalty),
the licensor's minimum transfer price, the licensee's maximum, or the middle of that range.
Running royalties are an income stream, treated as relief from royalty's: they stop at the
right's remaining life (``call.life``, per path when a simulated legal event stops the right),
fall by the loss share from a simulated lost case on (``call.lost_case``), and the result says
when the legal expiry cuts them. The upfront fee is paid at the valuation date whatever happens
later, and the minimum transfer price is a cost, so a licence is not an income method of
:data:`~ipvalue.models.methods.INCOME_METHODS` (a lapsed right leaves them standing).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ipvalue.models.licence import LicenceInputs
from ipvalue.valuation import licence as formulas
from ipvalue.valuation.derive.rates import check_term_years
from ipvalue.valuation.methods.income import cut_by_expiry
from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome, optional
from ipvalue.valuation.resolve import resolve_series


def _minimum(m: LicenceInputs, call: MethodCall) -> tuple[Any, dict[str, Any]] | None:
    """The minimum transfer price and its figures, or None when not given."""
    mp = m.minimum_price
    if mp is None:
        return None
    p, draw = f"{call.path}.minimum_price", call.draw
    figures: dict[str, Any] = {}
    if mp.replacement_cost_net is not None:
        net = draw(f"{p}.replacement_cost_net", mp.replacement_cost_net)
    else:
        cost = draw(f"{p}.replacement_cost", mp.replacement_cost)
        used = draw(f"{p}.years_used", mp.years_used)
        remaining = draw(f"{p}.years_remaining", mp.years_remaining)
        net = formulas.net_replacement_cost(cost, used, remaining)
        figures |= {"replacement_cost": cost, "years_used": used, "years_remaining": remaining}
    share = draw(f"{p}.cost_share", mp.cost_share)
    lost = draw(f"{p}.lost_income", mp.lost_income)
    added = draw(f"{p}.added_cost", mp.added_cost)
    price = formulas.minimum_transfer_price(net, share, lost, added)
    figures |= {
        "replacement_cost_net": net,
        "cost_share": share,
        "lost_income": lost,
        "added_cost": added,
        "opportunity_cost": np.asarray(lost, dtype=float) + np.asarray(added, dtype=float),
        "minimum_price": price,
    }
    return price, figures


def _maximum(m: LicenceInputs, call: MethodCall) -> tuple[Any, MethodOutcome | None]:
    """The licensee's value of the right (None when not given), and the income method's
    outcome when one values it."""
    given = m.licensee_method
    path = f"{call.path}.licensee_value"
    if given is None:
        return optional(call.draw, path, m.licensee_value), None
    # The registry imports this module: look the method up when it is called.
    from ipvalue.valuation.methods.registry import value_method

    inner = value_method(given, replace(call, path=path))
    return inner.value, inner


def value_licence(m: LicenceInputs, call: MethodCall) -> MethodOutcome:
    """A licence's price: terms in present value, minimum, maximum or midpoint of the range."""
    p, draw = call.path, call.draw
    minimum = _minimum(m, call)
    figures: dict[str, Any] = {"value_basis": m.basis}
    maximum, licensee = _maximum(m, call)
    terms = None
    if m.has_terms or m.revenue is not None:
        revenue = None if m.revenue is None else resolve_series(m.revenue, f"{p}.revenue", draw)
        terms = formulas.licence_terms(
            draw(f"{p}.upfront", m.upfront),
            optional(draw, f"{p}.running_royalty_rate", m.running_royalty_rate),
            revenue,
            optional(draw, f"{p}.discount_rate", m.discount_rate),
            life_years=call.life,
            mid_year=m.mid_year,
            lost_case=call.lost_case,
            equivalents=call.point,
        )
        figures |= {"upfront": terms.upfront, "terms_pv": terms.value}
        if terms.running is not None and call.point:
            figures |= {
                "income": terms.running,
                "life": call.life,
                "revenue_pv": terms.revenue_pv,
                "equivalent_running_rate": terms.equivalent_running_rate,
                "equivalent_lump_sum": terms.equivalent_lump_sum,
            }
    if minimum is not None:
        figures["minimum_price"] = minimum[1]
    if maximum is not None:
        figures["licensee_value"] = maximum
    low = None if minimum is None else minimum[0]
    value = {
        "terms": None if terms is None else terms.value,
        "minimum": low,
        "maximum": maximum,
        "midpoint": None if low is None or maximum is None else 0.5 * (low + maximum),
    }[m.basis]
    out = MethodOutcome.of(value)
    out.figures = figures
    if low is not None and maximum is not None:
        figures["negotiation_range"] = [low, maximum]
    if call.point:
        if terms is not None and terms.running is not None:
            years = terms.running.years
            check_term_years(terms.running.discount_rate, years, f"{p}.discount_rate")
            out.cut_by_expiry = cut_by_expiry(call, call.life, years, terminal=False)
        _explain(m, out, low, maximum, None if terms is None else terms.value)
        if licensee is not None:
            method = getattr(m.licensee_value, "method", None)
            figures["licensee_valuation"] = {"method": method} | licensee.figures
            out.assumptions += [f"licensee_value: {a}" for a in licensee.assumptions]
            out.warnings += [f"licensee_value: {w}" for w in licensee.warnings]
    return out


def _explain(m: LicenceInputs, out: MethodOutcome, low: Any, high: Any, terms: Any) -> None:
    out.assumptions.append(
        {
            "terms": "value: present value of the licence terms (upfront + running royalty)",
            "minimum": "value: the licensor's minimum transfer price (转让最低收费额)",
            "maximum": "value: the licensee's value of the right (its maximum price)",
            "midpoint": "value: the middle of the negotiation range (minimum to maximum)",
        }[m.basis]
    )
    if m.revenue is not None:
        out.assumptions.append(
            "upfront fee at the valuation date; running royalties "
            + ("mid-year" if m.mid_year else "at year ends")
            + ", stopping at the right's remaining life"
        )
    lo = None if low is None else float(np.asarray(low))
    hi = None if high is None else float(np.asarray(high))
    if lo is not None and hi is not None and lo > hi:
        out.warnings.append(
            f"no bargaining range: the licensor's minimum price {lo:,.2f} is above the "
            f"licensee's value {hi:,.2f}"
        )
    if terms is None:
        return
    pv = float(np.asarray(terms))
    if lo is not None and pv < lo:
        out.warnings.append(
            f"the terms' present value {pv:,.2f} is below the licensor's minimum price {lo:,.2f}"
        )
    if hi is not None and pv > hi:
        out.warnings.append(
            f"the terms' present value {pv:,.2f} is above the licensee's value {hi:,.2f}"
        )
