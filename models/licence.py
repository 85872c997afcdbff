"""The parts of a licence's price (issue 14, item 6): the licensor's minimum transfer price.

Chinese practice (无形资产转让的最低收费额) prices the floor of a licence as

    最低收费额 = 重置成本净值 x 转让成本分摊率 + 机会成本,

the net replacement cost times the licensee's share of the right's use (its design capacity
over the total design capacity of everyone using the right) plus the licensor's opportunity
cost: the sales income it loses to the licensee's competition and the development it must add
to hold its market (both as present values). The method using it is ``licence`` in
:mod:`ipvalue.models.methods`; the formulas are in :mod:`ipvalue.valuation.licence`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.derivations import Derivation, derivable
from ipvalue.models.uncertain import (
    Amount,
    Bounds,
    Positive,
    Rate,
    UncertainNumber,
    Years,
    base_value,
)

YearsOrZero = Annotated[UncertainNumber, Bounds(0, 200, fix="durations are in years")]


class CapacityParts(Strict):
    """Design capacities of the licensee and of everyone using the right (same unit)."""

    licensee_capacity: Positive = Field(description="the licensee's design capacity using it")
    total_capacity: Positive = Field(
        description="total design capacity using the right (licensor's + licensees')"
    )

    @model_validator(mode="after")
    def _within(self) -> CapacityParts:
        part, total = base_value(self.licensee_capacity), base_value(self.total_capacity)
        if part > total:
            raise ValueError(
                f"total_capacity: must be at least licensee_capacity ({total:g} < {part:g}); "
                "the total counts every user's capacity, the licensee's included"
            )
        return self


class CapacityShare(Derivation):
    """转让成本分摊率 = the licensee's design capacity / the total design capacity."""

    bounds: ClassVar[Bounds | None] = Bounds(0, 1, fix="a cost share is a decimal in [0, 1]")
    capacity: CapacityParts


CostShareInput = derivable(Rate, (CapacityShare,))
"""The licensee's share of the right's use: a decimal, or from design capacities."""


class MinimumTransferPrice(Strict):
    """The licensor's minimum price: net replacement cost x cost share + opportunity cost."""

    replacement_cost_net: Amount | None = Field(
        default=None, description="net replacement cost (重置成本净值), currency"
    )
    replacement_cost: Amount | None = Field(
        default=None,
        description="replacement cost new at today's prices (重置成本); with years_used and "
        "years_remaining the net cost is cost x remaining / (used + remaining)",
    )
    years_used: Years | None = None
    years_remaining: YearsOrZero | None = None
    cost_share: CostShareInput = Field(  # type: ignore[valid-type]
        description="转让成本分摊率: the licensee's share of the right's use, decimal"
    )
    lost_income: Amount = Field(
        default=0.0,
        description="present value of the licensor's income lost to the licence "
        "(无形资产转出的净减收益), currency",
    )
    added_cost: Amount = Field(
        default=0.0,
        description="present value of the development the licensor adds to hold its market "
        "(无形资产再开发净增费用), currency",
    )

    @model_validator(mode="after")
    def _one_cost(self) -> MinimumTransferPrice:
        aged = (self.replacement_cost, self.years_used, self.years_remaining)
        if self.replacement_cost_net is not None:
            if any(x is not None for x in aged):
                raise ValueError(
                    "replacement_cost_net: give replacement_cost_net, or replacement_cost with "
                    "years_used and years_remaining, not both"
                )
        elif any(x is None for x in aged):
            raise ValueError(
                "replacement_cost_net: give replacement_cost_net, or replacement_cost with "
                "years_used and years_remaining"
            )
        return self
