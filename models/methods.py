"""Inputs of each valuation method, named as in docs/api.md's table.

The ``method`` field selects the model. Every numeric input may be uncertain; the deterministic
value uses each input's base value and the Monte Carlo engine samples them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.derivations import Derivation, DiscountRateInput
from ipvalue.models.fields import Finite
from ipvalue.models.series import AmountSeries, SignedSeries
from ipvalue.models.uncertain import (
    Amount,
    Bounds,
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
    royalty_rate: Rate
    tax_rate: TaxRate


class ContributoryCharge(Strict):
    """Charge for an asset the income needs, as a share of revenue."""

    name: str = Field(min_length=1, max_length=100)
    rate: Rate


class ExcessEarningsInputs(_Amortisable):
    """Multi-period excess earnings (MPEEM) with contributory asset charges."""

    method: Literal["excess_earnings"]
    revenue: AmountSeries
    operating_margin: Margin
    tax_rate: TaxRate
    contributory_charges: list[ContributoryCharge] = Field(default_factory=list, max_length=50)


class WithAndWithoutInputs(_Income):
    """With and without: the pre-tax profit the right adds each year."""

    method: Literal["with_and_without"]
    incremental_profit: SignedSeries
    tax_rate: TaxRate


class ProfitSplitInputs(_Income):
    """Profit split: the right's share of profit (given, or royalty rate / operating margin)."""

    method: Literal["profit_split"]
    profit: SignedSeries | None = None
    split_rate: Rate | None = None
    revenue: AmountSeries | None = None
    royalty_rate: Rate | None = None
    operating_margin: Margin | None = None
    tax_rate: TaxRate

    @model_validator(mode="after")
    def _one_form(self) -> ProfitSplitInputs:
        direct = self.profit is not None and self.split_rate is not None
        derived = all(
            x is not None for x in (self.revenue, self.royalty_rate, self.operating_margin)
        )
        if direct == derived:
            raise ValueError(
                "split_rate: give either profit + split_rate, "
                "or revenue + royalty_rate + operating_margin"
            )
        if derived:
            margin = base_value(self.operating_margin)  # type: ignore[arg-type]
            royalty = base_value(self.royalty_rate)  # type: ignore[arg-type]
            if margin <= 0:
                raise ValueError(f"operating_margin: must be above 0 to split profit; got {margin}")
            if royalty > margin:
                raise ValueError(
                    f"royalty_rate: {royalty:g} above operating_margin {margin:g} gives a split "
                    "above 100 %; check both"
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


class CostItem(Strict):
    """One cost of recreating the asset."""

    name: str = Field(min_length=1, max_length=100)
    amount: Amount


class Obsolescence(Strict):
    """Fractions of value lost, applied multiplicatively: (1-f)(1-t)(1-e)."""

    functional: Rate = 0.0
    technological: Rate = 0.0
    economic: Rate = 0.0


class _AgeLife(_Method):
    years_used: Years | None = None
    years_remaining: YearsOrZero | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> _AgeLife:
        if (self.years_used is None) != (self.years_remaining is None):
            raise ValueError(
                "years_remaining: give years_used and years_remaining together for age-life "
                "depreciation"
            )
        return self


class ReplacementCostInputs(_AgeLife):
    """Replacement cost less obsolescence and age-life depreciation."""

    method: Literal["replacement_cost"]
    costs: list[CostItem] = Field(min_length=1, max_length=200)
    developer_profit_rate: ProfitRate = 0.0
    entrepreneurial_incentive_rate: ProfitRate = 0.0
    obsolescence: Obsolescence = Field(default_factory=Obsolescence)


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
    | RealOptionInputs,
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
)
INCOME_METHODS = frozenset(METHOD_NAMES[:6])
