"""A value below zero is said, not hidden (issue 14, item 8).

A method can give a negative value (excess earnings below the contributory charges, a cost
value below its obsolescence amounts). The valuation keeps the signed figure in
``value.by_method``, ``value.point`` and the method's audit, each with a warning naming it.
A lender's value is never below zero: what collateral, insurance and loans use is
:func:`lender_value`, floored at zero with a warning quoting the signed figure.
"""

from __future__ import annotations


def _money(value: float, currency: str | None) -> str:
    return f"{value:,.2f}" + (f" {currency}" if currency else "")


def method_warning(key: str, value: float, currency: str | None = None) -> str:
    """The warning of a method whose value is below zero."""
    return (
        f"the {key} value is negative ({_money(value, currency)}); the signed figure is kept "
        "here, and a lender counts the asset at 0"
    )


def point_warning(point: float, currency: str | None = None) -> str:
    """The warning of a reconciled point value below zero."""
    return (
        f"the point value is negative ({_money(point, currency)}); it is kept signed here, and "
        "collateral, insurance and loans take the asset at 0"
    )


def lender_value(
    value: float, what: str = "value", currency: str | None = None
) -> tuple[float, str | None]:
    """The value a lender counts: ``max(value, 0)``, and a warning when it was below zero.

    Parameters
    ----------
    value : float
        The signed value, currency.
    what : str
        What the value is, for the warning (``the stored valuation's point value``).
    """
    if value >= 0:
        return value, None
    return 0.0, (
        f"{what} is negative ({_money(value, currency)}); an intangible is worth at least "
        "zero to a lender, so it is taken as 0 here"
    )
