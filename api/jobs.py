"""Long runs as jobs: ``submit_or_run`` answers inline under the budget, else 202 and a job id.

How a route uses it::

    from ipvalue.api.jobs import submit_or_run

    @bp.post("")
    def create():
        payload = json_body()
        ...                                   # validate now: bad input is a 422, not a job
        return submit_or_run(
            "collateral",                     # record kind
            collateral_job,                   # module-level: fn(payload[, progress]) -> dict
            payload,                          # JSON; the job gets exactly this
            cost=paths * years * assets,      # or math.inf for any MCMC
            location="/v1/collateral/{id}",   # optional: where the record can be read
        )

Under ``SYNC_BUDGET`` the function runs in the request, its result is stored as an immutable
record and the answer is ``201 {"id": ..., **result}``. Above it a queued job row is written and
the answer is ``202 {"job_id", "status", "location": "/v1/jobs/<id>"}``; ``GET /v1/jobs/<id>``
shows status, progress and, once done, the same body a synchronous answer would have had, or the
error as problem+json fields. A function that takes a ``progress`` argument may call it with a
fraction in [0, 1]. A tenant may have ``MAX_JOBS_PER_TENANT`` jobs queued or running; above that
the answer is 429 with ``Retry-After``.

Job state lives in the database, never in memory only. Each server worker runs a dispatcher
(`JobRunner`) that takes the next queued job from the tenant with the fewest running jobs (ties:
the tenant served least recently), so one tenant's long jobs cannot starve another's. Taking a job
makes it ``running`` with the next attempt number and a lease (``JOB_LEASE_SECONDS``); the job
runs in its own process (`api.executors`), which names itself in ``jobs.owner`` and extends the
lease from a heartbeat thread. Every write of a run is fenced by ``(id, attempt, running)``: the
final one stores the record and marks the job succeeded in one transaction, so an attempt that
was superseded (its lease expired, its process was presumed dead) writes nothing, and the unique
``records.job_id`` makes a second record impossible. The final write is retried for
``JOB_WRITE_RETRY_SECONDS`` while the database is unreachable. A job process that dies ends only
its own job: re-queued while it has attempts left (``MAX_JOB_ATTEMPTS``), else failed with what
happened ("killed by signal 9"). Jobs of dead processes and expired leases are reclaimed by
`api.recovery`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from ipvalue.api import executors
from ipvalue.api.db import dumps, engine_for, iso, now
from ipvalue.api.errors import require_finite
from ipvalue.api.executors import Executor, JobProcessDied, function_path, resolve
from ipvalue.api.limits import too_many_jobs
from ipvalue.api.store import record_row
from ipvalue.api.tables import jobs, records
from ipvalue.models.errors import IPValueError, NotFoundError

__all__ = [
    "FAILED",
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "JobRunner",
    "execute_job",
    "function_path",
    "resolve",
    "submit_or_run",
]

log = logging.getLogger("ipvalue.jobs")

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
UNFINISHED = (QUEUED, RUNNING)
#: Seconds added to the first lease of an attempt, for its process to start and take it over.
START_GRACE_SECONDS = 30.0
#: What `execute_job` returns when its attempt was taken over: it wrote nothing.
SUPERSEDED = "superseded"
Body = tuple[dict[str, Any], int, dict[str, str]]
T = TypeVar("T")


def process_tag(role: str) -> str:
    """``host:pid:role``, naming this process as a job's owner."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{role}"[:64]


def _ensure_logging() -> None:
    """Logs in job processes too (child and Dask processes start without our handlers)."""
    if not logging.getLogger("ipvalue").handlers:
        from ipvalue.api.logs import configure_logging

        configure_logging(
            os.environ.get("IPVALUE_LOG_LEVEL", "INFO"),
            os.environ.get("IPVALUE_LOG_FORMAT", "json"),
        )


def _call(
    fn: Callable[..., Any], payload: dict[str, Any], progress: Callable[[float], None]
) -> Any:
    if "progress" in inspect.signature(fn).parameters:
        return require_finite(fn(payload, progress=progress))
    return require_finite(fn(payload))


