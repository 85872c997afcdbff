"""``POST /v1/valuations`` and ``GET /v1/valuations/{id}``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ipvalue.api.body import json_body
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.limits import check_limit, check_series_lengths
from ipvalue.api.openapi import operation
from ipvalue.api.records import get_record, list_parameters, list_records, record_answer
from ipvalue.api.schemas import RecordList, StoredValuation, ValuationCreated, ValuationRecord
from ipvalue.api.service import RequestPayload, valuation_job
from ipvalue.models.valuation import ValuationRequest
from ipvalue.risk.montecarlo.plan import seeded

bp = Blueprint("valuations", __name__, url_prefix="/v1/valuations")


def series_years(document: Any) -> int:
    """The longest per-year series in ``document``: list lengths and ``{"years": N}`` counts."""
    if isinstance(document, dict):
        own = document.get("years")
        found = own if isinstance(own, int) and not isinstance(own, bool) else 0
        return max([found, *(series_years(v) for v in document.values())])
    if isinstance(document, list):
        return max([len(document), *(series_years(v) for v in document)], default=0)
    return 0


def simulation_cost(request: ValuationRequest, payload: dict[str, Any]) -> float:
    """``paths x years`` of a request's simulation (0 without one).

    ``years`` is the horizon, else the longest series of the methods, else 10.
    """
    if request.simulation is None:
        return 0.0
    years = request.simulation.horizon_years or series_years(payload.get("methods")) or 10
    return float(request.simulation.paths) * max(1.0, float(years))


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

    With ``simulation`` over the synchronous budget (paths x years) the answer is 202 with a job.
    The body is validated once; a simulation without ``seed`` gets one drawn here, recorded so
    the run can be repeated.
    """
    payload = json_body()
    check_series_lengths(payload)
    request = ValuationRequest.model_validate(payload)
    resolved, seed = payload, None
    if request.simulation is not None:
        check_limit("max_paths", request.simulation.paths, "simulation.paths")
        request = seeded(request)
        seed = request.simulation.seed
        resolved = {**payload, "simulation": {**payload["simulation"], "seed": seed}}
    return submit_or_run(
        "valuation",
        valuation_job,
        RequestPayload(resolved, request),
        simulation_cost(request, payload),
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
