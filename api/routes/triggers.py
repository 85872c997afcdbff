"""``POST /v1/triggers/evaluate``: when must the collateral be valued again; the stored
evaluations as a list (``GET /v1/triggers``, filtered by asset, severity or volatility estimate),
one by one (``GET /v1/triggers/{id}``) and as a monitored asset's history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from pydantic import BaseModel
from werkzeug.exceptions import MethodNotAllowed

from ipvalue.api.auth import current_tenant
from ipvalue.api.body import json_body
from ipvalue.api.capabilities import triggers_job
from ipvalue.api.feeds import resolve_triggers
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.openapi import operation
from ipvalue.api.records import get_record, list_parameters, list_records, record_answer
from ipvalue.api.schemas import RecordList
from ipvalue.models.errors import NotFoundError
from ipvalue.models.triggers import TriggerResult, TriggerState

bp = Blueprint("triggers", __name__, url_prefix="/v1/triggers")


class Evaluation(BaseModel):
    """One stored evaluation of a monitored asset: what was observed and what fired."""

    id: str
    created_at: str
    as_of: str
    observations: dict[str, Any]
    result: TriggerResult


class History(BaseModel):
    """A monitored asset's evaluations, oldest first."""

    asset_id: str
    evaluations: list[Evaluation]


@bp.post("/evaluate")
@operation(
    request=TriggerState, response=TriggerResult, status=201, tags=["triggers"], errors=[404]
)
def evaluate() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Re-evaluation triggers (calendar, value decline, LTV, volatility, legal events, royalties,
    remaining life, credit event), each with severity, reason and action; stored as a record.
    With ``asset_id`` the evaluation joins that asset's history; with ``volatility_id`` a stored
    estimate gives ``current.prob_volatility_rose`` and ``current.volatility``."""
    payload = json_body()
    state = TriggerState.model_validate(payload)
    resolved = resolve_triggers(state, payload)
    return submit_or_run(
        "triggers",
        triggers_job,
        resolved,
        0.0,
        request=payload,
        inputs=resolved,
        location="/v1/triggers/{id}",
        subject=state.asset_id,
    )


@bp.get("/history/<path:asset_id>")
@operation(response=History, tags=["triggers"], record=False)
def history(asset_id: str) -> dict[str, Any]:
    """Every evaluation of a monitored asset (this tenant's), oldest first."""
    records = current_app.extensions["ipvalue.store"].history(
        "triggers", current_tenant(), asset_id
    )
    if not records:
        raise NotFoundError(f"no evaluations of asset {asset_id!r} for this API key's tenant")
    return {
        "asset_id": asset_id,
        "evaluations": [
            {
                "id": r["id"],
                "created_at": r["created_at"],
                "as_of": r["request"]["as_of"],
                "observations": r["request"],
                "result": r["result"],
            }
            for r in records
        ],
    }


@bp.get("")
@operation(
    response=RecordList[TriggerResult],
    tags=["triggers"],
    record=False,
    errors=[422],
    parameters=list_parameters("triggers"),
)
def index() -> dict[str, Any]:
    """The tenant's trigger evaluations, newest first; filter by asset_id, highest_severity or
    volatility_id."""
    return list_records("triggers")


@bp.get("/<record_id>")
@operation(response=TriggerResult, tags=["triggers"], errors=[405])
def read(record_id: str) -> dict[str, Any]:
    """A stored trigger evaluation, identical on every read (``GET /v1/triggers/evaluate``
    answers 405: evaluating is a POST)."""
    if record_id == "evaluate":
        raise MethodNotAllowed(valid_methods=["POST"])
    return record_answer(get_record("triggers", record_id))
