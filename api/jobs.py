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
record and the answer is ``201 {"id": ..., **result}``. Above it a job row is written, the call is
handed to the executor (local process pool, or Dask when ``DASK_SCHEDULER`` is set) and the
answer is ``202 {"job_id", "status", "location": "/v1/jobs/<id>"}``; ``GET /v1/jobs/<id>`` shows
status, progress and, once done, the same body a synchronous answer would have had, or the
error as problem+json fields. A function that takes a ``progress`` argument may call it with a
fraction in [0, 1].

Job state lives in the database, never in memory only: the worker that runs a job marks it
running, stores its record and marks it done in one transaction. Each job names its ``owner``
process (``host:pid:role``): the web worker that queued it, then the process running it. After a
restart, or when an owner dies while the server runs, its jobs are re-queued or failed with the
reason; see `api.recovery`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import Engine, insert, select, update

from ipvalue.api.db import dumps, engine_for, iso, now
from ipvalue.api.errors import require_finite
from ipvalue.api.executors import Executor
from ipvalue.api.store import record_row
from ipvalue.api.tables import jobs, records
from ipvalue.models.errors import IPValueError, NotFoundError

log = logging.getLogger("ipvalue.jobs")

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
UNFINISHED = (QUEUED, RUNNING)
Body = tuple[dict[str, Any], int, dict[str, str]]


def process_tag(role: str) -> str:
    """``host:pid:role``, naming this process as a job's owner."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{role}"[:64]


def _ensure_logging() -> None:
    """JSON logs in job processes too (pool and Dask workers start without our handlers)."""
    if not logging.getLogger("ipvalue").handlers:
        from ipvalue.api.logs import configure_logging

        configure_logging(os.environ.get("IPVALUE_LOG_LEVEL", "INFO"))


def function_path(fn: Callable[..., Any]) -> str:
    """``module:qualname`` of a module-level function, checked to resolve back to it."""
    path = f"{fn.__module__}:{fn.__qualname__}"
    try:
        found = resolve(path)
    except (ImportError, AttributeError):
        found = None
    if found is not fn:
        raise ValueError(f"{path} is not a module-level function; jobs need one to re-run it")
    return path


def resolve(path: str) -> Callable[..., Any]:
    """The function named by `function_path`."""
    module, _, name = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


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


def _fail(engine: Engine, job_id: str, error: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status.in_(UNFINISHED))
            .values(status=FAILED, error=dumps(error), finished_at=now())
        )


def execute_job(db_url: str, job_id: str) -> str:
    """Run job ``job_id`` where this is called (a pool process or a Dask worker).

    Marks it running, calls its function, then stores the record and marks it succeeded in one
    transaction, or marks it failed with the error. Returns the final status.
    """
    _ensure_logging()
    engine = engine_for(db_url)
    with engine.begin() as conn:
        claimed = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == QUEUED)
            .values(
                status=RUNNING,
                started_at=now(),
                attempts=jobs.c.attempts + 1,
                owner=process_tag("exec"),
            )
        ).rowcount
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if not claimed or row is None:
        return "skipped"
    last = [0.0]

    def progress(fraction: float) -> None:
        stamp = time.monotonic()
        if stamp - last[0] < 0.5:
            return
        last[0] = stamp
        value = min(1.0, max(0.0, float(fraction)))
        with engine.begin() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == RUNNING)
                .values(progress=value)
            )

    context = json.loads(row["context"])
    try:
        result = _call(resolve(row["fn"]), json.loads(row["payload"]), progress)
    except Exception as exc:
        if not isinstance(exc, IPValueError):
            log.exception("job %s failed", job_id)
        _fail(engine, job_id, _error_fields(exc))
        return FAILED
    record = record_row(row["kind"], row["tenant"], {**context, "result": result, "job_id": job_id})
    with engine.begin() as conn:
        conn.execute(insert(records), record)
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(status=SUCCEEDED, progress=1.0, record_id=record["id"], finished_at=now())
        )
    return SUCCEEDED


class JobRunner:
    """Creates jobs, hands them to an executor, reads their state, recovers them after a restart.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    db_url : str
        The URL workers use to reach the same database.
    executor : Executor
    budget : float
        Largest cost run inline.
    """

    def __init__(self, engine: Engine, db_url: str, executor: Executor, budget: float) -> None:
        self.engine = engine
        self.db_url = db_url
        self.executor = executor
        self.budget = budget
        self.owner = process_tag("web-" + uuid.uuid4().hex[:8])

    def create(
        self,
        kind: str,
        tenant: str,
        fn: Callable[..., Any],
        payload: dict[str, Any],
        context: dict[str, Any],
    ) -> str:
        """Write a queued job and submit it; returns the job id."""
        job_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
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
                    "owner": self.owner,
                    "created_at": now(),
                },
            )
        self.start(job_id)
        return job_id

    def start(self, job_id: str) -> None:
        """Hand job ``job_id`` to the executor; if the call dies, fail the job saying so."""

        def on_done(exc: BaseException | None) -> None:
            if exc is not None:
                log.error("job %s ended abnormally: %r", job_id, exc)
                _fail(
                    engine_for(self.db_url),
                    job_id,
                    {
                        "title": "Job lost",
                        "status": 500,
                        "detail": f"the process running the job died ({type(exc).__name__}); "
                        "submit the request again",
                        "type": "https://ipvalue.dev/problems/job-lost",
                    },
                )

        try:
            self.executor.submit(execute_job, self.db_url, job_id, on_done=on_done)
        except Exception as exc:
            log.exception("cannot submit job %s", job_id)
            _fail(
                engine_for(self.db_url),
                job_id,
                {
                    "title": "Job not started",
                    "status": 503,
                    "detail": f"the job could not be handed to its executor ({exc}); "
                    "submit the request again later",
                    "type": "https://ipvalue.dev/problems/job-not-started",
                },
            )

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

    def claim_orphans(self) -> list[str]:
        """Take queued jobs that no live process owns (after `recover_jobs`) and start them."""
        with self.engine.connect() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    select(jobs.c.id).where(jobs.c.status == QUEUED, jobs.c.owner.is_(None))
                )
            ]
        mine = []
        for job_id in ids:
            with self.engine.begin() as conn:
                took = conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.owner.is_(None))
                    .values(owner=self.owner)
                ).rowcount
            if took:
                mine.append(job_id)
                self.start(job_id)
        return mine

    def shutdown(self) -> None:
        """Release the executor."""
        self.executor.shutdown()


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
        ``paths x years x assets`` for simulations, ``math.inf`` for anything always long (MCMC),
        0 for instant work.
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
