"""A valuation request (``POST /v1/valuations``) and its result."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from ipvalue.models.asset import Asset
from ipvalue.models.base import Strict
from ipvalue.models.fields import Currency, Drift, Finite, IsoDate, Rate, Sigma, Weight
from ipvalue.models.methods import MethodInputs
from ipvalue.models.uncertain import Bounds, UncertainNumber

Hazard = Annotated[
    UncertainNumber, Bounds(0, 1, open_high=True, fix="a yearly probability, e.g. 0.02")
]


MAX_VOLATILITY_DRAWS = 100_000


class LegalRisk(Strict):
    """Yearly probabilities of legal events; omitted ones take the asset kind's defaults."""

    invalidation_hazard: Hazard | None = None
    lapse_hazard: Hazard | None = None
    litigation_loss_hazard: Hazard | None = None
    litigation_loss_share: Rate | None = Field(
        default=None, description="share of income lost after losing a case"
    )


class Correlations(Strict):
    """Rank correlations between named uncertain inputs, e.g. ``methods[0].royalty_rate``."""

    inputs: list[str] = Field(min_length=2, max_length=100)
    matrix: list[list[Finite]]
    repair: bool = Field(
        default=False, description="repair a matrix that is not positive semi-definite"
    )

    @model_validator(mode="after")
    def _square(self) -> Correlations:
        n = len(self.inputs)
        if len(self.matrix) != n or any(len(row) != n for row in self.matrix):
            raise ValueError(f"matrix: must be {n} x {n} to match inputs")
        if len(set(self.inputs)) != n:
            raise ValueError("inputs: each input may appear only once")
        for i, row in enumerate(self.matrix):
            for j, x in enumerate(row):
                if not -1.0 <= x <= 1.0:
                    raise ValueError(f"matrix: entry [{i}][{j}] must be in [-1, 1]; got {x}")
                if abs(x - self.matrix[j][i]) > 1e-9:
                    raise ValueError(f"matrix: must be symmetric; [{i}][{j}] != [{j}][{i}]")
            if abs(row[i] - 1.0) > 1e-9:
                raise ValueError(f"matrix: diagonal entries must be 1; [{i}][{i}] = {row[i]}")
        return self


class Simulation(Strict):
    """Monte Carlo settings."""

    paths: int = Field(default=10_000, ge=100, le=10_000_000)
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    correlations: Correlations | None = None
    copula: Literal["gaussian", "student_t"] = "gaussian"
    copula_dof: float = Field(default=4.0, gt=2, le=1000)
    antithetic: bool = False
    qmc: bool = False
    horizon_years: float | None = Field(default=None, gt=0, le=50)
    volatility: Sigma | list[Sigma] | None = Field(
        default=None,
        description="annual volatility of the value over horizon_years: a number, or posterior "
        "draws (e.g. from POST /v1/volatility), each path taking one draw",
    )
    drift: Drift = Field(default=0.0, description="expected annual return over horizon_years")
    steps_per_year: int = Field(default=12, ge=1, le=365, description="value-path time steps")
    legal_risk: LegalRisk | None = None
    thresholds: list[Finite] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _draws_in_range(self) -> Simulation:
        if isinstance(self.volatility, list) and not 1 <= len(self.volatility) <= (
            MAX_VOLATILITY_DRAWS
        ):
            raise ValueError(
                f"volatility: give between 1 and {MAX_VOLATILITY_DRAWS} posterior draws"
            )
        return self


class ValuationRequest(Strict):
    """Body of ``POST /v1/valuations``."""

    asset: Asset
    valuation_date: IsoDate
    currency: Currency
    methods: list[MethodInputs] = Field(min_length=1, max_length=20)
    weights: dict[str, Weight] | list[Weight] | None = Field(
        default=None,
        description="reconciliation weights by method key (label or method name) or in order",
    )
    simulation: Simulation | None = None

    def with_seed(self, seed: int) -> ValuationRequest:
        """This request with ``simulation.seed`` set to ``seed`` when it has none (unchanged
        without a simulation or with a seed already given)."""
        if self.simulation is None or self.simulation.seed is not None:
            return self
        sim = self.simulation.model_copy(update={"seed": seed})
        return self.model_copy(update={"simulation": sim})

    @model_validator(mode="after")
    def _valued_after_filing(self) -> ValuationRequest:
        filed = self.asset.legal.filing_date
        if filed is not None and self.valuation_date < filed:
            raise ValueError(
                f"valuation_date: {self.valuation_date} is before asset.legal.filing_date "
                f"({filed}); a right cannot be valued before it is filed, so use a date on or "
                "after the filing date"
            )
        return self

    @model_validator(mode="after")
    def _keys_and_weights(self) -> ValuationRequest:
        keys = method_keys(self.methods)
        seen: set[str] = set()
        for i, key in enumerate(keys):
            if key in seen:
                raise ValueError(
                    f"methods: method {i} repeats the key {key!r}; give each a distinct label"
                )
            seen.add(key)
        if self.weights is None:
            return self
        if isinstance(self.weights, list):
            if len(self.weights) != len(keys):
                raise ValueError(
                    f"weights: give one weight per method ({len(keys)}); got {len(self.weights)}"
                )
            values = self.weights
        else:
            unknown = sorted(set(self.weights) - seen)
            if unknown:
                raise ValueError(
                    f"weights: unknown method keys {unknown}; the keys are {sorted(seen)}"
                )
            values = list(self.weights.values())
        if any(not (w >= 0 and w < float("inf")) for w in values):
            raise ValueError("weights: each weight must be a finite number >= 0")
        if sum(values) <= 0:
            raise ValueError("weights: at least one weight must be above 0")
        return self


def method_keys(methods: list[Any]) -> list[str]:
    """Key of each method in ``value.by_method``: its label, else its method name."""
    return [m.label or m.method for m in methods]


class MethodResult(BaseModel):
    """One method's value with its audit trail."""

    key: str
    method: str
    approach: Literal["income", "cost", "market", "option"]
    value: float
    audit: dict[str, Any] = Field(description="intermediate numbers a reviewer can check")
    assumptions: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class LegalLifeResult(BaseModel):
    """Remaining protected life used to cut income."""

    years: float | None = Field(description="remaining legal life in years; null when unbounded")
    expiry_date: dt.date | None = Field(
        description="when protection ends; for a renewing trademark, its next renewal"
    )
    alive: bool
    basis: str
    renews: bool = Field(
        default=False, description="a trademark assumed renewed at expiry_date and every term after"
    )
    renewal_fee: float | None = Field(
        default=None, description="fee deducted at each renewal, currency; null without renewals"
    )


class Reconciliation(BaseModel):
    """How the methods were combined."""

    weights: dict[str, float]
    spread_ratio: float | None = Field(
        description="largest over smallest positive method value; null with one method"
    )
    disagreement_threshold: float


class Value(BaseModel):
    """The reconciled value."""

    point: float
    by_method: dict[str, float]


class ValuationResult(BaseModel):
    """What a valuation returns (the deterministic part)."""

    asset: Asset
    valuation_date: dt.date
    currency: str
    value: Value
    methods: list[MethodResult]
    legal_life: LegalLifeResult
    reconciliation: Reconciliation
    warnings: list[str] = Field(default_factory=list)
