"""The lease of a running attempt: taking it, its heartbeat, and the fenced final writes
(`write_success` stores the record and the state in one transaction).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from typing import Any

from sqlalchemy import Engine, select, update

from ipvalue.api import executors
from ipvalue.api.db import dumps, now
from ipvalue.api.jobs.states import FAILED, SUCCEEDED, current, process_tag
from ipvalue.api.store import write_row
from ipvalue.api.tables import jobs

log = logging.getLogger("ipvalue.jobs")


class Heartbeat:
    """A daemon thread extending one attempt's lease every quarter of it.

    A lease that has expired cannot be extended: when the fence no longer holds (the lease ran
    out, or another attempt took the job), ``lost`` is set and, in a process dedicated to this
    job, the process exits at once. A database outage only logs; if it outlasts the lease, the
    job is re-run and this attempt's writes are refused. (Its final write needs only the attempt
    to be current: a result computed during an outage is kept unless the job was re-queued.)
    """

    def __init__(self, engine: Engine, job_id: str, attempt: int, lease_seconds: float) -> None:
        self.engine = engine
        self.job_id = job_id
        self.attempt = attempt
        self.lease = lease_seconds
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ipvalue-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def beat(self) -> bool:
        """Extend the lease once; False when it has expired or the attempt is not current."""
        stamp = now()
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    update(jobs)
                    .where(*current(self.job_id, self.attempt), jobs.c.lease_expires_at > stamp)
                    .values(
                        heartbeat_at=stamp,
                        lease_expires_at=stamp + dt.timedelta(seconds=self.lease),
                    )
                ).rowcount
            )

    def _loop(self) -> None:
        while not self._stop.wait(self.lease / 4):
            try:
                held = self.beat()
            except Exception as exc:
                log.warning("job %s heartbeat failed: %s", self.job_id, str(exc).splitlines()[0])
                continue
            if not held:
                log.warning("job %s attempt %d lost its lease", self.job_id, self.attempt)
                self.lost.set()
                if executors.DEDICATED:
                    os._exit(executors.EXIT_LEASE_LOST)
                return

    def stop(self) -> None:
        self._stop.set()


class LeaseLost(Exception):
    """Raised into a job's progress callback when its attempt was taken over."""


def take_lease(engine: Engine, job_id: str, attempt: int, lease: float) -> Any:
    """Name this process the owner of the attempt; the job's row, or None when superseded."""
    stamp = now()
    with engine.begin() as conn:
        took = conn.execute(
            update(jobs)
            .where(*current(job_id, attempt))
            .values(
                owner=process_tag("exec"),
                heartbeat_at=stamp,
                lease_expires_at=stamp + dt.timedelta(seconds=lease),
            )
        ).rowcount
        if not took:
            return None
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()


def write_success(engine: Engine, job_id: str, attempt: int, record: dict[str, Any]) -> bool:
    """Mark the attempt succeeded and store its record (a `ipvalue.api.store.record_row`, made
    once so a retried write stores the same record), in one transaction; False if stale."""
    with engine.begin() as conn:
        done = conn.execute(
            update(jobs)
            .where(*current(job_id, attempt))
            .values(
                status=SUCCEEDED,
                progress=1.0,
                record_id=record["id"],
                finished_at=now(),
                lease_expires_at=None,
            )
        ).rowcount
        if done:
            write_row(conn, record)
    return bool(done)


def write_failure(engine: Engine, job_id: str, attempt: int, error: dict[str, Any]) -> bool:
    with engine.begin() as conn:
        return bool(
            conn.execute(
                update(jobs)
                .where(*current(job_id, attempt))
                .values(status=FAILED, error=dumps(error), finished_at=now(), lease_expires_at=None)
            ).rowcount
        )
