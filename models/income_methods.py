"""Inputs of the income methods: DCF, relief from royalty, excess earnings, with and without,
profit split, equivalent-investment split, and what they share (timing, terminal value, stages).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.derivations import Derivation, DiscountRateInput
from ipvalue.models.method_base import (
    ExitMultiple,
    Margin,
    MethodBase,
    Probability,
    ProfitRate,
    Timing,
)
from ipvalue.models.royalties import RoyaltyRateInput, SplitRateInput
from ipvalue.models.series import AmountSeries, SignedSeries
from ipvalue.models.uncertain import (
    Amount,
    Bounds,
    GrowthRate,
    Number,
    Rate,
    TaxRate,
    UncertainNumber,
    Years,
    base_value,
)


class Stage(Strict):
    """A development stage (a clinical phase, a prototype): its cost, length and success odds."""

    name: str = Field(min_length=1, max_length=100)
    probability: Probability = Field(description="probability the stage succeeds, decimal")
    cost: Amount = Field(
        default=0.0, description="cost of the stage, paid at its start if it is reached"
    )
    years: Years = Field(description="length of the stage, years")


class IncomeBase(MethodBase):
    """Fields shared by the income methods."""

    discount_rate: DiscountRateInput
    mid_year: bool = Field(default=False, description="cash flows fall mid-year (t - 0.5)")
    timing: Timing | None = Field(
        default=None,
        description="when each year's cash flow falls: end (t), mid (t - 0.5) or start "
        "(t - 1, an annuity due); mid_year true is timing mid",
    )
    initial_cash_flow: Number | None = Field(
        default=None,
        description="an amount at t = 0 (e.g. an upfront payment), undiscounted, added to the "
        "value (signed, in the terms of the method's income)",
    )
    terminal_growth: GrowthRate | None = Field(
        default=None,
        description="Gordon growth after the last year; only while the legal life lasts",
    )
    terminal_multiple: ExitMultiple | None = Field(
        default=None,
        description="exit value at the end of the explicit years = multiple x the last year's "
        "income, discounted from then; counted only when the life lasts beyond those years",
    )
    stages: list[Stage] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="development stages before the income (risk-adjusted NPV): each cash flow "
        "weighted by the probability of having passed the stages ended by its time, each "
        "stage's cost by the probability of reaching it",
    )
    economic_life_years: Years | None = Field(
        default=None, description="remaining economic life; income after it is not counted"
    )

    @model_validator(mode="after")
    def _growth_below_rate(self) -> IncomeBase:
        if self.terminal_growth is not None and self.terminal_multiple is not None:
            raise ValueError(
                "terminal_multiple: give terminal_growth (Gordon growth) or terminal_multiple "
                "(exit multiple), not both"
            )
        if self.terminal_growth is not None and not isinstance(self.discount_rate, Derivation):
            g, k = base_value(self.terminal_growth), base_value(self.discount_rate)
            if g >= k:
                raise ValueError(
                    f"terminal_growth: must be below discount_rate ({g:g} >= {k:g}); "
                    "the Gordon growth value is infinite otherwise"
                )
        mid_given = "mid_year" in self.model_fields_set
        if self.timing is not None and mid_given and self.mid_year != (self.timing == "mid"):
            raise ValueError(
                f"timing: {self.timing!r} contradicts mid_year {str(self.mid_year).lower()}; "
                "give one of them (mid_year true is timing 'mid')"
            )
        return self

    @property
    def cash_flow_timing(self) -> Timing:
        """The timing in force: ``timing``, else mid with ``mid_year``, else end."""
        if self.timing is not None:
            return self.timing
        return "mid" if self.mid_year else "end"


class AmortisableBase(IncomeBase):
    tab_years: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description="tax amortisation period in years; adds the tax amortisation benefit",
    )


class DCFInputs(IncomeBase):
    """Discounted cash flow of the asset's own cash flows."""

    method: Literal["dcf"]
    cash_flows: SignedSeries


class ReliefFromRoyaltyInputs(AmortisableBase):
    """Relief from royalty: the after-tax royalty the owner saves, discounted."""

    method: Literal["relief_from_royalty"]
    revenue: AmountSeries
    royalty_rate: RoyaltyRateInput
    tax_rate: TaxRate


ChargeKind = Literal["working_capital", "fixed_assets", "workforce", "intangible", "other"]


