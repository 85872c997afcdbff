"""The pledge book's pure core: legal record from events, office codes, bulk files, alerts.

Sample files in tests/data/ follow the USPTO maintenance-fee events layout (seven space-separated
fields; ipvalue.risk.book.office_codes cites the documentation) and the CSV the README documents.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from pydantic import ValidationError

from ipvalue.models.asset import Asset
from ipvalue.models.book import AssetBody, BookEvent, LoanBody
from ipvalue.risk.book.alerts import Fired, KnownAlert, decide_alerts
from ipvalue.risk.book.imports import asset_keys, match_key, normalise_number, parse
from ipvalue.risk.book.legal_record import legal_record
from ipvalue.risk.book.office_codes import USPTO_MAINTFEE, lookup
from ipvalue.valuation.life import legal_life

DATA = Path(__file__).parent / "data"
D = dt.date


def patent(**legal: object) -> Asset:
    return Asset.model_validate(
        {
            "name": "P1",
            "kind": "patent",
            "jurisdiction": "US",
            "legal": {"status": "granted", "filing_date": "2010-01-01", **legal},
        }
    )


def ev(type_: str, date: str, **kw: object) -> BookEvent:
    return BookEvent.model_validate({"type": type_, "date": date, **kw})


# --- legal record -------------------------------------------------------------------------


def test_no_events_gives_the_statutory_life_of_valuation_life() -> None:
    asset = patent()
    record = legal_record(asset, [], D(2026, 1, 1))
    expected = legal_life(asset, D(2026, 1, 1))
    assert record.status == "granted"
    assert record.life == expected  # one statutory-term rule: valuation.life
    assert record.life.expiry_date == D(2030, 1, 1)  # 20 years from filing (TRIPS art. 33)
    assert record.remaining_years == pytest.approx(4.0, abs=0.01)


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("lapsed", "lapsed"),
        ("expired", "expired"),
        ("invalidated", "invalidated"),
        ("revoked", "invalidated"),
    ],
)
def test_an_ending_event_changes_status_and_life_at_once(kind: str, status: str) -> None:
    record = legal_record(patent(), [ev(kind, "2024-05-01")], D(2024, 5, 1))
    assert record.status == status
    assert record.life.years == 0.0
    assert record.life.alive is False
    assert record.ended_on == D(2024, 5, 1)
    before = legal_record(patent(), [ev(kind, "2024-05-01")], D(2024, 4, 30))
    assert before.status == "granted" and before.life.years > 5


def test_reinstatement_restores_status_and_statutory_life() -> None:
    events = [ev("reinstated", "2018-06-20"), ev("lapsed", "2018-03-05")]  # out of order
    record = legal_record(patent(), events, D(2020, 1, 1))
    assert [e.type for e in record.events] == ["lapsed", "reinstated"]
    assert record.status == "granted"
    assert record.ended_on is None
    assert record.life == legal_life(patent(), D(2020, 1, 1))


def test_missed_fee_then_paid_is_settled_for_the_trigger_rules() -> None:
    events = [ev("missed_maintenance_fee", "2017-09-01"), ev("maintenance_fee_paid", "2017-10-01")]
    record = legal_record(patent(), events, D(2018, 1, 1))
    assert record.open_missed_fee is False
    assert [(e.type, e.status) for e in record.trigger_events()] == [
        ("missed_maintenance_fee", "settled")
    ]
    unpaid = legal_record(patent(), events[:1], D(2018, 1, 1))
    assert unpaid.open_missed_fee is True
    assert unpaid.trigger_events()[0].status == "filed"


def test_pledge_registered_and_released() -> None:
    events = [ev("pledge_registered", "2024-01-01"), ev("pledge_released", "2025-01-01")]
    assert legal_record(patent(), events, D(2024, 6, 1)).pledge_registered is True
    assert legal_record(patent(), events, D(2025, 6, 1)).pledge_registered is False


def test_remaining_life_only_shrinks_with_time_without_events() -> None:
    lives = [legal_record(patent(), [], D(y, 1, 1)).life.years for y in range(2011, 2032)]
    assert all(a > b for a, b in itertools.pairwise(lives) if a > 0)
    assert lives[-1] == 0.0


def test_as_asset_carries_the_derived_status() -> None:
    record = legal_record(patent(), [ev("lapsed", "2024-05-01")], D(2025, 1, 1))
    assert record.as_asset(patent()).legal.status == "lapsed"
    assert record.summary()["status"] == "lapsed"


# --- office codes and imports -------------------------------------------------------------


def test_office_codes_map_payments_lapse_and_reinstatement() -> None:
    for code in ("M1551", "M2551", "M3551", "M1552", "M2553", "M3553"):
        assert USPTO_MAINTFEE[code].type == "maintenance_fee_paid"
    assert lookup("EXP.").type == "lapsed"  # type: ignore[union-attr]
    assert lookup("EXPX").type == "reinstated"  # type: ignore[union-attr]
    assert lookup("REM.").type == "missed_maintenance_fee"  # type: ignore[union-attr]
    assert lookup("ASPN").type is None  # type: ignore[union-attr]
    assert lookup("ZZZ9") is None


def test_maintfee_sample_file() -> None:
    parsed = parse("uspto-maintfee", (DATA / "maintfee_sample.txt").read_text())
    assert parsed.rejected == []
    assert len(parsed.rows) == 8
    first = parsed.rows[0]
    assert first.line == 1 and first.code == "M1551" and first.date == D(2013, 8, 5)
    assert first.event is not None and first.event.type == "maintenance_fee_paid"
    assert first.event.source == "uspto-maintfee"
    assert first.ids == {"patent_number": "07654321", "application_number": "11123456"}
    assert [r.event.type if r.event else None for r in parsed.rows[:4]] == [
        "maintenance_fee_paid",
        "missed_maintenance_fee",
        "lapsed",
        "reinstated",
    ]
    admin = parsed.rows[4]
    assert admin.code == "ASPN" and admin.event is None and admin.unknown is False
    unknown = parsed.rows[6]
    assert unknown.code == "ZZZ9" and unknown.event is None and unknown.unknown is True
    assert unknown.line == 7  # kept with its line, never dropped


def test_maintfee_bad_lines_are_rejected_with_line_numbers() -> None:
    parsed = parse("uspto-maintfee", (DATA / "maintfee_bad.txt").read_text())
    assert [r.line for r in parsed.rejected] == [2, 4]
    assert "event entry date" in parsed.rejected[0].message
    assert "7 space-separated fields" in parsed.rejected[1].message
    assert [r.line for r in parsed.rows] == [1]


def test_csv_sample_file() -> None:
    parsed = parse("csv", (DATA / "legal_events.csv").read_text())
    assert parsed.rejected == []
    suit, pledge, paid, unknown = parsed.rows
    assert suit.event is not None and suit.event.type == "infringement_suit"
    assert suit.event.detail == "Acme v. Beta, 1:24-cv-00123" and suit.event.source == "court"
    assert pledge.event is not None and pledge.event.type == "pledge_registered"
    assert paid.event is not None and paid.event.type == "maintenance_fee_paid"
    assert paid.event.code == "M3552"
    assert unknown.unknown and unknown.code == "QQ17" and unknown.line == 5


def test_csv_bad_rows_are_rejected_with_line_numbers() -> None:
    parsed = parse("csv", (DATA / "legal_events_bad.csv").read_text())
    assert [r.line for r in parsed.rejected] == [2, 3, 4]
    assert "not a date" in parsed.rejected[0].message
    assert "exploded" in parsed.rejected[1].message
    assert "asset_id or an external id" in parsed.rejected[2].message
    assert [r.line for r in parsed.rows] == [5]


def test_csv_header_problems_name_the_columns() -> None:
    parsed = parse("csv", "publication_numbr,date,type\n1,2024-01-01,lapsed\n")
    assert parsed.rejected[0].line == 1
    assert "publication_numbr" in parsed.rejected[0].message
    with pytest.raises(ValueError, match="format must be one of"):
        parse("inpadoc", "")


def test_numbers_match_across_spellings() -> None:
    assert normalise_number("US 7,654,321 B2") == "7654321"
    assert normalise_number("07654321") == "7654321"
    assert normalise_number("D0512345") == "D512345"
    assert normalise_number("11/123,456") == "11123456"
    kept = asset_keys("a1", {"publication_number": "US7654321B2", "application_number": None})
    assert set(match_key({"patent_number": "07654321"})) & set(kept)
    assert not set(match_key({"patent_number": "07654322"})) & set(kept)


# --- alerts -------------------------------------------------------------------------------


def fired(rule: str, severity: str, asset: str | None = None) -> Fired:
    return Fired(rule, asset, severity, "why", "what")


def known(id_: str, rule: str, severity: str, status: str = "open", asset: str | None = None):
    return KnownAlert(id_, rule, asset, severity, status)


def test_a_new_rule_raises_and_the_same_rule_does_not_raise_twice() -> None:
    first = decide_alerts([], [fired("ltv_breach", "warning")])
    assert [f.rule for f in first.raise_] == ["ltv_breach"]
    again = decide_alerts([known("a", "ltv_breach", "warning")], [fired("ltv_breach", "warning")])
    assert again.raise_ == [] and again.still_open == ["a"] and again.clear == []
    seen = decide_alerts(
        [known("a", "ltv_breach", "warning", "acknowledged")], [fired("ltv_breach", "info")]
    )
    assert seen.raise_ == []


def test_rising_severity_raises_again_and_a_cleared_rule_raises_again() -> None:
    rise = decide_alerts([known("a", "ltv_breach", "warning")], [fired("ltv_breach", "critical")])
    assert [f.severity for f in rise.raise_] == ["critical"]
    assert rise.clear == ["a"]  # superseded by the more severe one
    cleared = decide_alerts([known("a", "ltv_breach", "warning")], [])
    assert cleared.clear == ["a"] and cleared.raise_ == []
    after = decide_alerts(
        [known("a", "ltv_breach", "warning", "cleared")], [fired("ltv_breach", "warning")]
    )
    assert len(after.raise_) == 1


def test_alerts_are_keyed_by_asset_and_one_per_key_per_run() -> None:
    decision = decide_alerts(
        [known("a", "legal_event", "critical", asset="x")],
        [
            fired("legal_event", "warning", "x"),
            fired("legal_event", "critical", "y"),
            fired("legal_event", "warning", "y"),
        ],
    )
    assert [(f.asset_id, f.severity) for f in decision.raise_] == [("y", "critical")]


# --- bodies -------------------------------------------------------------------------------


def test_bad_bodies_name_the_field() -> None:
    with pytest.raises(ValidationError, match="pledged twice"):
        LoanBody.model_validate(
            {
                "borrower": "B",
                "amount": 1,
                "currency": "EUR",
                "start_date": "2026-01-01",
                "term_years": 3,
                "pledged_asset_ids": ["a", "a"],
            }
        )
    with pytest.raises(ValidationError, match="appraisal"):
        AssetBody.model_validate(
            {
                "asset": {"name": "P", "kind": "patent"},
                "appraisal": {
                    "valuation_date": "2026-01-01",
                    "currency": "EUR",
                    "methods": [{"method": "dcf"}],
                },
            }
        )
    with pytest.raises(ValidationError):
        BookEvent.model_validate({"type": "exploded", "date": "2026-01-01"})
