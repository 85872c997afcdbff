"""The service's one calendar: years between dates and dates some years apart.

Whole calendar anniversaries count as whole years and the rest as a fraction of the year that
follows the last anniversary: from 2026-11-27 to 2031-11-27 is exactly 5 years (a five-year
annuity at 10 % to that date is 3.790787 per unit a year), and to 2032-05-27 is
5 + 182/366 years (the anniversary year 2031-11-27 to 2032-11-27 has 366 days). An anniversary of
29 February falls on 28 February in common years. :func:`add_years` is the inverse of
:func:`years_between` up to the rounding of the fraction to whole days.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math


def anniversary(day: dt.date, years: int) -> dt.date:
    """The date ``years`` whole calendar years after ``day`` (29 February -> 28 February).

    Parameters
    ----------
    day : datetime.date
    years : int
        Whole years; may be negative.
    """
    year = day.year + years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return day.replace(year=year)


def _anniversary_year_days(day: dt.date, whole: int) -> int:
    return (anniversary(day, whole + 1) - anniversary(day, whole)).days


def years_between(start: dt.date, end: dt.date) -> float:
    """Years from ``start`` to ``end``: whole anniversaries, then the rest as a fraction.

    Negative when ``end`` is before ``start`` (minus the years from ``end`` to ``start``).

    Parameters
    ----------
    start, end : datetime.date

    Returns
    -------
    float
        Years; 2026-11-27 to 2031-11-27 is 5.0 exactly.
    """
    if end < start:
        return -years_between(end, start)
    whole = end.year - start.year
    if anniversary(start, whole) > end:
        whole -= 1
    rest = (end - anniversary(start, whole)).days
    return whole + rest / _anniversary_year_days(start, whole)


def add_years(day: dt.date, years: float) -> dt.date:
    """The date ``years`` after ``day``: whole anniversaries, then the fraction in days.

    The fraction is of the anniversary year it falls in, rounded to whole days, so
    ``years_between(day, add_years(day, y))`` is ``y`` up to half a day. With negative ``years``
    the date is the one whose distance to ``day``, counted forward from it as
    :func:`years_between` counts, is ``-years`` (up to a day: near a 29 February that count
    jumps by a day's fraction from one start date to the next).

    Parameters
    ----------
    day : datetime.date
    years : float
        Years, finite; may be negative.
    """
    whole = math.floor(years)
    base = anniversary(day, whole)
    fraction = years - whole
    there = base
    if fraction:
        there = base + dt.timedelta(days=round(fraction * _anniversary_year_days(day, whole)))
    if years < 0:
        # Counted forward from the earlier date, its own anniversaries fix the fraction; the
        # date is within a day or two of the one found above.
        near = (there + dt.timedelta(days=shift) for shift in (-2, -1, 0, 1, 2))
        there = min(near, key=lambda d: abs(years_between(d, day) + years))
    return there


def add_months(day: dt.date, months: int) -> dt.date:
    """Date ``months`` calendar months after ``day``, clamped to the month's last day.

    Parameters
    ----------
    day : datetime.date
    months : int
        Whole months to add (may be negative).

    Returns
    -------
    datetime.date
        E.g. 2024-01-31 + 1 month = 2024-02-29.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))
