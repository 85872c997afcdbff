"""Uncertain numbers: a plain number or a distribution, as in docs/api.md.

Each distribution knows its deterministic ("base") value and its support. Sampling lives in
``risk/`` (which owns randomness); this module only describes and validates.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from ipvalue.models.fields import MAX_MONEY


def _finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value}")
    return value


class _Dist(BaseModel):
    """Base of every distribution model."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @property
    def base(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def support(self) -> tuple[float, float]:  # pragma: no cover - overridden
        raise NotImplementedError


class Fixed(_Dist):
    """A known number, written as a distribution."""

    dist: Literal["fixed"]
    value: float

    @model_validator(mode="after")
    def _check(self) -> Fixed:
        _finite(self.value, "value")
        return self

    @property
    def base(self) -> float:
        return self.value

    @property
    def support(self) -> tuple[float, float]:
        return (self.value, self.value)


class Normal(_Dist):
    """Normal with mean and standard deviation, optionally truncated to [low, high]."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Normal:
        _finite(self.mean, "mean")
        _finite(self.sd, "sd")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low must be below high; got low={self.low}, high={self.high}")
        if self.low is not None and self.mean < self.low:
            raise ValueError(f"mean must lie within [low, high]; got mean={self.mean} < low")
        if self.high is not None and self.mean > self.high:
            raise ValueError(f"mean must lie within [low, high]; got mean={self.mean} > high")
        return self

    @property
    def base(self) -> float:
        return self.mean

    @property
    def support(self) -> tuple[float, float]:
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if self.sd == 0:
            return (self.mean, self.mean)
        return (low, high)


class Lognormal(_Dist):
    """Lognormal given its median and the standard deviation of its log."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    @model_validator(mode="after")
    def _check(self) -> Lognormal:
        _finite(self.median, "median")
        _finite(self.sigma, "sigma")
        return self

    @property
    def base(self) -> float:
        return self.median

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf) if self.sigma > 0 else (self.median, self.median)


class _LowModeHigh(_Dist):
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> _LowModeHigh:
        for name in ("low", "mode", "high"):
            _finite(getattr(self, name), name)
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"need low <= mode <= high; got low={self.low}, mode={self.mode}, high={self.high}"
            )
        if self.low == self.high:
            raise ValueError(f"low must be below high; got low = high = {self.low}")
        return self

    @property
    def base(self) -> float:
        return self.mode

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class Triangular(_LowModeHigh):
    """Triangular on [low, high] with the given mode."""

    dist: Literal["triangular"]


