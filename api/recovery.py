"""Jobs whose owner is gone: after a restart, and while the server runs.

`recover_jobs` runs once per server start (gunicorn master, before workers fork): every job left
queued or running is re-queued with no owner (``JOBS_ON_RESTART=rerun``, up to
``MAX_JOB_ATTEMPTS`` runs) or failed with the reason (``fail``).

`sweep_dead_owners` runs in each worker every ``JOB_SWEEP_SECONDS`` (`Sweeper`): a job whose
owner process on this host has died (a killed or recycled web worker with jobs still queued, a
pool process that crashed mid-run) is re-queued or failed the same way. Ownerless queued jobs
are then taken by `api.jobs.JobRunner.claim_orphans`. Owners on other hosts (Dask workers) are
left alone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from sqlalchemy import Engine, select, update

from ipvalue.api.db import dumps, now
from ipvalue.api.jobs import FAILED, QUEUED, UNFINISHED, JobRunner
from ipvalue.api.tables import jobs

log = logging.getLogger("ipvalue.jobs")


def _interrupted(detail: str) -> str:
    return dumps(
        {
            "title": "Job interrupted",
            "status": 503,
            "detail": detail,
            "type": "https://ipvalue.dev/problems/job-interrupted",
        }
    )


def _requeue_or_fail(
    conn: Any,
    job_id: str,
    attempts: int,
    policy: str,
    max_attempts: int,
    why: str,
    owner: str | None = None,
) -> str:
    """Re-queue one job or fail it; only if its owner is still ``owner`` (when given)."""
    where = [jobs.c.id == job_id, jobs.c.status.in_(UNFINISHED)]
    if owner is not None:
        where.append(jobs.c.owner == owner)
    if policy == "rerun" and attempts < max_attempts:
        values: dict[str, Any] = {
            "status": QUEUED,
            "owner": None,
            "progress": 0.0,
            "started_at": None,
        }
        outcome = "requeued"
    else:
        tail = f" (after {attempts} of {max_attempts} attempts)" if policy == "rerun" else ""
        values = {
            "status": FAILED,
            "finished_at": now(),
            "error": _interrupted(f"{why}{tail}; submit the request again"),
        }
        outcome = "failed"
    changed = conn.execute(update(jobs).where(*where).values(**values)).rowcount
    return outcome if changed else "unchanged"


def recover_jobs(engine: Engine, policy: str = "rerun", max_attempts: int = 3) -> dict[str, int]:
    """After a restart, re-queue or fail every job left queued or running.

    Returns
    -------
    dict
        How many jobs were re-queued and how many failed.
    """
    counts = {"requeued": 0, "failed": 0}
    with engine.begin() as conn:
        rows = conn.execute(
            select(jobs.c.id, jobs.c.attempts).where(jobs.c.status.in_(UNFINISHED))
        ).all()
        for job_id, attempts in rows:
            outcome = _requeue_or_fail(
                conn,
                job_id,
                attempts,
                policy,
                max_attempts,
                "the server restarted before the job finished",
            )
            counts[outcome] = counts.get(outcome, 0) + 1
    counts.pop("unchanged", None)
    if any(counts.values()):
        log.warning("recovered unfinished jobs", extra=counts)
    return counts


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_local_owner(owner: str | None, host: str) -> bool:
    if not owner:
        return False
    parts = owner.split(":")
    if len(parts) < 3 or parts[0] != host or not parts[1].isdigit():
        return False
    return not _alive(int(parts[1]))


def sweep_dead_owners(
    engine: Engine, policy: str = "rerun", max_attempts: int = 3
) -> dict[str, int]:
    """Re-queue or fail unfinished jobs whose owner process on this host has died."""
    host = socket.gethostname()[:32]
    counts = {"requeued": 0, "failed": 0}
    with engine.begin() as conn:
        rows = conn.execute(
            select(jobs.c.id, jobs.c.attempts, jobs.c.owner, jobs.c.status).where(
                jobs.c.status.in_(UNFINISHED), jobs.c.owner.is_not(None)
            )
        ).all()
        for job_id, attempts, owner, status in rows:
            if not _dead_local_owner(owner, host):
                continue
            why = (
                "the process running the job died"
                if status != QUEUED
                else "the server process that queued the job died"
            )
            outcome = _requeue_or_fail(
                conn, job_id, attempts, policy, max_attempts, why, owner=owner
            )
            if outcome in counts:
                counts[outcome] += 1
    if any(counts.values()):
        log.warning("jobs of dead processes", extra=counts)
    return counts


class Sweeper:
    """A daemon thread: every ``interval`` seconds, sweep dead owners and claim orphans.

    Parameters
    ----------
    runner : JobRunner
    interval : float
        Seconds between sweeps.
    policy, max_attempts
        As for `recover_jobs`.
    """

    def __init__(
        self, runner: JobRunner, interval: float, policy: str = "rerun", max_attempts: int = 3
    ) -> None:
        self.runner = runner
        self.interval = interval
        self.policy = policy
        self.max_attempts = max_attempts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ipvalue-job-sweeper", daemon=True)

    def start(self) -> Sweeper:
        """Start sweeping; returns self."""
        self._thread.start()
        return self

    def sweep_once(self) -> list[str]:
        """One sweep; returns the ids of the jobs this process took."""
        sweep_dead_owners(self.runner.engine, self.policy, self.max_attempts)
        return self.runner.claim_orphans()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep_once()
            except Exception:
                log.exception("job sweep failed")

    def stop(self) -> None:
        """Stop after the current sweep."""
        self._stop.set()


def start_sweeper(app: Any) -> Sweeper:
    """Take orphaned jobs now and sweep every ``JOB_SWEEP_SECONDS`` in this server process."""
    sweeper = Sweeper(
        app.extensions["ipvalue.jobs"],
        float(app.config["JOB_SWEEP_SECONDS"]),
        app.config["JOBS_ON_RESTART"],
        int(app.config["MAX_JOB_ATTEMPTS"]),
    )
    app.extensions["ipvalue.sweeper"] = sweeper
    sweeper.runner.claim_orphans()
    return sweeper.start()
