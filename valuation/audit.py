"""The audit trail of a point value: a method's raw figures as plain JSON numbers.

Built once per method, for the point value only; the simulation never calls it (turning
``(paths, years)`` arrays into Python lists on every chunk once took 95 % of a five-method run).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ipvalue.valuation.cost import CostValue
from ipvalue.valuation.derive.derived import Derived
from ipvalue.valuation.discounting import TermRates
from ipvalue.valuation.income_value import IncomeValue
from ipvalue.valuation.market import ComparableSummary, RoyaltyRegression
from ipvalue.valuation.methods.outcome import MethodOutcome
from ipvalue.valuation.options import OptionValue


def number(x: Any) -> Any:
    """Plain Python numbers for JSON: a float, or a flat list of floats; None for non-finite."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        v = float(arr)
        return v if np.isfinite(v) else None
    return [(float(v) if np.isfinite(v) else None) for v in arr.ravel()]


def _income(result: IncomeValue, life: Any) -> dict[str, Any]:
    n = result.income.shape[-1]
    return {
        "life_used_years": number(life),
        "years": list(range(1, n + 1)),
        "income": number(result.income),
        "life_weights": number(result.life_weights),
        "discount_factors": number(result.discount_factors),
        "present_values": number(result.present_values),
        "sum_present_values": number(result.present_values.sum(axis=-1)),
        "terminal_value_pv": number(result.terminal_value),
        "value_before_tab": number(result.value_before_tab),
        "tab_factor": number(result.tab_factor),
    }


def _expand(key: str, value: Any, figures: dict[str, Any]) -> dict[str, Any]:
    """The audit entries of one figure (some figures stand for several entries)."""
    if isinstance(value, IncomeValue):
        return _income(value, figures.get("life"))
    if isinstance(value, ComparableSummary):
        return {
            "adjusted": number(value.adjusted),
            "median": number(value.median),
            "low": number(value.low),
            "q25": number(value.q25),
            "q75": number(value.q75),
            "high": number(value.high),
        }
    if isinstance(value, CostValue):
        return {
            "replacement_cost": number(value.replacement_cost),
            "obsolescence_factor": number(value.obsolescence_factor),
            "depreciation_rate": number(value.depreciation_rate),
        }
    if isinstance(value, OptionValue):
        return {
            "d1": number(value.d1),
            "d2": number(value.d2),
            "n_d1": number(value.n_d1),
            "n_d2": number(value.n_d2),
            "put_value": number(value.put),
        }
    if isinstance(value, Derived):
        entry = {"practice": value.practice, "formula": value.formula, "value": _plain(value.value)}
        entry |= trail(value.figures)
        if value.warnings:
            entry["warnings"] = list(value.warnings)
        return {key: entry}
    if isinstance(value, RoyaltyRegression):
        return {
            key: {
                "predicted_rate": value.predicted_rate,
                "prediction_interval_95": list(value.interval),
                "coefficients": value.coefficients,
                "std_errors": value.std_errors,
                "r_squared": value.r_squared,
                "n_observations": value.n_observations,
            }
        }
    if key == "life" and any(isinstance(v, IncomeValue) for v in figures.values()):
        return {}  # shown as life_used_years beside the income it cut
    return {key: _plain(value)}


def _plain(obj: Any) -> Any:
    if isinstance(obj, TermRates):
        return number(obj.rates)
    if isinstance(obj, dict):
        return trail(obj)
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray | np.floating | np.integer | float | int) and not isinstance(
        obj, bool
    ):
        return number(obj)
    return obj


def trail(figures: dict[str, Any]) -> dict[str, Any]:
    """The JSON audit trail of a method's ``figures``."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        out |= _expand(key, value, figures)
    return out


def audit_trail(outcome: MethodOutcome) -> dict[str, Any]:
    """The audit trail of a point-value method outcome."""
    return trail(outcome.figures)
