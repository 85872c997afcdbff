"""An asset's legal record as it stands on a date: status and remaining life from its events.

Events are read in date order (out-of-order arrival does not matter), only those dated on or
before the date asked. The rules:

- ``lapsed``, ``expired``, ``invalidated`` and ``revoked`` end protection at once: the status
  becomes ``lapsed``, ``expired`` or ``invalidated`` (a revocation invalidates) and the
  remaining life is zero from the event's date;
- ``reinstated`` (e.g. USPTO ``EXPX``, a lapsed patent reinstated after the late fee) gives the
  right back its status before the lapse and the life the statute leaves;
- ``missed_maintenance_fee`` stays open until a later ``maintenance_fee_paid`` (then it is
  ``settled`` for the trigger rules) or a lapse;
- ``pledge_registered`` / ``pledge_released`` say whether the lender's pledge is on the register.

Remaining life comes from :func:`ipvalue.valuation.life.legal_life` (the statutory
terms live there only); this module only decides the status and the date protection ended.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from ipvalue.models.asset import DEAD_STATUSES, Asset, LegalStatus
from ipvalue.models.book import ENDING_EVENTS, TRIGGER_EVENT_TYPES, BookEvent
from ipvalue.models.triggers import LegalEvent
from ipvalue.valuation.life import LegalLife, legal_life

REGISTERED_KINDS = frozenset({"trademark", "design"})
"""Kinds whose live status is ``registered`` rather than ``granted`` (for a reinstatement of a
right kept as dead)."""

_ORDER = {"maintenance_fee_paid": 0, "reinstated": 2}
"""Within one day: a payment before anything else, a reinstatement after the lapse."""


@dataclass(frozen=True)
class LegalRecord:
    """The legal record of one asset on ``as_of``.

    Attributes
    ----------
    as_of : datetime.date
    status : str
        Legal status after the events (docs/api.md ``legal.status`` values).
    life : LegalLife
        Remaining protected life (years, expiry date, alive, basis).
    ended_on : datetime.date or None
        The date a lapse, expiry or invalidation ended protection, while it stands.
    events : tuple of BookEvent
        The events up to ``as_of``, in date order.
    pledge_registered : bool
        Whether the last pledge event on record registered (not released) a pledge.
    open_missed_fee : bool
        A missed maintenance fee neither paid nor followed by a lapse.
    """

    as_of: dt.date
    status: LegalStatus
    life: LegalLife
    ended_on: dt.date | None
    events: tuple[BookEvent, ...]
    pledge_registered: bool
    open_missed_fee: bool

    @property
    def remaining_years(self) -> float | None:
        """Remaining protected years (None when the law sets no end)."""
        return None if math.isinf(self.life.years) else self.life.years

    def as_asset(self, asset: Asset) -> Asset:
        """``asset`` with the status and the end date the events give (for re-valuation)."""
        legal = asset.legal.model_copy(update={"status": self.status})
        return asset.model_copy(update={"legal": legal})

    def trigger_events(self) -> list[LegalEvent]:
        """The events the ``legal_event`` trigger rule reads, with their standing: a missed fee
        later paid is ``settled``."""
        out: list[LegalEvent] = []
        paid_after: list[dt.date] = [
            e.date for e in self.events if e.type in {"maintenance_fee_paid", "reinstated"}
        ]
        for event in self.events:
            if event.type not in TRIGGER_EVENT_TYPES:
                continue
            status = event.status
            if event.type == "missed_maintenance_fee" and any(d >= event.date for d in paid_after):
                status = "settled"
            out.append(
                LegalEvent.model_validate(
                    {"type": event.type, "date": event.date, "status": status, "note": event.detail}
                )
            )
        return out

    def summary(self) -> dict[str, object]:
        """The record as ``GET /v1/assets/{id}`` shows it (JSON-ready)."""
        return {
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "remaining_years": self.remaining_years,
            "expiry_date": None
            if self.life.expiry_date is None
            else self.life.expiry_date.isoformat(),
            "ended_on": None if self.ended_on is None else self.ended_on.isoformat(),
            "alive": self.life.alive,
            "basis": self.life.basis,
            "pledge_registered": self.pledge_registered,
            "open_missed_fee": self.open_missed_fee,
            "events": [e.model_dump(mode="json", exclude_none=True) for e in self.events],
        }


def ordered(events: Iterable[BookEvent]) -> list[BookEvent]:
    """Events in date order; within a day a payment first, a reinstatement last."""
    return sorted(events, key=lambda e: (e.date, _ORDER.get(e.type, 1)))


def legal_record(asset: Asset, events: Iterable[BookEvent], as_of: dt.date) -> LegalRecord:
    """The legal record of ``asset`` on ``as_of`` after ``events``.

    Parameters
    ----------
    asset : Asset
        As kept in the book: its ``legal`` block is the status and dates before any event.
    events : iterable of BookEvent
        In any order; those after ``as_of`` are not yet read.
    as_of : datetime.date

    Returns
    -------
    LegalRecord
    """
    seen = [e for e in ordered(events) if e.date <= as_of]
    status: LegalStatus = asset.legal.status
    registered: LegalStatus = "registered" if asset.kind in REGISTERED_KINDS else "granted"
    alive_status: LegalStatus = status if status not in DEAD_STATUSES else registered
    ended_on: dt.date | None = None
    pledge = False
    missed = False
    for event in seen:
        if event.type in ENDING_EVENTS:
            if ended_on is None:
                alive_status = status if status not in DEAD_STATUSES else alive_status
                ended_on = event.date
            status = ENDING_EVENTS[event.type]  # type: ignore[assignment]
            missed = False
        elif event.type in {"reinstated", "renewed"} and ended_on is not None:
            status, ended_on = alive_status, None
        elif event.type == "missed_maintenance_fee":
            missed = True
        elif event.type == "maintenance_fee_paid":
            missed = False
        elif event.type == "pledge_registered":
            pledge = True
        elif event.type == "pledge_released":
            pledge = False
    legal = asset.legal.model_copy(update={"status": status})
    life = legal_life(asset.model_copy(update={"legal": legal}), as_of)
    if ended_on is not None:
        life = LegalLife(0.0, life.expiry_date, False, f"the right is {status} since {ended_on}")
    elif not life.alive:
        ended_on = life.expiry_date
    return LegalRecord(
        as_of=as_of,
        status=status,
        life=life,
        ended_on=ended_on,
        events=tuple(seen),
        pledge_registered=pledge,
        open_missed_fee=missed,
    )
