"""The cost family: replacement cost and the multiplier method, with their depreciation.

Both methods share the steps after the cost new: physical depreciation (age-life, an observed
newness rate 成新率, or both weighted) and obsolescence (fractions, or amounts from excess
operating cost and an income shortfall). Historical cost items are restated by a price index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ipvalue.models.cost_methods import (
    CostItem,
    MultiplierCostInputs,
    PriceIndex,
    ReplacementCostInputs,
)
from ipvalue.models.errors import InputError
from ipvalue.models.uncertain import base_value
from ipvalue.valuation import cost
from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome, optional


def _remaining(part: Any, path: str, remaining: Any, call: MethodCall) -> Any:
    """Years an obsolescence amount lasts: its own ``remaining_years``, else the asset's."""
    if part.remaining_years is not None:
        return call.draw(f"{path}.remaining_years", part.remaining_years)
    if remaining is None:
        raise InputError.for_field(
            f"{path}.remaining_years",
            "give the years it lasts, or years_used + years_remaining for the asset",
        )
    return remaining


def _after_tax_annuity(part: Any, path: str, annual: str, remaining: Any, call: MethodCall) -> Any:
    """An obsolescence amount: ``part``'s ``annual`` amount x (1 - T) x PVA(k, n) over the years
    it lasts (`_remaining`)."""
    draw = call.draw
    return cost.after_tax_annuity(
        draw(f"{path}.{annual}", getattr(part, annual)),
        draw(f"{path}.tax_rate", part.tax_rate),
        draw(f"{path}.discount_rate", part.discount_rate),
        _remaining(part, path, remaining, call),
    )


def _depreciation(m: Any, call: MethodCall) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Keyword arguments of the cost formula after cost new, their audit figures, assumptions."""
    p, draw = call.path, call.draw
    used = optional(draw, f"{p}.years_used", m.years_used)
    remaining = optional(draw, f"{p}.years_remaining", m.years_remaining)
    observed = optional(draw, f"{p}.newness_rate", m.newness_rate)
    weights = cost.DEFAULT_NEWNESS_WEIGHTS  # not used: the request names weights with both
    if m.newness_weights is not None:
        weights = (m.newness_weights.age_life, m.newness_weights.observed)
    ob, q = m.obsolescence, f"{p}.obsolescence"
    kwargs: dict[str, Any] = {
        "years_used": used,
        "years_remaining": remaining,
        "observed_newness": observed,
        "newness_weights": weights,
        "functional": draw(f"{q}.functional", ob.functional),
        "technological": draw(f"{q}.technological", ob.technological),
        "economic": draw(f"{q}.economic", ob.economic),
    }
    figures: dict[str, Any] = {}
    notes: list[str] = []
    if observed is not None:
        figures["newness_observed"] = observed
        if used is not None:
            figures["newness_age_life"] = 1.0 - cost.age_life_depreciation(used, remaining)
            figures["newness_weights"] = {"age_life": weights[0], "observed": weights[1]}
            notes.append(
                f"newness = {weights[0]:g} x age-life + {weights[1]:g} x observed newness rate"
            )
        else:
            notes.append("depreciation = 1 - the observed newness rate")
    elif used is not None:
        notes.append("age-life depreciation used/(used+rem)")
    fx = ob.functional_excess_cost
    if fx is not None:
        path = f"{q}.functional_excess_cost"
        kwargs["functional_amount"] = _after_tax_annuity(
            fx, path, "annual_excess_cost", remaining, call
        )
        figures["functional_obsolescence_amount"] = kwargs["functional_amount"]
        notes.append("functional obsolescence = excess operating cost x (1 - T) x PVA(k, n)")
    es = ob.economic_shortfall
    if es is not None:
        path = f"{q}.economic_shortfall"
        if es.capacity is not None:
            kwargs["economic"] = cost.capacity_obsolescence_rate(
                draw(f"{path}.capacity_used", es.capacity_used),
                draw(f"{path}.capacity", es.capacity),
                draw(f"{path}.scale_exponent", es.scale_exponent),
            )
            figures["economic_obsolescence_rate"] = kwargs["economic"]
            notes.append("economic obsolescence rate = 1 - (capacity used / capacity)^x")
        else:
            kwargs["economic_amount"] = _after_tax_annuity(
                es, path, "annual_income_loss", remaining, call
            )
            figures["economic_obsolescence_amount"] = kwargs["economic_amount"]
            notes.append("economic obsolescence = income lost a year x (1 - T) x PVA(k, n)")
    return kwargs, figures, notes


def _item_amount(c: CostItem, i: int, index: PriceIndex | None, call: MethodCall) -> Any:
    """One cost item at the valuation date's prices."""
    p, draw = call.path, call.draw
    amount = draw(f"{p}.costs[{i}].amount", c.amount)
    if c.index_from is not None:
        return cost.restate_by_index(
            amount,
            draw(f"{p}.costs[{i}].index_from", c.index_from),
            draw(f"{p}.costs[{i}].index_to", c.index_to),
        )
    if c.year is not None and index is not None:
        table = f"{p}.price_index.by_year"
        at = str(index.valuation_year)
        return cost.restate_by_index(
            amount,
            draw(f"{table}.{c.year}", index.by_year[str(c.year)]),
            draw(f"{table}.{at}", index.by_year[at]),
        )
    return amount


