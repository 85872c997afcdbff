"""Operations in one process: metrics, text logs, rate limits, the key cache, ``make run``."""

from __future__ import annotations

import argparse
import json
import logging
import logging.config
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from conftest import authed_client, key_for

from ipvalue.api import cli
from ipvalue.api.keys import KeyRing, create_key, revoke_key
from ipvalue.api.logs import TextFormatter, gunicorn_logconfig
from ipvalue.api.ratelimit import SharedBuckets, TokenBuckets, client_key
from ipvalue.api.server import problem_bytes, server_options

EXAMPLE = json.loads((Path(__file__).parents[1] / "examples" / "patent.json").read_text())
_SAMPLE = re.compile(r"^(\w+)(?:\{([^}]*)\})? (\S+)$")


def _samples(text: str, name: str) -> dict[str, float]:
    """Samples of metric ``name`` in an exposition: their label string -> value."""
    out = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and match.group(1) == name:
            out[match.group(2) or ""] = float(match.group(3))
    return out


# ------------------------------------------------------------------------------------ metrics


def test_metrics_count_requests_by_route_template_not_raw_path(client: Any) -> None:
    label = 'method="GET",route="/v1/valuations/<record_id>",status="404"'

    def not_found_reads() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        return _samples(text, "ipvalue_http_requests_total").get(label, 0.0)

    before = not_found_reads()  # the counters are the process's: other tests count too
    for _ in range(3):
        assert client.get("/v1/valuations/no-such-record").status_code == 404
    client.get("/healthz")
    page = client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/plain")
    text = page.get_data(as_text=True)
    counts = _samples(text, "ipvalue_http_requests_total")
    assert counts[label] == before + 3, counts
    assert not any("no-such-record" in k for k in counts)
    assert "ipvalue_http_request_duration_seconds_bucket" in text
    jobs = _samples(text, "ipvalue_jobs")
    assert set(jobs) >= {'status="queued"', 'status="running"'}


def test_metrics_report_finished_jobs_by_kind(client: Any, app: Any) -> None:
    from ipvalue.api.db import dumps, now
    from ipvalue.api.tables import jobs

    stamp = now()
    with app.extensions["ipvalue.engine"].begin() as conn:
        conn.execute(
            jobs.insert(),
            {
                "id": "00000000-0000-0000-0000-000000000001",
                "kind": "valuation",
                "tenant": "test-tenant",
                "fn": "x:y",
                "status": "succeeded",
                "progress": 1.0,
                "payload": dumps({}),
                "context": dumps({}),
                "attempts": 1,
                "created_at": stamp,
                "started_at": stamp,
                "finished_at": stamp,
            },
        )
    text = client.get("/metrics").get_data(as_text=True)
    counts = _samples(text, "ipvalue_job_duration_seconds_count")
    assert counts == {'kind="valuation",status="succeeded"': 1.0}
    assert _samples(text, "ipvalue_jobs")['status="succeeded"'] == 1.0


# --------------------------------------------------------------------------------------- logs


def _record(name: str, msg: str, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, msg, (), None)
    record.__dict__.update(extra)
    return record


def test_text_access_line_has_method_path_status_and_duration() -> None:
    line = TextFormatter().format(
        _record(
            "ipvalue.access",
            "access",
            method="POST",
            path="/v1/valuations",
            status=201,
            duration_ms=12.3,
            tenant="demo",
        )
    )
    assert re.match(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO ipvalue.access "
        r"POST /v1/valuations 201 12.3 ms tenant=demo$",
        line,
    ), line


