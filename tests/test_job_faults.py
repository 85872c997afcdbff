"""Jobs survive faults: a killed job process, a database outage, a stale attempt, a flood.

Each test kills or cuts the real thing (SIGKILL of the job's own process, a TCP proxy in front of
PostgreSQL closed for seconds, an exclusive lock on SQLite) on both databases, and asserts that
nothing is lost (every job ends), nothing runs twice (one record per job) and nothing is stuck.
The gunicorn faults (a killed worker, a killed master, a graceful stop) are in test_crash.py.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import TENANT, authed_client, key_for
from flask import g
from job_helpers import (
    TcpProxy,
    alive,
    job_row,
    owner_pid,
    queue_slow,
    records_of,
    runs_of,
    slow,
    wait_until,
)
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from ipvalue.api.db import dispose
from ipvalue.api.jobs import (
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    SUPERSEDED,
    claim_next,
    execute_job,
    retrying,
    submit_or_run,
)
from ipvalue.api.store import record_row
from ipvalue.api.tables import records

FINISHED = {SUCCEEDED, FAILED}


def _status(engine: Any, job_id: str, wanted: set[str]) -> Any:
    row = job_row(engine, job_id)
    return row if row["status"] in wanted else None


def _submit_slow(
    app: Any, tmp: Path, tenant: str = TENANT, tag: str = ""
) -> tuple[str, Path, Path]:
    runs, release = tmp / f"runs-{tenant}-{tag}", tmp / f"release-{tenant}-{tag}"
    payload = {"runs": str(runs), "release": str(release), "tag": tag}
    with app.test_request_context():
        g.tenant = tenant
        body, status, _ = submit_or_run("test", slow, payload, float("inf"))
    assert status == 202
    return body["job_id"], runs, release


def test_a_killed_job_process_requeues_only_its_own_job(
    make_app: Any, db_url: str, tmp_path: Path
) -> None:
    app = make_app(DATABASE_URL=db_url)
    key_for(app)
    engine = app.extensions["ipvalue.engine"]
    victim, runs, release = _submit_slow(app, tmp_path, tag="victim")
    behind, behind_runs, behind_release = _submit_slow(app, tmp_path, tag="behind")
    first = wait_until(lambda: owner_pid(engine, victim), what="the job's own process")
    wait_until(lambda: runs_of(runs), what="the first run")
    os.kill(first, signal.SIGKILL)
    second = wait_until(lambda: [p for p in runs_of(runs) if p != first], what="the re-run")[0]
    assert job_row(engine, victim)["attempts"] == 2
    release.touch()
    behind_release.touch()
    done = wait_until(lambda: _status(engine, victim, FINISHED), what="the victim to end")
    assert done["status"] == SUCCEEDED and done["attempts"] == 2
    later = wait_until(lambda: _status(engine, behind, FINISHED), what="the job behind it")
    assert later["status"] == SUCCEEDED and later["attempts"] == 1, later
    assert records_of(engine, victim) == 1 and records_of(engine, behind) == 1
    assert runs_of(runs) == [first, second] and len(runs_of(behind_runs)) == 1


def test_a_job_killed_on_its_last_attempt_says_by_what(
    make_app: Any, db_url: str, tmp_path: Path
) -> None:
    app = make_app(DATABASE_URL=db_url, MAX_JOB_ATTEMPTS=1)
    client = authed_client(app, key_for(app))
    engine = app.extensions["ipvalue.engine"]
    job_id, runs, _ = _submit_slow(app, tmp_path)
    pid = wait_until(lambda: owner_pid(engine, job_id), what="the job's own process")
    wait_until(lambda: runs_of(runs), what="the job to start")
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: _status(engine, job_id, FINISHED), what="the job to fail")
    state = client.get(f"/v1/jobs/{job_id}").get_json()
    assert state["status"] == FAILED and state["result"] is None
    assert state["error"]["detail"].startswith(
        "the process running the job was killed by signal 9 (SIGKILL) (after 1 of 1 attempts)"
    )
    assert records_of(engine, job_id) == 0 and len(runs_of(runs)) == 1


def test_a_stale_attempt_writes_nothing(make_app: Any, db_url: str, tmp_path: Path) -> None:
    app = make_app(DATABASE_URL=db_url)
    key_for(app)
    engine = app.extensions["ipvalue.engine"]
    job_id, _, release = queue_slow(engine, TENANT, tmp_path)
    release.touch()
    assert claim_next(engine, "tester", 60) == (job_id, 1)
    with engine.begin() as conn:  # the attempt is presumed dead and the job taken again
        conn.execute(
            jobs_update(job_id).values(status=QUEUED, owner=None)  # what the sweeper does
        )
    assert claim_next(engine, "tester", 60) == (job_id, 2)
    assert execute_job(db_url, job_id, 1) == SUPERSEDED  # the old attempt finishes late
    assert records_of(engine, job_id) == 0 and job_row(engine, job_id)["status"] == RUNNING
    assert execute_job(db_url, job_id, 2) == SUCCEEDED
    assert execute_job(db_url, job_id, 2) == SUPERSEDED  # and never twice
    assert records_of(engine, job_id) == 1


def jobs_update(job_id: str) -> Any:
    from sqlalchemy import update

    from ipvalue.api.tables import jobs

    return update(jobs).where(jobs.c.id == job_id)


def test_the_database_refuses_a_second_record_of_a_job(app: Any) -> None:
    engine = app.extensions["ipvalue.engine"]
    key_for(app)
    for attempt in range(2):
        row = record_row("test", TENANT, {"request": {}, "result": {}, "job_id": "job-1"})
        if attempt == 0:
            with engine.begin() as conn:
                conn.execute(insert(records), row)
        else:
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(insert(records), row)


def test_retrying_waits_out_an_outage_but_not_a_bug() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return "written"

    assert retrying(flaky, 30, "test") == "written" and len(calls) == 3
    with pytest.raises(OperationalError):  # an outage longer than the retry time
        retrying(_always_down, 0.5, "test")

    def bug() -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        retrying(bug, 30, "test")


def _always_down() -> None:
    raise OperationalError("SELECT 1", {}, Exception("connection refused"))


@pytest.fixture
def outage(db_url: str, tmp_path: Path) -> Any:
    """``(url the app uses, start(), end())``: PostgreSQL behind a cut proxy, SQLite locked."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        held: list[sqlite3.Connection] = []

        def start() -> None:
            lock = sqlite3.connect(str(url.database), timeout=30, check_same_thread=False)
            lock.execute("BEGIN EXCLUSIVE")
            held.append(lock)

        def end() -> None:
            lock = held.pop()
            lock.rollback()
            lock.close()

        yield db_url, start, end
        return
    proxy = TcpProxy(url.port or 5432, url.host or "127.0.0.1")
    proxied = db_url.replace(f"{url.host}:{url.port or 5432}", f"127.0.0.1:{proxy.port}", 1)
    yield proxied, proxy.cut, proxy.restore
    dispose(proxied)
    proxy.close()


