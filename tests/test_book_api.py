"""The pledge book over HTTP: versioned assets and loans, events, imports, alerts, tenancy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
RFR = {
    "method": "relief_from_royalty",
    "revenue": {"base": 1_000_000, "growth": 0.0, "years": 10},
    "royalty_rate": 0.05,
    "tax_rate": 0.25,
    "discount_rate": 0.12,
}


def asset_body(name: str = "Widget patent", number: str = "US 7,654,321 B2") -> dict[str, Any]:
    return {
        "asset": {
            "name": name,
            "kind": "patent",
            "jurisdiction": "US",
            "legal": {"status": "granted", "filing_date": "2010-02-02"},
        },
        "external_ids": {"publication_number": number, "application_number": "11/123,456"},
        "appraisal": {
            "valuation_date": "2026-01-01",
            "currency": "EUR",
            "methods": [RFR],
            "simulation": {"volatility": 0.4},
        },
    }


def make_asset(client: Any, **kw: Any) -> dict[str, Any]:
    answer = client.post("/v1/assets", json=asset_body(**kw))
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json())


def loan_body(*asset_ids: str, **extra: Any) -> dict[str, Any]:
    return {
        "borrower": "Acme GmbH",
        "amount": 100_000,
        "currency": "EUR",
        "start_date": "2026-01-01",
        "term_years": 3,
        "pledged_asset_ids": list(asset_ids),
        "annual_pd": 0.02,
        **extra,
    }


def test_asset_is_versioned_by_its_events(client: Any) -> None:
    made = make_asset(client)
    assert made["version"] == 1 and made["legal"]["status"] == "granted"
    assert made["legal"]["remaining_years"] > 3
    events = {
        "events": [
            {"type": "lapsed", "date": "2024-03-05", "code": "EXP.", "source": "uspto-maintfee"}
        ]
    }
    added = client.post(f"/v1/assets/{made['id']}/events", json=events)
    assert added.status_code == 201
    out = added.get_json()
    assert out["version"] == 2 and out["added"] == 1
    assert out["legal"]["status"] == "lapsed" and out["legal"]["remaining_years"] == 0.0
    again = client.post(f"/v1/assets/{made['id']}/events", json=events)
    assert again.status_code == 200 and again.get_json()["version"] == 2  # duplicate: no-op
    old = client.get(f"/v1/assets/{made['id']}?version=1").get_json()
    assert old["version"] == 1 and old["legal"]["status"] == "granted"
    assert client.get(f"/v1/assets/{made['id']}").get_json()["version"] == 2


def test_idempotency_key_replays(client: Any) -> None:
    made = make_asset(client)
    url = f"/v1/assets/{made['id']}/events"
    headers = {"Idempotency-Key": "k-1"}
    first = client.post(
        url, json={"events": [{"type": "opposition", "date": "2024-01-01"}]}, headers=headers
    )
    assert first.status_code == 201
    replay = client.post(
        url, json={"events": [{"type": "lapsed", "date": "2024-02-01"}]}, headers=headers
    )
    assert replay.status_code == 200 and replay.get_json()["replayed"] is True
    assert replay.get_json()["legal"]["status"] == "granted"


def test_bad_events_name_the_field(client: Any) -> None:
    made = make_asset(client)
    url = f"/v1/assets/{made['id']}/events"
    future = client.post(url, json={"events": [{"type": "lapsed", "date": "2999-01-01"}]})
    assert future.status_code == 422
    assert future.get_json()["errors"][0]["field"] == "events[0].date"
    early = client.post(url, json={"events": [{"type": "lapsed", "date": "2001-01-01"}]})
    assert early.status_code == 422 and "filing date" in early.get_json()["detail"]
    bad = client.post(url, json={"events": [{"type": "exploded", "date": "2020-01-01"}]})
    assert bad.status_code == 422
    assert client.post("/v1/assets/nope/events", json={"events": []}).status_code == 404


def test_archive_keeps_the_asset_readable_and_lists_page(client: Any) -> None:
    ids = [make_asset(client, name=f"P{i}", number=f"80000{i}")["id"] for i in range(3)]
    page = client.get("/v1/assets?limit=2").get_json()
    assert [i["id"] for i in page["items"]] == ids[::-1][:2]
    rest = client.get(f"/v1/assets?limit=2&cursor={page['next_cursor']}").get_json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert client.delete(f"/v1/assets/{ids[0]}").status_code == 200
    assert client.get(f"/v1/assets/{ids[0]}").get_json()["archived_at"] is not None
    listed = [i["id"] for i in client.get("/v1/assets").get_json()["items"]]
    assert ids[0] not in listed
    named = client.get("/v1/assets?asset_name=P1").get_json()["items"]
    assert [i["id"] for i in named] == [ids[1]]
    assert client.get("/v1/assets?colour=red").status_code == 422


def test_another_tenant_sees_nothing(client: Any, other_client: Any) -> None:
    made = make_asset(client)
    assert other_client.get(f"/v1/assets/{made['id']}").status_code == 404
    assert other_client.post("/v1/loans", json=loan_body(made["id"])).status_code == 404
    assert other_client.get("/v1/assets").get_json()["items"] == []


def test_maintfee_import(client: Any) -> None:
    made = make_asset(client)
    text = (DATA / "maintfee_sample.txt").read_text()
    answer = client.post(
        "/v1/legal-status/imports?format=uspto-maintfee", data=text, content_type="text/plain"
    )
    assert answer.status_code == 200, answer.get_json()
    out = answer.get_json()
    assert out["imported"] == 4 and out["matched_assets"] == 1
    assert out["unmatched"] == 4 and out["unknown_codes"] == {"ZZZ9": 1}
    asset = client.get(f"/v1/assets/{made['id']}").get_json()
    assert [e["code"] for e in asset["legal"]["events"]] == ["M1551", "REM.", "EXP.", "EXPX"]
    assert asset["legal"]["status"] == "granted"  # lapsed in 2018, reinstated
    again = client.post("/v1/legal-status/imports?format=uspto-maintfee", data=text).get_json()
    assert again["imported"] == 0


def test_import_with_bad_lines_imports_nothing_unless_skip(client: Any) -> None:
    made = make_asset(client)
    text = (DATA / "maintfee_bad.txt").read_text()
    refused = client.post("/v1/legal-status/imports?format=uspto-maintfee", data=text)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["line 2", "line 4"]
    assert client.get(f"/v1/assets/{made['id']}").get_json()["version"] == 1
    skipped = client.post(
        "/v1/legal-status/imports?format=uspto-maintfee&on_error=skip", data=text
    ).get_json()
    assert skipped["imported"] == 1 and [r["line"] for r in skipped["rejected"]] == [2, 4]
    assert client.post("/v1/legal-status/imports?format=inpadoc", data="").status_code == 422


def test_csv_import_keeps_unknown_codes_on_the_asset(client: Any) -> None:
    a = make_asset(client)
    b = make_asset(client, name="B", number="8000001")
    out = client.post(
        "/v1/legal-status/imports?format=csv", data=(DATA / "legal_events.csv").read_text()
    ).get_json()
    assert out["imported"] == 3 and out["matched_assets"] == 2
    assert out["unknown_codes"] == {"QQ17": 1}
    kept = client.get(f"/v1/assets/{b['id']}").get_json()["unclassified_events"]
    assert [u["code"] for u in kept] == ["QQ17"]
    legal = client.get(f"/v1/assets/{a['id']}").get_json()["legal"]
    assert legal["pledge_registered"] is True


def test_loans_versioned_and_pledges_checked(client: Any) -> None:
    a = make_asset(client)
    made = client.post("/v1/loans", json=loan_body(a["id"]))
    assert made.status_code == 201, made.get_json()
    loan = made.get_json()
    assert loan["version"] == 1 and loan["monitoring"]["collateral"] is None
    changed = client.put(f"/v1/loans/{loan['id']}", json=loan_body(a["id"], amount=120_000))
    assert changed.get_json()["version"] == 2 and changed.get_json()["amount"] == 120_000
    assert client.get(f"/v1/loans/{loan['id']}?version=1").get_json()["amount"] == 100_000
    assert client.post("/v1/loans", json=loan_body("missing")).status_code == 404
    assert client.post("/v1/loans", json=loan_body(a["id"], a["id"])).status_code == 422
    assert client.get("/v1/loans?sort=risk").status_code == 200
    assert client.get("/v1/loans?sort=size").status_code == 422
    assert client.delete(f"/v1/loans/{loan['id']}").status_code == 200
    assert client.get("/v1/loans").get_json()["items"] == []


def test_alerts_list_and_acknowledge_unknown(client: Any) -> None:
    assert client.get("/v1/alerts").get_json() == {"items": [], "next_cursor": None}
    assert client.get("/v1/alerts?status=bogus").status_code == 422
    assert client.post("/v1/alerts/nope/acknowledge", json={"by": "me"}).status_code == 404


def test_a_bulk_change_is_all_or_nothing(client: Any) -> None:
    from ipvalue.api.book import BookStore
    from ipvalue.api.db import engine_for
    from ipvalue.models.errors import InputError

    a = make_asset(client)
    b = make_asset(client, name="B", number="8000001")
    store = BookStore(engine_for(client.application.config["DATABASE_URL"]))
    doc_a = store.get("asset", "test-tenant", a["id"])["document"]
    doc_b = store.get("asset", "test-tenant", b["id"])["document"]
    stale = [(a["id"], 1, doc_a, {}, None), (b["id"], 7, doc_b, {}, None)]
    try:
        store.add_versions("asset", "test-tenant", stale)
        raise AssertionError("a stale version must be refused")
    except InputError as exc:
        assert "changed while this change was made" in str(exc)
    assert store.get("asset", "test-tenant", a["id"])["version"] == 1  # nothing half-written
