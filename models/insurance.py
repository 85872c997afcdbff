"""Insurance quotes: the body and answer of ``POST /v1/insurance/quotes``.

Two covers, chosen by ``cover``:

- ``collateral_value``: pays the lender's shortfall ``max(loan - recovery, 0)`` when the borrower
  defaults and the IP is then worth less than the loan (a put on the IP's value at default,
  docs/domain.md "Insurance");
- ``litigation``: IP litigation and invalidation cover, priced by a frequency-severity simulation.

Quotes are computed by :mod:`risk.insurance`. Money is in the request's currency, rates are
decimals, durations are years.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, Field, field_validator, model_validator

from ipvalue.models.asset import DEAD_STATUSES, Asset
from ipvalue.models.base import Strict
from ipvalue.models.collateral import CollateralLegalRisk
from ipvalue.models.errors import field_error
from ipvalue.models.fields import DECIMAL, Currency, Drift, Money, PositiveMoney, YearlyProbability
from ipvalue.models.measures import Estimate, Seed, ValueRange
from ipvalue.models.measures import QuantileCI as QuantileEstimate

_Money: TypeAlias = Money
_PositiveMoney: TypeAlias = PositiveMoney
_Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), DECIMAL]
_Sigma = Annotated[float, Field(gt=0, le=5, allow_inf_nan=False), DECIMAL]

MAX_VOLATILITY_DRAWS = 100_000
"""Most posterior volatility draws accepted in one request."""

MAX_CLAIM_DRAWS = 10_000_000
"""Bound on paths x expected claims a year, so a litigation quote fits in memory."""

DEFAULT_SEVERITY_MEDIAN = 5_900_000.0
"""Median US patent damages award, about USD 5.9m (PwC studies; docs/domain.md)."""

DEFAULT_INSTITUTION_RATE = 0.71
"""Share of PTAB petitions instituted, midpoint of about 68-74 % (FY2024; docs/domain.md)."""

DEFAULT_CANCELLATION_RATE = 0.74
"""Share of instituted claims that end cancelled, about 74 % (PTAB FY2024; docs/domain.md)."""

DEFAULT_RETENTION_SHARE = 0.02
"""Retention of defensive patent insurance, about 2 % of the limit (docs/domain.md)."""


class Pricing(Strict):
    """How expected loss becomes a premium.

    ``premium = expected_loss / (1 - expense_loading - profit_loading)
    + cost_of_capital * capital_share * (ES99 - expected_loss) * period_years``.

    Parameters
    ----------
    expense_loading : float
        Share of the risk premium for expenses, decimal. Default 0.20: a policy default; set it
        from the insurer's own expense ratio.
    profit_loading : float
        Share of the risk premium for profit, decimal. Default 0.05: a policy default.
    cost_of_capital : float
        Annual cost of the capital held against the tail, decimal. Default 0.06: the Solvency II
        cost-of-capital rate for the risk margin (Delegated Regulation (EU) 2015/35, Art. 39).
    capital_share : float
        Share of the standalone ES99 capital charged to this policy, decimal in (0, 1]; below 1
        when the insurer credits diversification across its book. Default 1 (standalone).
    """

    expense_loading: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.20
    profit_loading: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.05
    cost_of_capital: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.06
    capital_share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0

    @model_validator(mode="after")
    def _loadings_below_one(self) -> Pricing:
        total = self.expense_loading + self.profit_loading
        if total >= 1:
            raise field_error(
                "Pricing",
                ("expense_loading",),
                f"expense_loading + profit_loading must be below 1; got {total:g}",
                self.expense_loading,
            )
        return self


class QuoteSimulation(Strict):
    """Monte Carlo settings of a quote (a valuation's are :class:`models.valuation.Simulation`).

    Parameters
    ----------
    paths : int
        Simulated paths (policy periods), 1,000 to 2,000,000. Default 100,000.
    seed : int, optional
        Seed of the ``numpy.random.SeedSequence``, in [0, 2**63); when omitted a fresh one is
        drawn and reported in the quote, so the run can be repeated.
    """

    paths: int = Field(default=100_000, ge=1_000, le=2_000_000)
    seed: Seed | None = None


class CollateralExposure(Strict):
    """The pledged IP and the loan behind a collateral-value cover.

    Parameters
    ----------
    value : float
        Value of the IP today, money (> 0).
    volatility : float or list of float
        Annual volatility of the value (0.4 = 40 %), or posterior draws of it; with draws, each
        path takes its own sigma (draws are used equally often).
    loan_amount : float
        Amount outstanding at default (bullet loan), money (> 0).
    horizon_years : float
        Loan term covered, years in (0, 50].
    annual_pd : float
        Annual probability that the borrower defaults, decimal in [0, 1). Default times are
        exponential with hazard ``-ln(1 - annual_pd)``.
    liquidation_discount : float
        Share of value lost in a sale after default, decimal in [0, 1). Default 0 (value already
        on a liquidation basis).
    time_to_sell_years : float
        Years from default to the sale; the recovery is the value then. Default 0.
    drift : float
        Expected annual return of the value (``E[V_t] = value * exp(drift * t)``). Default 0.
    legal_risk : CollateralLegalRisk, optional
        Legal events on the value, as in ``POST /v1/collateral``: the right stops (value 0) with
        yearly probability ``stop_hazard`` or at ``remaining_life_years``, and loses
        ``loss_share`` with a lost case (``loss_hazard``). Default none.
    """

    value: _PositiveMoney
    volatility: _Sigma | list[_Sigma]
    loan_amount: _PositiveMoney
    horizon_years: Annotated[float, Field(gt=0, le=50, allow_inf_nan=False)]
    annual_pd: YearlyProbability
    liquidation_discount: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    time_to_sell_years: Annotated[float, Field(ge=0, le=20, allow_inf_nan=False)] = 0.0
    drift: Drift = 0.0
    legal_risk: CollateralLegalRisk = Field(default_factory=CollateralLegalRisk)

    @field_validator("volatility")
    @classmethod
    def _draws(cls, value: float | list[float]) -> float | list[float]:
        if isinstance(value, list) and not 1 <= len(value) <= MAX_VOLATILITY_DRAWS:
            raise ValueError(
                f"give 1 to {MAX_VOLATILITY_DRAWS} posterior draws of volatility; got {len(value)}"
            )
        return value


class CollateralQuoteRequest(Strict):
    """Quote request for collateral-value cover.

    The insurer pays ``min(share_insured * max(shortfall - retention, 0), limit)`` with
    ``shortfall = max(loan_amount - (1 - liquidation_discount) * value_at_sale, 0)`` on default
    within the horizon.

    Parameters
    ----------
    cover : "collateral_value"
    collateral : CollateralExposure
    limit : float, optional
        Most the insurer pays, money (> 0). Default ``share_insured * loan_amount``.
    retention : float
        Part of the shortfall the lender keeps before the cover pays, money. Default 0.
    share_insured : float
        Share of the shortfall above the retention that the insurer bears, decimal in (0, 1]
        (0.6 in the 60 : 20 : 20 insurer : bank : guarantor schemes, docs/domain.md). Default 1.
    """

    cover: Literal["collateral_value"]
    collateral: CollateralExposure | None = None
    collateral_id: str | None = Field(
        default=None,
        max_length=64,
        description="a stored collateral assessment (POST /v1/collateral) to take collateral "
        "from, instead of giving it",
    )
    currency: Currency | None = Field(
        default=None, description="ISO 4217 code of the money figures"
    )
    limit: _PositiveMoney | None = None
    retention: _Money = 0.0
    share_insured: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0
    pricing: Pricing = Field(default_factory=Pricing)
    simulation: QuoteSimulation = Field(default_factory=QuoteSimulation)

    @model_validator(mode="after")
    def _retention_below_loan(self) -> CollateralQuoteRequest:
        if (self.collateral is None) == (self.collateral_id is None):
            raise field_error(
                "CollateralQuoteRequest",
                ("collateral",),
                "give collateral (the pledged IP and the loan) or a stored collateral_id, not both",
                None,
            )
        if self.collateral is None:
            return self
        if self.retention >= self.collateral.loan_amount:
            raise field_error(
                "CollateralQuoteRequest",
                ("retention",),
                f"must be below collateral.loan_amount ({self.collateral.loan_amount:g}), or the "
                f"cover never pays; got {self.retention:g}",
                self.retention,
            )
        return self

    @property
    def exposure(self) -> CollateralExposure:
        """The collateral; a request naming ``collateral_id`` must have it looked up first."""
        if self.collateral is None:
            raise ValueError("collateral: look up collateral_id before quoting")
        return self.collateral

    @property
    def effective_limit(self) -> float:
        """The limit, or ``share_insured * loan_amount`` when none is given."""
        if self.limit is not None:
            return self.limit
        return self.share_insured * self.exposure.loan_amount


class Suits(Strict):
    """Infringement suits: Poisson frequency, lognormal severity (damages and defence costs).

    Parameters
    ----------
    frequency : float
        Expected suits a year, in [0, 10]. No default: take it from the insured's history.
    severity_median : float
        Median loss per suit, money. Default 5.9m (median US patent damages, USD; docs/domain.md);
        give your own in other currencies.
    severity_sigma : float
        Standard deviation of the log loss. Default 1.5: an assumption (mean about three times the
        median), not a published figure; override from claims data.
    """

    frequency: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]
    severity_median: _PositiveMoney = DEFAULT_SEVERITY_MEDIAN
    severity_sigma: Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)] = 1.5


class Invalidation(Strict):
    """Invalidation petitions (PTAB-style): each instituted with ``institution_rate``, and then the
    claims cancelled with ``cancellation_rate``.

    Parameters
    ----------
    frequency : float
        Expected petitions a year, in [0, 10].
    loss_if_cancelled : float
        Loss when the claims are cancelled (the value of the right lost), money.
    defence_cost : float
        Cost of defending one instituted petition, money. Default 0.
    institution_rate : float
        Default 0.71 (PTAB FY2024: about 68-74 % of petitions instituted; docs/domain.md).
    cancellation_rate : float
        Default 0.74 (PTAB FY2024: about 74 % of instituted claims cancelled; docs/domain.md).
    """

    frequency: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]
    loss_if_cancelled: _Money
    defence_cost: _Money = 0.0
    institution_rate: _Rate = DEFAULT_INSTITUTION_RATE
    cancellation_rate: _Rate = DEFAULT_CANCELLATION_RATE


class LitigationQuoteRequest(Strict):
    """Quote request for IP litigation / invalidation cover over one policy year.

    Each claim pays ``min(max(loss - retention, 0), limit_per_claim)``; the year pays
    ``min(share_insured * max(sum - aggregate_retention, 0), limit)``.

    Parameters
    ----------
    cover : "litigation"
    asset : Asset, optional
        The insured right; a lapsed, expired or invalidated right cannot be insured.
    suits, invalidation : optional
        The two claim streams; at least one is needed.
    limit : float
        Annual aggregate limit, money (> 0).
    retention : float, optional
        Retention per claim, money. Default 2 % of the limit (docs/domain.md).
    limit_per_claim : float, optional
        Most paid per claim, money. Default: the aggregate limit.
    aggregate_retention : float
        Annual aggregate retention after per-claim retentions, money. Default 0.
    share_insured : float
        Share of the loss the insurer bears, decimal in (0, 1]. Default 1.
    """

    cover: Literal["litigation"]
    currency: Currency | None = Field(
        default=None, description="ISO 4217 code of the money figures"
    )
    asset: Asset | None = None
    suits: Suits | None = None
    invalidation: Invalidation | None = None
    limit: _PositiveMoney
    retention: _Money | None = None
    limit_per_claim: _PositiveMoney | None = None
    aggregate_retention: _Money = 0.0
    share_insured: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0
    pricing: Pricing = Field(default_factory=Pricing)
    simulation: QuoteSimulation = Field(default_factory=QuoteSimulation)

    @model_validator(mode="after")
    def _check(self) -> LitigationQuoteRequest:
        if self.suits is None and self.invalidation is None:
            raise field_error(
                "LitigationQuoteRequest",
                ("suits",),
                "give suits, invalidation or both; the cover has no claims",
                None,
            )
        if self.asset is not None and self.asset.legal.status in DEAD_STATUSES:
            raise field_error(
                "LitigationQuoteRequest",
                ("asset", "legal", "status"),
                f"a {self.asset.legal.status} right cannot be insured",
                self.asset.legal.status,
            )
        claims = self.expected_claims * self.simulation.paths
        if claims > MAX_CLAIM_DRAWS:
            raise field_error(
                "LitigationQuoteRequest",
                ("simulation", "paths"),
                f"paths x expected claims a year = {claims:.3g} exceeds {MAX_CLAIM_DRAWS:.3g}; "
                "use fewer paths",
                self.simulation.paths,
            )
        return self

    @property
    def expected_claims(self) -> float:
        """Expected suits plus petitions a year."""
        return sum(s.frequency for s in (self.suits, self.invalidation) if s is not None)

    @property
    def effective_retention(self) -> float:
        """Per-claim retention, or 2 % of the limit when none is given."""
        if self.retention is not None:
            return self.retention
        return DEFAULT_RETENTION_SHARE * self.limit

    @property
    def effective_limit_per_claim(self) -> float:
        """Per-claim limit, or the aggregate limit when none is given."""
        return self.limit if self.limit_per_claim is None else self.limit_per_claim


InsuranceQuoteRequest = Annotated[
    CollateralQuoteRequest | LitigationQuoteRequest, Field(discriminator="cover")
]
"""Body of ``POST /v1/insurance/quotes``, chosen by ``cover``."""


class CollateralValue(BaseModel):
    """The pledged right's value at the end of the cover's term on the simulated paths.

    The same lognormal process with legal stops (and the same paths) as the losses, so the quote
    shows what the cover is written on; losses (VaR, ES) are measured from ``value``.
    """

    value: float = Field(description="value today, money")
    horizon_years: float
    range: ValueRange
    mean: Estimate
    var95: float = Field(description="value - p05, money")
    es95: Estimate = Field(description="value - mean of the worst 5 % (Acerbi-Tasche), money")


class Breakdown(Strict):
    """How the premium is built, and the loss distribution behind it (money unless noted).

    ``premium = risk_premium + capital_charge``, ``risk_premium = expected_loss /
    (1 - expense_loading - profit_loading) = expected_loss + expense_amount + profit_amount``,
    ``capital_charge = cost_of_capital * capital * period_years``,
    ``capital = capital_share * (es99 - expected_loss)``.
    """

    expected_loss: Estimate
    ground_up_expected_loss: Estimate
    expense_loading: float
    profit_loading: float
    risk_premium: float
    expense_amount: float
    profit_amount: float
    cost_of_capital: float
    capital_share: float
    capital: float
    capital_charge: float
    period_years: float
    var99: QuantileEstimate
    es99: Estimate
    limit: float
    rate_on_line: float
    annual_rate_on_line: float
    prob_claim: Estimate
    quantiles: dict[str, QuantileEstimate]
    details: dict[str, float] = Field(default_factory=dict)
    collateral_value: CollateralValue | None = Field(
        default=None, description="collateral-value cover: the right's value at the horizon"
    )


class InsuranceQuote(Strict):
    """Answer of ``POST /v1/insurance/quotes``.

    Parameters
    ----------
    cover : str
        ``collateral_value`` or ``litigation``.
    expected_loss : float
        Mean insured loss over the policy period, money.
    expected_loss_se : float
        Its Monte Carlo standard error.
    premium : float
        Premium for the policy period, money.
    premium_se : float
        Its Monte Carlo standard error (delta method, tail quantile held fixed).
    breakdown : Breakdown
    seed : int
        Seed the run used; the same request with this seed gives the same quote.
    paths : int
        Simulated policy periods.
    """

    cover: Literal["collateral_value", "litigation"]
    currency: str | None = None
    expected_loss: float
    expected_loss_se: float
    premium: float
    premium_se: float
    breakdown: Breakdown
    seed: int
    paths: int

    @model_validator(mode="after")
    def _finite(self) -> InsuranceQuote:
        for name in ("expected_loss", "expected_loss_se", "premium", "premium_se"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name}: not finite; the simulation overflowed")
        return self
