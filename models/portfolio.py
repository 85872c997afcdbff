"""Portfolio screening: the request (many assets, simulation settings) and the ranked result.

Money is in the request's ``currency``; rates and probabilities are decimals; durations are
years. Losses (VaR, ES) are measured from the starting value, positive numbers being losses.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from ipvalue.models.asset import AssetKind, LegalStatus
from ipvalue.models.base import Strict
from ipvalue.models.fields import (
    DECIMAL,
    Country,
    Currency,
    Drift,
    Finite,
    IsoDate,
    YearlyProbability,
)
from ipvalue.models.measures import LevelTail, Seed

MAX_ASSETS = 100_000
"""Hard cap on assets per request; deployments set a lower limit for uploads."""

PORTFOLIO_LEVELS = (0.95, 0.99)
"""Confidence levels always reported for the portfolio (``var95``, ``es99``, ...)."""

RankBy = Literal["risk_adjusted_value", "risk_adjusted_ratio"]
"""What orders the ranked table: the score in currency, or the score per unit of value."""

PTAB_CANCEL_PROBABILITY = 0.71 * 0.74
"""Chance that a pending challenge removes the right: 71 % of petitions instituted (PTAB FY2024,
68-74 %) x 74 % of instituted claims cancelled (docs/domain.md). Applied to every kind
[convention]."""


class PortfolioAsset(Strict):
    """One holding of a screened portfolio (one CSV row, or one item of the JSON list).

    ``value`` is today's point value (currency) and ``volatility`` the annual volatility of its
    log value. Legal fields are optional: ``expiry_date`` or ``remaining_life_years`` (not both)
    say when protection ends, else the statutory term from ``filing_date`` (registered
    trademarks renew, so their ``expiry_date`` does not end them); ``invalidation_hazard`` and
    ``lapse_hazard`` (yearly probabilities) override the asset kind's defaults.
    """

    id: str = Field(min_length=1, max_length=200, description="the fund's identifier; unique")
    name: str | None = Field(default=None, max_length=500, description="defaults to id")
    kind: AssetKind
    sector: str = Field(min_length=1, max_length=200)
    technology: str | None = Field(default=None, max_length=200)
    jurisdiction: Country | None = None
    value: float = Field(gt=0, le=1e13, description="point value today, currency")
    volatility: Annotated[float, Field(ge=0, le=5, allow_inf_nan=False), DECIMAL] = Field(
        description="annual volatility of the log value"
    )
    status: LegalStatus = "granted"
    filing_date: IsoDate | None = Field(
        default=None, description="dates the statutory term when expiry_date is not given"
    )
    grant_date: IsoDate | None = Field(
        default=None, description="dates the patent maintenance-fee lapse schedule"
    )
    expiry_date: IsoDate | None = None
    remaining_life_years: float | None = Field(default=None, ge=0, le=200)
    under_challenge: bool = Field(
        default=False, description="an invalidation or opposition proceeding is pending"
    )
    invalidation_hazard: YearlyProbability | None = Field(default=None, description="per year")
    lapse_hazard: YearlyProbability | None = Field(default=None, description="per year")

    @field_validator("id", "sector")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @model_validator(mode="after")
    def _one_life(self) -> PortfolioAsset:
        if self.expiry_date is not None and self.remaining_life_years is not None:
            raise ValueError(
                "remaining_life_years: give expiry_date or remaining_life_years, not both"
            )
        return self

    @property
    def label(self) -> str:
        """The name to show: ``name``, or ``id`` when no name is given."""
        return self.name or self.id


class SectorCorrelation(Strict):
    """Dependence between assets: a Gaussian copula with one factor per group.

    The normal score of asset i in group g is ``sqrt(inter) G + sqrt(intra - inter) S_g +
    sqrt(1 - intra) e_i`` with independent standard normals G (market), S_g (group) and e_i, so
    two assets in one group correlate ``intra`` and assets in different groups ``inter``.
    Defaults are conventions, not estimates.
    """

    intra: float = Field(default=0.4, ge=0, le=1, description="correlation within a group")
    inter: float = Field(default=0.1, ge=0, le=1, description="correlation across groups")
    group_by: Literal["sector", "technology"] = Field(
        default="sector", description="technology falls back to sector where it is missing"
    )

    @model_validator(mode="after")
    def _ordered(self) -> SectorCorrelation:
        if self.inter > self.intra:
            raise ValueError(
                f"inter: must not exceed intra ({self.intra}) in a one-factor-per-group model; "
                f"got {self.inter}"
            )
        return self


class PortfolioRequest(Strict):
    """Body of ``POST /v1/portfolios/screen`` (assets as a JSON list) and the CLI's settings."""

    assets: list[PortfolioAsset] = Field(min_length=1, max_length=MAX_ASSETS)
    currency: Currency = "EUR"
    valuation_date: IsoDate = Field(
        default_factory=dt.date.today, description="dates expiry_date and grant_date refer to"
    )
    horizon_years: float = Field(default=1.0, gt=0, le=30)
    paths: int = Field(default=10_000, ge=200, le=1_000_000)
    seed: Seed | None = Field(default=None, description="None draws fresh entropy")
    drift: Drift = Field(default=0.0, description="expected annual return")
    correlation: SectorCorrelation = Field(default_factory=SectorCorrelation)
    confidence_levels: list[Finite] = Field(
        default_factory=lambda: list(PORTFOLIO_LEVELS),
        max_length=10,
        description="portfolio VaR/ES levels; 0.95 and 0.99 are always included",
    )
    top_n: list[int] = Field(default_factory=lambda: [5, 10], max_length=10)
    es_multiple: float = Field(
        default=0.5, ge=0, le=10, description="k in risk_adjusted_value = mean - k es95"
    )
    rank_by: RankBy = Field(
        default="risk_adjusted_value",
        description="risk_adjusted_value (currency) or risk_adjusted_ratio (per unit of value)",
    )
    challenge_loss_probability: float = Field(
        default=PTAB_CANCEL_PROBABILITY,
        ge=0,
        le=1,
        description="chance a pending challenge ends protection within the horizon",
    )

    @field_validator("confidence_levels")
    @classmethod
    def _levels(cls, v: list[float]) -> list[float]:
        for level in v:
            if not 0.5 <= level < 1:
                raise ValueError(f"each level must be in [0.5, 1); got {level}")
        return sorted(set(v) | set(PORTFOLIO_LEVELS))

    @field_validator("top_n")
    @classmethod
    def _top(cls, v: list[int]) -> list[int]:
        for n in v:
            if n < 1:
                raise ValueError(f"each entry must be a positive count; got {n}")
        return sorted(set(v))

    @model_validator(mode="after")
    def _unique_ids(self) -> PortfolioRequest:
        seen: dict[str, int] = {}
        for i, asset in enumerate(self.assets):
            if asset.id in seen:
                raise ValueError(
                    f"assets: asset {i} repeats the id {asset.id!r} of asset {seen[asset.id]}"
                )
            seen[asset.id] = i
        return self


