"""Revenue-like series: per-year numbers, or a base with growth over N years."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Discriminator, Field, Tag

from ipvalue.models.base import Strict
from ipvalue.models.uncertain import Amount, GrowthRate, Number


class GrowthSeries(Strict):
    """``base``, ``base*(1+growth)``, ... for ``years`` years (base and growth may be uncertain)."""

    base: Number
    growth: GrowthRate = 0.0
    years: int = Field(ge=1, le=200)


class AmountGrowthSeries(GrowthSeries):
    """A growth series whose base is a non-negative amount (revenue)."""

    base: Amount


def _not_empty(value: Any) -> Any:
    if isinstance(value, list) and not value:
        raise ValueError("the series is empty: give at least one year's number")
    if isinstance(value, str | bool | int | float):
        raise ValueError(
            'a series is a list of per-year numbers or {"base": B, "growth": G, "years": N}'
        )
    return value


def _shape(value: Any) -> str:
    return "series[growth]" if isinstance(value, dict | GrowthSeries) else "series[list]"


def _series(element: Any, growth: type[GrowthSeries]) -> Any:
    return Annotated[
        Annotated[
            Annotated[list[element], Field(min_length=1, max_length=200), Tag("series[list]")]
            | Annotated[growth, Tag("series[growth]")],
            Discriminator(_shape),
        ],
        BeforeValidator(_not_empty),
    ]


AmountSeries = _series(Amount, AmountGrowthSeries)
"""Series of non-negative amounts (revenue)."""
SignedSeries = _series(Number, GrowthSeries)
"""Series of amounts that may be negative (cash flows, incremental profit)."""
