"""Job states, the problem a failed job carries, retries through a database outage, and `settle`:
the fenced end of one attempt (succeeded, re-queued or failed).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, update
from sqlalchemy.exc import DBAPIError, OperationalError

from ipvalue.api.db import dumps, now
from ipvalue.api.tables import jobs
from ipvalue.models.errors import IPValueError

log = logging.getLogger("ipvalue.jobs")

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
UNFINISHED = (QUEUED, RUNNING)
#: Seconds added to the first lease of an attempt, for its process to start and take it over.
START_GRACE_SECONDS = 30.0
#: What `execute_job` returns when its attempt was taken over: it wrote nothing.
SUPERSEDED = "superseded"
T = TypeVar("T")


def process_tag(role: str) -> str:
    """``host:pid:role``, naming this process as a job's owner."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{role}"[:64]


def error_fields(exc: BaseException) -> dict[str, Any]:
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
