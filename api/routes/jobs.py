"""``GET /v1/jobs/{id}``: a long run's status, progress and result."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from ipvalue.api.auth import current_tenant
from ipvalue.api.openapi import operation
from ipvalue.api.schemas import JobState

bp = Blueprint("jobs", __name__, url_prefix="/v1/jobs")


@bp.get("/<job_id>")
@operation(response=JobState, tags=["jobs"])
def read(job_id: str) -> dict[str, Any]:
    """Status (queued, running, succeeded, failed), progress in [0, 1], result or error."""
    return dict(current_app.extensions["ipvalue.jobs"].get(current_tenant(), job_id))
