"""Records in a real database (SQLite and PostgreSQL): immutable, identical on every read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import authed_client, key_for
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ipvalue.api.db import HEAD, current_revision, engine_for, migrate
from ipvalue.api.store import MemoryStore, SqlStore

EXAMPLE = json.loads((Path(__file__).parents[1] / "examples" / "patent.json").read_text())


@pytest.fixture
def db_client(make_app: Any, db_url: str) -> Any:
    app = make_app(DATABASE_URL=db_url)
    return authed_client(app, key_for(app))


def test_valuation_is_stored_and_read_back_identically(db_client: Any) -> None:
    created = db_client.post("/v1/valuations", json=EXAMPLE)
    assert created.status_code == 201
    record_id = created.get_json()["id"]
    assert created.headers["Location"] == f"/v1/valuations/{record_id}"
    first = db_client.get(f"/v1/valuations/{record_id}")
    second = db_client.get(f"/v1/valuations/{record_id}")
    assert first.status_code == 200
    assert first.data == second.data
    body = first.get_json()
    assert body["value"] == created.get_json()["value"]
    assert body["request"] == EXAMPLE
    assert body["inputs"]["methods"][0]["method"] == "relief_from_royalty"
    assert body["versions"]["numpy"] and body["versions"]["python"]
    assert body["created_at"].endswith("+00:00")


def test_unknown_record_is_404_problem(db_client: Any) -> None:
    resp = db_client.get("/v1/valuations/00000000-0000-0000-0000-000000000000")
    assert resp.status_code == 404
    assert resp.content_type == "application/problem+json"


def test_records_cannot_be_changed_in_the_database(make_app: Any, db_url: str) -> None:
    app = make_app(DATABASE_URL=db_url)
    client = authed_client(app, key_for(app))
    record_id = client.post("/v1/valuations", json=EXAMPLE).get_json()["id"]
    engine = app.extensions["ipvalue.engine"]
    for statement in ("UPDATE records SET result = '{}'", "DELETE FROM records"):
        with pytest.raises(DBAPIError, match="immutable"), engine.begin() as conn:
            conn.execute(text(statement))
    assert client.get(f"/v1/valuations/{record_id}").get_json()["value"]["point"] > 0


def test_migrations_reach_head_and_are_idempotent(db_url: str) -> None:
    engine = engine_for(db_url)
    migrate(engine)
    assert current_revision(engine) == HEAD
    migrate(engine)
    assert current_revision(engine) == HEAD


def test_fresh_database_is_created_on_first_start(make_app: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'fresh.sqlite'}"
    (tmp_path / "new").mkdir()
    app = make_app(DATABASE_URL=url)
    assert current_revision(app.extensions["ipvalue.engine"]) == HEAD


def test_default_database_lives_in_the_instance_folder(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("IPVALUE_DATABASE_URL", raising=False)
    app = make_app(DATABASE_URL=None, INSTANCE_PATH=tmp_path / "instance")
    expected = tmp_path / "instance" / "ipvalue.sqlite"
    assert app.config["DATABASE_URL"] == f"sqlite:///{expected}"
    assert expected.exists()
    assert current_revision(app.extensions["ipvalue.engine"]) == HEAD


def test_simulation_seed_is_drawn_and_recorded(db_client: Any) -> None:
    pytest.importorskip("ipvalue.risk.montecarlo")
    payload = {**EXAMPLE, "simulation": {"paths": 1000}}
    created = db_client.post("/v1/valuations", json=payload)
    assert created.status_code == 201, created.get_json()
    record = db_client.get(f"/v1/valuations/{created.get_json()['id']}").get_json()
    assert record["request"] == payload
    seed = int(record["seed"])
    assert record["inputs"]["simulation"]["seed"] == seed
    again = db_client.post("/v1/valuations", json=record["inputs"]).get_json()
    assert again["distribution"] == created.get_json()["distribution"]


@pytest.mark.parametrize("store_class", ["sql", "memory"])
def test_store_contract(store_class: str, sqlite_url: str) -> None:
    from ipvalue.api.keys import ensure_tenant

    engine = engine_for(sqlite_url)
    ensure_tenant(engine, "a")
    store = SqlStore(engine) if store_class == "sql" else MemoryStore()
    rid = store.save("valuation", "a", {"request": {"x": 1}, "result": {"v": 0.1}, "seed": 7})
    got = store.get("valuation", "a", rid)
    assert got["result"] == {"v": 0.1} and got["seed"] == "7" and got["id"] == rid
    assert store.get("valuation", "a", rid) == got
    from ipvalue.models.errors import NotFoundError

    for kind, tenant in (("valuation", "b"), ("collateral", "a")):
        with pytest.raises(NotFoundError):
            store.get(kind, tenant, rid)


def test_cli_db_upgrade_and_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ipvalue.api.cli import main

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["db", "current", "--database-url", url]) == 0
    assert "revision None" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert f"revision {HEAD}" in capsys.readouterr().out
