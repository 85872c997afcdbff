"""The option family: a call on the right, capped at its legal life.

Black-Scholes-Merton (European) or a Cox-Ross-Rubinstein lattice (European or American), with a
constant yield or Damodaran's rising cost of delay (1 / remaining life each year).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ipvalue.models.errors import InputError
from ipvalue.models.option_method import LATTICE_MAX_STEPS, RealOptionInputs
from ipvalue.valuation import options
from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome

SIMULATION_MAX_STEPS = 200
"""Most lattice steps per simulated path. The work is paths x steps^2 / 2 node updates, so
1,000,000 paths at 200 steps are 2 x 10^10 of them; a lattice of more ``steps`` is run at 200
steps in the simulation (the point value keeps ``steps``)."""


def value_real_option(m: RealOptionInputs, call: MethodCall) -> MethodOutcome:
    """A call on the right's underlying value; its life is capped at the remaining legal life,
    and a right without life left is worth nothing by this method."""
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
    spot = draw(f"{p}.underlying_value", m.underlying_value)
    strike = draw(f"{p}.exercise_cost", m.exercise_cost)
    sigma = draw(f"{p}.volatility", m.volatility)
    rate = draw(f"{p}.risk_free_rate", m.risk_free_rate)
    rising = m.cost_of_delay == "rising"
    q: Any = (
        options.mean_delay_yield(years, years)
        if rising
        else draw(f"{p}.dividend_yield", m.dividend_yield)
    )
    european = options.black_scholes(spot, strike, years, sigma, rate, q)
    out.figures = {"years_used": years, "option": european}
    if rising:
        out.figures["mean_delay_yield"] = q
    if m.model == "black_scholes":
        out.value = european.call
        if call.point:
            out.assumptions.append(_yield_text(m, "Black-Scholes-Merton call"))
        return out
    steps = m.lattice_steps if call.point else min(m.lattice_steps, SIMULATION_MAX_STEPS)
    lattice = options.binomial(
        spot,
        strike,
        years,
        sigma,
        rate,
        q,
        steps=steps,
        american=m.american,
        delay_life=years if rising else None,
    )
    if call.point:
        _check_probability(p, lattice, years, sigma, rate)
    out.value = lattice.value
    out.figures |= {
        "model": "binomial",
        "steps": steps,
        "up_factor": lattice.up,
        "up_probability": lattice.up_probability,
        "black_scholes_value": european.call,
    }
    if call.point and m.american:
        _explain_early_exercise(out, lattice, spot, strike, years, sigma, rate, q, rising)
    if call.point:
        kind = "American (early exercise at any node)" if m.american else "European"
        out.assumptions.append(
            _yield_text(m, f"Cox-Ross-Rubinstein binomial lattice, {steps} steps, {kind} call")
        )
        if m.lattice_steps > SIMULATION_MAX_STEPS:
            out.assumptions.append(
                f"the simulation values each path on {SIMULATION_MAX_STEPS} lattice steps "
                f"(the point value on {m.lattice_steps})"
            )
    return out


def _explain_early_exercise(
    out: MethodOutcome,
    lattice: options.LatticeValue,
    spot: Any,
    strike: Any,
    years: Any,
    sigma: Any,
    rate: Any,
    q: Any,
    rising: bool,
) -> None:
    """The value of early exercise (American less European on the same lattice), and whether
    exercising today is optimal (the value is then S - K)."""
    european = options.binomial(
        spot,
        strike,
        years,
        sigma,
        rate,
        q,
        steps=lattice.steps,
        delay_life=years if rising else None,
    ).value
    intrinsic = float(np.asarray(spot)) - float(np.asarray(strike))
    value = float(np.asarray(lattice.value))
    out.figures["european_lattice_value"] = european
    out.figures["early_exercise_premium"] = lattice.value - european
    out.figures["exercise_now"] = bool(intrinsic > 0 and value <= intrinsic * (1 + 1e-12))
    if out.figures["exercise_now"]:
        out.assumptions.append(
            "exercising today is optimal on these inputs: the value is underlying_value - "
            "exercise_cost"
        )


def _yield_text(m: RealOptionInputs, model: str) -> str:
    if m.cost_of_delay == "rising":
        return (
            f"{model}; continuous risk-free rate; rising cost of delay 1 / (n - y) in year y "
            "of waiting, n = the option's life (Damodaran)"
        )
    return f"{model}; continuous risk-free rate and yield"


def _check_probability(
    path: str, lattice: options.LatticeValue, years: Any, sigma: Any, rate: Any
) -> None:
    """Refuse a lattice whose up probability leaves [0, 1] (|r| dt >= sigma sqrt dt)."""
    prob = float(np.asarray(lattice.up_probability))
    if 0.0 <= prob <= 1.0:
        return
    t, s, r = (float(np.asarray(x)) for x in (years, sigma, rate))
    needed = max(math.floor(t * (r / s) ** 2) + 1, lattice.steps + 1)
    fix = (
        f"use at least {needed} steps"
        if needed <= LATTICE_MAX_STEPS
        else f"that needs {needed} steps, above {LATTICE_MAX_STEPS}; use model black_scholes"
    )
    raise InputError.for_field(
        f"{path}.steps",
        f"the lattice's up probability is {prob:.3f}, outside [0, 1], because the risk-free "
        f"rate moves the value more in one step than the volatility; {fix}",
    )
