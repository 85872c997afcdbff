"""Crash safety: SIGKILL a gunicorn worker in the middle of a batch of writes.

Every record the server acknowledged (201 with an id) must be readable afterwards, identical to
the answer, and the database must be consistent. Runs against SQLite and PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import gunicorn_server, worker_pids
from sqlalchemy import create_engine, func, select, text

from ipvalue.api.db import migrate
from ipvalue.api.keys import create_key
from ipvalue.api.tables import records

ROOT = Path(__file__).resolve().parents[1]
BODY = json.dumps(json.loads((ROOT / "examples" / "patent.json").read_text())).encode()
WRITERS = 8
PER_WRITER = 40


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[tuple[int, int, str]]:
    """gunicorn with 2 workers on a free port; yields (master pid, port, key)."""
    engine = create_engine(db_url)
    migrate(engine)
    key = create_key(engine, "crash").secret
    engine.dispose()
    with gunicorn_server(db_url, tmp_path / "server.log") as (pid, port):
        yield pid, port, key


def _writer(port: int, key: str, acked: dict[str, float], failures: list[str], lock: Any) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(PER_WRITER):
        try:
            conn.request("POST", "/v1/valuations", body=BODY, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            failures.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        if resp.status == 201:
            answer = json.loads(data)
            with lock:
                acked[answer["id"]] = answer["value"]["point"]
        else:
            failures.append(str(resp.status))
    conn.close()


def test_acknowledged_writes_survive_a_killed_worker(
    server: tuple[int, int, str], db_url: str
) -> None:
    master, port, key = server
    acked: dict[str, float] = {}
    failures: list[str] = []
    lock = threading.Lock()
    threads = [
        threading.Thread(target=_writer, args=(port, key, acked, failures, lock))
        for _ in range(WRITERS)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < WRITERS * PER_WRITER // 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    victim = worker_pids(master)[0]
    os.kill(victim, signal.SIGKILL)
    killed_at = len(acked)
    for t in threads:
        t.join(timeout=120)
    assert killed_at < WRITERS * PER_WRITER, "the kill came after the batch"
    assert len(acked) > killed_at, "writes continued after the kill"
    print(f"acknowledged {len(acked)}, refused or cut {len(failures)} {sorted(set(failures))}")
    # the master replaces the killed worker; every acknowledged record reads back
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for record_id, point in acked.items():
        conn.request(
            "GET", f"/v1/valuations/{record_id}", headers={"Authorization": f"Bearer {key}"}
        )
        resp = conn.getresponse()
        body = json.loads(resp.read())
        assert resp.status == 200, (record_id, body)
        assert body["value"]["point"] == point
    conn.close()
    engine = create_engine(db_url)
    with engine.connect() as db:
        stored = db.execute(select(func.count()).select_from(records)).scalar_one()
        if engine.dialect.name == "sqlite":
            assert db.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
    assert len(acked) <= stored <= len(acked) + len(failures)
    assert len(acked) + len(failures) == WRITERS * PER_WRITER
