"""The excess earnings method's own steps: its charges, its survivor curve, its reconciliation.

:func:`charges` turns the request's contributory charges into the formula's two forms (a
total share of revenue, and per-year amounts from asset values x required returns);
:func:`survival` the attrition curve into survival shares per year; :func:`explain` (point
value only) adds the charges as shares of revenue, the WARA check against the WACC and the
warnings when the excess earnings fall below zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ipvalue.models.errors import InputError
from ipvalue.models.income_methods import ExcessEarningsInputs
from ipvalue.models.uncertain import base_value
from ipvalue.valuation import attrition, contributory
from ipvalue.valuation.discounting import TermRates, timing_offset
from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome
from ipvalue.valuation.resolve import resolve_series


@dataclass
class Charges:
    """The contributory charges of one call.

    Attributes
    ----------
    total_rate : float or array (...)
        Sum of the charges given as shares of revenue (after tax), decimal.
    amounts : array (..., years) or None
        Sum of the charges given by value, currency per year; None when there are none.
    rates : dict
        Each rate-form charge's share of revenue.
    by_value : dict
        Each value-form charge's :class:`~valuation.contributory.ValueCharge`.
    """

    total_rate: Any
    amounts: Any
    rates: dict[str, Any] = field(default_factory=dict)
    by_value: dict[str, contributory.ValueCharge] = field(default_factory=dict)


def charges(m: ExcessEarningsInputs, call: MethodCall, tax: Any, n_years: int) -> Charges:
    """The request's contributory charges, drawn at their paths."""
    p, draw = call.path, call.draw
    rates: dict[str, Any] = {}
    by_value: dict[str, contributory.ValueCharge] = {}
    for i, c in enumerate(m.contributory_charges):
        q = f"{p}.contributory_charges[{i}]"
        if c.rate is not None:
            rates[c.name] = draw(f"{q}.rate", c.rate)
            continue
        if c.values is not None:
            values = resolve_series(c.values, f"{q}.values", draw)
            if values.shape[-1] != n_years:
                raise InputError.for_field(
                    f"{q}.values",
                    f"has {values.shape[-1]} years and revenue has {n_years}; give one value "
                    "per revenue year, or a constant value",
                )
        else:
            constant = np.asarray(draw(f"{q}.value", c.value), dtype=float)
            values = constant[..., None] * np.ones(n_years)
        by_value[c.name] = contributory.value_charge(
            values,
            draw(f"{q}.required_return", c.required_return),
            tax,
            return_of=None if c.return_of is None else draw(f"{q}.return_of", c.return_of),
            life_years=None if c.life_years is None else draw(f"{q}.life_years", c.life_years),
        )
    total = sum((np.asarray(v, dtype=float) for v in rates.values()), np.float64(0.0))
    amounts = None
    if by_value:
        amounts = sum(v.charge for v in by_value.values())
    return Charges(total, amounts, rates, by_value)


def survival(m: ExcessEarningsInputs, call: MethodCall, n_years: int) -> Any:
    """Survival shares per year of the attrition curve, or None without one."""
    curve = m.attrition
    if curve is None:
        return None
    q, draw = f"{call.path}.attrition", call.draw
    times = attrition.survival_times(n_years, timing_offset(m.cash_flow_timing))
    if curve.curve == "exponential":
        return attrition.exponential_survival(
            draw(f"{q}.attrition_rate", curve.attrition_rate), times
        )
    return attrition.weibull_survival(
        draw(f"{q}.shape", curve.shape), draw(f"{q}.scale", curve.scale), times
    )


def figures(c: Charges, revenue: Any, surviving: Any) -> dict[str, Any]:
    """Audit figures of the charges (point value only): each as a share of revenue per year."""
    rev = np.asarray(revenue, dtype=float)
    shares: dict[str, Any] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, rate in c.rates.items():
            shares[name] = np.broadcast_to(np.asarray(rate, dtype=float), rev.shape)
        for name, v in c.by_value.items():
            shares[name] = v.charge / rev
    out: dict[str, Any] = {
        "contributory_charges": {
            **c.rates,
            **{
                name: {
                    "values": v.values,
                    "return_on": v.return_on,
                    "return_of_after_tax": v.return_of,
                    "charge": v.charge,
                }
                for name, v in c.by_value.items()
            },
        },
        "contributory_charge_total_rate": c.total_rate,
        "contributory_charge_shares_of_revenue": shares,
        "contributory_charge_total_share": sum(shares.values()) if shares else np.zeros(rev.shape),
    }
    if surviving is not None:
        out["survival"] = surviving
    return out


