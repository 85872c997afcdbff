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


TYPE_NOUNS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list [...]",
    "dict_type": "an object {...}",
    "model_type": "an object {...}",
    "model_attributes_type": "an object {...}",
    "date_type": DATE_HELP,
    "date_parsing": DATE_HELP,
    "date_from_datetime_parsing": DATE_HELP,
    "none_required": "null",
}
"""What a value of each pydantic type error should have been, in words."""


def given(value: Any) -> str:
    """The refused value, shortly: ``true``, ``'10'``, a list or an object."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = fmt(value)
    return text if len(text) <= 60 else text[:57] + "..."


def house_message(kind: str, ctx: dict[str, Any], value: Any, message: str) -> str:
    """The house wording of one pydantic error (what is wrong and the fix), field path aside.

    Parameters
    ----------
    kind : str
        The pydantic error type (``missing``, ``less_than_equal``, ``int_type``, ...).
    ctx : dict
        The error's context.
    value : Any
        The value refused.
    message : str
        pydantic's message, kept for our own validators' errors (``value_error``, custom).
    """
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field; check its spelling against the API reference"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}; got {fmt(value)}"
    if kind == "string_pattern_mismatch":
        help_ = PATTERN_HELP.get(str(ctx.get("pattern")), f"text matching {ctx.get('pattern')}")
        return f"must be {help_}; got {fmt(value)}"
    if kind in {"string_too_short", "too_short"}:
        if kind == "string_too_short" and ctx.get("min_length") == 1:
            return "must not be empty"
        unit = "characters" if kind.startswith("string") else "items"
        return f"must have at least {ctx.get('min_length')} {unit}"
    if kind in {"string_too_long", "too_long"}:
        unit = "characters" if kind.startswith("string") else "items"
        return f"must have at most {ctx.get('max_length')} {unit}"
    bound = range_message(kind, ctx, value)
    if bound is not None:
        return bound
    if kind in TYPE_NOUNS:
        return f"must be {TYPE_NOUNS[kind]}; got {given(value)}"
    return message.removeprefix("Value error, ")
