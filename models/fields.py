"""Field types shared by the request models, each refusing bad input in the house wording.

- `IsoDate`: a date written ``YYYY-MM-DD`` with a year in [`MIN_YEAR`, `MAX_YEAR`]; a number
  (``0``) or another layout (``27/11/2026``) is refused, not guessed.
- `Currency` (ISO 4217, ``EUR``) and `Country` (ISO 3166-1 alpha-2, ``DE``): capitals only;
  `PATTERN_HELP` says so instead of showing the regular expression.
- `Rate`, `YearlyProbability`, `Sigma`, `Drift` (and any ``Annotated[float, Field(...), DECIMAL]``):
  decimals; out of range, the message says that 0.40 means 40 % (``volatility: 40`` is a
  percentage where a decimal belongs).
- `Money` and `PositiveMoney`: money at most `MAX_MONEY`, so sums, squares and discounting stay
  finite numbers.
- `Finite`: any finite float (no NaN, no infinity).

Messages for pydantic's own error types (ranges, types) are built by `range_message`, used here
and by the API's error formatter, so a bound reads the same wherever it is checked.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError

MIN_YEAR, MAX_YEAR = 1800, 2999
"""Years a request date may have: older or later dates are typing errors, not IP rights."""
MAX_MONEY = 1e18
"""Largest money amount accepted (far above any IP value; keeps every result finite)."""
DATE_HELP = "a date as YYYY-MM-DD, e.g. 2026-11-27"
DECIMAL_HELP = "a decimal: 0.40 means 40 %"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
PATTERN_HELP = {
    CURRENCY_PATTERN: "an ISO 4217 code in capitals, e.g. EUR",
    COUNTRY_PATTERN: "an ISO 3166-1 alpha-2 country code in capitals, e.g. DE",
}
"""What a string matching each pattern is, in words (for error messages)."""

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RANGE_WORDS = {
    "greater_than": ("gt", "above"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "below"),
    "less_than_equal": ("le", "at most"),
}


def fmt(x: Any) -> str:
    """A number as a short text (``0.4``, ``1e+18``); anything else as its repr."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return repr(x)
    return f"{x:g}" if isinstance(x, float) else str(x)


def range_message(kind: str, ctx: dict[str, Any], given: Any) -> str | None:
    """``must be at most 1; got 30`` for a pydantic range error, else None.

    Parameters
    ----------
    kind : str
        The pydantic error type (``less_than_equal``, ...).
    ctx : dict
        The error's context, holding the bound under ``gt``/``ge``/``lt``/``le``.
    given : Any
        The value refused.
    """
    if kind not in _RANGE_WORDS:
        return None
    key, words = _RANGE_WORDS[kind]
    return f"must be {words} {fmt(ctx.get(key))}; got {fmt(given)}"


def _decimal_hint(value: Any, handler: Any) -> Any:
    try:
        return handler(value)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        message = range_message(error["type"], error.get("ctx", {}), error.get("input"))
        if message is None:
            raise
        raise PydanticCustomError(
            "decimal_range", "{message}", {"message": f"{message} ({DECIMAL_HELP})"}
        ) from None


DECIMAL = WrapValidator(_decimal_hint)
"""Put last in ``Annotated[float, Field(...), DECIMAL]``: out of range, the message explains
that the number is a decimal (0.40 means 40 %)."""

Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), DECIMAL]
"""A share or rate in [0, 1] as a decimal."""
YearlyProbability = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False), DECIMAL]
"""A yearly probability in [0, 1)."""
Sigma = Annotated[float, Field(gt=0, le=5, allow_inf_nan=False), DECIMAL]
"""An annual volatility in (0, 5] (0.4 is 40 % a year)."""
Drift = Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False), DECIMAL]
"""An expected annual return in [-1, 1]."""
Weight = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
"""A relative weight (weights are normalised to sum to 1), at most 1e12."""
Finite = Annotated[float, Field(allow_inf_nan=False)]
"""Any finite number."""
Money = Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False)]
"""Money in [0, `MAX_MONEY`]."""
PositiveMoney = Annotated[float, Field(gt=0, le=MAX_MONEY, allow_inf_nan=False)]
"""Money in (0, `MAX_MONEY`]."""
Currency = Annotated[str, Field(pattern=CURRENCY_PATTERN, description="ISO 4217 code, e.g. EUR")]
"""An ISO 4217 currency code in capitals."""
Country = Annotated[
    str, Field(pattern=COUNTRY_PATTERN, description="ISO 3166-1 alpha-2 country code, e.g. DE")
]
"""An ISO 3166-1 alpha-2 country code in capitals."""


def _iso_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"must be {DATE_HELP}, without a time; got {value.isoformat()!r}")
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and _ISO_DATE.match(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be {DATE_HELP} that exists; got {value!r}") from None
    else:
        raise ValueError(f"must be {DATE_HELP}; got {fmt(value)}")
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError(
            f"must be a date between {MIN_YEAR} and {MAX_YEAR} ({DATE_HELP}); got {day.isoformat()}"
        )
    return day


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
"""A date written ``YYYY-MM-DD`` (or a ``datetime.date``), years `MIN_YEAR` to `MAX_YEAR`."""


def is_finite_number(x: Any) -> bool:
    """True for an int or a finite float (booleans are not numbers)."""
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return True
    return isinstance(x, float) and math.isfinite(x)