class AssetRisk(BaseModel):
    """One ranked row: an asset's value range at the horizon and its risk figures (currency)."""

    rank: int = Field(description="1 = highest rank_by score (risk_adjusted_value by default)")
    id: str
    name: str
    kind: str
    sector: str
    technology: str | None
    value: float = Field(description="point value today")
    weight: float = Field(description="share of the portfolio's value today")
    mean: float = Field(description="simulated mean value at the horizon")
    se_mean: float = Field(description="standard error of mean")
    p05: float
    p50: float
    p95: float
    se_p05: float = Field(description="standard error of p05 (order-statistic interval / 3.92)")
    se_p50: float | None = Field(default=None, description="standard error of p50, likewise")
    var95: float = Field(description="value - p05: stand-alone VaR 95 %, loss from value")
    es95: float = Field(description="value - mean of the worst 5 % of outcomes (Acerbi-Tasche)")
    var99: float
    es99: float
    se_es95: float | None = Field(default=None, description="standard error of es95")
    prob_protection_loss: float = Field(
        description="probability that protection ends within the horizon (model, exact)"
    )
    expires_within_horizon: bool
    under_challenge: bool
    risk_adjusted_value: float = Field(description="mean - es_multiple x es95; ranks the rows")
    risk_adjusted_ratio: float = Field(description="risk_adjusted_value / value")


class PortfolioTail(LevelTail):
    """Portfolio VaR and ES at one level, losses from the total value today (currency)."""

    standalone_var_sum: float = Field(description="sum of the assets' stand-alone VaRs")
    diversification_benefit: float = Field(description="standalone_var_sum - var")


class PortfolioTotals(BaseModel):
    """The portfolio's value at the horizon and its tail risk, with dependence (currency)."""

    n_assets: int
    total_value: float = Field(description="sum of values today")
    mean: float
    se_mean: float
    sd: float
    p05: float
    p50: float
    p95: float
    var95: float
    es95: float
    var99: float
    es99: float
    diversification_benefit95: float
    diversification_benefit99: float
    tail: list[PortfolioTail]
    expected_protection_losses: float = Field(
        description="expected number of assets losing protection within the horizon"
    )


class Concentration(BaseModel):
    """How concentrated the portfolio is, by value today (shares are decimals)."""

    top_shares: dict[str, float] = Field(description='"top_5" -> share of the 5 largest, ...')
    hhi: float = Field(description="Herfindahl-Hirschman index of weights, in (0, 1]")
    effective_number: float = Field(description="1 / hhi")
    largest_sector: str
    largest_sector_share: float
    sector_hhi: float
    sector_shares: dict[str, float]
    share_expiring_within_horizon: float
    share_under_challenge: float
    share_protection_lost: float = Field(description="status lapsed, expired or invalidated")


class ScreenSettings(BaseModel):
    """What the run used, so it can be repeated bit for bit."""

    paths: int
    horizon_years: float
    valuation_date: dt.date
    drift: float
    seed_entropy: int = Field(description="SeedSequence entropy; pass it as seed to repeat")
    correlation: SectorCorrelation
    groups: int = Field(description="number of copula groups (sectors or technologies)")
    block_assets: int = Field(description="assets per random stream / chunk")
    es_multiple: float
    challenge_loss_probability: float
    score: str = Field(description="how assets are ranked")
    model: str = Field(description="the simulation model in one sentence")


class RowProblem(BaseModel):
    """One problem of a rejected upload row, as in a problem+json ``errors`` item."""

    field: str = Field(description="rows[N].column (N = 1-based data row)")
    message: str


class RejectedRow(BaseModel):
    """A row of a CSV or Excel upload left out under ``on_error=skip``, and why."""

    row: int = Field(description="1-based data row (the header and blank lines not counted)")
    line: int = Field(description="line of the CSV file, or row of the Excel sheet")
    id: str | None = Field(default=None, description="the row's id cell, when it has one")
    errors: list[RowProblem]


class PortfolioResult(BaseModel):
    """Answer of ``POST /v1/portfolios/screen``: assets ranked, portfolio totals, concentration."""

    currency: str
    assets: list[AssetRisk]
    totals: PortfolioTotals
    concentration: Concentration
    settings: ScreenSettings
    rejected: list[RejectedRow] = Field(
        default_factory=list,
        description="upload rows left out under on_error=skip (always empty otherwise)",
    )