def _error_fields(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, IPValueError):
        fields: dict[str, Any] = {
            "title": exc.title,
            "status": exc.status,
            "detail": str(exc),
            "type": f"https://ipvalue.dev/problems/{exc.slug}",
        }
        problems = getattr(exc, "problems", None)
        if problems:
            fields["errors"] = [{"field": p.field, "message": p.message} for p in problems]
        return fields
    return {
        "title": "Internal error",
        "status": 500,
        "detail": f"the job failed unexpectedly ({type(exc).__name__}); it has been logged",
        "type": "https://ipvalue.dev/problems/internal",
    }


def transient(exc: BaseException) -> bool:
    """True for a database that is unreachable or busy (worth retrying), not for a bad query."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def retrying(action: Callable[[], T], seconds: float, what: str) -> T:
    """``action()``, retried with backoff (0.2 s doubling to 5 s) while `transient` errors last.

    Raises the last error once ``seconds`` have passed.
    """
    deadline = time.monotonic() + seconds
    delay = 0.2
    while True:
        try:
            return action()
        except DBAPIError as exc:
            if not transient(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: database unavailable, retrying in %.1f s", what, delay)
            time.sleep(delay)
            delay = min(5.0, delay * 2)


def current(job_id: str, attempt: int) -> list[Any]:
    """The fence of one attempt: the job is still running under this attempt number."""
    return [jobs.c.id == job_id, jobs.c.attempts == attempt, jobs.c.status == RUNNING]


def problem(title: str, status: int, detail: str, slug: str) -> dict[str, Any]:
    """A job's error as problem+json fields."""
    return {
        "title": title,
        "status": status,
        "detail": detail,
        "type": f"https://ipvalue.dev/problems/{slug}",
    }


def settle(
    conn: Connection,
    job_id: str,
    attempt: int,
    why: str,
    *,
    rerun: bool,
    max_attempts: float,
    owner: str | None = None,
    where: list[Any] | None = None,
) -> str:
    """Re-queue an interrupted attempt, or fail the job with ``why``; fenced by ``attempt``.

    Re-queues when ``rerun`` and fewer than ``max_attempts`` runs were made. Only the attempt
    that is still current changes (and only while ``owner`` owns it, when given).

    Returns
    -------
    str
        ``"requeued"``, ``"failed"`` or ``"unchanged"`` (another attempt or outcome came first).
    """
    fence = [jobs.c.id == job_id, jobs.c.attempts == attempt, jobs.c.status.in_(UNFINISHED)]
    if owner is not None:
        fence.append(jobs.c.owner == owner)
    fence += where or []
    values: dict[str, Any]
    if rerun and attempt < max_attempts:
        values = {
            "status": QUEUED,
            "owner": None,
            "progress": 0.0,
            "started_at": None,
            "lease_expires_at": None,
            "heartbeat_at": None,
        }
        outcome = "requeued"
    else:
        tail = f" (after {attempt} of {max_attempts} attempts)" if rerun else ""
        values = {
            "status": FAILED,
            "finished_at": now(),
            "lease_expires_at": None,
            "error": dumps(
                problem(
                    "Job interrupted", 503, f"{why}{tail}; submit the request again", "job-lost"
                )
            ),
        }
        outcome = "failed"
    changed = conn.execute(update(jobs).where(*fence).values(**values)).rowcount
    if changed:
        log.warning("job %s attempt %d %s: %s", job_id, attempt, outcome, why)
    return outcome if changed else "unchanged"


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


def _take(engine: Engine, job_id: str, attempt: int, lease: float) -> Any:
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


def _succeed(engine: Engine, job_id: str, attempt: int, record: dict[str, Any]) -> bool:
    """Mark the attempt succeeded and store its record, in one transaction; False if stale."""
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
            conn.execute(insert(records), record)
    return bool(done)


