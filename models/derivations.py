"""Inputs given by how an appraiser derives them, where a plain number goes today.

A derivation is an object with one key naming the practice, e.g. a discount rate
``{"build_up": {"risk_free": 0.04, "equity_premium": 0.06, "specific_premium": 0.05}}``.
Its parts are uncertain numbers like any input, so the simulation samples them (at paths such
as ``methods[0].discount_rate.build_up.specific_premium``, which correlations may name).
The formulas live in :mod:`ipvalue.valuation.derive`; this module only describes and validates.

A field that takes a number or a derivation is declared with :func:`derivable`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Discriminator, Field, Tag

from ipvalue.models.base import Strict
from ipvalue.models.uncertain import Bounds, DiscountRate, UncertainNumber


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


DISCOUNT_RATE_DERIVATIONS: tuple[type[Derivation], ...] = (BuildUpRate,)
"""Every way to derive a discount rate (a new one is a class here)."""


DERIVED_TAG = "derived-"
"""Prefix of the union tags of derivations in a validation error's location (not a field)."""


def derivable(number: Any, kinds: tuple[type[Derivation], ...]) -> Any:
    """Annotated type of a field that takes ``number`` or one of the derivations ``kinds``.

    The object's one key picks the derivation (so an error names the practice's own fields);
    anything else is validated as ``number``.
    """
    tags = {k.tag(): k for k in kinds}

    def which(value: Any) -> str:
        if isinstance(value, Derivation):
            return DERIVED_TAG + value.tag()
        if isinstance(value, dict) and len(value) == 1:
            (key,) = value
            if key in tags:
                return DERIVED_TAG + str(key)
        return "number"

    options = [Annotated[number, Tag("number")]] + [
        Annotated[kind, Tag(DERIVED_TAG + tag)] for tag, kind in tags.items()
    ]
    union: Any = options[0]
    for option in options[1:]:
        union = union | option
    return Annotated[union, Discriminator(which)]


DiscountRateInput = derivable(DiscountRate, DISCOUNT_RATE_DERIVATIONS)
"""A discount rate: an annual decimal, a distribution, or a derivation of one."""
