"""Monitoring runs: ``POST /v1/monitoring/runs`` (a job) and ``GET /v1/monitoring/runs/{id}``."""

from __future__ import annotations

import math
import uuid
from typing import Any

from flask import Blueprint, current_app

from ipvalue.api.auth import current_tenant
from ipvalue.api.body import json_body
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.monitor import monitoring_job
from ipvalue.api.openapi import operation
from ipvalue.api.records import get_record, record_answer
from ipvalue.api.routes.assets import book, today
from ipvalue.models.book import MonitoringRunBody
from ipvalue.models.errors import InputError, NotFoundError

bp = Blueprint("monitoring", __name__, url_prefix="/v1/monitoring/runs")

KIND = "monitoring_run"


@bp.post("")
@operation(
    request=MonitoringRunBody, status=202, tags=["book"], jobs=True, record=False, errors=[404]
)
def start_run() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Monitor every open loan (or ``loan_ids``) as of ``as_of`` (default today): appraisals
    re-run with the legal record as it now stands, collateral, triggers, new alerts. A job:
    202 with its id; ``GET /v1/monitoring/runs/{id}`` (the job id or the run's id) reads it."""
    payload = json_body()
    body = MonitoringRunBody.model_validate(payload)
    tenant = current_tenant()
    as_of = body.as_of or today()
    if as_of > today():
        raise InputError.for_field("as_of", f"{as_of} is after today ({today()}); runs look back")
    for i, loan_id in enumerate(body.loan_ids or []):
        try:
            book().get("loan", tenant, loan_id)
        except NotFoundError as exc:
            raise NotFoundError(f"loan_ids[{i}]: {exc.detail}") from exc
    run_id = str(uuid.uuid4())
    job_payload = {
        "db_url": current_app.config["DATABASE_URL"],
        "tenant": tenant,
        "as_of": as_of.isoformat(),
        "loan_ids": body.loan_ids,
        "run_id": run_id,
    }
    inputs = {"as_of": as_of.isoformat(), "loan_ids": body.loan_ids, "run_id": run_id}
    return submit_or_run(
        KIND,
        monitoring_job,
        job_payload,
        math.inf,
        request=payload,
        inputs=inputs,
        location="/v1/monitoring/runs/{id}",
    )


@bp.get("/<run_id>")
@operation(tags=["book"], record=False)
def read_run(run_id: str) -> dict[str, Any]:
    """A monitoring run: ``as_of``, ``loans_checked``, ``alerts_raised``, ``failures``; by the
    run's record id, or by its job id (``status`` until it is done)."""
    try:
        return record_answer(get_record(KIND, run_id))
    except NotFoundError:
        pass
    job = current_app.extensions["ipvalue.jobs"].get(current_tenant(), run_id)
    if job["kind"] != KIND:
        raise NotFoundError(f"no monitoring run with id {run_id!r} for this API key's tenant")
    if job["result"] is not None:
        return {"job_id": run_id, "status": job["status"], **job["result"]}
    return {"id": None, "job_id": run_id, "status": job["status"], "error": job["error"]}