def test_jobs_survive_a_database_outage(
    make_app: Any, outage: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    url, start_outage, end_outage = outage
    app = make_app(DATABASE_URL=url, JOB_SWEEP_SECONDS=1.0, JOB_POLL_SECONDS=0.2)
    key_for(app)
    from ipvalue.api.recovery import start_sweeper

    sweeper = start_sweeper(app)
    engine = app.extensions["ipvalue.engine"]
    running, runs, release = _submit_slow(app, tmp_path, tag="running")
    waiting, waiting_runs, waiting_release = _submit_slow(app, tmp_path, tag="waiting")
    waiting_release.touch()
    wait_until(lambda: runs_of(runs), what="the first job to start")
    start_outage()
    try:
        release.touch()  # it finishes while the database is unreachable
        time.sleep(6)
    finally:
        end_outage()
    try:
        for job_id in (running, waiting):
            row = wait_until(lambda j=job_id: _status(engine, j, FINISHED), what="jobs to end")
            assert row["status"] == SUCCEEDED, row
            assert records_of(engine, job_id) == 1
        assert len(runs_of(runs)) == 1 and len(runs_of(waiting_runs)) == 1
        if make_url(url).get_backend_name() == "postgresql":  # the final write was retried
            assert "database unavailable, retrying" in capfd.readouterr().err
    finally:
        sweeper.stop()


def test_an_expired_lease_of_a_live_process_is_reclaimed(
    make_app: Any, outage: Any, tmp_path: Path
) -> None:
    """Cut off for longer than its lease, a running job is re-run: once, with one record."""
    url, start_outage, end_outage = outage
    app = make_app(
        DATABASE_URL=url, JOB_LEASE_SECONDS=2.0, JOB_SWEEP_SECONDS=0.5, JOB_POLL_SECONDS=0.2
    )
    key_for(app)
    from ipvalue.api.recovery import start_sweeper

    sweeper = start_sweeper(app)
    engine = app.extensions["ipvalue.engine"]
    job_id, runs, release = _submit_slow(app, tmp_path)
    first = wait_until(lambda: owner_pid(engine, job_id), what="the job's own process")
    wait_until(lambda: runs_of(runs), what="the job to start")
    start_outage()
    try:
        time.sleep(4)  # two leases
    finally:
        end_outage()
    try:
        if make_url(url).get_backend_name() == "postgresql":  # cut off: the lease is lost
            wait_until(lambda: len(runs_of(runs)) == 2, timeout=30, what="a re-run")
            wait_until(lambda: not alive(first), timeout=10, what="the stale process to exit")
        # on SQLite a lock only delays the heartbeat, which may then still be in time
        release.touch()
        row = wait_until(lambda: _status(engine, job_id, FINISHED), what="the job to end")
        assert row["status"] == SUCCEEDED and row["attempts"] == len(runs_of(runs)), row
        assert records_of(engine, job_id) == 1
    finally:
        sweeper.stop()


def test_jobs_are_shared_fairly_between_tenants(make_app: Any, db_url: str, tmp_path: Path) -> None:
    app = make_app(DATABASE_URL=db_url, JOB_POLL_SECONDS=0.2)
    key_for(app, "big")
    key_for(app, "small")
    engine = app.extensions["ipvalue.engine"]
    big = [_submit_slow(app, tmp_path, "big", f"b{i}") for i in range(3)]
    small = _submit_slow(app, tmp_path, "small", "s")
    wait_until(lambda: runs_of(big[0][1]), what="the first big job")
    big[0][2].touch()
    wait_until(lambda: runs_of(small[1]), what="the small tenant's job, next")
    assert not runs_of(big[1][1]) and job_row(engine, big[1][0])["status"] == QUEUED
    for _, _, release in [*big, small]:
        release.touch()
    for job_id, runs, _ in [*big, small]:
        row = wait_until(lambda j=job_id: _status(engine, j, FINISHED), what="every job")
        assert row["status"] == SUCCEEDED and len(runs_of(runs)) == 1


def test_a_tenant_over_its_job_limit_gets_429(make_app: Any, tmp_path: Path) -> None:
    app = make_app(MAX_JOBS_PER_TENANT=2, SYNC_BUDGET=0)
    client = authed_client(app, key_for(app))
    other = authed_client(app, key_for(app, "other-tenant"))
    held = [_submit_slow(app, tmp_path, tag=str(i)) for i in range(2)]
    example = json.loads((Path(__file__).parents[1] / "examples" / "patent.json").read_text())
    body = {**example, "simulation": {"paths": 1000, "seed": 1}}
    refused = client.post("/v1/valuations", json=body)
    assert refused.status_code == 429, refused.get_json()
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    problem = refused.get_json()
    assert problem["limit"] == "max_jobs_per_tenant" and "2 jobs" in problem["detail"]
    assert other.post("/v1/valuations", json=body).status_code == 202
    for _, _, release in held:
        release.touch()
    engine = app.extensions["ipvalue.engine"]
    for job_id, _, _ in held:
        wait_until(lambda j=job_id: _status(engine, j, FINISHED), what="held jobs")
    assert client.post("/v1/valuations", json=body).status_code == 202


def test_heartbeats_extend_the_lease(make_app: Any, db_url: str, tmp_path: Path) -> None:
    app = make_app(DATABASE_URL=db_url, JOB_LEASE_SECONDS=1.0)
    key_for(app)
    engine = app.extensions["ipvalue.engine"]
    job_id, _, release = _submit_slow(app, tmp_path)
    wait_until(lambda: owner_pid(engine, job_id), what="the job's own process")
    first = job_row(engine, job_id)["lease_expires_at"]
    wait_until(lambda: job_row(engine, job_id)["lease_expires_at"] > first, what="a heartbeat")
    release.touch()
    row = wait_until(lambda: _status(engine, job_id, FINISHED), what="the job to end")
    assert row["status"] == SUCCEEDED and row["lease_expires_at"] is None
    assert row["heartbeat_at"] is not None and row["attempts"] == 1
