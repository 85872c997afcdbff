"""The in-service monitoring schedule (``IPVALUE_MONITOR_EVERY``): one run per period.

Every server process ticks; the schedule's lease (`BookStore.take_leases`) lets one of them
start each period's run, per tenant, as jobs through the service's job runner.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from ipvalue.api.book import (
    BookStore,
)
from ipvalue.api.db import engine_for
from ipvalue.api.jobs import process_tag
from ipvalue.api.monitor import monitoring_job, tenant_names
from ipvalue.models.errors import IPValueError

log = logging.getLogger("ipvalue.monitor")


SCHEDULE_LEASE = "schedule:monitoring"
"""The lease that makes one process of the whole service start each scheduled run."""


def parse_every(text: str | None) -> float | None:
    """``IPVALUE_MONITOR_EVERY`` in seconds: a number of seconds, or ``30m``, ``6h``, ``1d``;
    None (no schedule) when unset, empty or ``0``.

    Raises
    ------
    ValueError
        Naming the setting, for anything else.
    """
    if text is None or str(text).strip() in ("", "0"):
        return None
    raw = str(text).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = units.get(raw[-1], 1)
    number = raw[:-1] if raw[-1] in units else raw
    try:
        seconds = float(number) * factor
    except ValueError:
        seconds = -1.0
    if not seconds >= 60:
        raise ValueError(
            f"IPVALUE_MONITOR_EVERY: give seconds (at least 60) or 30m, 6h, 1d; got {text!r}"
        )
    return seconds


def scheduled_tick(runner: Any, db_url: str, every: float, owner: str) -> list[str]:
    """Start a monitoring job per tenant if this process takes the schedule's lease (held for
    ``every`` seconds, so the whole service starts one run per period); returns the job ids."""
    store = BookStore(engine_for(db_url))
    if not store.take_leases([SCHEDULE_LEASE], owner, every):
        return []
    as_of = dt.datetime.now(dt.UTC).date().isoformat()
    jobs = []
    for tenant in tenant_names(db_url):
        run_id = str(uuid.uuid4())
        payload = {
            "db_url": db_url,
            "tenant": tenant,
            "as_of": as_of,
            "loan_ids": None,
            "run_id": run_id,
        }
        inputs = {"as_of": as_of, "loan_ids": None, "run_id": run_id, "scheduled": True}
        context = {
            "request": {"as_of": as_of, "scheduled": True},
            "inputs": inputs,
            "seed": None,
            "location": "/v1/monitoring/runs/{id}",
            "subject": None,
        }
        try:
            jobs.append(runner.create("monitoring_run", tenant, monitoring_job, payload, context))
        except IPValueError as exc:  # e.g. the tenant's job limit: the others still run
            log.warning("scheduled monitoring run of tenant %s not started: %s", tenant, exc)
    return jobs


def install_monitor_schedule(app: Any) -> None:
    """Start the in-service schedule when ``MONITOR_EVERY`` (or ``IPVALUE_MONITOR_EVERY``) is
    set: a daemon thread per server process ticks every minute; the schedule's lease lets one of
    them start each period's run, as jobs through the service's job runner."""
    import os
    import threading
    import time

    every = parse_every(app.config.get("MONITOR_EVERY", os.environ.get("IPVALUE_MONITOR_EVERY")))
    if every is None:
        return
    runner = app.extensions["ipvalue.jobs"]
    db_url = app.config["DATABASE_URL"]
    owner = f"{process_tag('schedule')}:{uuid.uuid4().hex[:8]}"[:64]

    def loop() -> None:
        while True:
            try:
                scheduled_tick(runner, db_url, every, owner)
            except Exception:
                log.exception("scheduled monitoring run could not start")
            time.sleep(min(60.0, every))

    threading.Thread(target=loop, name="ipvalue-monitor-schedule", daemon=True).start()
