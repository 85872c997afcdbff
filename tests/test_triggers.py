"""Re-evaluation triggers: each rule with hand-computed figures, properties, and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ipvalue.models.triggers import SEVERITY_ORDER, TriggerResult, TriggerState
from ipvalue.risk.triggers import add_months, evaluate_triggers

AS_OF = "2026-11-27"


def healthy(**overrides: Any) -> dict[str, Any]:
    """A fresh, healthy monitoring state that fires nothing."""
    body: dict[str, Any] = {
        "as_of": AS_OF,
        "last_appraisal": {"date": "2026-06-30", "value": 1_000_000, "volatility": 0.4},
        "current": {"value": 1_000_000, "volatility": 0.4, "prob_volatility_rose": 0.5},
        "loan": {"amount": 200_000, "max_ltv": 0.3, "term_years": 3, "time_to_sell_years": 1},
        "legal": {"expiry_date": "2035-01-01", "events": []},
        "royalties": {"previous": 100_000, "current": 95_000},
        "credit_event": False,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body


def run(body: dict[str, Any]) -> TriggerResult:
    return evaluate_triggers(TriggerState.model_validate(body))


def by_rule(result: TriggerResult, rule: str) -> list[Any]:
    return [t for t in result.triggers if t.rule == rule]


def only(result: TriggerResult, rule: str) -> Any:
    found = by_rule(result, rule)
    assert len(found) == 1, f"expected one {rule} trigger, got {result.triggers}"
    return found[0]


def test_healthy_fresh_state_fires_nothing_and_schedules_a_year_after_the_appraisal() -> None:
    result = run(healthy())
    assert result.triggers == []
    assert result.next_revaluation_date == dt.date(2027, 6, 30)
    assert result.revaluation_required == "none"
    assert result.highest_severity is None


def test_minimal_body_with_only_required_fields() -> None:
    result = run({"as_of": AS_OF, "last_appraisal": {"date": "2026-06-30", "value": 1}})
    assert result.triggers == []


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2023, 1, 31), 1, dt.date(2023, 2, 28)),
        (dt.date(2025, 11, 15), 12, dt.date(2026, 11, 15)),
        (dt.date(2025, 12, 31), 2, dt.date(2026, 2, 28)),
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
        (dt.date(2020, 2, 29), 36, dt.date(2023, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


# --- calendar -------------------------------------------------------------------------------


def test_calendar_overdue_asks_for_full_revaluation_now() -> None:
    result = run(healthy(last_appraisal={"date": "2025-10-01"}))
    trigger = only(result, "calendar")
    assert trigger.severity == "warning"
    assert trigger.revaluation == "full"
    assert "due 2026-10-01" in trigger.reason
    assert "57 days overdue" in trigger.reason
    assert trigger.figures["days_overdue"] == 57
    assert result.next_revaluation_date == dt.date(2026, 11, 27)


def test_calendar_exactly_twelve_months_is_not_overdue_but_reminds() -> None:
    result = run(healthy(last_appraisal={"date": "2025-11-27"}))
    trigger = only(result, "calendar")
    assert trigger.severity == "info"
    assert trigger.figures["days_left"] == 0
    assert result.next_revaluation_date == dt.date(2026, 11, 27)


def test_calendar_more_than_two_periods_old_is_critical() -> None:
    trigger = only(run(healthy(last_appraisal={"date": "2024-11-01"})), "calendar")
    assert trigger.severity == "critical"


def test_calendar_threshold_is_configurable() -> None:
    body = healthy(
        last_appraisal={"date": "2026-04-01"}, thresholds={"months_between_appraisals": 6}
    )
    trigger = only(run(body), "calendar")
    assert "every 6 months" in trigger.reason
    assert "due 2026-10-01" in trigger.reason


# --- independent valuer ---------------------------------------------------------------------


def test_independent_valuer_only_for_large_exposures() -> None:
    assert by_rule(run(healthy()), "independent_valuer") == []
    trigger = only(run(healthy(loan={"large_exposure": True})), "independent_valuer")
    assert trigger.severity == "warning"
    assert "no independent valuation on record" in trigger.reason


def test_independent_valuer_overdue_after_three_years() -> None:
    body = healthy(loan={"large_exposure": True}, last_appraisal={"independent_date": "2023-10-15"})
    result = run(body)
    trigger = only(result, "independent_valuer")
    assert "due 2026-10-15" in trigger.reason
    assert trigger.revaluation == "full"
    assert result.next_revaluation_date == dt.date(2026, 11, 27)


def test_independent_appraisal_counts_and_can_bring_schedule_forward() -> None:
    fresh = healthy(loan={"large_exposure": True}, last_appraisal={"independent": True})
    assert run(fresh).triggers == []
    # independent valuation due 2027-03-01, before the yearly date 2027-06-30
    earlier = healthy(
        loan={"large_exposure": True}, last_appraisal={"independent_date": "2024-03-01"}
    )
    result = run(earlier)
    assert result.triggers == []
    assert result.next_revaluation_date == dt.date(2027, 3, 1)


# --- value decline and LTV ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "severity", "revaluation"),
    [
        (901_000, None, None),
        (900_000, "warning", "desk_review"),
        (800_001, "warning", "desk_review"),
        (800_000, "critical", "full"),
        (300_000, "critical", "full"),
    ],
)
def test_value_decline_thresholds(current: float, severity: str | None, revaluation: str) -> None:
    body = healthy(current={"value": current}, loan={"amount": 0})
    found = by_rule(run(body), "value_decline")
    if severity is None:
        assert found == []
        return
    (trigger,) = found
    assert (trigger.severity, trigger.revaluation) == (severity, revaluation)
    assert f"{100 * (1 - current / 1e6):.1f} %" in trigger.reason
    assert trigger.figures["decline"] == pytest.approx(1 - current / 1e6)


def test_value_rise_does_not_fire() -> None:
    assert run(healthy(current={"value": 2_000_000})).triggers == []


def test_ltv_breach_reports_paydown_and_extra_security() -> None:
    # loan 300,000 against 800,000 at a 30 % cap: LTV 37.5 %
    body = healthy(current={"value": 800_000}, loan={"amount": 300_000})
    trigger = only(run(body), "ltv_breach")
    assert trigger.severity == "critical"
    assert "37.5 %" in trigger.reason and "30.0 %" in trigger.reason
    assert trigger.figures["ltv"] == pytest.approx(0.375)
    assert trigger.figures["paydown_needed"] == pytest.approx(300_000 - 0.3 * 800_000)
    assert trigger.figures["extra_security_needed"] == pytest.approx(1_000_000 - 800_000)
    assert "pay down 60,000" in trigger.action
    assert "200,000" in trigger.action


def test_ltv_uses_appraised_value_without_a_current_value() -> None:
    body = healthy(loan={"amount": 350_000})
    body["current"] = {}
    trigger = only(run(body), "ltv_breach")
    assert "appraised value 1,000,000" in trigger.reason


def test_ltv_at_the_cap_warns_only() -> None:
    trigger = only(run(healthy(loan={"amount": 300_000})), "ltv_breach")
    assert trigger.severity == "warning"


# --- volatility, royalties, life, credit ----------------------------------------------------


def test_volatility_rise_by_posterior_probability() -> None:
    trigger = only(run(healthy(current={"prob_volatility_rose": 0.93})), "volatility_rise")
    assert trigger.severity == "warning"
    assert "0.930" in trigger.reason
    assert trigger.revaluation == "desk_review"
    assert by_rule(run(healthy(current={"prob_volatility_rose": 0.9})), "volatility_rise") == []


def test_volatility_rise_by_estimate() -> None:
    trigger = only(run(healthy(current={"volatility": 0.5})), "volatility_rise")
    assert "25.0 %" in trigger.reason and "40.0 %" in trigger.reason and "50.0 %" in trigger.reason
    assert trigger.figures["rise"] == pytest.approx(0.25)
    assert by_rule(run(healthy(current={"volatility": 0.49})), "volatility_rise") == []


def test_royalty_decline() -> None:
    trigger = only(run(healthy(royalties={"current": 80_000})), "royalty_decline")
    assert trigger.severity == "warning"
    assert "20.0 %" in trigger.reason and "100,000" in trigger.reason
    stopped = only(run(healthy(royalties={"current": 0})), "royalty_decline")
    assert stopped.severity == "critical"
    assert by_rule(run(healthy(royalties={"current": 80_001})), "royalty_decline") == []


@pytest.mark.parametrize(
    ("expiry", "severity"),
    [
        ("2035-01-01", None),
        ("2030-06-01", None),  # maturity 2029-11-27 + 0.5 years to sell = 2030-05-28
        ("2030-01-15", "warning"),  # after maturity, within the time to sell
        ("2029-06-01", "critical"),  # before maturity
        ("2026-01-01", "critical"),  # already expired
    ],
)
def test_remaining_life(expiry: str, severity: str | None) -> None:
    body = healthy(legal={"expiry_date": expiry}, loan={"time_to_sell_years": 0.5})
    found = by_rule(run(body), "remaining_life")
    if severity is None:
        assert found == []
    else:
        assert [t.severity for t in found] == [severity]
        assert expiry in found[0].reason


def test_remaining_life_counts_maturity_from_the_loan_start() -> None:
    body = healthy(
        legal={"expiry_date": "2029-06-01"},
        loan={"term_years": 3, "start_date": "2025-06-01", "time_to_sell_years": 1},
    )
    # maturity 2028-06-01 + 1 year to sell = 2029-06-01: exactly enough
    assert by_rule(run(body), "remaining_life") == []


def test_credit_event_is_critical_and_brings_revaluation_forward() -> None:
    result = run(healthy(credit_event=True))
    trigger = only(result, "credit_event")
    assert trigger.severity == "critical"
    assert "liquidation" in trigger.action
    assert result.next_revaluation_date == dt.date(2026, 11, 27)
    assert result.revaluation_required == "full"


# --- legal events ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "status", "severity", "revaluation"),
    [
        ("invalidation_petition", "filed", "warning", "desk_review"),
        ("invalidation_petition", "instituted", "critical", "full"),
        ("invalidation_petition", "decided_against_owner", "critical", "full"),
        ("invalidation_petition", "dismissed", "info", "none"),
        ("opposition", "filed", "warning", "desk_review"),
        ("opposition", "decided_against_owner", "critical", "full"),
        ("infringement_suit", "pending", "warning", "desk_review"),
        ("infringement_suit", "settled", "info", "none"),
        ("missed_maintenance_fee", "filed", "critical", "full"),
        ("ownership_change", "filed", "critical", "full"),
        ("licensee_lost", "filed", "critical", "full"),
    ],
)
def test_legal_event_severity(
    event_type: str, status: str, severity: str, revaluation: str
) -> None:
    event = {"type": event_type, "date": "2026-09-01", "status": status}
    result = run(healthy(legal={"events": [event]}))
    trigger = only(result, "legal_event")
    assert (trigger.severity, trigger.revaluation) == (severity, revaluation)
    assert "legal.events[0]" in trigger.reason and "2026-09-01" in trigger.reason
    expected_date = dt.date(2026, 11, 27) if revaluation == "full" else dt.date(2027, 6, 30)
    assert result.next_revaluation_date == expected_date


def test_instituted_petition_quotes_ptab_figures() -> None:
    event = {"type": "invalidation_petition", "date": "2026-09-01", "status": "instituted"}
    trigger = only(run(healthy(legal={"events": [event]})), "legal_event")
    assert "74 %" in trigger.reason


def test_legal_event_status_defaults_to_filed_and_events_before_the_appraisal_are_priced_in() -> (
    None
):
    events = [
        {"type": "opposition", "date": "2026-01-01"},
        {"type": "infringement_suit", "date": "2026-06-30"},
        {"type": "ownership_change", "date": "2026-10-01"},
    ]
    found = by_rule(run(healthy(legal={"events": events})), "legal_event")
    assert [t.figures["event_index"] for t in found] == [2, 1]  # critical first
    assert found[1].figures["status"] == "filed"


def test_triggers_sorted_by_severity() -> None:
    body = healthy(
        current={"value": 850_000, "volatility": 0.6},
        credit_event=True,
        last_appraisal={"date": "2026-01-15"},
    )
    result = run(body)
    ranks = [SEVERITY_ORDER[t.severity] for t in result.triggers]
    assert ranks == sorted(ranks, reverse=True)
    assert result.highest_severity == "critical"
    assert {t.rule for t in result.triggers} >= {"value_decline", "volatility_rise", "credit_event"}


def test_answer_serialises_with_the_contract_names() -> None:
    payload = run(healthy(credit_event=True)).model_dump(mode="json")
    assert set(payload) >= {"triggers", "next_revaluation_date"}
    assert set(payload["triggers"][0]) >= {"rule", "severity", "reason", "action"}
    assert payload["next_revaluation_date"] == AS_OF


# --- properties -----------------------------------------------------------------------------


def _max_severity(result: TriggerResult) -> int:
    return max((SEVERITY_ORDER[t.severity] for t in result.triggers), default=-1)


@settings(max_examples=60, deadline=None)
@given(
    smaller=st.floats(min_value=-0.5, max_value=0.99),
    extra=st.floats(min_value=0.0, max_value=0.99),
    amount=st.floats(min_value=0, max_value=2_000_000),
)
def test_a_bigger_value_decline_never_gives_a_less_severe_answer(
    smaller: float, extra: float, amount: float
) -> None:
    bigger = min(smaller + extra, 0.999)
    less = run(healthy(current={"value": 1e6 * (1 - smaller)}, loan={"amount": amount}))
    more = run(healthy(current={"value": 1e6 * (1 - bigger)}, loan={"amount": amount}))
    assert _max_severity(more) >= _max_severity(less)
    for rule in ("value_decline", "ltv_breach"):
        sev_less = max((SEVERITY_ORDER[t.severity] for t in by_rule(less, rule)), default=-1)
        sev_more = max((SEVERITY_ORDER[t.severity] for t in by_rule(more, rule)), default=-1)
        assert sev_more >= sev_less
    assert more.next_revaluation_date <= less.next_revaluation_date


@settings(max_examples=60, deadline=None)
@given(
    age_days=st.integers(min_value=0, max_value=300),
    value_change=st.floats(min_value=-0.09, max_value=1.0),
    ltv_share=st.floats(min_value=0.0, max_value=0.89),
    vol_rise=st.floats(min_value=-0.5, max_value=0.24),
    prob=st.floats(min_value=0.0, max_value=0.9),
    spare_life=st.floats(min_value=0.01, max_value=20),
)
def test_healthy_states_fire_nothing(
    age_days: int,
    value_change: float,
    ltv_share: float,
    vol_rise: float,
    prob: float,
    spare_life: float,
) -> None:
    as_of = dt.date(2026, 11, 27)
    value = 1e6 * (1 + value_change)
    body = {
        "as_of": as_of.isoformat(),
        "last_appraisal": {
            "date": (as_of - dt.timedelta(days=age_days)).isoformat(),
            "value": 1e6,
            "volatility": 0.4,
        },
        "current": {
            "value": value,
            "volatility": 0.4 * (1 + vol_rise),
            "prob_volatility_rose": prob,
        },
        "loan": {"amount": ltv_share * 0.5 * value, "max_ltv": 0.5, "term_years": 2},
        "legal": {
            "expiry_date": (
                as_of + dt.timedelta(days=round(365.25 * (2.5 + spare_life)) + 1)
            ).isoformat()
        },
    }
    result = run(body)
    assert result.triggers == []
    assert result.next_revaluation_date > as_of


# --- bad input ------------------------------------------------------------------------------


def _error_text(err: ValidationError) -> str:
    return " | ".join(
        ".".join(str(part) for part in e["loc"]) + ": " + e["msg"] for e in err.errors()
    )


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"loan": {"max_ltv": 1.5}}, "loan.max_ltv"),
        ({"loan": {"max_ltv": 0}}, "loan.max_ltv"),
        ({"loan": {"amount": -1}}, "loan.amount"),
        ({"loan": {"term_years": 0}}, "loan.term_years"),
        ({"last_appraisal": {"value": 0}}, "last_appraisal.value"),
        ({"last_appraisal": {"value": float("nan")}}, "last_appraisal.value"),
        ({"current": {"prob_volatility_rose": 1.2}}, "current.prob_volatility_rose"),
        ({"current": {"volatility": -0.1}}, "current.volatility"),
        ({"royalties": {"current": -5}}, "royalties.current"),
        ({"last_appraisal": {"date": "2027-01-01"}}, "last_appraisal.date"),
        ({"last_appraisal": {"independent_date": "2027-01-01"}}, "last_appraisal.independent_date"),
        ({"loan": {"start_date": "2027-01-01"}}, "loan.start_date"),
        (
            {"legal": {"events": [{"type": "opposition", "date": "2027-01-01"}]}},
            "legal.events.0.date",
        ),
        ({"legal": {"events": [{"type": "lawsuit", "date": "2026-01-01"}]}}, "legal.events.0.type"),
        (
            {"legal": {"events": [{"type": "opposition", "date": "2026-01-01", "status": "won"}]}},
            "legal.events.0.status",
        ),
        ({"thresholds": {"desk_review_decline": 1.5}}, "thresholds.desk_review_decline"),
        (
            {"thresholds": {"desk_review_decline": 0.3, "full_revaluation_decline": 0.2}},
            "thresholds.full_revaluation_decline",
        ),
        ({"thresholds": {"months_between_appraisals": 0}}, "thresholds.months_between_appraisals"),
        ({"thresholds": {"ltv_cap": 0.5}}, "thresholds.ltv_cap"),
        ({"colour": "red"}, "colour"),
        ({"as_of": "27/11/2026"}, "as_of"),
    ],
)
def test_bad_input_names_the_field(overrides: dict[str, Any], names: str) -> None:
    with pytest.raises(ValidationError) as info:
        TriggerState.model_validate(healthy(**overrides))
    assert names in _error_text(info.value)


def test_cross_field_errors_point_at_the_exact_field() -> None:
    body = healthy(legal={"events": [{"type": "opposition", "date": "2026-01-01"}] * 2})
    body["legal"]["events"][1] = {"type": "opposition", "date": "2027-02-01"}
    with pytest.raises(ValidationError) as info:
        TriggerState.model_validate(body)
    (error,) = info.value.errors()
    assert error["loc"] == ("legal", "events", 1, "date")
    assert error["msg"] == "2027-02-01 is after as_of (2026-11-27); record events once they happen"
    with pytest.raises(ValidationError) as info:
        TriggerState.model_validate(healthy(thresholds={"full_revaluation_decline": 0.05}))
    (error,) = info.value.errors()
    assert error["loc"] == ("thresholds", "full_revaluation_decline")
    assert "at least desk_review_decline (0.1)" in error["msg"]
