"""Collateral assessment of an IP pledge loan: the body and answer of ``POST /v1/collateral``.

Money is in the valuation's currency, rates are decimals, durations are years.

Defaults are documented conventions (docs/domain.md, "Lending practice"), for the request to
override:

- ``max_ltv`` 0.30: many Chinese banks lend about 30 % or less of a patent's appraised value;
  ``lender_practice: "uk"`` sets 0.50 (NatWest with Inngot lends up to 50 % of estimated IP value).
- ``liquidation_discount`` 0.30 for an orderly sale over ``time_to_sell_years`` 0.5 and
  ``forced_liquidation_discount`` 0.60 for an immediate sale: policy choices, not regulation;
  lenders value IP on a liquidation basis, not fair value.
- ``risk_sharing`` none: the lender bears the whole loss unless shares are given (Qingdao's
  scheme splits losses insurer : bank : government guarantor = 60 : 20 : 20).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from ipvalue.models.base import Strict as _Strict
from ipvalue.models.fields import DECIMAL, Currency, Drift, Money, PositiveMoney, YearlyProbability
from ipvalue.models.measures import Estimate, Seed, ValueRange

_Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), DECIMAL]
_Sigma = Annotated[float, Field(gt=0, le=5, allow_inf_nan=False), DECIMAL]

LENDER_PRACTICE_MAX_LTV = {"cn": 0.30, "uk": 0.50}
"""LTV caps observed in practice (docs/domain.md): China about 30 %, UK up to 50 %."""
MAX_VOLATILITY_DRAWS = 100_000
MAX_PATH_STEPS = 50_000_000
"""Largest paths x time steps simulated in one assessment (memory: 8 bytes each)."""


class RiskSharing(_Strict):
    """Shares of a loan loss borne by others than the lender."""

    insurer: _Rate = 0.0
    guarantor: _Rate = 0.0

    @model_validator(mode="after")
    def _at_most_whole(self) -> RiskSharing:
        if self.insurer + self.guarantor > 1:
            raise ValueError(
                f"guarantor: insurer + guarantor shares must not exceed 1; got "
                f"{self.insurer + self.guarantor:g}"
            )
        return self


class CollateralLegalRisk(_Strict):
    """Legal events on the value paths: yearly hazards and the protection's remaining life."""

    stop_hazard: YearlyProbability = Field(
        default=0.0, description="yearly probability the right is invalidated or lapses"
    )
    loss_hazard: YearlyProbability = Field(
        default=0.0, description="yearly probability of losing an infringement case"
    )
    loss_share: _Rate = Field(default=0.0, description="share of value lost with a lost case")
    remaining_life_years: float | None = Field(
        default=None, ge=0, le=200, description="value is 0 after the right expires"
    )


