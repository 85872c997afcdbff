"""The option family: a Black-Scholes-Merton call on the right, capped at its legal life."""

from __future__ import annotations

import numpy as np

from ipvalue.models.methods import RealOptionInputs
from ipvalue.valuation import options
from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome


def value_real_option(m: RealOptionInputs, call: MethodCall) -> MethodOutcome:
    """Black-Scholes-Merton call; its life is capped at the remaining legal life, and a right
    without life left is worth nothing by this method."""
    p, draw = call.path, call.draw
    legal_years = call.legal.years
    years = np.asarray(draw(f"{p}.years", m.years), dtype=float)
    out = MethodOutcome(value=np.zeros(()))
    if np.any(years > legal_years):
        if call.point:
            out.warnings.append(
                f"option life capped at the remaining legal life ({legal_years:.2f} years)"
            )
        years = np.minimum(years, legal_years)
    if legal_years <= 0:
        out.value = np.zeros_like(years)
        return out
    result = options.black_scholes(
        draw(f"{p}.underlying_value", m.underlying_value),
        draw(f"{p}.exercise_cost", m.exercise_cost),
        years,
        draw(f"{p}.volatility", m.volatility),
        draw(f"{p}.risk_free_rate", m.risk_free_rate),
        draw(f"{p}.dividend_yield", m.dividend_yield),
    )
    out.value = result.call
    out.figures = {"years_used": years, "option": result}
    if call.point:
        out.assumptions.append("Black-Scholes-Merton call; continuous risk-free rate and yield")
    return out
