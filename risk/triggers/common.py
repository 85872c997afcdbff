"""Shared pieces of the trigger rules: dates, number formats, and building a trigger."""

from __future__ import annotations

from ipvalue.models.triggers import Revaluation, Severity, Trigger
from ipvalue.valuation.dates import add_months, add_years, years_between

__all__ = ["DAYS_PER_YEAR", "add_months", "add_years", "money", "pct", "trigger", "years_between"]

DAYS_PER_YEAR = 365.25
"""Average days per year: only to express an age in days as months (the calendar itself is
:mod:`valuation.dates`)."""

_EPS = 1e-12
"""Tolerance so that a decline of exactly the threshold fires despite float rounding."""


def money(x: float) -> str:
    return f"{x:,.0f}"


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def trigger(
    rule: str,
    severity: Severity,
    reason: str,
    action: str,
    revaluation: Revaluation = "none",
    /,
    **figures: object,
) -> Trigger:
    return Trigger.model_validate(
        {
            "rule": rule,
            "severity": severity,
            "reason": reason,
            "action": action,
            "revaluation": revaluation,
            "figures": figures,
        }
    )
