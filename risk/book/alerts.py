"""When a trigger that fired is a new alert, and when an alert has cleared.

A loan's alerts are keyed by ``(rule, asset_id)`` (``asset_id`` None for a rule about the whole
loan). A rule that fires raises an alert when no unresolved (``open`` or ``acknowledged``)
alert of its key exists, or when its severity is above the highest unresolved one of that key
(the older, milder alerts of that key are cleared: the new one supersedes them). An unresolved
alert whose key no longer fires is cleared;
the same rule raises again only after that, or when its severity rises. Several triggers of one
key in one run raise at most one alert, the most severe.

Pure functions: the API stores the decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ipvalue.models.triggers import SEVERITY_ORDER

UNRESOLVED = ("open", "acknowledged")


@dataclass(frozen=True)
class KnownAlert:
    """An alert on record: its id, key, severity and status."""

    id: str
    rule: str
    asset_id: str | None
    severity: str
    status: str


@dataclass(frozen=True)
class Fired:
    """A trigger that fired in this run, with the asset it is about (None: the loan)."""

    rule: str
    asset_id: str | None
    severity: str
    reason: str
    action: str


@dataclass
class Decision:
    """What to do with a loan's alerts after one evaluation.

    Attributes
    ----------
    raise_ : list of Fired
        New alerts to raise.
    clear : list of str
        Ids of unresolved alerts whose rule no longer fires, or that a more severe alert of
        their key supersedes.
    still_open : list of str
        Ids of unresolved alerts whose rule still fires at the same or a lower severity.
    """

    raise_: list[Fired] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)
    still_open: list[str] = field(default_factory=list)


def decide_alerts(known: Iterable[KnownAlert], fired: Iterable[Fired]) -> Decision:
    """Decide new and cleared alerts of one loan.

    Parameters
    ----------
    known : iterable of KnownAlert
        The loan's alerts on record (any status; cleared ones are ignored).
    fired : iterable of Fired
        The triggers of this evaluation.

    Returns
    -------
    Decision
    """
    worst: dict[tuple[str, str | None], Fired] = {}
    for f in fired:
        key = (f.rule, f.asset_id)
        if key not in worst or SEVERITY_ORDER[f.severity] > SEVERITY_ORDER[worst[key].severity]:
            worst[key] = f
    unresolved: dict[tuple[str, str | None], list[KnownAlert]] = {}
    for alert in known:
        if alert.status in UNRESOLVED:
            unresolved.setdefault((alert.rule, alert.asset_id), []).append(alert)
    decision = Decision()
    for key, trigger in worst.items():
        standing = unresolved.get(key, [])
        highest = max((SEVERITY_ORDER[a.severity] for a in standing), default=-1)
        if SEVERITY_ORDER[trigger.severity] > highest:
            decision.raise_.append(trigger)
            decision.clear += [a.id for a in standing]
        else:
            decision.still_open += [a.id for a in standing]
    for key, alerts in unresolved.items():
        if key not in worst:
            decision.clear += [a.id for a in alerts]
    return decision