def test_text_access_line_of_a_real_request(client: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="ipvalue.access"):
        client.get("/v1/jobs/none", headers={"X-Request-ID": "req-42"})
    records = [r for r in caplog.records if r.name == "ipvalue.access"]
    line = TextFormatter().format(records[-1])
    assert " INFO ipvalue.access GET /v1/jobs/none 404 " in line
    assert "tenant=test-tenant" in line


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_gunicorn_lines_follow_the_chosen_format(fmt: str, capsys: Any) -> None:
    config = gunicorn_logconfig(fmt, "INFO")
    logging.config.dictConfig(config)
    try:
        logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 1234)
        logging.getLogger("gunicorn.access").info("hidden")  # access lines are ipvalue's
    finally:
        for name in ("gunicorn.error", "gunicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    if fmt == "text":
        assert re.match(r"^\S+Z INFO gunicorn.error Booting worker with pid: 1234$", err[0]), err
    else:
        entry = json.loads(err[0])
        assert entry["logger"] == "gunicorn.error"
        assert entry["message"] == "Booting worker with pid: 1234"


def test_unknown_log_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        gunicorn_logconfig("xml")


# ------------------------------------------------------------------- gunicorn's own answers


@pytest.mark.parametrize("status,reason", [(414, "Request-URI Too Long"), (431, "Too Large")])
def test_gunicorn_error_answer_is_problem_json(status: int, reason: str) -> None:
    raw = problem_bytes(status, reason, "shorten it")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == f"HTTP/1.1 {status} {reason}"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Content-Type"] == "application/problem+json"
    assert int(headers["Content-Length"]) == len(body)
    problem = json.loads(body)
    assert problem["status"] == status and problem["detail"] == "shorten it"


# ------------------------------------------------------------------------------ rate limits


def test_requests_without_a_valid_key_are_limited_before_the_database(
    make_app: Any, monkeypatch: Any
) -> None:
    app = make_app(ANON_RATE_LIMIT=0.001, ANON_RATE_BURST=5)
    valid = authed_client(app, key_for(app))
    assert valid.get("/v1/jobs/none").status_code == 404  # checks and caches the key
    keys = app.extensions["ipvalue.keys"]
    lookups: list[str] = []
    real = keys.lookup
    monkeypatch.setattr(keys, "lookup", lambda s: lookups.append(s) or real(s))
    anon = app.test_client()
    codes = []
    for i in range(8):
        token = "ipv_" + secrets.token_urlsafe(32) if i % 2 else "nonsense"
        codes.append(
            anon.get("/v1/jobs/none", headers={"Authorization": f"Bearer {token}"}).status_code
        )
    # the first check of the valid key was charged to the address too: 4 tokens were left
    assert codes[:4] == [401] * 4 and codes[4:] == [429] * 4, codes
    assert len(lookups) == 4  # the refused ones never reached the key table
    refused = anon.get("/v1/jobs/none")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "anon_rate_limit" in refused.get_json()["detail"]
    # a cached valid key from the same address is not charged to the address
    for _ in range(3):
        assert valid.get("/v1/jobs/none").status_code == 404
    # another address has its own bucket
    other = anon.get("/v1/jobs/none", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 401


def test_anonymous_limit_zero_turns_it_off(make_app: Any) -> None:
    app = make_app(ANON_RATE_LIMIT=0, ANON_RATE_BURST=1)
    anon = app.test_client()
    assert {anon.get("/v1/jobs/none").status_code for _ in range(10)} == {401}


def test_shared_buckets_never_collide() -> None:
    """Keys whose slots collide (and the old ``key % 4096`` slot) keep separate buckets."""
    buckets = SharedBuckets(rate=0.001, burst=2, slots=64, window=8)
    colliding = [k for k in range(1, 100_000) if buckets._home(k) == buckets._home(1)][:8]
    assert len(colliding) == 8
    for key in colliding:
        assert [buckets.take(key, now=1.0) for _ in range(2)] == [0.0, 0.0]
    for key in colliding:
        assert buckets.take(key, now=1.0) > 0  # each spent its own burst, none refilled
    assert buckets.take(7, now=1.0) == 0.0 and buckets.take(7 + 4096, now=1.0) == 0.0


def test_shared_bucket_window_reuses_full_buckets_only() -> None:
    buckets = SharedBuckets(rate=1.0, burst=1, slots=4, window=4)
    for key in (1, 2, 3, 4):
        assert buckets.take(key, now=0.0) == 0.0
    # every slot holds an empty bucket: a fifth key takes the fullest, the others keep theirs
    assert buckets.take(5, now=0.5) == 0.0
    assert sum(buckets.take(k, now=0.5) > 0 for k in (1, 2, 3, 4)) >= 3
    # once refilled, a bucket is the same as none, so its slot is free again
    assert buckets.take(6, now=10.0) == 0.0


def test_token_buckets_stay_bounded_without_gaining(monkeypatch: Any) -> None:
    import ipvalue.api.ratelimit as ratelimit

    monkeypatch.setattr(ratelimit, "MAX_ENTRIES", 10)
    buckets = TokenBuckets(rate=1.0, burst=1)
    assert buckets.take("busy", now=0.0) == 0.0
    for i in range(50):
        buckets.take(f"k{i}", now=100.0 + i)  # old full ones are dropped
    assert len(buckets._buckets) <= 11
    assert buckets.take("busy", now=200.0) == 0.0


def test_client_keys_are_negative_and_distinct_from_key_ids() -> None:
    keys = {client_key(f"10.0.{i // 256}.{i % 256}") for i in range(5000)}
    assert len(keys) == 5000 and max(keys) < 0
    assert client_key(None) == client_key("")


# ---------------------------------------------------------------------------------- key cache


def test_key_cache_keeps_valid_keys_only(app: Any, monkeypatch: Any) -> None:
    engine = app.extensions["ipvalue.engine"]
    ring = KeyRing(engine, cache_seconds=60, max_cached=3)
    secret = create_key(engine, "cached").secret
    assert ring.lookup(secret) is not None
    for _ in range(50):  # well-formed unknown tokens: asked, never cached
        assert ring.lookup("ipv_" + secrets.token_urlsafe(32)) is None
    assert ring.lookup("not-a-key") is None
    assert len(ring._cache) == 1 and ring.cached(secret) is not None
    # a malformed token never reaches the database
    monkeypatch.setattr(ring, "engine", None)
    assert ring.lookup("x" * 47) is None
    assert ring.lookup(secret) is not None  # served from the cache


def test_key_cache_drops_least_recently_used_valid_key(app: Any) -> None:
    engine = app.extensions["ipvalue.engine"]
    ring = KeyRing(engine, cache_seconds=60, max_cached=2)
    a, b, c = (create_key(engine, "lru").secret for _ in range(3))
    ring.lookup(a)
    ring.lookup(b)
    ring.cached(a)  # a used most recently
    ring.lookup(c)
    assert ring.cached(a) is not None and ring.cached(c) is not None
    assert ring.cached(b) is None


def test_revoked_key_stops_after_the_cache_time(app: Any) -> None:
    engine = app.extensions["ipvalue.engine"]
    ring = KeyRing(engine, cache_seconds=0.0)
    new = create_key(engine, "revoked")
    assert ring.lookup(new.secret) is not None
    revoke_key(engine, new.prefix)
    assert ring.lookup(new.secret) is None


# ---------------------------------------------------------------------------------- make run


def test_root_leads_to_the_docs(anon_client: Any) -> None:
    response = anon_client.get("/")
    assert response.status_code in {301, 302, 307, 308}
    assert response.headers["Location"].endswith("/docs")
    assert anon_client.get("/docs").status_code == 200


def test_demo_key_is_reused_while_active(make_app: Any, tmp_path: Path) -> None:
    app = make_app(INSTANCE_PATH=str(tmp_path / "instance"))
    first = cli.demo_key(app)
    assert cli.demo_key(app) == first
    kept = tmp_path / "instance" / "demo-key"
    assert kept.stat().st_mode & 0o077 == 0
    revoke_key(app.extensions["ipvalue.engine"], first[:12])
    app.extensions["ipvalue.keys"].cache_seconds = 0.0
    second = cli.demo_key(app)
    assert second != first and cli.demo_key(app) == second


def test_make_run_honours_bind_and_workers(monkeypatch: Any, tmp_path: Path) -> None:
    """``make run`` is ``ipvalue serve --production --demo-key``: no host or port of its own."""
    make = (Path(__file__).parents[1] / "Makefile").read_text()
    run = make.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "serve --production --demo-key" in run and "--port" not in run
    monkeypatch.setenv("IPVALUE_BIND", "127.0.0.1:9123")
    monkeypatch.setenv("IPVALUE_WORKERS", "3")
    monkeypatch.setenv("IPVALUE_INSTANCE_PATH", str(tmp_path))
    args = argparse.Namespace(host=None, port=None)
    assert cli._bind(args) == ("127.0.0.1", 9123)
    options = server_options()
    assert options["bind"] == "127.0.0.1:9123" and options["workers"] == 3
    assert options["control_socket"] == str(tmp_path / "gunicorn.ctl")
    assert server_options("0.0.0.0:1", 5)["bind"] == "0.0.0.0:1"
    monkeypatch.setenv("IPVALUE_BIND", "no-port")
    with pytest.raises(SystemExit, match="IPVALUE_BIND"):
        cli._bind(args)


def test_each_instance_has_its_own_control_socket(monkeypatch: Any, tmp_path: Path) -> None:
    sockets = set()
    for name in ("a", "b"):
        monkeypatch.setenv("IPVALUE_INSTANCE_PATH", str(tmp_path / name))
        sockets.add(server_options()["control_socket"])
    assert len(sockets) == 2
    monkeypatch.setenv("IPVALUE_INSTANCE_PATH", str(tmp_path / ("x" * 120)))
    options = server_options()
    assert options.get("control_socket_disable") is True and "control_socket" not in options


# ----------------------------------------------------------------------------- the database


def test_single_statement_writes_are_committed_and_read_back(db_url: str) -> None:
    from ipvalue.api.db import autocommit, dispose, engine_for, migrate
    from ipvalue.api.keys import ensure_tenant
    from ipvalue.api.store import SqlStore

    engine = engine_for(db_url)
    migrate(engine)
    ensure_tenant(engine, "t")
    record_id = SqlStore(engine).save("valuation", "t", {"request": EXAMPLE, "result": {"v": 1}})
    dispose(db_url)  # a new engine: the row must be in the database, not in a transaction
    again = SqlStore(engine_for(db_url)).get("valuation", "t", record_id)
    assert again["request"] == EXAMPLE and again["result"] == {"v": 1}
    with autocommit(engine_for(db_url)) as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM records").scalar() == 1
    dispose(db_url)


@pytest.mark.postgres
def test_idle_connection_whose_server_went_away_is_replaced(pg_url: str, monkeypatch: Any) -> None:
    import ipvalue.api.db as db

    engine = db.make_engine(pg_url)
    try:
        with db.autocommit(engine) as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        admin = db.make_engine(pg_url)
        with admin.begin() as other:  # the server drops the pooled connection
            other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        admin.dispose()
        monkeypatch.setattr(db, "PING_AFTER", 0.0)
        with db.autocommit(engine) as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        engine.dispose()


def test_metrics_count_monitoring_alerts_and_webhook_deliveries(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_book_monitoring import loan, make_asset, run

    client.application.config["WEBHOOK_ALLOW_PRIVATE"] = True  # a receiver on 127.0.0.1
    monkeypatch.setenv("IPVALUE_WEBHOOK_ALLOW_PRIVATE", "true")  # its deliveries too

    before = client.get("/metrics").get_data(as_text=True)
    assert _samples(before, "ipvalue_monitoring_evaluations_total") == {"": 0.0}
    assert _samples(before, "ipvalue_webhook_delivery_attempts_total") == {"": 0.0}
    hook = client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["alert.raised", "monitoring.completed"]},
    )
    assert hook.status_code == 201, hook.get_json()
    a = make_asset(client)
    loan(client, a["id"])
    outcome = run(client)
    text = client.get("/metrics").get_data(as_text=True)
    assert _samples(text, "ipvalue_monitoring_evaluations_total") == {"": 1.0}
    open_alerts = sum(
        n for labels, n in _samples(text, "ipvalue_alerts").items() if 'status="open"' in labels
    )
    assert open_alerts == outcome["alerts_raised"]
    queued = sum(_samples(text, "ipvalue_webhook_deliveries").values())
    assert queued >= 1  # at least monitoring.completed waits in the outbox
