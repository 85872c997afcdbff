"""Fair dispatch: `claim_next` takes the next queued job of the tenant with the fewest running jobs
and leases it.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine, func, select, update

from ipvalue.api.db import iso, now
from ipvalue.api.jobs.states import QUEUED, RUNNING, START_GRACE_SECONDS
from ipvalue.api.tables import jobs

log = logging.getLogger("ipvalue.jobs")


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
        running: dict[str, int] = dict(
            conn.execute(  # type: ignore[arg-type]
                select(jobs.c.tenant, func.count())
                .where(jobs.c.status == RUNNING, jobs.c.tenant.in_(tenants))
                .group_by(jobs.c.tenant)
            ).all()
        )
        served: dict[str, dt.datetime | None] = dict(
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
