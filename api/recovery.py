"""Jobs whose process is gone: after a restart, and while the server runs.

`recover_jobs` runs once per server start (gunicorn master, before workers fork): every job left
queued or running is re-queued with no owner (``JOBS_ON_RESTART=rerun``, up to
``MAX_JOB_ATTEMPTS`` runs) or failed with the reason (``fail``).

`sweep` runs in each worker every ``JOB_SWEEP_SECONDS`` (`Sweeper`) and reclaims

- running jobs whose owner process on this host has died (a killed web worker, a job process
  killed with it), and
- running jobs whose lease has expired, whoever owns them (a process that hangs, one on another
  host, one cut off from the database for longer than its lease),

re-queuing each (within ``MAX_JOB_ATTEMPTS``) or failing it with the reason. Every change is
fenced by the job's attempt number: if the attempt finished or was taken over meanwhile, nothing
changes. Queued jobs are then taken by the dispatchers (`api.jobs.JobRunner`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from sqlalchemy import Engine, select

from ipvalue.api.db import now
from ipvalue.api.jobs import QUEUED, RUNNING, UNFINISHED, JobRunner, settle
from ipvalue.api.tables import jobs

log = logging.getLogger("ipvalue.jobs")


def _count(counts: dict[str, int], outcome: str) -> None:
    if outcome in counts:
        counts[outcome] += 1


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
            select(jobs.c.id, jobs.c.attempts, jobs.c.status).where(jobs.c.status.in_(UNFINISHED))
        ).all()
        for job_id, attempts, status in rows:
            if status == QUEUED and policy == "rerun":
                continue  # it never ran: it waits for a dispatcher as it is
            outcome = settle(
                conn,
                job_id,
                attempts,
                "the server restarted before the job finished",
                rerun=policy == "rerun",
                max_attempts=max_attempts,
            )
            _count(counts, outcome)
    counts["requeued"] += sum(1 for _, _, status in rows if status == QUEUED and policy == "rerun")
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
    """Re-queue or fail running jobs whose owner process on this host has died."""
    host = socket.gethostname()[:32]
    counts = {"requeued": 0, "failed": 0}
    with engine.connect() as conn:
        rows = conn.execute(
            select(jobs.c.id, jobs.c.attempts, jobs.c.owner).where(
                jobs.c.status == RUNNING, jobs.c.owner.is_not(None)
            )
        ).all()
    for job_id, attempts, owner in rows:
        if not _dead_local_owner(owner, host):
            continue
        with engine.begin() as conn:
            outcome = settle(
                conn,
                job_id,
                attempts,
                "the process running the job died",
                rerun=policy == "rerun",
                max_attempts=max_attempts,
                owner=owner,
            )
        _count(counts, outcome)
    if any(counts.values()):
        log.warning("jobs of dead processes", extra=counts)
    return counts


def sweep_expired_leases(engine: Engine, max_attempts: int = 3) -> dict[str, int]:
    """Re-queue or fail running jobs whose lease has expired (their process stopped renewing)."""
    counts = {"requeued": 0, "failed": 0}
    stamp = now()
    with engine.connect() as conn:
        rows = conn.execute(
            select(jobs.c.id, jobs.c.attempts).where(
                jobs.c.status == RUNNING, jobs.c.lease_expires_at < stamp
            )
        ).all()
    for job_id, attempts in rows:
        with engine.begin() as conn:
            outcome = settle(
                conn,
                job_id,
                attempts,
                "the job's lease expired: its process stopped renewing it",
                rerun=True,
                max_attempts=max_attempts,
                where=[jobs.c.lease_expires_at < stamp],
            )
        _count(counts, outcome)
    if any(counts.values()):
        log.warning("jobs with expired leases", extra=counts)
    return counts


def sweep(engine: Engine, policy: str = "rerun", max_attempts: int = 3) -> dict[str, int]:
    """`sweep_dead_owners`, then `sweep_expired_leases`; the counts added up."""
    dead = sweep_dead_owners(engine, policy, max_attempts)
    expired = sweep_expired_leases(engine, max_attempts)
    return {name: dead[name] + expired[name] for name in dead}


class Sweeper:
    """A daemon thread: every ``interval`` seconds, `sweep`, then wake the dispatcher.

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

    def sweep_once(self) -> dict[str, int]:
        """One sweep; returns how many jobs were re-queued and failed."""
        counts = sweep(self.runner.engine, self.policy, self.max_attempts)
        self.runner.wake()
        return counts

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep_once()
            except Exception as exc:
                log.warning("job sweep failed: %s", str(exc).splitlines()[0])

    def stop(self) -> None:
        """Stop after the current sweep."""
        self._stop.set()


def start_sweeper(app: Any) -> Sweeper:
    """Start this server worker's dispatcher, and sweep every ``JOB_SWEEP_SECONDS``."""
    sweeper = Sweeper(
        app.extensions["ipvalue.jobs"],
        float(app.config["JOB_SWEEP_SECONDS"]),
        app.config["JOBS_ON_RESTART"],
        int(app.config["MAX_JOB_ATTEMPTS"]),
    )
    app.extensions["ipvalue.sweeper"] = sweeper
    sweeper.runner.wake()
    return sweeper.start()
