"""Inputs of the real option method: Black-Scholes-Merton or a binomial lattice."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ipvalue.models.method_base import (
    DividendYield,
    MethodBase,
    RiskFreeRate,
)
from ipvalue.models.uncertain import (
    Positive,
    Volatility,
    Years,
    base_value,
)

LATTICE_MIN_STEPS = 10
"""Fewest binomial steps accepted: a coarser lattice is too far from its limit to be a value."""
LATTICE_MAX_STEPS = 5000
"""Most binomial steps for a point value: 12.5 million node updates, well under a second."""
LATTICE_DEFAULT_STEPS = 200


class RealOptionInputs(MethodBase):
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
