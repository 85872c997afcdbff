"""The real server: gunicorn workers share the rate limit; a restart re-runs unfinished jobs."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import time
import uuid
from pathlib import Path
from typing import Any

from conftest import gunicorn_server
from sqlalchemy import create_engine, insert

from ipvalue.api.db import dumps, migrate, now
from ipvalue.api.jobs import RUNNING, function_path
from ipvalue.api.keys import create_key
from ipvalue.api.ratelimit import SharedBuckets
from ipvalue.api.service import valuation_job
from ipvalue.api.tables import jobs

EXAMPLE = json.loads((Path(__file__).parents[1] / "examples" / "patent.json").read_text())


def _take_five(buckets: SharedBuckets, out: Any) -> None:
    out.put(sum(buckets.take(7) == 0.0 for _ in range(5)))


def test_shared_buckets_are_shared_by_forked_processes() -> None:
    buckets = SharedBuckets(rate=0.001, burst=5)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_take_five, args=(buckets, out)) for _ in range(2)]
    for p in procs:
        p.start()
    allowed = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert sum(allowed) == 5
    assert buckets.take(7 + 4096) == 0.0  # another key in the same slot starts full


def _get(port: int, path: str, key: str) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
    resp = conn.getresponse()
    status, body = resp.status, json.loads(resp.read())
    conn.close()
    return status, body


def test_rate_limit_holds_across_gunicorn_workers(sqlite_url: str, tmp_path: Path) -> None:
    engine = create_engine(sqlite_url)
    key = create_key(engine, "limited").secret
    engine.dispose()
    settings = {"IPVALUE_RATE_LIMIT": "0.01", "IPVALUE_RATE_BURST": "6"}
    with gunicorn_server(sqlite_url, tmp_path / "log", workers=2, **settings) as (_pid, port):
        codes = [_get(port, "/v1/jobs/none", key)[0] for _ in range(16)]  # new connection each
    assert codes.count(404) == 6 and codes.count(429) == 10, codes


def test_server_start_reruns_jobs_left_unfinished(db_url: str, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    migrate(engine)
    key = create_key(engine, "restart").secret
    job_id = str(uuid.uuid4())
    payload = {**EXAMPLE, "simulation": {"paths": 500, "seed": 3}}
    with engine.begin() as conn:
        conn.execute(
            insert(jobs),
            {
                "id": job_id,
                "kind": "valuation",
                "tenant": "restart",
                "fn": function_path(valuation_job),
                "status": RUNNING,
                "progress": 0.4,
                "payload": dumps(payload),
                "context": dumps({"request": payload, "location": "/v1/valuations/{id}"}),
                "attempts": 1,
                "owner": "the-server-that-crashed",
                "created_at": now(),
            },
        )
    engine.dispose()
    with gunicorn_server(db_url, tmp_path / "log", workers=2) as (_pid, port):
        deadline = time.monotonic() + 90
        while True:
            status, state = _get(port, f"/v1/jobs/{job_id}", key)
            assert status == 200
            if state["status"] in {"succeeded", "failed"} or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert state["status"] == "succeeded", state
        assert state["attempts"] == 2
        status, record = _get(port, state["location"], key)
    assert status == 200 and record["job_id"] == job_id
    assert record["distribution"]["mean"] > 0
