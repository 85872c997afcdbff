"""Request and response of a Bayesian volatility estimate (``POST /v1/volatility``).

The request carries a time series of levels (revenues, royalties, index values) or of per-period
log returns, and how many periods make a year. The response gives the annualised standard
deviation of log returns (``sigma_annual``), not a Student-t scale, with its posterior
uncertainty and the sampler's diagnostics.
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ipvalue.models.asset import AssetKind
from ipvalue.models.base import Strict
from ipvalue.models.fields import Finite

MIN_RETURNS = 6
"""Fewest returns (periods of growth) a volatility estimate accepts."""
MAX_OBSERVATIONS = 20_000
"""Most numbers accepted in one series."""
MAX_RELATED_SERIES = 50
"""Most peer series accepted for the hierarchical model."""

VolatilityModelName = Literal["auto", "student_t", "hierarchical", "stochastic_volatility"]
FittedModelName = Literal["student_t", "hierarchical", "stochastic_volatility"]
SeriesKind = Literal["levels", "returns"]


MAX_ABS_LOG_RETURN = 5.0
"""Largest per-period log return accepted (a factor of about 148): beyond it the units are wrong."""


def n_returns(series: list[float], kind: str) -> int:
    """Number of returns a series gives: one fewer than its length for levels."""
    return len(series) - 1 if kind == "levels" else len(series)


def _check_series(values: list[float], kind: str, field: str) -> None:
    """Raise ``ValueError`` naming ``field`` when ``values`` cannot give returns."""
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise ValueError(f"{field}[{i}]: must be a finite number; got {v}")
    if kind == "levels":
        for i, v in enumerate(values):
            if v <= 0:
                raise ValueError(
                    f"{field}[{i}]: levels must be positive (growth is measured in logs); got {v}."
                    ' If these numbers are already returns, send "kind": "returns"'
                )
    steps = [math.log(b / a) for a, b in itertools.pairwise(values)] if kind == "levels" else values
    for i, r in enumerate(steps):
        if abs(r) > MAX_ABS_LOG_RETURN:
            where = f"{field}[{i + 1}]" if kind == "levels" else f"{field}[{i}]"
            raise ValueError(
                f"{where}: a log return of {r:.3g} in one period (a factor "
                f"{math.exp(min(abs(r), 700)):.3g}) is beyond any asset's value; returns are "
                'per-period log returns, e.g. 0.05 for 5 %, or send "kind": "levels"'
            )
    got = n_returns(values, kind)
    if got < MIN_RETURNS:
        need = MIN_RETURNS + 1 if kind == "levels" else MIN_RETURNS
        raise ValueError(
            f"{field}: need at least {need} observations ({MIN_RETURNS} returns) to estimate a"
            f" volatility; got {len(values)}"
        )
    if len(set(values)) == 1 or (kind == "levels" and _constant_growth(values)):
        raise ValueError(
            f"{field}: every period grows by the same amount, so the series shows no volatility;"
            " send a series that varies"
        )


def _constant_growth(levels: list[float]) -> bool:
    growth = [math.log(b / a) for a, b in itertools.pairwise(levels)]
    return max(growth) - min(growth) == 0.0


class VolatilityPriors(Strict):
    """Overrides of the prior table (``risk.volatility.priors``); omitted fields keep the table's.

    All volatilities are annualised standard deviations of log returns (0.4 = 40 % a year).
    """

    sigma_median: float | None = Field(
        default=None, gt=0, le=10, description="prior median of sigma_annual, annual decimal"
    )
    sigma_log_sd: float | None = Field(
        default=None, gt=0, le=5, description="prior sd of log(sigma_annual); larger = vaguer"
    )
    drift_sd: float | None = Field(
        default=None, gt=0, le=10, description="prior sd of the mean log growth, per year"
    )
    pooling_sd: float | None = Field(
        default=None,
        gt=0,
        le=5,
        description="hierarchical model: prior scale of the spread of log volatility across series",
    )
    step_sd: float | None = Field(
        default=None,
        gt=0,
        le=20,
        description="stochastic volatility: prior scale of the yearly change of log volatility",
    )


class VolatilityRequest(Strict):
    """What to estimate a volatility from.

    Parameters
    ----------
    series : list of float
        Levels (positive: revenues, royalties, prices) or per-period log returns, oldest first.
    kind : {"levels", "returns"}
        Whether ``series`` holds levels (log growth is taken) or log returns already.
    periods_per_year : float
        Observations per year (4 for quarterly, 12 monthly, 52 weekly, 252 trading days).
    model : {"auto", "student_t", "hierarchical", "stochastic_volatility"}
        ``auto`` picks from the data: peers given -> hierarchical, 150 returns or more ->
        stochastic volatility, otherwise Student-t.
    related_series : list of list of float, optional
        Peer series (comparables, same sector) of the same ``kind`` and ``periods_per_year``;
        the hierarchical model pools their volatility with the asset's.
    asset_kind, sector : str, optional
        Choose the prior from the documented table.
    priors : VolatilityPriors, optional
        Overrides of the table's prior.
    previous_sigma : float, optional
        Annualised volatility at the last appraisal; the result then carries the posterior
        probability that volatility has risen above it.
    seed : int, optional
        Seed of the sampler; the result records the one used, so a run can be repeated.
    draws, tune, chains : int
        Posterior draws and tuning steps per chain, and the number of chains.
    """

    series: list[Finite] = Field(max_length=MAX_OBSERVATIONS)
    kind: SeriesKind
    periods_per_year: float = Field(ge=0.1, le=100_000)
    model: VolatilityModelName = "auto"
    related_series: list[list[Finite]] | None = Field(default=None, max_length=MAX_RELATED_SERIES)
    asset_kind: AssetKind | None = None
    sector: str | None = Field(default=None, max_length=200)
    priors: VolatilityPriors | None = None
    previous_sigma: float | None = Field(default=None, gt=0, le=10)
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    draws: int = Field(default=1000, ge=50, le=20_000)
    tune: int = Field(default=1000, ge=50, le=20_000)
    chains: int = Field(default=4, ge=2, le=8)

    @field_validator("periods_per_year")
    @classmethod
    def _finite_periods(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"periods_per_year: must be a finite number; got {value}")
        return value

    @model_validator(mode="after")
    def _check(self) -> VolatilityRequest:
        _check_series(self.series, self.kind, "series")
        for j, peer in enumerate(self.related_series or []):
            if len(peer) > MAX_OBSERVATIONS:
                raise ValueError(
                    f"related_series[{j}]: at most {MAX_OBSERVATIONS} observations; got {len(peer)}"
                )
            _check_series(peer, self.kind, f"related_series[{j}]")
        if self.model == "hierarchical" and not self.related_series:
            raise ValueError(
                "related_series: the hierarchical model needs at least one peer series; add"
                ' related_series or choose "model": "student_t"'
            )
        if self.model == "stochastic_volatility" and self.related_series:
            raise ValueError(
                "related_series: the stochastic_volatility model takes one series; drop"
                ' related_series or choose "model": "hierarchical"'
            )
        if self.model == "student_t" and self.related_series:
            raise ValueError(
                "related_series: the student_t model takes one series; drop related_series or"
                ' choose "model": "hierarchical"'
            )
        return self


class SigmaSummary(BaseModel):
    """Posterior summary of an annualised volatility (decimals: 0.25 = 25 % a year)."""

    model_config = ConfigDict(extra="forbid")

    mean: float
    median: float
    hdi_low: float
    hdi_high: float


class VolatilityDiagnostics(BaseModel):
    """Sampler diagnostics over the reported quantities and the model's hyperparameters.

    ``reliable`` is false when the largest R-hat exceeds 1.01, the smallest bulk ESS is below
    400 or any transition diverged, after one re-run with more tuning; ``advice`` then says
    what to change.
    """

    model_config = ConfigDict(extra="forbid")

    r_hat: float
    ess_bulk: float
    divergences: int
    reliable: bool
    advice: list[str] = Field(default_factory=list)
    reruns: int = 0


class VolatilityResult(BaseModel):
    """The answer of ``POST /v1/volatility``."""

    model_config = ConfigDict(extra="forbid")

    sigma_annual: SigmaSummary = Field(
        description="annualised sd of log returns over the observed window (not a t scale)"
    )
    sigma_current: SigmaSummary | None = Field(
        default=None, description="latest annualised volatility (stochastic volatility model)"
    )
    model: FittedModelName
    diagnostics: VolatilityDiagnostics
    prob_volatility_rose: float | None = Field(
        default=None, description="posterior P(current volatility > previous_sigma)"
    )
    previous_sigma: float | None = None
    n_observations: int = Field(description="returns of the asset's series used in the fit")
    periods_per_year: float
    hdi_prob: float = Field(description="probability mass of the highest-density intervals")
    sampler: str
    seed: int
    draws: int
    tune: int
    chains: int
    priors: dict[str, float | str] = Field(default_factory=dict, description="priors used")
    posterior_sigma_draws: list[float] | None = Field(
        default=None,
        description="posterior draws of the current annualised volatility (evenly thinned to "
        "at most 10,000); POST /v1/collateral with volatility_id uses them, one per path",
    )
