"""``POST /v1/valuations`` and ``GET /v1/valuations/{id}``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ipvalue.api.body import json_body
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.limits import (
    check_limit,
    check_path_steps,
    check_series_lengths,
    valuation_work,
)
from ipvalue.api.openapi import operation
from ipvalue.api.records import get_record, list_parameters, list_records, record_answer
from ipvalue.api.schemas import RecordList, StoredValuation, ValuationCreated, ValuationRecord
from ipvalue.api.service import RequestPayload, valuation_job
from ipvalue.models.valuation import ValuationRequest
from ipvalue.risk.montecarlo.plan import seeded

bp = Blueprint("valuations", __name__, url_prefix="/v1/valuations")


@bp.post("")
@operation(
    request=ValuationRequest,
    response=ValuationCreated,
    status=201,
    tags=["valuations"],
    jobs=True,
    record=False,
)
def create() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Value an asset; 201 with the stored record's id and the result.

    With ``simulation`` over the synchronous budget (`api.limits.valuation_work`: paths x
    method-years, uncertain inputs and value-path steps) the answer is 202 with a job.
    The body is validated once; a simulation without ``seed`` gets one drawn here, recorded so
    the run can be repeated.
    """
    payload = json_body()
    check_series_lengths(payload)
    request = ValuationRequest.model_validate(payload)
    resolved, seed = payload, None
    if request.simulation is not None:
        check_limit("max_paths", request.simulation.paths, "simulation.paths")
        check_path_steps(request)
        request = seeded(request)
        seed = request.simulation.seed
        resolved = {**payload, "simulation": {**payload["simulation"], "seed": seed}}
    return submit_or_run(
        "valuation",
        valuation_job,
        RequestPayload(resolved, request),
        valuation_work(request, payload),
        request=payload,
        inputs=request.model_dump(mode="json"),
        seed=seed,
        location="/v1/valuations/{id}",
    )


@bp.get("/<record_id>")
@operation(response=ValuationRecord, tags=["valuations"], record=False)
def read(record_id: str) -> dict[str, Any]:
    """The stored record, identical on every read: result, request, inputs, seed, versions."""
    return record_answer(get_record("valuation", record_id))


@bp.get("")
@operation(
    response=RecordList[StoredValuation],
    tags=["valuations"],
    record=False,
    errors=[422],
    parameters=list_parameters("valuation"),
)
def index() -> dict[str, Any]:
    """The tenant's valuations, newest first; filter by asset_name, asset_kind, currency,
    status (the asset's legal status)."""
    return list_records("valuation")
