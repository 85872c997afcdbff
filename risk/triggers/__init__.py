"""Re-evaluation triggers for IP pledged as loan collateral (issue 6).

Each rule reads a :class:`models.triggers.TriggerState` and returns the triggers it fires, each with
a severity, a reason quoting the numbers and an action. Thresholds come from
:class:`models.triggers.Thresholds`; their defaults and sources:

- monitoring at least yearly, more often when markets move: CRR Art. 208(3)(a) -> ``calendar``
  after 12 months;
- an independent valuer at least every 3 years for exposures above EUR 3m or 5 % of own funds:
  CRR Art. 208(3)(b) -> ``independent_valuer``;
- 10 % (desk review) and 20 % (full revaluation) value declines: policy choices, since no
  regulation fixes a percentage for a "material decline" (docs/domain.md, "Lending practice");
- volatility rise (posterior probability above 0.9 or estimate up 25 %), royalties down 20 %:
  issue 6;
- PTAB figures quoted in legal-event reasons: FY2024, about 68-74 % of petitions instituted and
  about 74 % of instituted claims cancelled; patent holders win about 33 % of district-court cases
  (docs/domain.md, "Legal risk on simulated paths").

Pure functions: no I/O, no randomness.
"""

from __future__ import annotations

from collections.abc import Callable

from ipvalue.models.triggers import (
    REVALUATION_ORDER,
    SEVERITY_ORDER,
    Revaluation,
    Trigger,
    TriggerResult,
    TriggerState,
)
from ipvalue.risk.triggers.common import DAYS_PER_YEAR, add_months, add_years, years_between
from ipvalue.risk.triggers.legal import rule_legal_event
from ipvalue.risk.triggers.rules import (
    independent_valuation_due,
    latest_independent_valuation,
    rule_calendar,
    rule_credit_event,
    rule_independent_valuer,
    rule_ltv_breach,
    rule_remaining_life,
    rule_royalty_decline,
    rule_value_decline,
    rule_volatility_rise,
    scheduled_revaluation,
    value_decline,
)

__all__ = [
    "DAYS_PER_YEAR",
    "RULES",
    "add_months",
    "add_years",
    "evaluate_triggers",
    "independent_valuation_due",
    "latest_independent_valuation",
    "scheduled_revaluation",
    "value_decline",
    "years_between",
]

RULES: tuple[Callable[[TriggerState], list[Trigger]], ...] = (
    rule_calendar,
    rule_independent_valuer,
    rule_value_decline,
    rule_ltv_breach,
    rule_volatility_rise,
    rule_legal_event,
    rule_royalty_decline,
    rule_remaining_life,
    rule_credit_event,
)
"""The rules, in the order of docs/api.md."""


def evaluate_triggers(state: TriggerState) -> TriggerResult:
    """Evaluate every re-evaluation rule on one asset's monitoring state.

    Parameters
    ----------
    state : TriggerState
        Validated body of ``POST /v1/triggers/evaluate``.

    Returns
    -------
    TriggerResult
        The triggers, most severe first (rule order within a severity), and the next revaluation
        date: last appraisal + ``months_between_appraisals`` (or the independent valuer's due date
        for large exposures, when earlier), brought forward to ``as_of`` when any trigger asks for
        a full revaluation.
    """
    fired = [trigger for rule in RULES for trigger in rule(state)]
    fired.sort(key=lambda t: -SEVERITY_ORDER[t.severity])
    required: Revaluation = max(
        (t.revaluation for t in fired), key=REVALUATION_ORDER.__getitem__, default="none"
    )
    next_date = scheduled_revaluation(state)
    independent_due = independent_valuation_due(state)
    if independent_due is not None:
        next_date = min(next_date, independent_due)
    if required == "full":
        next_date = state.as_of
    highest = fired[0].severity if fired else None
    return TriggerResult(
        triggers=fired,
        next_revaluation_date=next_date,
        revaluation_required=required,
        highest_severity=highest,
    )
