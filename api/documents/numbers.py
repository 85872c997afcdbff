"""Numbers as a document prints them: money in the record's currency, shares, years, dates."""

from __future__ import annotations

import math


def money(value: float | None, currency: str | None, digits: int = 2) -> str:
    """``EUR 1,234,567.89``; an en dash for a missing or non-finite figure."""
    if value is None or not math.isfinite(value):
        return "\u2013"
    text = f"{value:,.{digits}f}"
    return f"{currency} {text}" if currency else text


def plain(value: float | None, digits: int = 2) -> str:
    """A number with thousands separators (no currency)."""
    if value is None or not math.isfinite(value):
        return "\u2013"
    return f"{value:,.{digits}f}"


def share(value: float | None, digits: int = 1) -> str:
    """A decimal as a percentage: 0.125 -> ``12.5 %``."""
    if value is None or not math.isfinite(value):
        return "\u2013"
    return f"{100 * value:.{digits}f} %"


def cell(value: object, currency: str | None) -> str:
    """One audit table cell: numbers with separators (money-sized ones in the currency's
    style, small ones as decimals), the rest as text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return "\u2013"
        if abs(number) >= 1000:
            return plain(number, 2)
        return f"{number:.6g}"
    if value is None:
        return "\u2013"
    return str(value)
