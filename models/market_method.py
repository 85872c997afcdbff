"""Inputs of the market method: comparable transactions or licences."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.derivations import DiscountRateInput
from ipvalue.models.fields import Finite
from ipvalue.models.method_base import (
    MethodBase,
    Multiplier,
)
from ipvalue.models.series import AmountSeries
from ipvalue.models.uncertain import (
    Amount,
    Rate,
    TaxRate,
)


class Comparable(Strict):
    """A comparable transaction (``price``) or licence (``royalty_rate``)."""

    name: str | None = Field(default=None, max_length=200)
    price: Amount | None = None
    royalty_rate: Rate | None = None
    adjustments: dict[str, Multiplier] | list[Multiplier] = Field(
        default_factory=dict,
        description="multiplicative factors (time, scope, territory, exclusivity, life, ...)",
    )
    characteristics: dict[str, Finite] = Field(
        default_factory=dict, description="numeric traits for the royalty regression"
    )

    @model_validator(mode="after")
    def _price_or_royalty(self) -> Comparable:
        if (self.price is None) == (self.royalty_rate is None):
            raise ValueError("price: each comparable has either price or royalty_rate, not both")
        return self


class MarketInputs(MethodBase):
    """Market approach from comparable prices or royalty rates."""

    method: Literal["market"]
    comparables: list[Comparable] = Field(min_length=1, max_length=1000)
    revenue: AmountSeries | None = None
    tax_rate: TaxRate | None = None
    discount_rate: DiscountRateInput | None = None
    mid_year: bool = False
    subject: dict[str, Finite] = Field(
        default_factory=dict, description="the subject's traits, to predict its royalty rate"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> MarketInputs:
        kinds = {c.price is not None for c in self.comparables}
        if len(kinds) > 1:
            raise ValueError("comparables: must be all prices or all royalty rates, not a mix")
        if kinds == {False}:
            missing = [
                n for n in ("revenue", "tax_rate", "discount_rate") if getattr(self, n) is None
            ]
            if missing:
                raise ValueError(
                    f"{missing[0]}: royalty-rate comparables need "
                    + ", ".join(missing)
                    + " to capitalise them"
                )
        return self