class Pert(_LowModeHigh):
    """Beta-PERT on [low, high] with the given mode (shape parameter 4)."""

    dist: Literal["pert"]


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        _finite(self.low, "low")
        _finite(self.high, "high")
        if not self.low < self.high:
            raise ValueError(f"low must be below high; got low={self.low}, high={self.high}")
        return self

    @property
    def base(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


Distribution = Annotated[
    Fixed | Normal | Lognormal | Triangular | Pert | Uniform, Field(discriminator="dist")
]
"""One of the distributions of docs/api.md, chosen by its ``dist`` field."""

DISTRIBUTION_NAMES = ("fixed", "normal", "lognormal", "triangular", "pert", "uniform")


def _number_or_dist(value: Any) -> Any:
    """Reject booleans, strings and non-finite floats before pydantic coerces them."""
    if isinstance(value, bool):
        raise ValueError("must be a number or a distribution object, not true/false")
    if isinstance(value, str):
        raise ValueError("must be a number or a distribution object, not a string")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number; got {value}")
    return value


def _which(value: Any) -> str:
    return "distribution" if isinstance(value, dict | _Dist) else "number"


_NumberOrDistribution = Annotated[
    Annotated[float, Tag("number")] | Annotated[Distribution, Tag("distribution")],
    Discriminator(_which),
]


def base_value(value: float | _Dist) -> float:
    """Deterministic value of a plain number or a distribution (docs/api.md's "base" column)."""
    if isinstance(value, _Dist):
        return value.base
    return float(value)


def support(value: float | _Dist) -> tuple[float, float]:
    """Smallest and largest value the number can take."""
    if isinstance(value, _Dist):
        return value.support
    return (float(value), float(value))


def is_uncertain(value: Any) -> bool:
    """True when ``value`` is a distribution that is not a fixed number."""
    return isinstance(value, _Dist) and not isinstance(value, Fixed)


class Bounds:
    """Allowed range of a numeric field, kept in its metadata for validation and sampling.

    Parameters
    ----------
    low, high : float
        Inclusive limits unless ``open_low`` / ``open_high``.
    fix : str
        Advice added to the error message.
    """

    def __init__(
        self,
        low: float = -math.inf,
        high: float = math.inf,
        *,
        open_low: bool = False,
        open_high: bool = False,
        fix: str = "",
    ) -> None:
        self.low, self.high = low, high
        self.open_low, self.open_high = open_low, open_high
        self.fix = fix

    def describe(self) -> str:
        left = "(" if self.open_low else "["
        right = ")" if self.open_high else "]"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def contains(self, x: float) -> bool:
        above = x > self.low if self.open_low else x >= self.low
        below = x < self.high if self.open_high else x <= self.high
        return above and below

    def __call__(self, value: Any) -> Any:
        base = base_value(value)
        if not self.contains(base):
            raise ValueError(f"must be in {self.describe()}; got {_fmt(base)}{self._advice()}")
        low, high = support(value)
        bounded_dist = isinstance(value, _Dist) and not isinstance(value, Normal | Lognormal)
        if bounded_dist and not (self.contains(low) and self.contains(high)):
            raise ValueError(
                f"the distribution's range [{_fmt(low)}, {_fmt(high)}] must lie in "
                f"{self.describe()}{self._advice()}"
            )
        if isinstance(value, Normal):
            for end in (value.low, value.high):
                if end is not None and not self.contains(end):
                    raise ValueError(
                        f"truncation bound {_fmt(end)} must lie in {self.describe()}"
                        f"{self._advice()}"
                    )
        return value

    def _advice(self) -> str:
        return f" ({self.fix})" if self.fix else ""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        """Act as an after-validator when used as ``Annotated[UncertainNumber, Bounds(...)]``."""
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self, handler(source))


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


UncertainNumber = Annotated[_NumberOrDistribution, BeforeValidator(_number_or_dist)]
"""A finite plain number or a distribution."""


def uncertain(bounds: Bounds | None = None) -> Any:
    """Annotated type of an uncertain number, optionally restricted to ``bounds``."""
    if bounds is None:
        return UncertainNumber
    return Annotated[UncertainNumber, bounds]


Number = Annotated[
    UncertainNumber,
    Bounds(-MAX_MONEY, MAX_MONEY, fix="amounts are money in the request's currency, at most 1e18"),
]
"""A finite uncertain amount of money, positive or negative, at most `MAX_MONEY` in size."""
Amount = Annotated[
    UncertainNumber,
    Bounds(0, MAX_MONEY, fix="amounts are non-negative money in the request's currency"),
]
"""A non-negative money amount."""
Rate = Annotated[UncertainNumber, Bounds(0, 1, fix="rates are decimals: 0.05 means 5 %")]
"""A rate in [0, 1] as a decimal."""
TaxRate = Annotated[
    UncertainNumber, Bounds(0, 1, open_high=True, fix="a tax rate is a decimal below 1")
]
DiscountRate = Annotated[
    UncertainNumber,
    Bounds(0, 2, open_low=True, fix="a discount rate is an annual decimal, e.g. 0.15 for 15 %"),
]
GrowthRate = Annotated[
    UncertainNumber, Bounds(-1, 1, open_low=True, fix="growth is an annual decimal")
]
Volatility = Annotated[
    UncertainNumber, Bounds(0, 5, open_low=True, fix="volatility is annual, e.g. 0.4 for 40 %")
]
Years = Annotated[UncertainNumber, Bounds(0, 200, open_low=True, fix="durations are in years")]
Positive = Annotated[UncertainNumber, Bounds(0, MAX_MONEY, open_low=True, fix="must be above zero")]

DistributionBase = _Dist
"""Public name of the distributions' base class, for ``isinstance`` checks."""
