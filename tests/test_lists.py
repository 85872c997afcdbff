"""Lists of stored records: cursor pages newest first, filters, tenants, bad parameters."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import authed_client, key_for
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text

from ipvalue.api.db import engine_for, migrate
from ipvalue.api.facts import FILTERS
from ipvalue.api.pagination import Page, parse_page
from ipvalue.api.store import MemoryStore, SqlStore, record_row
from ipvalue.api.tables import records
from ipvalue.models.errors import InputError

EXAMPLE = json.loads((Path(__file__).parents[1] / "examples" / "patent.json").read_text())
LISTS = {
    "/v1/valuations": "valuation",
    "/v1/collateral": "collateral",
    "/v1/insurance/quotes": "insurance_quote",
    "/v1/portfolios": "portfolio",
    "/v1/volatility": "volatility",
    "/v1/triggers": "triggers",
}


def valuation(name: str, currency: str = "EUR", status: str = "granted") -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE)
    body["asset"]["name"] = name
    body["asset"]["legal"]["status"] = status
    body["currency"] = currency
    return body


def all_pages(client: Any, path: str, limit: int, **params: str) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
        resp = client.get(path, query_string=query)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


@pytest.fixture
def db_client(make_app: Any, db_url: str) -> Any:
    app = make_app(DATABASE_URL=db_url)
    return authed_client(app, key_for(app))


def test_pages_are_newest_first_and_never_repeat_or_skip(db_client: Any) -> None:
    ids = [
        db_client.post("/v1/valuations", json=valuation(f"P{i}")).get_json()["id"] for i in range(7)
    ]
    pages = all_pages(db_client, "/v1/valuations", 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    shown = [item["id"] for page in pages for item in page]
    assert shown == ids[::-1]
    stamps = [item["created_at"] for page in pages for item in page]
    assert stamps == sorted(stamps, reverse=True)


def test_an_item_is_the_record_envelope(db_client: Any) -> None:
    created = db_client.post("/v1/valuations", json=valuation("EP1")).get_json()
    item = db_client.get("/v1/valuations").get_json()["items"][0]
    for field in ("id", "kind", "created_at", "versions", "seed", "request", "inputs", "result"):
        assert field in item
    assert item["kind"] == "valuation"
    assert item["currency"] == "EUR"
    assert item["facts"] == {
        "asset_name": "EP1",
        "asset_kind": "patent",
        "currency": "EUR",
        "status": "granted",
    }
    assert item["result"]["value"] == created["value"]
    assert item["request"] == valuation("EP1")


def test_filters_by_the_kinds_own_fields_and_by_time(db_client: Any) -> None:
    db_client.post("/v1/valuations", json=valuation("A", "EUR"))
    db_client.post("/v1/valuations", json=valuation("B", "USD", status="pending"))
    middle = db_client.get("/v1/valuations").get_json()["items"][0]["created_at"]
    db_client.post("/v1/valuations", json=valuation("A", "USD"))

    def names(**params: str) -> list[str]:
        items = db_client.get("/v1/valuations", query_string=params).get_json()["items"]
        return [item["facts"]["asset_name"] for item in items]

    assert names(asset_name="A") == ["A", "A"]
    assert names(currency="USD") == ["A", "B"]
    assert names(asset_name="A", currency="EUR") == ["A"]
    assert names(status="pending") == ["B"]
    assert names(created_after=middle) == ["A"]
    assert names(created_before=middle) == ["A"]
    assert names(asset_name="nobody") == []


def test_another_tenants_records_are_never_listed(make_app: Any, db_url: str) -> None:
    app = make_app(DATABASE_URL=db_url)
    mine = authed_client(app, key_for(app))
    theirs = authed_client(app, key_for(app, "other-tenant"))
    for i in range(3):
        mine.post("/v1/valuations", json=valuation(f"mine{i}"))
        theirs.post("/v1/valuations", json=valuation(f"theirs{i}"))
    listed = [i["facts"]["asset_name"] for p in all_pages(mine, "/v1/valuations", 2) for i in p]
    assert sorted(listed) == ["mine0", "mine1", "mine2"]
    cursor = mine.get("/v1/valuations", query_string={"limit": 1}).get_json()["next_cursor"]
    # another tenant's cursor only continues through that tenant's own records
    page = theirs.get("/v1/valuations", query_string={"cursor": cursor}).get_json()["items"]
    assert all(item["facts"]["asset_name"].startswith("theirs") for item in page)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJ4Il0"}, "cursor"),
        ({"created_after": "27/11/2026"}, "created_after"),
        ({"created_before": "yesterday"}, "created_before"),
        ({"sort": "value"}, "sort"),
        ({"status": "alive"}, "status"),
        ({"asset_kind": "car"}, "asset_kind"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_field(
    client: Any, params: dict, field: str
) -> None:
    resp = client.get("/v1/valuations", query_string=params)
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    errors = resp.get_json()["errors"]
    assert errors[0]["field"] == field
    assert errors[0]["message"]


@pytest.mark.parametrize("path", list(LISTS))
def test_every_list_answers_an_empty_page_and_needs_a_key(
    client: Any, anon_client: Any, path: str
) -> None:
    assert client.get(path).get_json() == {"items": [], "next_cursor": None}
    assert anon_client.get(path).status_code == 401


@pytest.mark.parametrize(("path", "kind"), list(LISTS.items()))
def test_openapi_documents_each_lists_query_parameters(client: Any, path: str, kind: str) -> None:
    doc = client.get("/openapi.json").get_json()
    get = doc["paths"][path]["get"]
    names = [p["name"] for p in get["parameters"] if p["in"] == "query"]
    assert names == ["limit", "cursor", "created_after", "created_before", *FILTERS[kind]]
    limit = next(p for p in get["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 500 and limit["schema"]["default"] == 50
    assert "422" in get["responses"]
    ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"items", "next_cursor"} <= set(schema["properties"])


def _row(kind: str, tenant: str, stamp: dt.datetime, **record: Any) -> dict[str, Any]:
    row = record_row(kind, tenant, {"request": {}, "result": {}, **record})
    row["created_at"] = stamp
    return row


def test_rows_created_at_the_same_instant_are_ordered_by_id(db_url: str) -> None:
    engine = engine_for(db_url)
    migrate(engine)
    stamp = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    rows = [_row("valuation", "t", stamp) for _ in range(6)]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (name, created_at) VALUES ('t', :s)"), {"s": stamp})
        conn.execute(insert(records), rows)
    store, seen, cursor = SqlStore(engine), [], None
    while True:
        args = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        page = store.list("valuation", "t", parse_page(args))
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted((r["id"] for r in rows), reverse=True)


def test_pagination_under_concurrent_inserts_never_repeats_or_skips(db_url: str) -> None:
    engine = engine_for(db_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO tenants (name, created_at) VALUES ('t', :s)"),
            {"s": dt.datetime.now(dt.UTC)},
        )
    store = SqlStore(engine)
    before = {store.save("valuation", "t", {"request": {}, "result": {"n": i}}) for i in range(40)}
    stop = threading.Event()
    added: list[str] = []

    def writer() -> None:
        while not stop.is_set():
            added.append(store.save("valuation", "t", {"request": {}, "result": {}}))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen, cursor = [], None
        while True:
            args = {"limit": "3", **({"cursor": cursor} if cursor else {})}
            page = store.list("valuation", "t", parse_page(args))
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    finally:
        stop.set()
        thread.join()
    assert added, "the writer inserted nothing while the pages were read"
    assert len(seen) == len(set(seen)), "a record was shown twice"
    assert before <= set(seen), "a record that existed before the first page was skipped"


FACT_VALUES = st.sampled_from(["A", "B", None])


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["t1", "t2"]),
            st.sampled_from(["valuation", "collateral"]),
            FACT_VALUES,
            st.integers(0, 5),
        ),
        max_size=25,
    ),
    limit=st.integers(1, 6),
    name=FACT_VALUES,
)
def test_memory_store_pages_match_a_brute_force_filter(rows, limit, name) -> None:
    store = MemoryStore()
    expected = []
    for tenant, kind, asset, _ in rows:
        record = {"request": {}, "inputs": {"asset": {"name": asset}}, "result": {}}
        record_id = store.save(kind, tenant, record)
        if tenant == "t1" and kind == "valuation" and (name is None or asset == name):
            expected.append(record_id)
    docs = {i: store.get("valuation", "t1", i) for i in expected}
    expected.sort(key=lambda i: (docs[i]["created_at"], i), reverse=True)
    seen, cursor = [], None
    facts = {} if name is None else {"asset_name": name}
    while True:
        args = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        page = store.list("valuation", "t1", parse_page(args), facts)
        assert len(page["items"]) <= limit
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_unknown_fact_columns_are_a_programming_error() -> None:
    page = Page(limit=5, after=None, created_after=None, created_before=None)
    with pytest.raises(ValueError, match="not fact columns"):
        MemoryStore().list("valuation", "t", page, {"value": "1"})


def test_times_with_an_offset_are_compared_in_utc() -> None:
    page = parse_page({"created_after": "2026-12-01T10:00:00+02:00"})
    assert page.created_after == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    with pytest.raises(InputError):
        parse_page({"created_after": "2026-13-01"})


def test_migration_fills_the_facts_of_existing_records(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from ipvalue.api.db import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = engine_for(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    stamp = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    inputs = {"asset": {"name": "EP9", "kind": "patent", "legal": {"status": "granted"}}}
    old = {
        "id": "old-1",
        "kind": "valuation",
        "tenant": "t",
        "created_at": stamp,
        "request": json.dumps(inputs),
        "inputs": json.dumps({**inputs, "currency": "CNY"}),
        "seed": None,
        "versions": "{}",
        "result": "{}",
    }
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (name, created_at) VALUES ('t', :s)"), {"s": stamp})
        columns = ", ".join(old)
        conn.execute(
            text(f"INSERT INTO records ({columns}) VALUES ({', '.join(':' + k for k in old)})"),
            old,
        )
    migrate(engine)
    with engine.connect() as conn:
        row = conn.execute(select(records).where(records.c.id == "old-1")).mappings().one()
    assert (row["asset_name"], row["currency"], row["status"]) == ("EP9", "CNY", "granted")
    with pytest.raises(Exception, match="immutable"), engine.begin() as conn:
        conn.execute(text("UPDATE records SET result = '[]'"))


def test_trigger_evaluations_list_filter_and_read_back(client: Any, other_client: Any) -> None:
    state = {
        "as_of": "2026-11-27",
        "last_appraisal": {"date": "2026-06-30", "value": 1_000_000},
        "current": {"value": 700_000},
    }
    quiet = client.post("/v1/triggers/evaluate", json=state | {"asset_id": "EP1"}).get_json()
    loud = client.post(
        "/v1/triggers/evaluate", json=state | {"asset_id": "EP2", "credit_event": True}
    ).get_json()
    items = client.get("/v1/triggers").get_json()["items"]
    assert [i["id"] for i in items] == [loud["id"], quiet["id"]]
    assert items[0]["kind"] == "triggers" and items[0]["result"]["triggers"]
    only = client.get("/v1/triggers", query_string={"asset_id": "EP1"}).get_json()["items"]
    assert [i["id"] for i in only] == [quiet["id"]]
    severity = loud["highest_severity"]
    by_severity = client.get("/v1/triggers", query_string={"highest_severity": severity})
    assert loud["id"] in [i["id"] for i in by_severity.get_json()["items"]]
    again = client.post("/v1/triggers/evaluate", json=state)
    assert again.headers["Location"] == f"/v1/triggers/{again.get_json()['id']}"
    assert client.get(f"/v1/triggers/{quiet['id']}").get_json()["triggers"] == quiet["triggers"]
    assert other_client.get(f"/v1/triggers/{quiet['id']}").status_code == 404
    assert other_client.get("/v1/triggers").get_json()["items"] == []
    bad = client.get("/v1/triggers", query_string={"highest_severity": "loud"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "highest_severity"
    wrong = client.get("/v1/triggers/evaluate")
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]
