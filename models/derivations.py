"""Inputs given by how an appraiser derives them, where a plain number goes today.

A derivation is an object with one key naming the practice, e.g. a discount rate
``{"build_up": {"risk_free": 0.04, "equity_premium": 0.06, "specific_premium": 0.05}}``.
Its parts are uncertain numbers like any input, so the simulation samples them (at paths such
as ``methods[0].discount_rate.build_up.specific_premium``, which correlations may name).
The formulas live in :mod:`ipvalue.valuation.derive`; this module only describes and validates.

A field that takes a number or a derivation is declared with :func:`derivable`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Discriminator, Field, Tag, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.errors import field_error
from ipvalue.models.fields import MAX_MONEY, Finite
from ipvalue.models.uncertain import (
    Bounds,
    DiscountRate,
    TaxRate,
    UncertainNumber,
    base_value,
)


class Derivation(Strict):
    """Base of every derivation object: exactly one field, named after the practice.

    Attributes
    ----------
    bounds : Bounds or None (class attribute)
        Range the derived number must lie in (the range of the plain number it replaces);
        the point value refuses a derivation whose base figures leave it.
    """

    bounds: ClassVar[Bounds | None] = None

    @classmethod
    def tag(cls) -> str:
        """The practice's name: the object's one key."""
        (name,) = cls.model_fields
        return name

    @property
    def parts(self) -> Any:
        """The object under the key (the practice's inputs)."""
        return getattr(self, self.tag())


Premium = Annotated[
    UncertainNumber, Bounds(-1, 1, fix="a premium is an annual decimal, e.g. 0.05 for 5 %")
]
"""A premium or return component of a rate, annual decimal (may be negative)."""
RiskFree = Annotated[
    UncertainNumber, Bounds(-0.2, 1, fix="a risk-free rate is an annual decimal, e.g. 0.04")
]

_RATE_BOUNDS = Bounds(0, 2, open_low=True, fix="a discount rate is an annual decimal")


class BuildUpParts(Strict):
    """Build-up: risk-free rate plus premiums (equity, size, industry, asset-specific)."""

    risk_free: RiskFree
    equity_premium: Premium
    size_premium: Premium = Field(default=0.0, description="small-company premium")
    industry_premium: Premium = Field(default=0.0, description="industry risk premium")
    specific_premium: Premium = Field(
        default=0.0, description="premium for the asset's own risk (the intangible's risk)"
    )


class BuildUpRate(Derivation):
    """A discount rate built up as the sum of its components."""

    bounds: ClassVar[Bounds | None] = _RATE_BOUNDS
    build_up: BuildUpParts


DERIVED_TAG = "derived-"
"""Prefix of the union tags of derivations in a validation error's location (not a field)."""


def derivable(number: Any, kinds: tuple[type[Derivation], ...]) -> Any:
    """Annotated type of a field that takes ``number`` or one of the derivations ``kinds``.

    The object's one key picks the derivation (so an error names the practice's own fields);
    another single key is refused with the list of allowed derivations; anything else is
    validated as ``number``.
    """
    tags = {k.tag(): k for k in kinds}

    def which(value: Any) -> str | None:
        if isinstance(value, Derivation):
            return DERIVED_TAG + value.tag()
        if isinstance(value, dict) and len(value) == 1:
            (key,) = value
            if key in tags:
                return DERIVED_TAG + str(key)
            if key != "dist":
                return None  # an unknown practice: say what is allowed
        return "number"

    options = [Annotated[number, Tag("number")]] + [
        Annotated[kind, Tag(DERIVED_TAG + tag)] for tag, kind in tags.items()
    ]
    union: Any = options[0]
    for option in options[1:]:
        union = union | option
    allowed = ", ".join(tags)
    return Annotated[
        union,
        Discriminator(
            which,
            custom_error_type="unknown_derivation",
            custom_error_message=(
                f"is not a known derivation; give a number, a distribution (an object with dist) "
                f"or one of {allowed}"
            ),
        ),
    ]


# --- discount rates (issue 14 item 1) -----------------------------------------------------------

Beta = Annotated[
    UncertainNumber,
    Bounds(-3, 10, fix="beta is the systematic risk relative to the market, e.g. 1.2"),
]
"""CAPM beta (dimensionless)."""


class CapmParts(Strict):
    """CAPM: risk-free rate plus beta times the equity premium, plus size and specific premiums."""

    risk_free: RiskFree
    beta: Beta
    equity_premium: Premium = Field(description="market (equity) risk premium over risk_free")
    size_premium: Premium = Field(default=0.0, description="small-company premium")
    specific_premium: Premium = Field(
        default=0.0, description="premium for the asset's own risk (the intangible's risk)"
    )


class CapmRate(Derivation):
    """A discount rate by the capital asset pricing model (with optional premiums)."""

    bounds: ClassVar[Bounds | None] = _RATE_BOUNDS
    capm: CapmParts


SCORE_SCALE = 100.0
"""A risk factor's score runs from 0 (premium at ``low``) to this (premium at ``high``)."""

Score = Annotated[
    UncertainNumber,
    Bounds(
        0,
        SCORE_SCALE,
        fix="a score is on the 0-100 scale: 0 puts the premium at low, 100 at high",
    ),
]


class RiskFactor(Strict):
    """One risk of the Chinese risk accumulation (风险累加法), scored within its premium range.

    premium = low + (high - low) x score / 100.
    """

    name: str = Field(
        min_length=1,
        max_length=100,
        description="the risk, e.g. technical (技术风险), market (市场风险), capital (资金风险), "
        "management (管理风险)",
    )
    score: Score = Field(description="score on the 0-100 scale (0: premium = low; 100: high)")
    low: Premium = Field(description="premium at score 0, annual decimal")
    high: Premium = Field(description="premium at score 100, annual decimal")

    @model_validator(mode="after")
    def _range(self) -> RiskFactor:
        low, high = base_value(self.low), base_value(self.high)
        if high < low:
            raise field_error(
                "RiskFactor",
                ("high",),
                f"must be at least low ({high:g} < {low:g}): the premium range is [low, high]",
                high,
            )
        return self


class RiskAccumulationParts(Strict):
    """Risk accumulation: the risk-free rate plus each factor's scored premium."""

    risk_free: RiskFree
    factors: list[RiskFactor] = Field(
        min_length=1,
        max_length=20,
        description="usually technical, market, capital and management risk",
    )


class RiskAccumulationRate(Derivation):
    """A discount rate by risk accumulation (风险累加法)."""

    bounds: ClassVar[Bounds | None] = _RATE_BOUNDS
    risk_accumulation: RiskAccumulationParts


if TYPE_CHECKING:  # the field types are built at run time
    CostOfEquity = Any
    CostOfWacc = Any
else:
    CostOfEquity = derivable(DiscountRate, (BuildUpRate, CapmRate, RiskAccumulationRate))
    """A cost of equity: an annual decimal, a distribution, a build-up, CAPM or risk
    accumulation."""

CostOfDebt = Annotated[
    UncertainNumber,
    Bounds(0, 1, fix="the pre-tax cost of debt is an annual decimal, e.g. 0.06"),
]
WeightShare = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""A share of capital or of assets, decimal in [0, 1] (a fixed number, not sampled)."""

WEIGHT_TOLERANCE = 1e-6
"""Weights that must sum to 1 may miss it by this much (rounding)."""


class WaccParts(Strict):
    """WACC = E/V x k_e + D/V x k_d x (1 - T)."""

    equity_weight: WeightShare = Field(description="E / V, share of equity in capital")
    cost_of_equity: CostOfEquity = Field(description="k_e, annual decimal or a derivation")
    debt_weight: WeightShare = Field(description="D / V, share of debt in capital")
    cost_of_debt: CostOfDebt = Field(description="k_d before tax, annual decimal")
    tax_rate: TaxRate = Field(description="T, the rate at which interest is deductible")

    @model_validator(mode="after")
    def _weights(self) -> WaccParts:
        total = self.equity_weight + self.debt_weight
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise field_error(
                "WaccParts",
                ("debt_weight",),
                f"equity_weight + debt_weight = {total:g}; the capital weights must sum to 1 "
                f"(debt_weight = {1.0 - self.equity_weight:g} with this equity_weight)",
                self.debt_weight,
            )
        return self


class WaccRate(Derivation):
    """The business's weighted average cost of capital (after tax)."""

    bounds: ClassVar[Bounds | None] = _RATE_BOUNDS
    wacc: WaccParts


if not TYPE_CHECKING:
    CostOfWacc = derivable(DiscountRate, (WaccRate, BuildUpRate, CapmRate, RiskAccumulationRate))
    """A WACC: an annual decimal, a distribution, or derived (``{"wacc": ...}``, a build-up)."""

AssetReturn = Annotated[
    UncertainNumber,
    Bounds(0, 2, fix="a required return is an annual decimal, e.g. 0.05 on working capital"),
]
Money = Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False)]


