"""``POST /v1/triggers/evaluate``: when must the collateral be valued again."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.body import json_body
from api.capabilities import triggers_job
from api.jobs import submit_or_run
from api.openapi import operation
from models.triggers import TriggerResult, TriggerState

bp = Blueprint("triggers", __name__, url_prefix="/v1/triggers")


@bp.post("/evaluate")
@operation(request=TriggerState, response=TriggerResult, status=201, tags=["triggers"])
def evaluate() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Re-evaluation triggers (calendar, value decline, LTV, volatility, legal events, royalties,
    remaining life, credit event), each with severity, reason and action; stored as a record."""
    payload = json_body()
    TriggerState.model_validate(payload)
    return submit_or_run("triggers", triggers_job, payload, 0.0)