def value_replacement_cost(m: ReplacementCostInputs, call: MethodCall) -> MethodOutcome:
    """Replacement cost less obsolescence and depreciation (age-life and/or newness rate)."""
    p, draw = call.path, call.draw
    items = {c.name: _item_amount(c, i, m.price_index, call) for i, c in enumerate(m.costs)}
    total = sum((np.asarray(v, dtype=float) for v in items.values()), np.float64(0.0))
    kwargs, extra, notes = _depreciation(m, call)
    result = cost.replacement_cost(
        total,
        developer_profit_rate=draw(f"{p}.developer_profit_rate", m.developer_profit_rate),
        entrepreneurial_incentive_rate=draw(
            f"{p}.entrepreneurial_incentive_rate", m.entrepreneurial_incentive_rate
        ),
        **kwargs,
    )
    figures: dict[str, Any] = {"costs": items, "total_cost": total, "cost": result} | extra
    restated = [c for c in m.costs if c.index_from is not None or c.year is not None]
    if restated and call.point:
        figures["costs_as_spent"] = {c.name: base_value(c.amount) for c in restated}
    out = MethodOutcome(value=result.value, figures=figures)
    if call.point:
        out.assumptions.append(
            "replacement cost = costs x (1 + developer's profit) x (1 + entrepreneurial "
            "incentive); value = (RC x newness x (1-f)(1-t) - functional amount) x (1-e) - "
            "economic amount"
        )
        if restated:
            out.assumptions.append(
                "historical costs restated by price index: amount x index at valuation / "
                "index when spent"
            )
        out.assumptions += notes
    return out


def value_multiplier_cost(m: MultiplierCostInputs, call: MethodCall) -> MethodOutcome:
    """Multiplier (倍加系数) method: (C + beta1 V) / (1 - beta2) x (1 + L), depreciated."""
    p, draw = call.path, call.draw
    kwargs, extra, notes = _depreciation(m, call)
    result = cost.multiplier_cost(
        draw(f"{p}.material_cost", m.material_cost),
        draw(f"{p}.labour_cost", m.labour_cost),
        draw(f"{p}.research_labour_cost", m.research_labour_cost),
        draw(f"{p}.research_multiplier", m.research_multiplier),
        draw(f"{p}.failure_rate", m.failure_rate),
        draw(f"{p}.profit_rate", m.profit_rate),
        **kwargs,
    )
    out = MethodOutcome(value=result.value, figures={"cost": result} | extra)
    if call.point:
        out.assumptions.append("multiplier method: (C + beta1 V) / (1 - beta2) x (1 + L)")
        out.assumptions += notes
    return out
