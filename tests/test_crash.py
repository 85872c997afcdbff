"""Crash safety: SIGKILL a gunicorn worker in the middle of a batch of writes, and SIGKILL or stop
the server while a job runs.

Every record the server acknowledged (201 with an id) must be readable afterwards, identical to
the answer, and the database must be consistent. A running job's process dies with its server
worker (no orphan), its job runs again exactly once more and leaves one record. Runs against
SQLite and PostgreSQL.
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
from job_helpers import (
    TESTS,
    alive,
    job_children,
    job_row,
    owner_pid,
    queue_slow,
    records_of,
    runs_of,
    wait_until,
)
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


# --- jobs under gunicorn: a killed worker, a killed master, a graceful stop -----------------------

JOB_ENV = {
    "PYTHONPATH": str(TESTS),  # the job processes import tests/job_helpers.py
    "IPVALUE_JOB_SWEEP_SECONDS": "1",
    "IPVALUE_JOB_POLL_SECONDS": "0.2",
    "IPVALUE_JOB_LEASE_SECONDS": "20",
}


@pytest.fixture
def job_db(db_url: str) -> Iterator[Any]:
    """The migrated database with tenant ``crash``; yields an engine on it."""
    engine = create_engine(db_url)
    migrate(engine)
    create_key(engine, "crash")
    yield engine
    engine.dispose()


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _running_job(engine: Any, tmp_path: Path) -> tuple[str, Path, Path, int]:
    """Queue a slow job and wait until its own process runs it; (id, runs, release, pid)."""
    job_id, runs, release = queue_slow(engine, "crash", tmp_path)
    pid = wait_until(lambda: owner_pid(engine, job_id), what="the job's own process")
    wait_until(lambda: runs_of(runs), what="the job to start")
    return job_id, runs, release, pid


def _finishes_once(engine: Any, job_id: str, runs: Path, release: Path, attempts: int) -> None:
    release.touch()

    def ended() -> dict[str, Any] | None:
        row = job_row(engine, job_id)
        return row if row["status"] in {"succeeded", "failed"} else None

    row = wait_until(ended, what="the job to end")
    assert row["status"] == "succeeded" and row["attempts"] == attempts, row
    assert records_of(engine, job_id) == 1
    assert len(runs_of(runs)) == attempts


def test_a_killed_worker_takes_its_job_process_along_and_the_job_reruns(
    job_db: Any, db_url: str, tmp_path: Path
) -> None:
    with gunicorn_server(db_url, tmp_path / "server.log", **JOB_ENV) as (master, _port):
        job_id, runs, release, child = _running_job(job_db, tmp_path)
        worker = _parent_of(child)
        assert worker in worker_pids(master)
        os.kill(worker, signal.SIGKILL)
        wait_until(lambda: not alive(child), timeout=10, what="the job process to die with it")
        assert job_children(worker) == []
        # the other worker's sweeper sees the dead owner; a dispatcher runs the job again
        wait_until(lambda: len(runs_of(runs)) == 2, what="the job to run again")
        _finishes_once(job_db, job_id, runs, release, attempts=2)


def test_a_killed_master_leaves_no_orphan_and_the_restart_runs_the_job_once(
    job_db: Any, db_url: str, tmp_path: Path
) -> None:
    with gunicorn_server(db_url, tmp_path / "first.log", **JOB_ENV) as (master, _port):
        job_id, runs, release, child = _running_job(job_db, tmp_path)
        workers = worker_pids(master)
        os.kill(master, signal.SIGKILL)
        wait_until(lambda: not alive(child), timeout=20, what="the job process to die")
        wait_until(
            lambda: not any(alive(w) for w in workers), timeout=20, what="the workers to exit"
        )
    assert job_row(job_db, job_id)["status"] in {"queued", "running"}
    assert records_of(job_db, job_id) == 0
    with gunicorn_server(db_url, tmp_path / "second.log", **JOB_ENV):
        wait_until(lambda: len(runs_of(runs)) == 2, what="the restarted server to run it")
        _finishes_once(job_db, job_id, runs, release, attempts=2)


def test_a_graceful_stop_requeues_a_running_job_and_ends_its_process(
    job_db: Any, db_url: str, tmp_path: Path
) -> None:
    with gunicorn_server(db_url, tmp_path / "first.log", **JOB_ENV) as (master, _port):
        job_id, runs, release, child = _running_job(job_db, tmp_path)
        os.kill(master, signal.SIGTERM)
        wait_until(lambda: not alive(master), timeout=30, what="the server to stop")
        assert not alive(child)
        row = job_row(job_db, job_id)
        assert row["status"] == "queued" and row["owner"] is None, row
    with gunicorn_server(db_url, tmp_path / "second.log", **JOB_ENV):
        _finishes_once(job_db, job_id, runs, release, attempts=2)
