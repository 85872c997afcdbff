"""Shared pieces of the trigger rules: dates, number formats, and building a trigger."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt

from ipvalue.models.triggers import Revaluation, Severity, Trigger

DAYS_PER_YEAR = 365.25
"""Days per year used to turn year counts into dates."""

_EPS = 1e-12
"""Tolerance so that a decline of exactly the threshold fires despite float rounding."""


def add_months(date: dt.date, months: int) -> dt.date:
    """Date ``months`` calendar months after ``date``, clamped to the month's last day.

    Parameters
    ----------
    date : datetime.date
        Start date.
    months : int
        Whole months to add (may be negative).

    Returns
    -------
    datetime.date
        E.g. 2024-01-31 + 1 month = 2024-02-29.
    """
    index = date.year * 12 + (date.month - 1) + months
    year, month = divmod(index, 12)
    day = min(date.day, _calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


def add_years(date: dt.date, years: float) -> dt.date:
    """Date ``years`` (fractional, 365.25 days each) after ``date``."""
    return date + dt.timedelta(days=round(years * DAYS_PER_YEAR))


def years_between(start: dt.date, end: dt.date) -> float:
    """Years from ``start`` to ``end`` (365.25-day years; negative when ``end`` is earlier)."""
    return (end - start).days / DAYS_PER_YEAR


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
