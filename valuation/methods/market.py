"""The market family: comparable prices, or royalty rates capitalised as relief from royalty.

The royalty regression depends only on the comparables' base values, so :func:`prepare_market`
fits it once per request (the point value and every simulated path use that one fit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ipvalue.models.market_method import Comparable, MarketInputs
from ipvalue.models.uncertain import base_value
from ipvalue.valuation import income, market
from ipvalue.valuation.derive.rates import check_term_years
from ipvalue.valuation.methods.income import cut_by_expiry, renewal_fees_pv
from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome
from ipvalue.valuation.resolve import Draw, base_draw, resolve_series


@dataclass(frozen=True)
class MarketFixed:
    """What a market method holds fixed across paths: the regression, and what it said."""

    regression: market.RoyaltyRegression | None = None
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _adjustment_product(c: Comparable, p: str, draw: Draw) -> Any:
    adj = c.adjustments
    pairs = adj.items() if isinstance(adj, dict) else enumerate(adj)
    product: Any = np.float64(1.0)
    for key, factor in pairs:
        sub = f"{p}.adjustments.{key}" if isinstance(adj, dict) else f"{p}.adjustments[{key}]"
        product = product * np.asarray(draw(sub, factor), dtype=float)
    return product


def prepare_market(m: MarketInputs) -> MarketFixed:
    """Regress base royalty rates on characteristics when comparables and subject allow it."""
    names = sorted({k for c in m.comparables for k in c.characteristics})
    if not names or not m.subject:
        return MarketFixed()
    if any(set(c.characteristics) != set(names) for c in m.comparables):
        return MarketFixed(
            warnings=["regression skipped: comparables do not all give the same traits"]
        )
    rates = [
        base_value(c.royalty_rate) * _adjustment_product(c, "", base_draw)
        for c in m.comparables
        if c.royalty_rate is not None
    ]
    traits: dict[str, Any] = {n: [c.characteristics[n] for c in m.comparables] for n in names}
    try:
        fit = market.royalty_regression(rates, traits, m.subject)
    except ValueError as exc:
        return MarketFixed(warnings=[f"regression skipped: {exc}; the median rate is used"])
    rate, r2 = fit.predicted_rate, fit.r_squared
    if not (math.isfinite(r2) and 0 <= r2 <= 1 and math.isfinite(rate) and 0 <= rate <= 1):
        return MarketFixed(
            warnings=[
                f"regression skipped: it predicts a royalty rate of {rate:.4g} for the subject "
                f"(r-squared {r2:.3g}), not a rate in [0, 1]; the median rate is used"
            ]
        )
    return MarketFixed(
        regression=fit,
        assumptions=[
            "royalty rate predicted by OLS of adjusted comparable rates on "
            + ", ".join(names)
            + " (held fixed across simulated paths)"
        ],
    )


def value_market(m: MarketInputs, call: MethodCall) -> MethodOutcome:
    """Median of adjusted comparable prices, or the royalty rate (median or regression)
    capitalised as relief from royalty over the legal life."""
    p, draw = call.path, call.draw
    comps = m.comparables
    raw, factors = [], []
    for i, c in enumerate(comps):
        cp = f"{p}.comparables[{i}]"
        raw.append(
            draw(f"{cp}.price", c.price)
            if c.price is not None
            else draw(f"{cp}.royalty_rate", c.royalty_rate)
        )
        factors.append(_adjustment_product(c, cp, draw))
    shape = np.broadcast_shapes(*(np.shape(x) for x in raw + factors))
    values = np.stack([np.broadcast_to(np.asarray(x, float), shape) for x in raw], axis=-1)
    facs = np.stack([np.broadcast_to(np.asarray(x, float), shape) for x in factors], axis=-1)
    summary = market.adjust_comparables(values, facs)
    by_price = comps[0].price is not None
    figures: dict[str, Any] = {
        "basis": "price" if by_price else "royalty_rate",
        "comparables": summary,
        "adjustment_factors": facs,
    }
    if by_price:
        out = MethodOutcome.of(summary.median)
        out.figures = figures
        if call.point:
            out.assumptions.append("indication = median of adjusted comparable prices")
        return out
    fixed = call.fixed if isinstance(call.fixed, MarketFixed) else prepare_market(m)
    rate: Any = summary.median
    if fixed.regression is not None:
        rate = fixed.regression.predicted_rate
        figures["regression"] = fixed.regression
    figures["royalty_rate_used"] = rate
    rev = resolve_series(m.revenue, f"{p}.revenue", draw)
    tax, k = draw(f"{p}.tax_rate", m.tax_rate), draw(f"{p}.discount_rate", m.discount_rate)
    capitalised = income.relief_from_royalty(
        rev, rate, tax, k, life_years=call.life, mid_year=m.mid_year, lost_case=call.lost_case
    )
    figures["capitalisation"] = {"income": capitalised, "life": call.life}
    out = MethodOutcome(value=capitalised.value, figures=figures)
    n_years = capitalised.years
    if call.point:
        check_term_years(k, n_years, f"{p}.discount_rate")
    fee_life = call.life if call.fee_life is None else call.fee_life
    fees = renewal_fees_pv(call, k, fee_life, n_years, terminal=False)
    if fees is not None:
        out.value = capitalised.value - fees
        figures["renewal_fees_pv"] = fees
    if call.point:
        out.assumptions += fixed.assumptions
        out.warnings += fixed.warnings
        out.cut_by_expiry = cut_by_expiry(call, call.life, n_years, terminal=False)
    return out
