"""Inputs of each valuation method, named as in docs/api.md's table.

The ``method`` field selects the model. Every numeric input may be uncertain; the deterministic
value uses each input's base value and the Monte Carlo engine samples them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.derivations import DERIVED_TAG, Derivation, DiscountRateInput
from ipvalue.models.fields import Finite
from ipvalue.models.licence import MinimumTransferPrice
from ipvalue.models.royalties import RoyaltyRateInput, SplitRateInput
from ipvalue.models.series import AmountSeries, SignedSeries
from ipvalue.models.uncertain import (
    Amount,
    Bounds,
    DiscountRate,
    GrowthRate,
    Number,
    Positive,
    Rate,
    TaxRate,
    UncertainNumber,
    Volatility,
    Years,
    base_value,
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


class _Method(Strict):
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


class Stage(Strict):
    """A development stage (a clinical phase, a prototype): its cost, length and success odds."""

    name: str = Field(min_length=1, max_length=100)
    probability: Probability = Field(description="probability the stage succeeds, decimal")
    cost: Amount = Field(
        default=0.0, description="cost of the stage, paid at its start if it is reached"
    )
    years: Years = Field(description="length of the stage, years")


class _Income(_Method):
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
    def _growth_below_rate(self) -> _Income:
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


class _Amortisable(_Income):
    tab_years: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description="tax amortisation period in years; adds the tax amortisation benefit",
    )


class DCFInputs(_Income):
    """Discounted cash flow of the asset's own cash flows."""

    method: Literal["dcf"]
    cash_flows: SignedSeries


class ReliefFromRoyaltyInputs(_Amortisable):
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


class ExcessEarningsInputs(_Amortisable):
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


class WithAndWithoutInputs(_Income):
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


class ProfitSplitInputs(_Income):
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


class EquivalentInvestmentSplitInputs(_Income):
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


IndexNumber = Annotated[
    UncertainNumber, Bounds(0, 1e9, open_low=True, fix="a price index is a positive number")
]
YearNumber = Annotated[int, Field(ge=1800, le=2300)]


class CostItem(Strict):
    """One cost of recreating the asset, restated to the valuation date by a price index.

    With ``index_from`` + ``index_to`` (the index when the cost was spent and at the valuation
    date), or ``year`` looked up in the method's ``price_index`` table, the amount restated is
    amount x index_to / index_from (物价指数调整); without them the amount is taken as current.
    """

    name: str = Field(min_length=1, max_length=100)
    amount: Amount
    year: YearNumber | None = Field(
        default=None, description="year the cost was spent, looked up in price_index.by_year"
    )
    index_from: IndexNumber | None = Field(
        default=None, description="price index when the cost was spent"
    )
    index_to: IndexNumber | None = Field(
        default=None, description="price index at the valuation date"
    )

    @model_validator(mode="after")
    def _one_index(self) -> CostItem:
        if (self.index_from is None) != (self.index_to is None):
            raise ValueError(
                "index_to: give index_from and index_to together (the price index when spent "
                "and at the valuation date)"
            )
        if self.year is not None and self.index_from is not None:
            raise ValueError("year: give year (looked up in price_index) or index_from, not both")
        return self


class PriceIndex(Strict):
    """A price index table: the index by year and the year of the valuation."""

    by_year: dict[str, IndexNumber] = Field(
        min_length=1, max_length=300, description='index by year, e.g. {"2019": 100, "2026": 118}'
    )
    valuation_year: YearNumber = Field(description="the year whose index costs are restated to")

    @model_validator(mode="after")
    def _years(self) -> PriceIndex:
        for key in self.by_year:
            if not (key.isdigit() and 1800 <= int(key) <= 2300):
                raise ValueError(f'by_year: {key!r} is not a year; keys are years, e.g. "2019"')
        if str(self.valuation_year) not in self.by_year:
            raise ValueError(
                f"valuation_year: {self.valuation_year} has no index in by_year; add it"
            )
        return self


class ExcessOperatingCost(Strict):
    """Functional obsolescence from excess operating cost: C x (1 - T) x PVA(k, n)."""

    annual_excess_cost: Amount = Field(
        description="pre-tax operating cost a year above a modern replacement's, currency"
    )
    tax_rate: TaxRate
    discount_rate: DiscountRate
    remaining_years: Years | None = Field(
        default=None, description="years the excess cost lasts; defaults to years_remaining"
    )