class ContributoryCharge(Strict):
    """Charge for an asset the income needs (a contributory asset charge, CAC), after tax.

    Either ``rate``, a share of revenue, or the asset's ``value`` (constant, or ``values`` per
    year) times its ``required_return`` (the return ON the asset) plus its return OF the asset
    (``return_of`` a year, or ``value / life_years``: depreciation or amortisation, a pre-tax
    expense charged as return_of x (1 - T)). Working capital is not used up: return on only.
    """

    name: str = Field(min_length=1, max_length=100)
    kind: ChargeKind = Field(
        default="other",
        description="working_capital (return on only), fixed_assets (return on + depreciation), "
        "workforce or intangible (return on + amortisation), other",
    )
    rate: Rate | None = Field(
        default=None, description="the charge as an after-tax share of revenue"
    )
    value: Amount | None = Field(
        default=None, description="the asset's value, the same every year, currency"
    )
    values: AmountSeries | None = Field(
        default=None, description="the asset's value per year (opening balances), currency"
    )
    required_return: Rate | None = Field(
        default=None, description="after-tax annual return on the asset's value (return on)"
    )
    return_of: Amount | None = Field(
        default=None,
        description="depreciation or amortisation a year, pre-tax, currency (return of)",
    )
    life_years: Years | None = Field(
        default=None, description="return of = value / life_years a year (straight line)"
    )

    @model_validator(mode="after")
    def _one_form(self) -> ContributoryCharge:
        by_value = self.value is not None or self.values is not None
        if self.rate is not None and by_value:
            raise ValueError(
                "rate: give the charge as rate (share of revenue) or as value + "
                "required_return, not both"
            )
        if self.rate is None and not by_value:
            raise ValueError(
                "rate: give rate (share of revenue), or value (or values per year) + "
                "required_return"
            )
        if self.rate is not None:
            extra = [
                n
                for n in ("required_return", "return_of", "life_years")
                if getattr(self, n) is not None
            ]
            if extra:
                raise ValueError(
                    f"{extra[0]}: belongs to a charge given by value; with rate, drop it"
                )
            return self
        if self.value is not None and self.values is not None:
            raise ValueError("values: give value (constant) or values (per year), not both")
        if self.required_return is None:
            raise ValueError(
                "required_return: a charge by value needs the asset's required return "
                "(after tax, e.g. 0.05 on working capital)"
            )
        if self.return_of is not None and self.life_years is not None:
            raise ValueError("life_years: give return_of (a year) or life_years, not both")
        if self.kind == "working_capital" and (
            self.return_of is not None or self.life_years is not None
        ):
            field = "return_of" if self.return_of is not None else "life_years"
            raise ValueError(
                f"{field}: working capital is not used up, so it earns a return on only; drop it"
            )
        return self


class SurvivalCurve(Strict):
    """Attrition of a customer-type intangible: the share of revenue surviving each year."""

    curve: Literal["exponential", "weibull"] = Field(
        description="exponential: S(t) = (1 - attrition_rate)^t; "
        "weibull: S(t) = exp(-(t / scale)^shape)"
    )
    attrition_rate: (
        Annotated[
            UncertainNumber,
            Bounds(0, 1, open_high=True, fix="a yearly attrition rate is a decimal below 1"),
        ]
        | None
    ) = Field(default=None, description="constant yearly attrition (exponential)")
    shape: (
        Annotated[UncertainNumber, Bounds(0, 20, open_low=True, fix="a Weibull shape is above 0")]
        | None
    ) = Field(default=None, description="Weibull shape k (1 is exponential)")
    scale: Years | None = Field(default=None, description="Weibull scale, years")

    @model_validator(mode="after")
    def _parameters(self) -> SurvivalCurve:
        need = ("attrition_rate",) if self.curve == "exponential" else ("shape", "scale")
        other = ("shape", "scale") if self.curve == "exponential" else ("attrition_rate",)
        for name in need:
            if getattr(self, name) is None:
                raise ValueError(f"{name}: the {self.curve} curve needs " + " and ".join(need))
        for name in other:
            if getattr(self, name) is not None:
                raise ValueError(
                    f"{name}: not a parameter of the {self.curve} curve "
                    f"(it takes {' and '.join(need)}); drop it"
                )
        return self


class ExcessEarningsInputs(AmortisableBase):
    """Multi-period excess earnings (MPEEM) with contributory asset charges."""

    method: Literal["excess_earnings"]
    revenue: AmountSeries
    operating_margin: Margin
    tax_rate: TaxRate
    contributory_charges: list[ContributoryCharge] = Field(default_factory=list, max_length=50)
    attrition: SurvivalCurve | None = Field(
        default=None,
        description="survivor curve of the existing customers: revenue and charges times S(t)",
    )
    wacc: Rate | None = Field(
        default=None,
        description="the business's WACC: the value-weighted required returns of the "
        "contributory assets and the subject (at the discount rate) are checked against it",
    )
    wacc_tolerance: float = Field(
        default=0.01,
        ge=0,
        le=0.2,
        description="largest gap between that weighted return (WARA) and wacc before a warning",
    )


