"""Running it: readiness, request ids, JSON logs, unknown routes as problem+json."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import create_engine

from ipvalue.api.logs import JsonFormatter


def test_readyz_reports_the_database(anon_client: Any, app: Any) -> None:
    assert anon_client.get("/readyz").get_json() == {"status": "ready", "database": "ok"}
    app.extensions["ipvalue.engine"] = create_engine("sqlite:////nonexistent/dir/x.sqlite")
    resp = anon_client.get("/readyz")
    assert resp.status_code == 503
    assert resp.content_type == "application/problem+json"


def test_request_id_is_echoed_or_made(anon_client: Any) -> None:
    given = anon_client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = anon_client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["X-Request-ID"]) == 32


def test_access_log_is_json_with_request_id(client: Any, app: Any) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("ipvalue.access")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        resp = client.get("/v1/jobs/nope", headers={"X-Request-ID": "req-42"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert resp.status_code == 404
    access = [r for r in records if r.getMessage() == "access"][-1]
    with app.test_request_context(headers={"X-Request-ID": "req-42"}):
        from flask import g

        g.request_id = "req-42"
        line = json.loads(JsonFormatter().format(access))
    assert line["status"] == 404 and line["path"] == "/v1/jobs/nope"
    assert line["tenant"] == "test-tenant" and line["request_id"] == "req-42"
    assert line["level"] == "INFO" and line["time"].endswith("Z")


def test_unknown_route_under_v1_needs_a_key_first(anon_client: Any, client: Any) -> None:
    assert anon_client.get("/v1/nothing").status_code == 401
    resp = client.get("/v1/nothing")
    assert resp.status_code == 404
    assert resp.content_type == "application/problem+json"
    assert client.delete("/v1/valuations").status_code == 405


def test_readyz_wants_the_current_schema(make_app: Any, tmp_path: Any) -> None:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite'}", AUTO_MIGRATE=False)
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert "ipvalue db upgrade" in resp.get_json()["detail"]


def test_demo_key_line_is_ready_to_paste(app: Any, capsys: Any) -> None:
    from ipvalue.api.cli import _demo_key

    _demo_key(app, "127.0.0.1", 8000)
    out = capsys.readouterr().out
    key = next(w for w in out.split() if w.startswith("ipv_"))
    assert f"Authorization: Bearer {key}" in out
    assert "curl -s -X POST http://127.0.0.1:8000/v1/valuations" in out
    assert "http://127.0.0.1:8000/docs" in out
    client = app.test_client()
    resp = client.get("/v1/jobs/x", headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 404


def test_database_down_is_503_not_500(client: Any, app: Any) -> None:
    broken = create_engine("sqlite:////nonexistent/dir/x.sqlite")
    app.extensions["ipvalue.keys"].engine = broken
    app.extensions["ipvalue.keys"]._cache.clear()
    resp = client.get("/v1/jobs/x")
    assert resp.status_code == 503
    assert resp.content_type == "application/problem+json"
    assert resp.headers["Retry-After"] == "5"
