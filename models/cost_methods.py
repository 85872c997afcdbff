"""Inputs of the cost methods: replacement cost and the multiplier (倍加系数) method, with
restated costs, newness, obsolescence and age-life depreciation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.derivations import Derivation, derivable
from ipvalue.models.errors import field_error
from ipvalue.models.method_base import (
    FailureRate,
    MethodBase,
    Multiplier,
    ProfitRate,
    YearsOrZero,
)
from ipvalue.models.uncertain import (
    Amount,
    Bounds,
    DiscountRate,
    Positive,
    Rate,
    TaxRate,
    UncertainNumber,
    Years,
    base_value,
)

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


PriceFactor = Annotated[
    UncertainNumber,
    Bounds(
        0,
        1e9,
        open_low=True,
        fix="a price factor (价格变动系数) is the index at valuation / the index when spent, "
        "e.g. 1.1025 after two years of 5 % a year",
    ),
]
Utilisation = Annotated[
    UncertainNumber,
    Bounds(
        0,
        5,
        open_low=True,
        fix="utilisation (资产利用率) is actual use / normal use, e.g. 0.6; above 1 for use "
        "beyond the normal shifts",
    ),
]


class WeightedYearsParts(Strict):
    """加权投资年限: the years used of an asset built up by investments at different dates.

    Each investment's cost is restated to the valuation date's prices (x its price factor, or
    x index_to / index_from), and weighted years = sum(restated cost x age) / sum(restated
    cost); years used = weighted years x utilisation. The lists run in parallel: investment i
    is ``costs[i]``, ``ages[i]`` and its factor or index.
    """

    costs: list[Amount] = Field(
        max_length=200,
        description="each investment's cost as spent (or already restated), currency",
    )
    ages: list[YearsOrZero] = Field(
        max_length=200,
        description="years from each investment to the valuation date, one per cost",
    )
    price_factors: list[PriceFactor] | None = Field(
        default=None,
        max_length=200,
        description="价格变动系数 per cost: restated cost = cost x factor (or give index_from)",
    )
    index_from: list[IndexNumber] | None = Field(
        default=None,
        max_length=200,
        description="price index when each cost was spent; restated = cost x index_to / index_from",
    )
    index_to: IndexNumber | None = Field(
        default=None, description="price index at the valuation date (with index_from)"
    )
    utilisation: Utilisation = Field(
        default=1.0,
        description="资产利用率, actual use / normal use: years used = weighted years x this",
    )

    @model_validator(mode="after")
    def _parallel(self) -> WeightedYearsParts:
        n = len(self.costs)
        if n == 0:
            raise field_error(
                "WeightedYearsParts",
                ("costs",),
                "is empty; give each investment's cost (the purchase, each upgrade), at least "
                "one, and its age in ages",
                self.costs,
            )
        for name in ("ages", "price_factors", "index_from"):
            given = getattr(self, name)
            if given is not None and len(given) != n:
                k = len(given)
                raise field_error(
                    "WeightedYearsParts",
                    (name,),
                    f"gives {k} {'value' if k == 1 else 'values'} for {n} costs; give one per "
                    "cost, in the same order (investment i is costs[i], ages[i], ...)",
                    given,
                )
        if self.price_factors is not None and self.index_from is not None:
            raise field_error(
                "WeightedYearsParts",
                ("index_from",),
                "give price_factors or index_from + index_to, not both (the cost would be "
                "restated twice)",
                self.index_from,
            )
        if (self.index_from is None) != (self.index_to is None):
            missing = "index_to" if self.index_to is None else "index_from"
            raise field_error(
                "WeightedYearsParts",
                (missing,),
                "give index_from (one per cost) and index_to (at the valuation date) together",
                None,
            )
        if not any(base_value(c) > 0 for c in self.costs):
            raise field_error(
                "WeightedYearsParts",
                ("costs",),
                "all costs are 0: the ages are weighted by the restated costs, so at least one "
                "cost must be above 0",
                self.costs,
            )
        return self


class WeightedInvestmentYears(Derivation):
    """Years used as the investment-weighted age (加权投资年限) x utilisation."""

    bounds: ClassVar[Bounds | None] = Bounds(
        0,
        200,
        open_low=True,
        fix="years used must be above 0: give an investment with an age above 0",
    )
    weighted_investment_years: WeightedYearsParts


if TYPE_CHECKING:  # the field type is built at run time
    YearsUsedInput = Any
else:
    YearsUsedInput = derivable(Years, (WeightedInvestmentYears,))
    """Years used (age-life): years, a distribution, or the investment-weighted years."""


class AgeLifeBase(MethodBase):
    years_used: YearsUsedInput | None = Field(
        default=None,
        description="years used for age-life depreciation, or derived as the investment-"
        'weighted years: {"weighted_investment_years": {"costs", "ages", ...}}',
    )
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
    def _both_or_neither(self) -> AgeLifeBase:
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


class ReplacementCostInputs(AgeLifeBase):
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


class MultiplierCostInputs(AgeLifeBase):
    """Multiplier (倍加系数) cost method: (C + beta1 V) / (1 - beta2) x (1 + L)."""

    method: Literal["multiplier_cost"]
    material_cost: Amount
    labour_cost: Amount
    research_labour_cost: Amount
    research_multiplier: Multiplier
    failure_rate: FailureRate
    profit_rate: ProfitRate
