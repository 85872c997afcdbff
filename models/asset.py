"""The asset being valued and its legal data."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.fields import Country, IsoDate

AssetKind = Literal[
    "patent", "utility_model", "design", "trademark", "copyright", "software", "trade_secret"
]
LegalStatus = Literal["pending", "granted", "registered", "lapsed", "expired", "invalidated"]
DEAD_STATUSES: frozenset[str] = frozenset({"lapsed", "expired", "invalidated"})


class Legal(Strict):
    """Legal status and dates of an IP right (ISO 8601 dates)."""

    status: LegalStatus = "granted"
    filing_date: IsoDate | None = None
    grant_date: IsoDate | None = None
    expiry_date: IsoDate | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Legal:
        if self.filing_date and self.expiry_date and self.expiry_date <= self.filing_date:
            raise ValueError(
                f"expiry_date: {self.expiry_date} must be after filing_date ({self.filing_date})"
            )
        if self.filing_date and self.grant_date and self.grant_date < self.filing_date:
            raise ValueError(
                f"grant_date: {self.grant_date} cannot be before filing_date ({self.filing_date})"
            )
        if self.grant_date and self.expiry_date and self.expiry_date <= self.grant_date:
            raise ValueError(
                f"expiry_date: {self.expiry_date} must be after grant_date ({self.grant_date})"
            )
        return self


class Asset(Strict):
    """An intellectual-property asset: what is valued."""

    name: str = Field(min_length=1, max_length=500)
    kind: AssetKind
    jurisdiction: Country | None = None
    sector: str | None = Field(default=None, max_length=200)
    legal: Legal = Field(default_factory=Legal)
    indicators: dict[str, Any] = Field(
        default_factory=dict, description="claims, forward citations, family size, ..."
    )
