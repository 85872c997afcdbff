"""The asset being valued and its legal data."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.errors import field_error
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
    renewal: bool | None = Field(
        default=None,
        description="trademarks: the mark is renewed at expiry_date and every term after "
        "(default true for a registered or granted mark); false ends its income at expiry_date",
    )
    renewal_fee: float | None = Field(
        default=None,
        ge=0,
        le=1e12,
        allow_inf_nan=False,
        description="trademarks: fee per renewal, in the request's currency, deducted as a cost",
    )

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

    @model_validator(mode="after")
    def _renewal_of_marks(self) -> Asset:
        legal = self.legal
        if self.kind != "trademark":
            for name in ("renewal", "renewal_fee"):
                if getattr(legal, name) is not None:
                    raise field_error(
                        "Asset",
                        ("legal", name),
                        f"only a trademark renews without end; a "
                        f"{self.kind.replace('_', ' ')} ends at its expiry_date or statutory "
                        f"term, so drop legal.{name}",
                        getattr(legal, name),
                    )
        if legal.renewal is False and legal.renewal_fee is not None:
            raise field_error(
                "Asset",
                ("legal", "renewal_fee"),
                "a mark that is not renewed pays no renewal fee; drop renewal_fee or set "
                "legal.renewal true",
                legal.renewal_fee,
            )
        return self
