"""`submit_or_run`: a route's way to answer inline under the budget, or 202 with a queued job above
it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from flask import current_app

from ipvalue.api.jobs.execute import call_job
from ipvalue.api.jobs.runner import JobRunner
from ipvalue.api.jobs.states import QUEUED
from ipvalue.api.store import RecordStore

log = logging.getLogger("ipvalue.jobs")
Body = tuple[dict[str, Any], int, dict[str, str]]


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
        result = call_job(fn, payload, lambda _f: None)
        store: RecordStore = current_app.extensions["ipvalue.store"]
        record_id = store.save(kind, tenant, {**context, "result": result})
        headers = {"Location": location.format(id=record_id)} if location else {}
        return {"id": record_id, **result}, status, headers
    job_id = runner.create(kind, tenant, fn, payload, context)
    where = f"/v1/jobs/{job_id}"
    body = {"job_id": job_id, "status": QUEUED, "location": where}
    return body, 202, {"Location": where, "Retry-After": "1"}
