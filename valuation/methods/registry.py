"""The methods by name: one function per method, dispatched like the trigger rules.

:data:`METHODS` maps each ``method`` name of the request to its function
``(inputs, call) -> MethodOutcome``; :data:`PREPARE` to a step run once per request whose result
every call receives as ``call.fixed`` (the market regression); :data:`APPROACH` to its approach.
A new method is a function in its family's module and one line in each table here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipvalue.models.methods import INCOME_METHODS, METHOD_NAMES
from ipvalue.valuation.methods import cost, income, licence, market, option
from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome

MethodFunction = Callable[[Any, MethodCall], MethodOutcome]

METHODS: dict[str, MethodFunction] = {
    "dcf": income.value_dcf,
    "relief_from_royalty": income.value_relief_from_royalty,
    "excess_earnings": income.value_excess_earnings,
    "with_and_without": income.value_with_and_without,
    "profit_split": income.value_profit_split,
    "equivalent_investment_split": income.value_equivalent_investment_split,
    "replacement_cost": cost.value_replacement_cost,
    "multiplier_cost": cost.value_multiplier_cost,
    "market": market.value_market,
    "real_option": option.value_real_option,
    "licence": licence.value_licence,
}

PREPARE: dict[str, Callable[[Any], Any]] = {"market": market.prepare_market}

APPROACH: dict[str, str] = {
    **dict.fromkeys(INCOME_METHODS, "income"),
    "replacement_cost": "cost",
    "multiplier_cost": "cost",
    "market": "market",
    "real_option": "option",
    "licence": "income",
}

assert set(METHODS) == set(METHOD_NAMES) == set(APPROACH)


def prepare_method(m: Any) -> Any:
    """What method ``m`` holds fixed for the whole request (None for most methods)."""
    step = PREPARE.get(m.method)
    return None if step is None else step(m)


def value_method(m: Any, call: MethodCall) -> MethodOutcome:
    """Value method inputs ``m`` by its registered function."""
    return METHODS[m.method](m, call)
