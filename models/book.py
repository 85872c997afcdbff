"""The pledge book's nouns: kept assets, their legal events, loans and alerts.

Bodies of ``POST /v1/assets``, ``POST /v1/assets/{id}/events`` and ``POST /v1/loans`` and the
alert a monitoring run raises (docs/api.md, "The pledge book"; field names are part of the
contract).
The rules that read them live in :mod:`ipvalue.risk.book`.

Dates are ISO 8601, money is in the loan's ``currency``, rates are decimals (0.30 = 30 %).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ipvalue.models.asset import Asset
from ipvalue.models.base import Strict
from ipvalue.models.collateral import RiskSharing
from ipvalue.models.errors import field_error
from ipvalue.models.fields import (
    DECIMAL,
    Currency,
    Finite,
    IsoDate,
    PositiveMoney,
    Rate,
    YearlyProbability,
)
from ipvalue.models.triggers import EventStatus, EventType, RuleName, Severity
from ipvalue.models.valuation import ValuationRequest

BookEventType = Literal[
    "invalidation_petition",
    "opposition",
    "infringement_suit",
    "missed_maintenance_fee",
    "ownership_change",
    "licensee_lost",
    "lapsed",
    "expired",
    "invalidated",
    "revoked",
    "reinstated",
    "maintenance_fee_paid",
    "renewed",
    "pledge_registered",
    "pledge_released",
]
"""Legal event types of the pledge book (docs/api.md): the trigger event types, plus these."""

TRIGGER_EVENT_TYPES: frozenset[str] = frozenset(get_args(EventType))
"""Book event types the ``legal_event`` trigger rule reads."""

ENDING_EVENTS: dict[str, str] = {
    "lapsed": "lapsed",
    "expired": "expired",
    "invalidated": "invalidated",
    "revoked": "invalidated",
}
"""Events that end protection, and the legal status each leaves (a revocation invalidates)."""

AlertStatus = Literal["open", "acknowledged", "cleared"]
"""Where an alert stands: raised and unread, seen by someone, or no longer firing."""

_Text = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExternalIds(Strict):
    """An asset's numbers at its office, by which bulk legal-status files find it.

    Parameters
    ----------
    publication_number, application_number, registration_number : str, optional
        As the office prints them; imports compare them without spaces, slashes, commas or
        dots and without a leading country code (``US 7,654,321`` = ``7654321``).
    """

    publication_number: _Text | None = None
    application_number: _Text | None = None
    registration_number: _Text | None = None


class Observations(Strict):
    """Value observations of an asset, as for ``POST /v1/volatility``."""

    series: list[Finite] = Field(min_length=3, max_length=100_000)
    kind: Literal["levels", "returns"] = "levels"
    periods_per_year: float = Field(default=12, gt=0, le=366)


class Appraisal(Strict):
    """A ``POST /v1/valuations`` body without ``asset``: re-run at each monitoring date.

    The monitoring run sets ``valuation_date`` to its own date and the asset's legal status to
    the one its events give, so the remaining life shrinks and a lapsed right counts zero.
    """

    valuation_date: IsoDate
    currency: Currency
    methods: list[dict[str, Any]] = Field(min_length=1, max_length=20)
    weights: dict[str, float] | list[float] | None = None
    simulation: dict[str, Any] | None = None

    def request_for(self, asset: Asset, as_of: dt.date) -> ValuationRequest:
        """The valuation request of ``asset`` as of ``as_of`` (raises pydantic errors)."""
        body = self.model_dump(mode="json", exclude_none=True)
        body.update(asset=asset.model_dump(mode="json"), valuation_date=as_of.isoformat())
        return ValuationRequest.model_validate(body)


class AssetBody(Strict):
    """Body of ``POST /v1/assets``: the asset and what monitoring needs to re-value it."""

    asset: Asset
    external_ids: ExternalIds = Field(default_factory=ExternalIds)
    appraisal: Appraisal | None = None
    observations: Observations | None = None

    @model_validator(mode="after")
    def _appraisal_checks(self) -> AssetBody:
        if self.appraisal is not None:
            try:
                self.appraisal.request_for(self.asset, self.appraisal.valuation_date)
            except ValueError as exc:
                raise field_error(
                    "AssetBody",
                    ("appraisal",),
                    f"is not a valid POST /v1/valuations body for this asset: {exc}",
                    None,
                ) from exc
        return self


class BookEvent(Strict):
    """One legal event of a kept asset.

    Parameters
    ----------
    type : str
        One of :data:`BookEventType`.
    date : date
        When it happened (not after today, not before the asset's filing date).
    code : str, optional
        The office's code (``EXP.``, ``M1551``), when it came from an office file.
    source : str
        Who reported it (``uspto-maintfee``, ``csv``, ``api``); with ``code`` and ``date`` the
        key that makes a repeated event a no-op.
    detail : str, optional
        Free text (docket number, counterparty, the office's wording).
    status : str
        For proceedings, where they stand (as for ``POST /v1/triggers/evaluate``).
    """

    type: BookEventType
    date: IsoDate
    code: str | None = Field(default=None, max_length=16)
    source: str = Field(default="api", min_length=1, max_length=64)
    detail: str | None = Field(default=None, max_length=2000)
    status: EventStatus = "filed"

    def key(self) -> tuple[str, str, str]:
        """``(source, code, date)``: the idempotency key (the type stands in for no code)."""
        return (self.source, self.code or self.type, self.date.isoformat())


class EventsBody(Strict):
    """Body of ``POST /v1/assets/{id}/events``."""

    events: list[BookEvent] = Field(min_length=1, max_length=10_000)


class UnclassifiedEvent(_Strict):
    """An office record whose code maps to no event type: kept beside the events, never
    dropped, and reported by the import."""

    code: str
    date: dt.date
    source: str
    detail: str | None = None


class LoanBody(Strict):
    """Body of ``POST /v1/loans``.

    Parameters
    ----------
    borrower : str
    amount : float
        Outstanding amount, money (> 0).
    currency : str
        ISO 4217 code; the pledged assets' appraisals must be in it.
    start_date : date
    term_years : float
        Term from ``start_date``, years.
    pledged_asset_ids : list of str
        Assets kept in this tenant's book; the collateral is their joint value.
    max_ltv : float, optional
        LTV cap; default by ``lender_practice`` (cn 0.30, uk 0.50), else 0.30.
    annual_pd : float, optional
        Borrower's yearly probability of default, for the expected loss.
    risk_sharing : RiskSharing
        Insurer's and guarantor's shares of a loss.
    large_exposure : bool
        CRR Art. 208(3)(b): an independent valuer at least every 3 years.
    asset_correlation : float
        Correlation of the pledged rights' value changes. Default 1.0: no diversification is
        counted, the conservative choice for a lender (a policy choice, not a rule).
    """

    borrower: _Text
    amount: PositiveMoney
    currency: Currency
    start_date: IsoDate
    term_years: float = Field(gt=0, le=30, allow_inf_nan=False)
    pledged_asset_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=100
    )
    max_ltv: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), DECIMAL] | None = None
    annual_pd: YearlyProbability | None = None
    risk_sharing: RiskSharing = Field(default_factory=RiskSharing)
    lender_practice: Literal["cn", "uk"] | None = None
    large_exposure: bool = False
    asset_correlation: Rate = 1.0

    @model_validator(mode="after")
    def _distinct_assets(self) -> LoanBody:
        seen: set[str] = set()
        for i, asset_id in enumerate(self.pledged_asset_ids):
            if asset_id in seen:
                raise field_error(
                    "LoanBody",
                    ("pledged_asset_ids", i),
                    f"{asset_id!r} is pledged twice; list each asset once",
                    asset_id,
                )
            seen.add(asset_id)
        return self

    def maturity(self) -> dt.date:
        """``start_date + term_years`` (days of 365.25 a year for the fraction)."""
        return self.start_date + dt.timedelta(days=round(self.term_years * 365.25))


class Acknowledgement(Strict):
    """Body of ``POST /v1/alerts/{id}/acknowledge``: who saw it, and a note."""

    by: _Text
    note: str | None = Field(default=None, max_length=2000)


class Alert(_Strict):
    """An alert: a trigger rule that newly fired on a loan (docs/api.md field names)."""

    id: str
    loan_id: str
    asset_id: str | None = None
    rule: RuleName
    severity: Severity
    reason: str
    action: str
    raised_at: str
    status: AlertStatus
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    note: str | None = None
    cleared_at: str | None = None
    run_id: str | None = None


class MonitoringRunBody(Strict):
    """Body of ``POST /v1/monitoring/runs`` (all optional): the run date and which loans."""

    as_of: IsoDate | None = None
    loan_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=10_000
    )