class IncomeShortfall(Strict):
    """Economic obsolescence from an income shortfall: by capacity or by lost income.

    Capacity: rate = 1 - (capacity_used / capacity)^scale_exponent. Lost income: amount =
    annual_income_loss x (1 - T) x PVA(k, n).
    """

    capacity_used: Amount | None = Field(
        default=None, description="output (or income) the asset can now be used for"
    )
    capacity: Positive | None = Field(default=None, description="its design output (or income)")
    scale_exponent: (
        Annotated[
            UncertainNumber, Bounds(0, 1, open_low=True, fix="a scale exponent, commonly 0.6-0.7")
        ]
        | None
    ) = Field(default=None, description="economies-of-scale exponent x")
    annual_income_loss: Amount | None = Field(
        default=None, description="pre-tax income lost a year, currency"
    )
    tax_rate: TaxRate | None = None
    discount_rate: DiscountRate | None = None
    remaining_years: Years | None = Field(
        default=None, description="years the shortfall lasts; defaults to years_remaining"
    )

    @model_validator(mode="after")
    def _one_form(self) -> IncomeShortfall:
        capacity = ("capacity_used", "capacity", "scale_exponent")
        income = ("annual_income_loss", "tax_rate", "discount_rate")
        has_c = [n for n in capacity if getattr(self, n) is not None]
        has_i = [n for n in income if getattr(self, n) is not None]
        if has_c and has_i:
            raise ValueError(
                f"{has_i[0]}: give the capacity form (capacity_used, capacity, scale_exponent) "
                "or the lost-income form (annual_income_loss, tax_rate, discount_rate), not both"
            )
        need = capacity if has_c else income
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(
                f"{missing[0]}: this form of economic obsolescence needs " + ", ".join(need)
            )
        if has_c and self.remaining_years is not None:
            raise ValueError("remaining_years: belongs to the lost-income form; drop it")
        if has_c:
            used, cap = base_value(self.capacity_used), base_value(self.capacity)  # type: ignore[arg-type]
            if used > cap:
                raise ValueError(
                    f"capacity_used: {used:g} is above capacity {cap:g}; no shortfall then, "
                    "drop economic_shortfall"
                )
        return self


class Obsolescence(Strict):
    """Value lost: fractions applied multiplicatively, (1-f)(1-t)(1-e), and amounts from
    excess operating cost (functional) and an income shortfall (economic)."""

    functional: Rate = 0.0
    technological: Rate = 0.0
    economic: Rate = 0.0
    functional_excess_cost: ExcessOperatingCost | None = Field(
        default=None, description="functional obsolescence as an amount, instead of functional"
    )
    economic_shortfall: IncomeShortfall | None = Field(
        default=None, description="economic obsolescence from an income shortfall"
    )

    @model_validator(mode="after")
    def _not_twice(self) -> Obsolescence:
        if self.functional_excess_cost is not None and base_value(self.functional) != 0:
            raise ValueError(
                "functional_excess_cost: give functional as a fraction or from the excess "
                "operating cost, not both (it would count twice)"
            )
        if self.economic_shortfall is not None and base_value(self.economic) != 0:
            raise ValueError(
                "economic_shortfall: give economic as a fraction or from the income "
                "shortfall, not both (it would count twice)"
            )
        return self


class NewnessWeights(Strict):
    """Weights of the age-life and the observed newness rate in the combined rate."""

    age_life: float = Field(ge=0, le=1)
    observed: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> NewnessWeights:
        if abs(self.age_life + self.observed - 1.0) > 1e-9:
            raise ValueError(
                f"observed: the weights sum to {self.age_life + self.observed:g}; "
                "make age_life + observed = 1 (e.g. 0.4 and 0.6)"
            )
        return self


class _AgeLife(_Method):
    years_used: Years | None = None
    years_remaining: YearsOrZero | None = None
    newness_rate: Rate | None = Field(
        default=None,
        description="成新率 by direct observation (1 = as new); depreciation = 1 - newness",
    )
    newness_weights: NewnessWeights | None = Field(
        default=None,
        description="needed with both age-life and newness_rate: the weights of the combined "
        "newness, e.g. 0.4 age-life and 0.6 observed",
    )
    obsolescence: Obsolescence = Field(default_factory=Obsolescence)

    @model_validator(mode="after")
    def _both_or_neither(self) -> _AgeLife:
        if (self.years_used is None) != (self.years_remaining is None):
            raise ValueError(
                "years_remaining: give years_used and years_remaining together for age-life "
                "depreciation"
            )
        both = self.years_used is not None and self.newness_rate is not None
        if both and self.newness_weights is None:
            raise ValueError(
                "newness_weights: with both age-life years and newness_rate, give the weights "
                'of the combined newness, e.g. {"age_life": 0.4, "observed": 0.6}'
            )
        if self.newness_weights is not None and not both:
            raise ValueError(
                "newness_weights: weigh age-life against newness_rate only when both are given"
            )
        return self


class ReplacementCostInputs(_AgeLife):
    """Replacement cost less obsolescence and depreciation (age-life and/or newness rate)."""

    method: Literal["replacement_cost"]
    costs: list[CostItem] = Field(min_length=1, max_length=200)
    price_index: PriceIndex | None = Field(
        default=None, description="index table for cost items given with a year"
    )
    developer_profit_rate: ProfitRate = 0.0
    entrepreneurial_incentive_rate: ProfitRate = 0.0

    @model_validator(mode="after")
    def _indexed_years(self) -> ReplacementCostInputs:
        for i, c in enumerate(self.costs):
            if c.year is None:
                continue
            if self.price_index is None:
                raise ValueError(
                    f"price_index: costs[{i}] is given with a year, so a price index table is "
                    'needed: {"by_year": {...}, "valuation_year": ...}'
                )
            if str(c.year) not in self.price_index.by_year:
                raise ValueError(
                    f"price_index: costs[{i}].year {c.year} has no index in by_year; add it"
                )
        return self


