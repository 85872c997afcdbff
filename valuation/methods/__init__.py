"""Valuation methods: one module per family (income, cost, market, option), dispatched by name
through :mod:`valuation.methods.registry`; :mod:`valuation.methods.outcome` holds what a method
is called with and hands back."""

from ipvalue.valuation.methods.outcome import MethodCall, MethodOutcome
from ipvalue.valuation.methods.registry import (
    APPROACH,
    METHODS,
    PREPARE,
    prepare_method,
    value_method,
)

__all__ = [
    "APPROACH",
    "METHODS",
    "PREPARE",
    "MethodCall",
    "MethodOutcome",
    "prepare_method",
    "value_method",
]