def _fail(engine: Engine, job_id: str, attempt: int, error: dict[str, Any]) -> bool:
    with engine.begin() as conn:
        return bool(
            conn.execute(
                update(jobs)
                .where(*current(job_id, attempt))
                .values(status=FAILED, error=dumps(error), finished_at=now(), lease_expires_at=None)
            ).rowcount
        )


def execute_job(
    db_url: str,
    job_id: str,
    attempt: int,
    lease_seconds: float = 60.0,
    retry_seconds: float = 300.0,
) -> str:
    """Run attempt ``attempt`` of job ``job_id`` here (a job's own process or a Dask worker).

    Takes the attempt's lease, keeps it with a `Heartbeat`, calls the job's function, then stores
    the record and marks the job succeeded in one fenced transaction, or marks it failed with
    the error. Database writes are retried for ``retry_seconds`` while it is unreachable.

    Returns
    -------
    str
        The final status, or ``"superseded"`` when another attempt holds the job (nothing was
        written).
    """
    _ensure_logging()
    engine = engine_for(db_url)
    row = retrying(lambda: _take(engine, job_id, attempt, lease_seconds), retry_seconds, job_id)
    if row is None:
        return SUPERSEDED
    heartbeat = Heartbeat(engine, job_id, attempt, lease_seconds).start()
    last = [0.0]

    def progress(fraction: float) -> None:
        if heartbeat.lost.is_set():
            raise LeaseLost(job_id)
        stamp = time.monotonic()
        if stamp - last[0] < 0.5:
            return
        last[0] = stamp
        value = min(1.0, max(0.0, float(fraction)))
        try:
            with engine.begin() as conn:
                conn.execute(update(jobs).where(*current(job_id, attempt)).values(progress=value))
        except DBAPIError as exc:  # progress is a courtesy: an outage must not fail the job
            log.warning("job %s progress not saved: %s", job_id, str(exc).splitlines()[0])

    try:
        context = json.loads(row["context"])
        try:
            result = _call(resolve(row["fn"]), json.loads(row["payload"]), progress)
            record = record_row(
                row["kind"], row["tenant"], {**context, "result": result, "job_id": job_id}
            )
        except LeaseLost:
            return SUPERSEDED
        except Exception as exc:
            if not isinstance(exc, IPValueError):
                log.exception("job %s failed", job_id)
            error = _error_fields(exc)
            failed = retrying(lambda: _fail(engine, job_id, attempt, error), retry_seconds, job_id)
            return FAILED if failed else SUPERSEDED
        written = retrying(lambda: _succeed(engine, job_id, attempt, record), retry_seconds, job_id)
        return SUCCEEDED if written else SUPERSEDED
    finally:
        heartbeat.stop()


def _stamp(value: dt.datetime | None) -> str:
    return iso(value) or ""


