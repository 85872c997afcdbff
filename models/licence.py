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

from typing import Annotated, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.cost_methods import YearsUsedInput
from ipvalue.models.derivations import DERIVED_TAG, Derivation, DiscountRateInput, derivable
from ipvalue.models.income_methods import (
    DCFInputs,
    EquivalentInvestmentSplitInputs,
    ExcessEarningsInputs,
    IncomeBase,
    ProfitSplitInputs,
    ReliefFromRoyaltyInputs,
    WithAndWithoutInputs,
)
from ipvalue.models.method_base import MethodBase
from ipvalue.models.royalties import RoyaltyRateInput
from ipvalue.models.series import AmountSeries
from ipvalue.models.uncertain import (
    Amount,
    Bounds,
    Positive,
    Rate,
    UncertainNumber,
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
    years_used: YearsUsedInput | None = Field(
        default=None,
        description="years the right has been used, or derived as the investment-weighted years: "
        '{"weighted_investment_years": {"costs", "ages", ...}}',
    )
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


LicenseeIncomeInputs = Annotated[
    DCFInputs
    | ReliefFromRoyaltyInputs
    | ExcessEarningsInputs
    | WithAndWithoutInputs
    | ProfitSplitInputs
    | EquivalentInvestmentSplitInputs,
    Field(discriminator="method"),
]
"""An income method valuing the right on the licensee's own figures."""


def _amount_or_method(value: object) -> str:
    if isinstance(value, IncomeBase) or (isinstance(value, dict) and "method" in value):
        return DERIVED_TAG + "method"
    return "number"


LicenseeValue = Annotated[
    Annotated[Amount, Tag("number")] | Annotated[LicenseeIncomeInputs, Tag(DERIVED_TAG + "method")],
    Discriminator(_amount_or_method),
]
"""The licensee's value of the right: an amount, or an income method valuing it."""


class LicenceInputs(MethodBase):
    """A licence's price: the licensor's minimum, the licensee's maximum, and its terms.

    The terms are an upfront fee paid at the valuation date plus a running royalty on the
    licensee's sales; their present value, the pure running rate and the pure lump sum of
    equal present value are in the audit, beside the negotiation range from the licensor's
    minimum transfer price (转让最低收费额) to the licensee's value of the right.
    """

    method: Literal["licence"]
    upfront: Amount = Field(default=0.0, description="upfront fee (入门费) at the valuation date")
    running_royalty_rate: RoyaltyRateInput | None = Field(
        default=None, description="running royalty on the licensee's sales, decimal"
    )
    revenue: AmountSeries | None = Field(
        default=None, description="the licensee's sales the running royalty is paid on, per year"
    )
    discount_rate: DiscountRateInput | None = None
    mid_year: bool = Field(default=False, description="royalties fall mid-year (t - 0.5)")
    minimum_price: MinimumTransferPrice | None = Field(
        default=None, description="the licensor's minimum transfer price (转让最低收费额)"
    )
    licensee_value: LicenseeValue | None = Field(
        default=None,
        description="the licensee's value of the right (the most it would pay): an amount, or "
        "an income method on the licensee's figures, e.g. "
        '{"method": "relief_from_royalty", ...}',
    )
    value_basis: Literal["terms", "minimum", "maximum", "midpoint"] | None = Field(
        default=None,
        description="which figure is the method's value: the terms' present value (default "
        "when terms are given), the minimum price, the licensee's maximum, or the middle of "
        "the range",
    )

    @property
    def has_terms(self) -> bool:
        """True when an upfront fee or a running royalty is given."""
        return self.running_royalty_rate is not None or base_value(self.upfront) > 0

    @property
    def licensee_method(self) -> IncomeBase | None:
        """The income method valuing the licensee's maximum, or None (an amount or none)."""
        given = self.licensee_value
        return given if isinstance(given, IncomeBase) else None

    @property
    def basis(self) -> str:
        """The figure the method's value is (``value_basis``, or its default)."""
        if self.value_basis is not None:
            return self.value_basis
        return "terms" if self.has_terms else "minimum"

    @model_validator(mode="after")
    def _complete(self) -> LicenceInputs:
        if self.running_royalty_rate is not None and self.revenue is None:
            raise ValueError("revenue: a running_royalty_rate needs the sales it is paid on")
        if self.revenue is not None and self.discount_rate is None:
            raise ValueError("discount_rate: needed to discount the running royalties")
        needs = {
            "terms": ("upfront", self.has_terms),
            "minimum": ("minimum_price", self.minimum_price is not None),
            "maximum": ("licensee_value", self.licensee_value is not None),
            "midpoint": (
                "minimum_price" if self.minimum_price is None else "licensee_value",
                self.minimum_price is not None and self.licensee_value is not None,
            ),
        }
        field, given = needs[self.basis]
        if not given:
            what = {
                "terms": "give upfront and/or running_royalty_rate with revenue",
                "minimum": "give minimum_price",
                "maximum": "give licensee_value",
                "midpoint": "give minimum_price and licensee_value",
            }[self.basis]
            raise ValueError(f"{field}: value_basis {self.basis!r} needs it; {what}")
        return self