class WithAndWithoutInputs(IncomeBase):
    """With and without: the pre-tax profit the right adds each year."""

    method: Literal["with_and_without"]
    incremental_profit: SignedSeries
    tax_rate: TaxRate


MarginSeries = Annotated[
    list[
        Annotated[
            UncertainNumber,
            Bounds(0, 1, open_low=True, fix="a margin to split is a decimal share above 0"),
        ]
    ],
    Field(min_length=1, max_length=200),
]
"""Operating margins year by year (each above 0: the split is royalty / margin)."""


def _series_length(series: object) -> int:
    """Years of a series (a list, or a growth series' ``years``)."""
    return len(series) if isinstance(series, list) else int(getattr(series, "years", 0))


class ProfitSplitInputs(IncomeBase):
    """Profit split: the right's share of profit.

    Three forms: ``profit`` + ``split_rate``; ``revenue`` + ``royalty_rate`` +
    ``operating_margin`` (profit = revenue x margin, split = royalty / margin); ``profit`` +
    ``royalty_rate`` + ``operating_margin`` (split = royalty / margin applied to the profit).
    The margin may be one number or one per year (the split then varies by year).
    """

    method: Literal["profit_split"]
    profit: SignedSeries | None = None
    split_rate: SplitRateInput | None = None
    revenue: AmountSeries | None = None
    royalty_rate: RoyaltyRateInput | None = None
    operating_margin: Margin | MarginSeries | None = Field(
        default=None,
        description="operating margin on revenue: one decimal, or a list of one per year",
    )
    tax_rate: TaxRate

    @model_validator(mode="after")
    def _one_form(self) -> ProfitSplitInputs:
        if self.profit is not None and self.revenue is not None:
            raise ValueError(
                "revenue: give profit or revenue, not both (with revenue the profit is "
                "revenue x operating_margin)"
            )
        by_royalty = self.royalty_rate is not None or self.operating_margin is not None
        if self.split_rate is not None and by_royalty:
            raise ValueError(
                "split_rate: give split_rate, or royalty_rate + operating_margin, not both"
            )
        if self.split_rate is not None:
            if self.profit is None:
                raise ValueError("profit: a split_rate needs the profit it splits")
            return self
        if self.royalty_rate is None or self.operating_margin is None:
            raise ValueError(
                "split_rate: give either profit + split_rate, or revenue (or profit) + "
                "royalty_rate + operating_margin"
            )
        income = self.revenue if self.revenue is not None else self.profit
        if income is None:
            raise ValueError("revenue: give revenue or profit with royalty_rate + operating_margin")
        margins = self.operating_margin
        if isinstance(margins, list):
            n, years = len(margins), _series_length(income)
            if n != years:
                raise ValueError(
                    f"operating_margin: gives {n} years but "
                    f"{'revenue' if self.revenue is not None else 'profit'} has {years}; "
                    "give one margin per year"
                )
        else:
            margins = [margins]
        royalty = None if isinstance(self.royalty_rate, Derivation) else self.royalty_rate
        for i, margin in enumerate(base_value(x) for x in margins):
            where = f"operating_margin[{i}]" if len(margins) > 1 else "operating_margin"
            if margin <= 0:
                raise ValueError(
                    f"operating_margin: must be above 0 to split profit; got {margin:g}"
                )
            if royalty is not None and base_value(royalty) > margin:
                raise ValueError(
                    f"royalty_rate: {base_value(royalty):g} above {where} {margin:g} gives a "
                    "split above 100 %; check both"
                )
        return self


class EquivalentInvestmentSplitInputs(IncomeBase):
    """Equivalent-investment split: profit shared by invested cost grossed up by its return."""

    method: Literal["equivalent_investment_split"]
    ip_cost: Amount
    ip_cost_profit_rate: ProfitRate
    other_investment: Amount
    other_investment_profit_rate: ProfitRate
    profit: SignedSeries = Field(description="after-tax profit per year")

    @model_validator(mode="after")
    def _some_investment(self) -> EquivalentInvestmentSplitInputs:
        if base_value(self.ip_cost) + base_value(self.other_investment) <= 0:
            raise ValueError("ip_cost: ip_cost and other_investment cannot both be zero")
        return self