def explain(m: ExcessEarningsInputs, call: MethodCall, out: MethodOutcome) -> None:
    """Point value: the WARA check, the charges' notes and negative excess earnings said."""
    income = np.asarray(out.figures["income"].income, dtype=float)
    if m.attrition is not None:
        offset = timing_offset(m.cash_flow_timing)
        out.assumptions.append(
            f"{m.attrition.curve} survivor curve applied to revenue and charges, read when "
            f"each year's cash flow falls (t - {offset:g})"
        )
    by_value = [c for c in m.contributory_charges if c.rate is None]
    if by_value:
        out.assumptions.append(
            "contributory charges by value: value x required return (return on, after tax) + "
            "return of x (1 - T) (depreciation or amortisation, tax-deductible)"
        )
    wasting = ("fixed_assets", "workforce", "intangible")
    for c in by_value:
        if c.kind in wasting and c.return_of is None and c.life_years is None:
            out.assumptions.append(
                f"contributory charge {c.name!r} ({c.kind}): return on only; its "
                + ("depreciation" if c.kind == "fixed_assets" else "amortisation")
                + " is taken to be in the operating margin already (give return_of or "
                "life_years when the margin is struck before it)"
            )
    negative = [i + 1 for i, e in enumerate(income) if e < 0]
    if negative:
        worst = int(np.argmin(income))
        out.warnings.append(
            f"excess earnings are below the contributory charges in year(s) "
            f"{', '.join(str(y) for y in negative)} (year {worst + 1}: {income[worst]:,.2f})"
        )
    k = out.figures["discount_rate"]
    # A rate per year (a term structure) is compared by its first year's rate, as the year-1
    # values the WARA weighs.
    rate = float(np.asarray(k.year(1) if isinstance(k, TermRates) else k))
    for c in by_value:
        r = base_value(c.required_return)  # type: ignore[arg-type]
        if r > rate:
            out.warnings.append(
                f"contributory charge {c.name!r}: its required return {r:g} is above the "
                f"subject's discount rate {rate:g}; the subject intangible is usually the "
                "riskiest asset, so check both"
            )
    if m.wacc is not None:
        _reconcile(m, out, rate)


def _reconcile(m: ExcessEarningsInputs, out: MethodOutcome, rate: float) -> None:
    """The value-weighted required returns (WARA) against the WACC, within ``wacc_tolerance``."""
    wacc = base_value(m.wacc)  # type: ignore[arg-type]
    subject = float(np.asarray(out.value))
    charges_by_value = out.figures["contributory_charges"]
    values: dict[str, float] = {}
    returns: dict[str, float] = {}
    for c in m.contributory_charges:
        if c.rate is None:
            values[c.name] = float(np.asarray(charges_by_value[c.name]["values"])[..., 0])
            returns[c.name] = base_value(c.required_return)  # type: ignore[arg-type]
    if subject <= 0 or not values:
        out.warnings.append(
            "wacc given but the WARA cannot be checked: "
            + (
                "the subject's value is not above zero"
                if subject <= 0
                else "no charge is given by value (value + required_return)"
            )
        )
        return
    w = contributory.weighted_return(values, returns, subject, rate, wacc)
    out.figures["wara"] = {
        "wara": w.wara,
        "wacc": w.wacc,
        "gap": w.gap,
        "tolerance": m.wacc_tolerance,
        "weights": w.weights,
        "subject_weight": w.subject_weight,
        "values_year_1": values,
    }
    left_out = [c.name for c in m.contributory_charges if c.rate is not None]
    note = f" (charges given as rates have no value and are left out: {', '.join(left_out)})"
    out.assumptions.append(
        "WARA = (sum of contributory values x required returns + subject value x discount rate)"
        " / (their total value), year-1 values" + (note if left_out else "")
    )
    if abs(w.gap) > m.wacc_tolerance:
        out.warnings.append(
            f"the charges do not reconcile to the assets: the weighted average return on the "
            f"assets (WARA) is {w.wara:.4f} against a WACC of {wacc:.4f} (gap {w.gap:+.4f}, "
            f"tolerance {m.wacc_tolerance:g}); check the required returns, the asset values or "
            "the subject's discount rate (leaving out goodwill, the riskiest asset, lowers "
            "the WARA)"
        )
