"""Result of a Monte Carlo valuation: the ``distribution`` object of ``POST /v1/valuations``.

docs/api.md fixes ``mean``, ``sd``, ``p05``, ``p50``, ``p95`` and ``se_mean`` as top-level fields;
the rest adds the error bars and the detail a lender or insurer needs. Money is in the request's
currency, probabilities and shares are decimals, times are years.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ipvalue.models.measures import QuantileCI, TailRisk  # one definition each, shared


class ProbabilityBelow(BaseModel):
    """Probability that the value ends below a threshold, with its standard error."""

    threshold: float
    probability: float
    se: float


class Histogram(BaseModel):
    """Bins for plotting: ``edges`` has one more entry than ``counts``; outer bins hold tails."""

    edges: list[float]
    counts: list[int]


class Driver(BaseModel):
    """How much one uncertain input drives the spread of the value."""

    input: str = Field(description="request path, e.g. methods[0].royalty_rate")
    rank_correlation: float = Field(description="Spearman correlation with the value")
    variance_share: float = Field(
        description="squared rank correlation over the sum of squares of all inputs"
    )


class MethodSummary(BaseModel):
    """One method's simulated distribution."""

    mean: float
    sd: float
    se_mean: float
    p05: float
    p50: float
    p95: float


class CorrelationsUsed(BaseModel):
    """The dependence the simulation applied."""

    inputs: list[str]
    rank_matrix: list[list[float]] = Field(description="as requested, or repaired")
    repaired: bool
    copula: str
    copula_dof: float | None


class LegalRiskUsed(BaseModel):
    """The legal hazards applied and how often each event happened."""

    invalidation_hazard: float | list[float] | None = Field(
        description="yearly probability (a list: per period of the schedule; null: uncertain)"
    )
    lapse_hazard: float | list[float] | None
    lapse_schedule_starts: list[float] | None = Field(
        default=None, description="years from now at which each lapse_hazard period starts"
    )
    litigation_loss_hazard: float | list[float] | None
    litigation_loss_share: float
    sources: dict[str, str]
    within_years: float | None = Field(description="window of the event probabilities below")
    prob_invalidated: float
    prob_lapsed: float
    prob_litigation_loss: float
    applies_to: str


class DistributionSummary(BaseModel):
    """Quantiles with CIs, tail risk and threshold probabilities of a simulated value."""

    mean: float
    sd: float
    se_mean: float
    p05: float
    p50: float
    p95: float
    quantiles: dict[str, QuantileCI]
    tail: TailRisk
    prob_below: list[ProbabilityBelow] = Field(default_factory=list)


class ValuePathBands(BaseModel):
    """Quantile bands of the value over the horizon (lognormal with legal-event jumps)."""

    horizon_years: float
    volatility: float = Field(description="the volatility, or the mean of its posterior draws")
    volatility_draws: int = Field(default=1, description="posterior draws used (1: a number)")
    drift: float
    times: list[float]
    bands: dict[str, list[float]] = Field(description="quantile name -> value per time")
    mean: list[float]
    prob_stopped: list[float] = Field(description="share of paths whose right has stopped")
    at_horizon: DistributionSummary = Field(
        description="value at the horizon; VaR/ES as losses from the point value"
    )


class SimulationResult(BaseModel):
    """The simulated distribution of an asset's value (``distribution`` in the API)."""

    mean: float
    sd: float
    p05: float
    p50: float
    p95: float
    se_mean: float = Field(description="standard error of the mean (antithetic: from pairs)")
    point_value: float = Field(description="the deterministic value VaR and ES are measured from")
    quantiles: dict[str, QuantileCI] = Field(description="p01 ... p99 with their CIs")
    ci_level: float
    var95: float = Field(description="point value minus the 5 % quantile (inverted CDF)")
    es95: float = Field(
        description="point value minus the mean of the worst 5 % of paths (Acerbi-Tasche)"
    )
    var99: float
    es99: float
    prob_below: list[ProbabilityBelow] = Field(default_factory=list)
    histogram: Histogram
    sensitivity: list[Driver]
    sensitivity_paths: int = Field(description="paths the sensitivity ranking was computed on")
    by_method: dict[str, MethodSummary]
    paths: int
    seed: int
    entropy: str = Field(description="SeedSequence entropy (decimal); rerun with it as seed")
    chunk_paths: int = Field(description="paths per independent random stream")
    antithetic: bool
    qmc: bool
    se_method: str
    correlations: CorrelationsUsed | None
    clipped: dict[str, int] = Field(
        description="input path -> draws clipped to the field's allowed range"
    )
    legal_risk: LegalRiskUsed
    value_paths: ValuePathBands | None = None
    warnings: list[str] = Field(default_factory=list)
