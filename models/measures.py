"""Result nouns shared by every risk endpoint: one definition each.

- :class:`Estimate`: a simulated number with its Monte Carlo standard error;
- :class:`QuantileCI`: a quantile with its distribution-free confidence interval;
- :class:`ValueRange`: p05, p50 and p95 of a value at a date with their intervals;
- :class:`TailRisk`: VaR and ES at 95 % and 99 %, losses from a reference value;
- :class:`LevelTail`: VaR and ES at one level with their standard errors;
- :data:`Seed`: a recorded seed, an integer in [0, 2**63);
- :class:`Strict`: the base of request bodies (unknown fields are an error).

Convention (one for the whole service, see :mod:`risk.kernel.measures`): quantiles are the
inverted empirical CDF (``numpy.quantile(method="inverted_cdf")``); losses are measured from a
reference value (the starting or point value), positive numbers being losses; expected shortfall
is the Acerbi-Tasche estimator. Money is in the request's currency.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

SEED_BOUND = 2**63
"""Seeds are recorded as integers in [0, 2**63): they fit a signed 64-bit column and JSON."""

Seed = Annotated[
    int,
    Field(ge=0, lt=SEED_BOUND, description="seed of the numpy SeedSequence; below 2**63"),
]
"""A seed as a request may give it and a result records it."""


class Estimate(BaseModel):
    """A simulated number with its Monte Carlo standard error (same unit as ``value``)."""

    value: float
    se: float


class QuantileCI(BaseModel):
    """A quantile with its distribution-free 95 % confidence interval (binomial order
    statistics, as ``scipy.stats.quantile_test(...).confidence_interval()``)."""

    value: float
    ci_low: float
    ci_high: float


class ValueRange(BaseModel):
    """Value at a date: p05, p50, p95 (money), each with its interval in ``intervals``."""

    p05: float
    p50: float
    p95: float
    intervals: dict[str, QuantileCI]


class TailRisk(BaseModel):
    """Value at risk and expected shortfall, as losses from the reference value (currency)."""

    var95: float
    es95: float
    var99: float
    es99: float
    se_var95: float | None = Field(default=None, description="quantile interval width / 3.92")
    se_es95: float | None = Field(default=None, description="standard error of es95")
    se_var99: float | None = None
    se_es99: float | None = None


class LevelTail(BaseModel):
    """VaR and ES at one confidence level, losses from the reference value (currency)."""

    level: float
    var: float
    es: float
    se_var: float = Field(description="width of the 95 % order-statistic interval / 3.92")
    se_es: float = Field(description="standard error of the Acerbi-Tasche ES estimator")