class MultiplierCostInputs(_AgeLife):
    """Multiplier (倍加系数) cost method: (C + beta1 V) / (1 - beta2) x (1 + L)."""

    method: Literal["multiplier_cost"]
    material_cost: Amount
    labour_cost: Amount
    research_labour_cost: Amount
    research_multiplier: Multiplier
    failure_rate: FailureRate
    profit_rate: ProfitRate


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


class MarketInputs(_Method):
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


LATTICE_MIN_STEPS = 10
"""Fewest binomial steps accepted: a coarser lattice is too far from its limit to be a value."""
LATTICE_MAX_STEPS = 5000
"""Most binomial steps for a point value: 12.5 million node updates, well under a second."""
LATTICE_DEFAULT_STEPS = 200


class RealOptionInputs(_Method):
    """Call on the right's underlying value: Black-Scholes-Merton or a binomial lattice."""

    method: Literal["real_option"]
    underlying_value: Positive
    exercise_cost: Positive
    years: Years
    volatility: Volatility
    risk_free_rate: RiskFreeRate
    dividend_yield: DividendYield = 0.0
    model: Literal["black_scholes", "binomial"] = Field(
        default="black_scholes",
        description="black_scholes (closed form, European) or binomial (Cox-Ross-Rubinstein "
        "lattice, European or American)",
    )
    steps: int | None = Field(
        default=None,
        description=f"binomial time steps, {LATTICE_MIN_STEPS} to {LATTICE_MAX_STEPS} "
        f"(default {LATTICE_DEFAULT_STEPS}); the simulation uses at most 200 per path",
    )
    american: bool = Field(default=False, description="early exercise at any node (binomial only)")
    cost_of_delay: Literal["constant", "rising"] = Field(
        default="constant",
        description="constant: dividend_yield each year; rising: 1 / (remaining life) in each "
        "year of waiting (1/n, 1/(n-1), ... with n = years), replacing dividend_yield",
    )

    @model_validator(mode="after")
    def _lattice_fields(self) -> RealOptionInputs:
        if self.model == "black_scholes":
            if self.steps is not None:
                raise ValueError(
                    'steps: only a binomial lattice has steps; add "model": "binomial" '
                    "or drop steps"
                )
            if self.american:
                raise ValueError(
                    "american: Black-Scholes values a European call; early exercise needs "
                    '"model": "binomial"'
                )
        if self.steps is not None and not (LATTICE_MIN_STEPS <= self.steps <= LATTICE_MAX_STEPS):
            raise ValueError(
                f"steps: must be {LATTICE_MIN_STEPS} to {LATTICE_MAX_STEPS}; got {self.steps}. "
                "A lattice's error falls about as 1 / steps: 200 steps are within about 0.5 % "
                "of Black-Scholes for a European call, 1000 within 0.1 %"
            )
        if self.cost_of_delay == "rising" and base_value(self.dividend_yield) != 0:
            raise ValueError(
                "dividend_yield: a rising cost_of_delay sets the yield (1 / remaining life each "
                'year); drop dividend_yield or use cost_of_delay "constant"'
            )
        return self

    @property
    def lattice_steps(self) -> int:
        """Steps of the binomial lattice (the default when not given)."""
        return LATTICE_DEFAULT_STEPS if self.steps is None else self.steps


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
    if isinstance(value, _Income) or (isinstance(value, dict) and "method" in value):
        return DERIVED_TAG + "method"
    return "number"


LicenseeValue = Annotated[
    Annotated[Amount, Tag("number")] | Annotated[LicenseeIncomeInputs, Tag(DERIVED_TAG + "method")],
    Discriminator(_amount_or_method),
]
"""The licensee's value of the right: an amount, or an income method valuing it."""


class LicenceInputs(_Method):
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


MethodInputs = Annotated[
    DCFInputs
    | ReliefFromRoyaltyInputs
    | ExcessEarningsInputs
    | WithAndWithoutInputs
    | ProfitSplitInputs
    | EquivalentInvestmentSplitInputs
    | ReplacementCostInputs
    | MultiplierCostInputs
    | MarketInputs
    | RealOptionInputs
    | LicenceInputs,
    Field(discriminator="method"),
]
"""One method's inputs, selected by ``method``."""

METHOD_NAMES = (
    "dcf",
    "relief_from_royalty",
    "excess_earnings",
    "with_and_without",
    "profit_split",
    "equivalent_investment_split",
    "replacement_cost",
    "multiplier_cost",
    "market",
    "real_option",
    "licence",
)
INCOME_METHODS = frozenset(METHOD_NAMES[:6])
