"""The ``legal_event`` rule: invalidation petitions, oppositions, suits, missed fees, ownership
changes and lost licensees, each by its status (PTAB and court figures from docs/domain.md)."""

from __future__ import annotations

from ipvalue.models.triggers import LegalEvent, Trigger, TriggerState
from ipvalue.risk.triggers.common import trigger as _trigger

_RESOLVED = frozenset({"decided_for_owner", "withdrawn", "dismissed", "settled"})


_PROCEEDING_TEXT = {
    "invalidation_petition": (
        "invalidation petition",
        "at the PTAB about 68-74 % of petitions are instituted (FY2024)",
        "about 74 % of instituted claims end cancelled (PTAB FY2024)",
    ),
    "opposition": (
        "opposition",
        "an opposition may revoke or narrow the claims",
        "the right may be revoked or narrowed",
    ),
    "infringement_suit": (
        "infringement suit",
        "patent holders win about 33 % of district-court cases and invalidity counterclaims "
        "are common",
        "an invalidity or non-infringement finding removes the income the value rests on",
    ),
}


def _legal_trigger(index: int, event: LegalEvent) -> Trigger:
    """The trigger for one legal event (see :func:`rule_legal_event`)."""
    kind = event.type.replace("_", " ")
    where = f"legal.events[{index}] ({kind}, {event.status}, {event.date})"
    figures = {
        "event_index": index,
        "type": event.type,
        "status": event.status,
        "date": event.date.isoformat(),
    }
    if event.status in _RESOLVED:
        return _trigger(
            "legal_event",
            "info",
            f"{where}: resolved in the owner's favour or ended",
            "record the outcome in the file; no revaluation needed",
            **figures,
        )
    if event.type == "missed_maintenance_fee":
        return _trigger(
            "legal_event",
            "critical",
            f"{where}: the right lapses unless the fee is paid within the grace period "
            "(about half of US patents lapse early from unpaid fees)",
            "have the owner pay the fee and surcharge within the grace period and confirm "
            "reinstatement; otherwise value the right as lapsed",
            "full",
            **figures,
        )
    if event.type == "ownership_change":
        return _trigger(
            "legal_event",
            "critical",
            f"{where}: the registered owner changed",
            "verify the chain of title and that the pledge is registered against the new owner; "
            "legal review of the security, then a full revaluation",
            "full",
            **figures,
        )
    if event.type == "licensee_lost":
        return _trigger(
            "legal_event",
            "critical",
            f"{where}: a key licensee was lost, so the royalty income behind the value falls",
            "commission a full revaluation of the income approach without that licence",
            "full",
            **figures,
        )
    name, pending_note, adverse_note = _PROCEEDING_TEXT[event.type]
    if event.status == "decided_against_owner":
        return _trigger(
            "legal_event",
            "critical",
            f"{where}: decided against the owner; {adverse_note}",
            "commission a full revaluation on the surviving claims; review the lending value "
            "and the LTV now",
            "full",
            **figures,
        )
    if event.status == "instituted":
        return _trigger(
            "legal_event",
            "critical",
            f"{where}: instituted; {adverse_note}",
            "commission a full revaluation with the invalidation risk; consider more security",
            "full",
            **figures,
        )
    return _trigger(
        "legal_event",
        "warning",
        f"{where}: {name} not yet decided; {pending_note}",
        "desk review: add the proceeding's risk to the valuation (invalidation hazard) and "
        "follow the docket",
        "desk_review",
        **figures,
    )


def rule_legal_event(state: TriggerState) -> list[Trigger]:
    """``legal_event``: one trigger per legal event dated on or after the last appraisal.

    Earlier events are taken as reflected in that appraisal. Severities: missed maintenance fee,
    ownership change, key licensee lost, proceedings instituted or decided against the owner:
    ``critical`` (full revaluation); proceedings filed or pending: ``warning`` (desk review);
    proceedings decided for the owner, withdrawn, dismissed or settled: ``info``.
    """
    since = state.last_appraisal.date
    return [
        _legal_trigger(i, event)
        for i, event in enumerate(state.legal.events)
        if event.date >= since
    ]