class WaraAsset(Strict):
    """An asset of the business other than the subject, with its share and required return."""

    name: str = Field(min_length=1, max_length=100)
    weight: WeightShare | None = Field(default=None, description="share of the WACC's capital")
    value: Money | None = Field(default=None, description="fair value, request currency")
    required_return: AssetReturn = Field(description="annual decimal")

    @model_validator(mode="after")
    def _one_measure(self) -> WaraAsset:
        if (self.weight is None) == (self.value is None):
            raise field_error(
                "WaraAsset",
                ("weight",),
                "give the asset's weight (share of capital) or its value, exactly one",
                self.weight,
            )
        return self


class WaraParts(Strict):
    """Weighted average return on assets solved for the subject's rate.

    k_subject = (WACC - sum w_i k_i) / w_subject, so the weighted returns reconcile to the WACC.
    Weights are shares of the WACC's capital (the business enterprise value) and must sum to 1
    with the subject's; given as values, they are the values' shares of their total (or of
    ``capital`` when given, which the values must then add up to).
    """

    wacc: CostOfWacc = Field(description="the business's WACC: an annual decimal or a derivation")
    assets: list[WaraAsset] = Field(
        min_length=1,
        max_length=50,
        description="working capital, fixed assets, other intangibles (goodwill), each with "
        "its required return",
    )
    subject_name: str = Field(default="subject", min_length=1, max_length=100)
    subject_weight: WeightShare | None = Field(
        default=None, description="the subject's share of capital (or give subject_value)"
    )
    subject_value: Money | None = Field(default=None, description="the subject's fair value")
    capital: Money | None = Field(
        default=None,
        description="the WACC's capital (enterprise value) the values must add up to, optional",
    )
    deal_irr: Finite | None = Field(
        default=None, description="the deal's internal rate of return, shown beside the WACC"
    )
    irr_tolerance: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        default=0.01, description="deal IRR and WACC may differ by this much without a warning"
    )

    @model_validator(mode="after")
    def _weights(self) -> WaraParts:
        by_value = self.subject_value is not None
        if (self.subject_weight is None) == (self.subject_value is None):
            raise field_error(
                "WaraParts",
                ("subject_weight",),
                "give the subject's weight or its value (subject_value), exactly one",
                self.subject_weight,
            )
        for i, a in enumerate(self.assets):
            if (a.value is not None) != by_value:
                given, wanted = ("weight", "value") if by_value else ("value", "weight")
                raise field_error(
                    "WaraParts",
                    ("assets", i, given),
                    f"give every asset's {wanted} like the subject's (subject_{wanted}), "
                    f"not its {given}",
                    None,
                )
        if by_value:
            self._values_add_up()
        else:
            self._weights_add_up()
        return self

    def _weights_add_up(self) -> None:
        others = sum(float(a.weight or 0.0) for a in self.assets)
        subject = float(self.subject_weight or 0.0)
        if abs(others + subject - 1.0) > WEIGHT_TOLERANCE:
            raise field_error(
                "WaraParts",
                ("subject_weight",),
                f"the weights sum to {others + subject:g} (assets {others:g} + subject "
                f"{subject:g}); they must sum to 1, the WACC's capital: subject_weight = "
                f"{1.0 - others:g} closes it, or correct the assets' weights",
                subject,
            )
        if subject <= 0:
            raise field_error(
                "WaraParts",
                ("subject_weight",),
                "must be above 0: the subject's rate is solved by dividing by its weight",
                subject,
            )

    def _values_add_up(self) -> None:
        total = sum(float(a.value or 0.0) for a in self.assets) + float(self.subject_value or 0)
        if not self.subject_value:
            raise field_error(
                "WaraParts",
                ("subject_value",),
                "must be above 0: the subject's rate is solved by dividing by its weight",
                self.subject_value,
            )
        if self.capital is not None and abs(total - self.capital) > WEIGHT_TOLERANCE * max(
            self.capital, 1.0
        ):
            raise field_error(
                "WaraParts",
                ("capital",),
                f"the assets' and subject's values add up to {total:,.2f}, not the capital "
                f"{self.capital:,.2f}; the weights must sum to the WACC's capital: list every "
                "asset (goodwill too) or correct capital",
                self.capital,
            )