def claim_next(engine: Engine, owner: str, lease_seconds: float) -> tuple[str, int] | None:
    """Take the next queued job fairly; ``(job id, attempt)``, or None when none is queued.

    The tenant with the fewest running jobs goes first; among equals, the one whose last job
    started longest ago (round robin), then the one waiting longest. Within a tenant, oldest
    first. Taking is a compare-and-set on ``status = queued``, so two workers never take the same
    job. The first lease adds `START_GRACE_SECONDS` for the job's process to start.
    """
    with engine.connect() as conn:
        heads = conn.execute(
            select(jobs.c.tenant, func.min(jobs.c.created_at))
            .where(jobs.c.status == QUEUED)
            .group_by(jobs.c.tenant)
        ).all()
        if not heads:
            return None
        tenants = [tenant for tenant, _ in heads]
        running = dict(
            conn.execute(  # type: ignore[arg-type]
                select(jobs.c.tenant, func.count())
                .where(jobs.c.status == RUNNING, jobs.c.tenant.in_(tenants))
                .group_by(jobs.c.tenant)
            ).all()
        )
        served = dict(
            conn.execute(  # type: ignore[arg-type]
                select(jobs.c.tenant, func.max(jobs.c.started_at))
                .where(jobs.c.tenant.in_(tenants))
                .group_by(jobs.c.tenant)
            ).all()
        )
    order = sorted(
        heads,
        key=lambda head: (running.get(head[0], 0), _stamp(served.get(head[0])), _stamp(head[1])),
    )
    for tenant, _ in order:
        stamp = now()
        with engine.begin() as conn:
            job_id = conn.execute(
                select(jobs.c.id)
                .where(jobs.c.status == QUEUED, jobs.c.tenant == tenant)
                .order_by(jobs.c.created_at, jobs.c.id)
                .limit(1)
            ).scalar()
            if job_id is None:
                continue
            took = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == QUEUED)
                .values(
                    status=RUNNING,
                    attempts=jobs.c.attempts + 1,
                    owner=owner,
                    progress=0.0,
                    started_at=stamp,
                    heartbeat_at=None,
                    lease_expires_at=stamp
                    + dt.timedelta(seconds=lease_seconds + START_GRACE_SECONDS),
                )
            ).rowcount
            if took:
                attempt = conn.execute(
                    select(jobs.c.attempts).where(jobs.c.id == job_id)
                ).scalar_one()
                return str(job_id), int(attempt)
    return None


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
                rec = conn.execute(
                    select(records.c.result).where(records.c.id == row["record_id"])
                ).first()
                if rec is not None:
                    result = {"id": row["record_id"], **json.loads(rec[0])}
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


def submit_or_run(
    kind: str,
    fn: Callable[..., Any],
    payload: dict[str, Any],
    cost: float,
    *,
    request: Any = None,
    inputs: Any = None,
    seed: Any = None,
    location: str | None = None,
    status: int = 201,
    subject: str | None = None,
) -> Body:
    """Run ``fn(payload)`` now if ``cost`` is within ``SYNC_BUDGET``, else as a job.

    Parameters
    ----------
    kind : str
        Record kind (``"valuation"``, ``"volatility"``, ...).
    fn : callable
        A module-level function ``fn(payload) -> dict`` (JSON-ready), optionally taking
        ``progress``. It runs in another process for jobs, so it must not need Flask.
    payload : dict
        JSON document passed to ``fn``.
    cost : float
        The work, in path-years (`api.limits.valuation_work` for valuations; ``paths x years x
        assets`` for other simulations), ``math.inf`` for anything always long (MCMC), 0 for
        instant work.
    request, inputs, seed : optional
        Stored in the record: the body as sent (default ``payload``), the resolved inputs
        (default ``payload``) and the seed or entropy used.
    location : str, optional
        Template of the record's URL, e.g. ``"/v1/valuations/{id}"``.
    status : int
        Status of an inline answer (201 for a stored resource).
    subject : str, optional
        What the record is about (a monitored asset's id), for `RecordStore.history`.

    Returns
    -------
    tuple
        ``(body, status, headers)`` for Flask: ``201 {"id", **result}`` or ``202 {"job_id", ...}``.
    """
    from ipvalue.api.auth import current_tenant

    runner: JobRunner = current_app.extensions["ipvalue.jobs"]
    tenant = current_tenant()
    context = {
        "request": payload if request is None else request,
        "inputs": payload if inputs is None else inputs,
        "seed": seed,
        "location": location,
        "subject": subject,
    }
    if cost <= runner.budget and not math.isinf(cost):
        result = _call(fn, payload, lambda _f: None)
        row = record_row(kind, tenant, {**context, "result": result})
        with runner.engine.begin() as conn:
            conn.execute(insert(records), row)
        headers = {"Location": location.format(id=row["id"])} if location else {}
        return {"id": row["id"], **result}, status, headers
    job_id = runner.create(kind, tenant, fn, payload, context)
    where = f"/v1/jobs/{job_id}"
    body = {"job_id": job_id, "status": QUEUED, "location": where}
    return body, 202, {"Location": where, "Retry-After": "1"}