class CollateralRequest(_Strict):
    """Body of ``POST /v1/collateral``: a valuation (stored or given) and the loan."""

    valuation_id: str | None = Field(
        default=None,
        max_length=64,
        description="a stored valuation: its point value, currency and (when volatility is "
        "omitted) its simulation's volatility",
    )
    value: PositiveMoney | None = None
    volatility: _Sigma | list[_Sigma] | None = Field(
        default=None,
        description="annual volatility of the value: a number, or posterior draws (one per path)",
    )
    volatility_id: str | None = Field(
        default=None,
        max_length=64,
        description="a stored volatility estimate: its posterior draws, one per path",
    )
    currency: Currency | None = Field(
        default=None,
        description="ISO 4217 code of the money figures; a stored valuation's by default",
    )
    horizon_years: float = Field(gt=0, le=30, description="loan term, years")
    loan_amount: Money | None = None
    lender_practice: Literal["cn", "uk"] | None = None
    max_ltv: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), DECIMAL] | None = None
    liquidation_discount: _Rate = 0.30
    forced_liquidation_discount: _Rate = 0.60
    time_to_sell_years: float = Field(default=0.5, ge=0, le=10)
    drift: Drift = Field(default=0.0, description="expected annual return")
    annual_pd: YearlyProbability | None = Field(
        default=None, description="borrower's yearly probability of default"
    )
    risk_sharing: RiskSharing = Field(default_factory=RiskSharing)
    legal_risk: CollateralLegalRisk = Field(default_factory=CollateralLegalRisk)
    steps_per_year: int = Field(default=12, ge=1, le=365)
    paths: int = Field(default=20_000, ge=1_000, le=1_000_000)
    seed: Seed | None = None

    @model_validator(mode="after")
    def _valuation_given(self) -> CollateralRequest:
        if self.valuation_id is None and self.value is None:
            raise ValueError("value: give value (with volatility) or a stored valuation_id")
        if self.valuation_id is not None and self.value is not None:
            raise ValueError("value: give value or valuation_id, not both")
        if self.volatility is not None and self.volatility_id is not None:
            raise ValueError("volatility: give volatility or volatility_id, not both")
        if self.volatility is None and self.volatility_id is None and self.valuation_id is None:
            raise ValueError("volatility: give the value's annual volatility or posterior draws")
        if isinstance(self.volatility, list) and not 1 <= len(self.volatility) <= (
            MAX_VOLATILITY_DRAWS
        ):
            raise ValueError(
                f"volatility: give between 1 and {MAX_VOLATILITY_DRAWS} posterior draws"
            )
        if self.forced_liquidation_discount < self.liquidation_discount:
            raise ValueError(
                "forced_liquidation_discount: a forced sale cannot fetch more than an orderly "
                f"one; got {self.forced_liquidation_discount:g} < liquidation_discount "
                f"{self.liquidation_discount:g}"
            )
        steps = self.paths * max(
            1, round((self.horizon_years + self.time_to_sell_years) * self.steps_per_year)
        )
        if steps > MAX_PATH_STEPS:
            raise ValueError(
                f"paths: paths x time steps is {steps:,}, above the limit {MAX_PATH_STEPS:,}; "
                "use fewer paths or steps_per_year"
            )
        return self

    @property
    def cap(self) -> float:
        """The LTV cap used: ``max_ltv``, else the lender practice's, else China's 30 %."""
        if self.max_ltv is not None:
            return self.max_ltv
        return LENDER_PRACTICE_MAX_LTV[self.lender_practice or "cn"]


class LoanLoss(BaseModel):
    """Expected loss on the loan from default and collateral shortfall."""

    prob_default: float = Field(description="probability the borrower defaults within the term")
    expected_loss: Estimate = Field(description="E[loss], before risk sharing, money")
    loss_given_default: float = Field(description="expected loss / (PD x loan), decimal")
    expected_loss_lender: Estimate = Field(description="the lender's share after risk sharing")
    lender_share: float


class CollateralResult(BaseModel):
    """Answer of ``POST /v1/collateral``."""

    currency: str | None = Field(default=None, description="ISO 4217 code of the money figures")
    value: float = Field(description="starting (appraised) value, money")
    horizon_years: float
    range: ValueRange
    mean_at_horizon: Estimate
    var95: float = Field(description="value at risk at 95 %, loss from the starting value")
    es95: float = Field(
        description="expected shortfall at 95 % (Acerbi-Tasche), loss from the starting value"
    )
    var99: float
    es99: float
    se_var95: float | None = Field(default=None, description="standard error of var95")
    se_es95: float | None = Field(default=None, description="standard error of es95")
    se_var99: float | None = None
    se_es99: float | None = None
    orderly_liquidation_value: float
    forced_liquidation_value: float
    lending_value: float
    implied_haircut: float = Field(description="1 - p05 / starting value")
    max_ltv: float
    max_loan: float
    loan_amount: float | None
    loan_assessed: float = Field(
        description="the loan the LTV figures use: loan_amount, else max_loan, money"
    )
    ltv: float | None = Field(
        description="loan assessed / starting value; null for a loan on a starting value of 0"
    )
    within_limit: bool | None = Field(
        default=None, description="loan_amount <= max_loan; null without a loan_amount"
    )
    prob_ltv_breach: Estimate = Field(
        description="probability LTV exceeds max_ltv at any monitoring date during the term"
    )
    prob_ltv_breach_at_horizon: Estimate
    loan_loss: LoanLoss | None
    bands: dict[str, list[float]] = Field(description="value quantiles per time step")
    times: list[float]
    assumptions: list[str]
    warnings: list[str] = Field(default_factory=list)
    seed: int
    paths: int