class WaraRate(Derivation):
    """The subject's rate as the residual of a weighted average return on assets (WARA)."""

    bounds: ClassVar[Bounds | None] = _RATE_BOUNDS
    wara: WaraParts


class TermStructureRate(Derivation):
    """A discount rate per year (a term structure), issue 14 item 7.

    ``[k_1, ..., k_m]`` are one-year (forward) rates: year t's cash flow discounts by
    prod_{s <= t} (1 + k_s); years after the m-th (at most the cash flows' years) keep k_m,
    and so do the terminal value and a longer TAB period. Each rate is a discount rate (a number
    or a distribution, sampled at ``...term_structure[i]``).
    """

    bounds: ClassVar[Bounds | None] = None  # each rate is bounded as a discount rate
    term_structure: list[DiscountRate] = Field(min_length=1, max_length=200)


DISCOUNT_RATE_DERIVATIONS: tuple[type[Derivation], ...] = (
    BuildUpRate,
    CapmRate,
    RiskAccumulationRate,
    WaccRate,
    WaraRate,
    TermStructureRate,
)
"""Every way to derive a discount rate (a new one is a class here)."""

DiscountRateInput = derivable(DiscountRate, DISCOUNT_RATE_DERIVATIONS)
"""A discount rate: an annual decimal, a distribution, or a derivation of one."""
