"""`JobRunner`: each server worker's dispatcher, which starts job processes, settles their ends and
answers `GET /v1/jobs/{id}`.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, insert, select

from ipvalue.api.db import dumps, iso, now
from ipvalue.api.executors import Executor, JobProcessDied, function_path
from ipvalue.api.jobs.dispatch import claim_next
from ipvalue.api.jobs.execute import execute_job
from ipvalue.api.jobs.states import QUEUED, UNFINISHED, process_tag, retrying, settle
from ipvalue.api.limits import too_many_jobs
from ipvalue.api.store import SqlStore
from ipvalue.api.tables import jobs
from ipvalue.models.errors import NotFoundError

log = logging.getLogger("ipvalue.jobs")


class JobRunner:
    """Creates jobs, dispatches queued ones to an executor fairly, reads their state.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    db_url : str
        The URL job processes use to reach the same database.
    executor : Executor
    budget : float
        Largest cost run inline.
    slots : int
        Jobs this runner runs at once (``JOB_WORKERS``).
    lease_seconds, retry_seconds, poll_seconds : float
        ``JOB_LEASE_SECONDS``, ``JOB_WRITE_RETRY_SECONDS``, ``JOB_POLL_SECONDS``.
    max_attempts : int
        ``MAX_JOB_ATTEMPTS``: runs of one job before a crash fails it.
    max_per_tenant : int
        ``MAX_JOBS_PER_TENANT``: queued and running jobs one tenant may have.
    """

    def __init__(
        self,
        engine: Engine,
        db_url: str,
        executor: Executor,
        budget: float,
        *,
        slots: int = 1,
        lease_seconds: float = 60.0,
        retry_seconds: float = 300.0,
        poll_seconds: float = 1.0,
        max_attempts: int = 3,
        max_per_tenant: int = 20,
    ) -> None:
        self.engine = engine
        self.db_url = db_url
        self.executor = executor
        self.budget = budget
        self.slots = max(1, slots)
        self.lease_seconds = lease_seconds
        self.retry_seconds = retry_seconds
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.max_per_tenant = max_per_tenant
        self.owner = process_tag("web-" + uuid.uuid4().hex[:8])
        #: False while this process should take no new job (a server worker that is stopping).
        self.accepting: Callable[[], bool] = lambda: True
        self._active: dict[str, int] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(cls, engine: Engine, db_url: str, executor: Executor, config: Any) -> JobRunner:
        """A runner with the settings of a Flask config (see `api.config`)."""
        return cls(
            engine,
            db_url,
            executor,
            float(config["SYNC_BUDGET"]),
            slots=int(config["JOB_WORKERS"]),
            lease_seconds=float(config["JOB_LEASE_SECONDS"]),
            retry_seconds=float(config["JOB_WRITE_RETRY_SECONDS"]),
            poll_seconds=float(config["JOB_POLL_SECONDS"]),
            max_attempts=int(config["MAX_JOB_ATTEMPTS"]),
            max_per_tenant=int(config["MAX_JOBS_PER_TENANT"]),
        )

    def create(
        self,
        kind: str,
        tenant: str,
        fn: Callable[..., Any],
        payload: dict[str, Any],
        context: dict[str, Any],
    ) -> str:
        """Write a queued job and wake the dispatcher; returns the job id.

        Raises a 429 `LimitExceededError` when the tenant already has ``max_per_tenant`` jobs
        queued or running.
        """
        job_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(jobs)
                .where(jobs.c.tenant == tenant, jobs.c.status.in_(UNFINISHED))
            ).scalar_one()
            if count >= self.max_per_tenant:
                raise too_many_jobs(count, self.max_per_tenant, math.ceil(self.poll_seconds * 5))
            conn.execute(
                insert(jobs),
                {
                    "id": job_id,
                    "kind": kind,
                    "tenant": tenant,
                    "fn": function_path(fn),
                    "status": QUEUED,
                    "progress": 0.0,
                    "payload": dumps(payload),
                    "context": dumps(context),
                    "attempts": 0,
                    "owner": None,
                    "created_at": now(),
                },
            )
        self.wake()
        return job_id

    # --- the dispatcher ---------------------------------------------------------------------

    def wake(self) -> None:
        """Start the dispatcher if needed and have it look for queued jobs now."""
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._loop, name="ipvalue-job-dispatcher", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def running(self) -> dict[str, int]:
        """The jobs this runner has started and not seen end: job id -> attempt."""
        with self._lock:
            return dict(self._active)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            started = False
            try:
                started = self.dispatch_once()
            except Exception as exc:
                log.warning("job dispatch failed: %s", str(exc).splitlines()[0])
            if not started:
                self._wake.wait(self.poll_seconds)

    def dispatch_once(self) -> bool:
        """Start one queued job if a slot is free; True if one was started."""
        with self._lock:
            if len(self._active) >= self.slots or self._stop.is_set():
                return False
        if not self.accepting():
            return False
        claimed = claim_next(self.engine, self.owner, self.lease_seconds)
        if claimed is None:
            return False
        job_id, attempt = claimed
        with self._lock:
            self._active[job_id] = attempt
        try:
            self.executor.submit(
                execute_job,
                self.db_url,
                job_id,
                attempt,
                self.lease_seconds,
                self.retry_seconds,
                on_done=lambda exc: self._ended(job_id, attempt, exc),
            )
        except Exception as exc:
            log.exception("cannot start job %s", job_id)
            self._ended(job_id, attempt, exc, started=False)
        return True

    def _ended(
        self, job_id: str, attempt: int, exc: BaseException | None, started: bool = True
    ) -> None:
        """A job's process ended: if it did not finish the job, re-queue or fail it.

        The slot is freed only after that, so a re-queued job keeps its place in the queue.
        """
        try:
            if exc is not None:
                self._settle(job_id, attempt, exc, started)
        finally:
            with self._lock:
                self._active.pop(job_id, None)
            self._wake.set()

    def _settle(self, job_id: str, attempt: int, exc: BaseException, started: bool) -> None:
        most: float = self.max_attempts
        patience = self.retry_seconds
        if self._stop.is_set():  # a restart recovers it too: do not hold up the stop
            why, most, patience = "the server stopped while the job ran", math.inf, 5.0
        elif not started:
            why = f"the job could not be started ({exc})"
        elif isinstance(exc, JobProcessDied):
            why = str(exc)
        else:
            why = f"the process running the job died ({type(exc).__name__})"

        def settle_it() -> str:
            with self.engine.begin() as conn:
                return settle(conn, job_id, attempt, why, rerun=True, max_attempts=most)

        try:
            retrying(settle_it, patience, job_id)
        except Exception:  # the sweeper reclaims it once its lease expires
            log.exception("job %s: could not record that its process ended", job_id)

    def get(self, tenant: str, job_id: str) -> dict[str, Any]:
        """The job's public state; another tenant's job is not found."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(jobs).where(jobs.c.id == job_id, jobs.c.tenant == tenant))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(f"no job with id {job_id!r} for this API key's tenant")
        result = None
        if row["record_id"] is not None:
            record = SqlStore(self.engine).get(row["kind"], tenant, row["record_id"])
            result = {"id": row["record_id"], **record["result"]}
        context = json.loads(row["context"])
        template = context.get("location")
        return {
            "id": row["id"],
            "kind": row["kind"],
            "status": row["status"],
            "progress": float(row["progress"]),
            "attempts": int(row["attempts"]),
            "created_at": iso(row["created_at"]),
            "started_at": iso(row["started_at"]),
            "finished_at": iso(row["finished_at"]),
            "location": template.format(id=row["record_id"])
            if template and row["record_id"]
            else None,
            "result": result,
            "error": None if row["error"] is None else json.loads(row["error"]),
        }

    def shutdown(self) -> None:
        """Stop dispatching; end the job processes of this runner and re-queue their jobs."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        self.executor.shutdown()
        deadline = time.monotonic() + 5
        while self.running() and time.monotonic() < deadline:  # their callbacks settle them
            time.sleep(0.05)
        for job_id, attempt in self.running().items():  # ended without a callback (Dask)
            self._ended(job_id, attempt, RuntimeError("stopped"))
