"""Tenants and API keys: 401 without a valid key, another tenant's record is 404."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import authed_client

from ipvalue.api.cli import main
from ipvalue.api.keys import hash_key, list_keys, revoke_key

BODY = {
    "asset": {"name": "p", "kind": "patent", "legal": {"status": "granted"}},
    "valuation_date": "2026-11-27",
    "currency": "EUR",
    "methods": [
        {
            "method": "relief_from_royalty",
            "revenue": [100.0, 110.0],
            "royalty_rate": 0.05,
            "tax_rate": 0.25,
            "discount_rate": 0.12,
        }
    ],
}


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ipv_not-a-key", "Basic dXNlcjpwYXNz", "ipv_no_scheme"],
)
def test_v1_without_a_valid_key_is_401(anon_client: Any, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    resp = anon_client.post("/v1/valuations", json=BODY, headers=headers)
    assert resp.status_code == 401
    assert resp.content_type == "application/problem+json"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert anon_client.get("/v1/jobs/x", headers=headers).status_code == 401


def test_health_and_docs_need_no_key(anon_client: Any) -> None:
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert anon_client.get(path).status_code == 200, path


def test_another_tenants_record_is_404(client: Any, other_client: Any) -> None:
    record_id = client.post("/v1/valuations", json=BODY).get_json()["id"]
    assert client.get(f"/v1/valuations/{record_id}").status_code == 200
    theirs = other_client.get(f"/v1/valuations/{record_id}")
    assert theirs.status_code == 404
    missing = other_client.get("/v1/valuations/00000000-0000-0000-0000-000000000000")
    assert theirs.get_json()["detail"].replace(record_id, "X") == missing.get_json()[
        "detail"
    ].replace("00000000-0000-0000-0000-000000000000", "X")


def test_keys_are_stored_hashed_and_can_be_revoked(app: Any, api_key: str) -> None:
    engine = app.extensions["ipvalue.engine"]
    from sqlalchemy import select

    from ipvalue.api.tables import api_keys

    with engine.connect() as conn:
        hashes = [row[0] for row in conn.execute(select(api_keys.c.key_hash))]
    assert hash_key(api_key) in hashes and api_key not in hashes
    listed = list_keys(engine)
    assert all("secret" not in k and "key_hash" not in k for k in listed)
    assert revoke_key(engine, api_key[:12]) == 1
    fresh = authed_client(app, api_key)
    app.extensions["ipvalue.keys"]._cache.clear()
    assert fresh.post("/v1/valuations", json=BODY).status_code == 401


def test_cli_keys_create_prints_a_working_key_once(
    make_app: Any, default_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = default_db_url
    assert main(["keys", "create", "--tenant", "bank-a", "--database-url", url]) == 0
    out = capsys.readouterr().out
    key = next(word for word in out.split() if word.startswith("ipv_"))
    app = make_app()
    client = authed_client(app, key)
    assert client.post("/v1/valuations", json=BODY).status_code == 201
    assert main(["keys", "list", "--database-url", url]) == 0
    listing = capsys.readouterr().out
    assert "bank-a" in listing and key not in listing
