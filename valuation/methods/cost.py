"""The cost family: replacement cost and the multiplier method, with age-life depreciation."""

from __future__ import annotations

from typing import Any

import numpy as np

from ipvalue.models.methods import MultiplierCostInputs, ReplacementCostInputs
from ipvalue.valuation import cost
from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome, optional


def _age_life(m: Any, call: MethodCall) -> tuple[Any, Any]:
    p = call.path
    return (
        optional(call.draw, f"{p}.years_used", m.years_used),
        optional(call.draw, f"{p}.years_remaining", m.years_remaining),
    )


def value_replacement_cost(m: ReplacementCostInputs, call: MethodCall) -> MethodOutcome:
    """Replacement cost less obsolescence and age-life depreciation."""
    p, draw = call.path, call.draw
    used, remaining = _age_life(m, call)
    items = {c.name: draw(f"{p}.costs[{i}].amount", c.amount) for i, c in enumerate(m.costs)}
    total = sum((np.asarray(v, dtype=float) for v in items.values()), np.float64(0.0))
    ob = m.obsolescence
    result = cost.replacement_cost(
        total,
        developer_profit_rate=draw(f"{p}.developer_profit_rate", m.developer_profit_rate),
        entrepreneurial_incentive_rate=draw(
            f"{p}.entrepreneurial_incentive_rate", m.entrepreneurial_incentive_rate
        ),
        functional=draw(f"{p}.obsolescence.functional", ob.functional),
        technological=draw(f"{p}.obsolescence.technological", ob.technological),
        economic=draw(f"{p}.obsolescence.economic", ob.economic),
        years_used=used,
        years_remaining=remaining,
    )
    out = MethodOutcome(
        value=result.value, figures={"costs": items, "total_cost": total, "cost": result}
    )
    if call.point:
        out.assumptions.append(
            "replacement cost = costs x (1 + developer's profit) x (1 + entrepreneurial "
            "incentive); obsolescence (1-f)(1-t)(1-e); age-life depreciation used/(used+rem)"
        )
    return out


def value_multiplier_cost(m: MultiplierCostInputs, call: MethodCall) -> MethodOutcome:
    """Multiplier (倍加系数) method: (C + beta1 V) / (1 - beta2) x (1 + L), depreciated."""
    p, draw = call.path, call.draw
    used, remaining = _age_life(m, call)
    result = cost.multiplier_cost(
        draw(f"{p}.material_cost", m.material_cost),
        draw(f"{p}.labour_cost", m.labour_cost),
        draw(f"{p}.research_labour_cost", m.research_labour_cost),
        draw(f"{p}.research_multiplier", m.research_multiplier),
        draw(f"{p}.failure_rate", m.failure_rate),
        draw(f"{p}.profit_rate", m.profit_rate),
        years_used=used,
        years_remaining=remaining,
    )
    out = MethodOutcome(value=result.value, figures={"cost": result})
    if call.point:
        out.assumptions.append("multiplier method: (C + beta1 V) / (1 - beta2) x (1 + L)")
    return out
