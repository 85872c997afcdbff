"""The job process's side: `execute_job` runs one attempt of a job under its lease and writes its
outcome.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from ipvalue.api.db import engine_for
from ipvalue.api.errors import require_finite
from ipvalue.api.executors import resolve
from ipvalue.api.jobs.lease import Heartbeat, LeaseLost, take_lease, write_failure, write_success
from ipvalue.api.jobs.states import FAILED, SUCCEEDED, SUPERSEDED, current, error_fields, retrying
from ipvalue.api.store import record_row
from ipvalue.api.tables import jobs
from ipvalue.models.errors import IPValueError

log = logging.getLogger("ipvalue.jobs")


def _ensure_logging() -> None:
    """Logs in job processes too (child and Dask processes start without our handlers)."""
    if not logging.getLogger("ipvalue").handlers:
        from ipvalue.api.logs import configure_logging

        configure_logging(
            os.environ.get("IPVALUE_LOG_LEVEL", "INFO"),
            os.environ.get("IPVALUE_LOG_FORMAT", "json"),
        )


def call_job(
    fn: Callable[..., Any], payload: dict[str, Any], progress: Callable[[float], None]
) -> Any:
    if "progress" in inspect.signature(fn).parameters:
        return require_finite(fn(payload, progress=progress))
    return require_finite(fn(payload))


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
    row = retrying(
        lambda: take_lease(engine, job_id, attempt, lease_seconds), retry_seconds, job_id
    )
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
            result = call_job(resolve(row["fn"]), json.loads(row["payload"]), progress)
            record = record_row(
                row["kind"], row["tenant"], {**context, "result": result, "job_id": job_id}
            )
        except LeaseLost:
            return SUPERSEDED
        except Exception as exc:
            if not isinstance(exc, IPValueError):
                log.exception("job %s failed", job_id)
            error = error_fields(exc)
            failed = retrying(
                lambda: write_failure(engine, job_id, attempt, error), retry_seconds, job_id
            )
            return FAILED if failed else SUPERSEDED
        written = retrying(
            lambda: write_success(engine, job_id, attempt, record), retry_seconds, job_id
        )
        return SUCCEEDED if written else SUPERSEDED
    finally:
        heartbeat.stop()
