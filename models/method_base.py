"""What every method's inputs share: the ``label`` field and the bounded number types."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ipvalue.models.base import Strict
from ipvalue.models.uncertain import (
    Bounds,
    UncertainNumber,
)

Multiplier = Annotated[
    UncertainNumber, Bounds(0, 1e6, open_low=True, fix="a multiplier is a positive factor")
]
FailureRate = Annotated[
    UncertainNumber, Bounds(0, 1, open_high=True, fix="a failure rate is a decimal below 1")
]
Margin = Annotated[UncertainNumber, Bounds(-1, 1, fix="a margin is a decimal share of revenue")]
ProfitRate = Annotated[
    UncertainNumber,
    Bounds(0, 100, fix="a profit rate on cost, as a decimal: 0.2 is 20 %, 5 is 500 %"),
]
YearsOrZero = Annotated[UncertainNumber, Bounds(0, 200, fix="durations are in years")]
RiskFreeRate = Annotated[UncertainNumber, Bounds(-0.2, 1, fix="an annual decimal, e.g. 0.04")]
DividendYield = Annotated[
    UncertainNumber, Bounds(0, 1, fix="an annual decimal, e.g. 1/17 for a 17-year life")
]


class MethodBase(Strict):
    label: str | None = Field(
        default=None,
        max_length=100,
        description="key of this method in value.by_method (defaults to the method name)",
    )


Timing = Literal["end", "mid", "start"]
"""When a year's cash flow falls: its end (t), its middle (t - 0.5) or its start (t - 1)."""
ExitMultiple = Annotated[
    UncertainNumber,
    Bounds(0, 1000, open_low=True, fix="a multiple of the last explicit year's income, e.g. 8"),
]
Probability = Annotated[
    UncertainNumber,
    Bounds(0, 1, open_low=True, fix="a probability of success is a decimal in (0, 1], e.g. 0.6"),
]
