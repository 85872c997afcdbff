"""Long runs as jobs: 202 + job id over the budget, status/progress/result, recovery, Dask."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TENANT, authed_client, key_for
from flask import g
from sqlalchemy import insert, select

from ipvalue.api.db import dumps, now
from ipvalue.api.jobs import FAILED, QUEUED, RUNNING, SUCCEEDED, function_path, submit_or_run
from ipvalue.api.recovery import Sweeper, recover_jobs, sweep_dead_owners, sweep_expired_leases
from ipvalue.api.tables import jobs
from ipvalue.models.errors import InputError

EXAMPLE = json.loads((Path(__file__).parents[1] / "examples" / "patent.json").read_text())
SIMULATED = {**EXAMPLE, "simulation": {"paths": 2000, "seed": 11}}


def double(payload: dict[str, Any]) -> dict[str, Any]:
    """A job function: doubles ``x``."""
    return {"twice": 2 * payload["x"]}


def slow_with_progress(payload: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Reports half-way, then waits for a file to appear."""
    progress(0.5)
    deadline = time.monotonic() + 30
    while not os.path.exists(payload["release"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"done": True}


def refuses(payload: dict[str, Any]) -> dict[str, Any]:
    """Fails as bad input would."""
    raise InputError.for_field("x", "must be positive; got -1")


def dies(payload: dict[str, Any]) -> dict[str, Any]:
    """Kills the process running it."""
    os._exit(3)


def wait_for(client: Any, job_id: str, until: set[str], timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        resp = client.get(f"/v1/jobs/{job_id}")
        assert resp.status_code == 200, resp.get_json()
        state = dict(resp.get_json())
        if state["status"] in until or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def submit(app: Any, fn: Any, payload: dict[str, Any], cost: float = float("inf")) -> Any:
    with app.test_request_context():
        g.tenant = TENANT
        return submit_or_run("test", fn, payload, cost)


def test_over_budget_valuation_is_a_job_with_the_same_answer(db_url: str, make_app: Any) -> None:
    pytest.importorskip("ipvalue.risk.montecarlo")
    inline_app = make_app(DATABASE_URL=db_url)
    inline = authed_client(inline_app, key_for(inline_app)).post("/v1/valuations", json=SIMULATED)
    assert inline.status_code == 201, inline.get_json()
    app = make_app(DATABASE_URL=db_url, SYNC_BUDGET=1000)
    client = authed_client(app, key_for(app, "job-tenant"))
    accepted = client.post("/v1/valuations", json=SIMULATED)
    assert accepted.status_code == 202, accepted.get_json()
    job_id = accepted.get_json()["job_id"]
    assert accepted.headers["Location"] == f"/v1/jobs/{job_id}"
    state = wait_for(client, job_id, {SUCCEEDED, FAILED})
    assert state["status"] == SUCCEEDED, state
    assert state["progress"] == 1.0 and state["attempts"] == 1
    assert state["result"]["distribution"] == inline.get_json()["distribution"]
    record = client.get(state["location"]).get_json()
    assert record["id"] == state["result"]["id"] and record["job_id"] == job_id
    assert record["seed"] == "11"
    other = authed_client(app, key_for(app, "someone-else"))
    assert other.get(f"/v1/jobs/{job_id}").status_code == 404


def test_deterministic_valuation_stays_inline_at_zero_budget(make_app: Any) -> None:
    app = make_app(SYNC_BUDGET=0)
    client = authed_client(app, key_for(app))
    assert client.post("/v1/valuations", json=EXAMPLE).status_code == 201


def test_progress_is_visible_while_running(app: Any, client: Any, tmp_path: Path) -> None:
    release = tmp_path / "release"
    body, status, _ = submit(app, slow_with_progress, {"release": str(release)})
    assert status == 202
    deadline = time.monotonic() + 60
    state = wait_for(client, body["job_id"], {RUNNING})
    while state["progress"] < 0.5 and time.monotonic() < deadline:
        time.sleep(0.05)
        state = client.get(f"/v1/jobs/{body['job_id']}").get_json()
    assert state["status"] == RUNNING and state["progress"] == 0.5
    release.touch()
    assert wait_for(client, body["job_id"], {SUCCEEDED, FAILED})["result"]["done"] is True


def test_failed_job_keeps_its_problem(app: Any, client: Any) -> None:
    body, _, _ = submit(app, refuses, {})
    state = wait_for(client, body["job_id"], {SUCCEEDED, FAILED})
    assert state["status"] == FAILED and state["result"] is None
    assert state["error"]["status"] == 422
    assert state["error"]["errors"] == [{"field": "x", "message": "must be positive; got -1"}]


def test_a_job_whose_process_dies_is_retried_then_failed_not_lost(make_app: Any) -> None:
    app = make_app(MAX_JOB_ATTEMPTS=2)
    client = authed_client(app, key_for(app))
    body, _, _ = submit(app, dies, {})
    behind, _, _ = submit(app, double, {"x": 2})  # queued behind it: not failed with it
    state = wait_for(client, body["job_id"], {SUCCEEDED, FAILED})
    assert state["status"] == FAILED and state["attempts"] == 2
    assert "died (exit status 3) (after 2 of 2 attempts)" in state["error"]["detail"]
    assert wait_for(client, behind["job_id"], {SUCCEEDED, FAILED})["result"]["twice"] == 4


def test_job_functions_must_be_module_level() -> None:
    def local(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    with pytest.raises(ValueError, match="module-level"):
        function_path(local)


def _orphan(
    engine: Any,
    status: str,
    attempts: int,
    owner: str | None = "a-process-that-died",
    lease: float | None = None,
) -> str:
    """A job row as a process that is gone left it; ``lease``: seconds from now (negative: past)."""
    job_id = str(uuid.uuid4())
    expires = None if lease is None else now() + dt.timedelta(seconds=lease)
    with engine.begin() as conn:
        conn.execute(
            insert(jobs),
            {
                "id": job_id,
                "kind": "test",
                "tenant": TENANT,
                "fn": function_path(double),
                "status": status,
                "progress": 0.3,
                "payload": dumps({"x": 21}),
                "context": dumps({"request": {"x": 21}}),
                "attempts": attempts,
                "owner": owner,
                "created_at": now(),
                "started_at": now() if status == RUNNING else None,
                "lease_expires_at": expires,
            },
        )
    return job_id


def test_after_restart_unfinished_jobs_rerun(db_url: str, make_app: Any) -> None:
    app = make_app(DATABASE_URL=db_url)
    client = authed_client(app, key_for(app))
    engine = app.extensions["ipvalue.engine"]
    queued, running, worn = (
        _orphan(engine, QUEUED, 0),
        _orphan(engine, RUNNING, 1),
        _orphan(engine, RUNNING, 3),
    )
    assert recover_jobs(engine, "rerun", max_attempts=3) == {"requeued": 2, "failed": 1}
    app.extensions["ipvalue.jobs"].wake()
    for job_id in (queued, running):
        state = wait_for(client, job_id, {SUCCEEDED, FAILED})
        assert state["status"] == SUCCEEDED and state["result"]["twice"] == 42
    assert state["attempts"] == 2  # the interrupted run counts
    state = client.get(f"/v1/jobs/{worn}").get_json()
    assert state["status"] == FAILED and "restarted" in state["error"]["detail"]


def test_after_restart_unfinished_jobs_can_be_failed_with_the_reason(app: Any, client: Any) -> None:
    engine = app.extensions["ipvalue.engine"]
    job_id = _orphan(engine, RUNNING, 1)
    assert recover_jobs(engine, "fail") == {"requeued": 0, "failed": 1}
    state = client.get(f"/v1/jobs/{job_id}").get_json()
    assert state["status"] == FAILED
    assert "restarted before the job finished" in state["error"]["detail"]
    with engine.connect() as conn:
        assert conn.execute(select(jobs.c.status).where(jobs.c.id == job_id)).scalar() == FAILED


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=":0",  # any free port: its HTTP server starts even without a dashboard
        silence_logs=40,
    )
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def test_jobs_run_on_a_dask_cluster(make_app: Any, dask_scheduler: str) -> None:
    pytest.importorskip("ipvalue.risk.montecarlo")
    app = make_app(DASK_SCHEDULER=dask_scheduler, SYNC_BUDGET=1000)
    client = authed_client(app, key_for(app))
    accepted = client.post("/v1/valuations", json=SIMULATED)
    assert accepted.status_code == 202
    state = wait_for(client, accepted.get_json()["job_id"], {SUCCEEDED, FAILED})
    assert state["status"] == SUCCEEDED, state
    assert state["result"]["distribution"]["mean"] > 0
    body, _, _ = submit(app, refuses, {})
    assert wait_for(client, body["job_id"], {SUCCEEDED, FAILED})["error"]["status"] == 422


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_jobs_of_dead_processes_and_expired_leases_are_swept_and_rerun(
    app: Any, client: Any
) -> None:
    engine = app.extensions["ipvalue.engine"]
    host = socket.gethostname()[:32]
    dead = _dead_pid()
    died = _orphan(engine, RUNNING, 1, owner=f"{host}:{dead}:exec", lease=60)
    expired = _orphan(engine, RUNNING, 1, owner=f"another-host:{dead}:exec", lease=-1)
    alive = _orphan(engine, RUNNING, 1, owner=f"{host}:{os.getpid()}:exec", lease=60)
    remote = _orphan(engine, RUNNING, 1, owner=f"another-host:{dead}:exec", lease=60)
    worn = _orphan(engine, RUNNING, 3, owner=f"{host}:{dead}:exec", lease=60)
    sweeper = Sweeper(app.extensions["ipvalue.jobs"], interval=3600)
    assert sweeper.sweep_once() == {"requeued": 2, "failed": 1}
    for job_id in (died, expired):
        state = wait_for(client, job_id, {SUCCEEDED, FAILED})
        assert state["status"] == SUCCEEDED and state["attempts"] == 2
    for job_id in (alive, remote):
        assert client.get(f"/v1/jobs/{job_id}").get_json()["status"] == RUNNING
    failed = client.get(f"/v1/jobs/{worn}").get_json()
    assert failed["status"] == FAILED
    assert "died (after 3 of 3 attempts)" in failed["error"]["detail"]
    assert sweep_dead_owners(engine) == {"requeued": 0, "failed": 0}
    assert sweep_expired_leases(engine) == {"requeued": 0, "failed": 0}
