"""``POST /v1/collateral``: an IP asset as loan collateral."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ipvalue.api.body import json_body
from ipvalue.api.capabilities import collateral_job
from ipvalue.api.feeds import resolve_collateral
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.limits import check_limit
from ipvalue.api.openapi import operation
from ipvalue.api.records import get_record, list_parameters, list_records, record_answer
from ipvalue.api.schemas import RecordList
from ipvalue.models.collateral import CollateralRequest, CollateralResult
from ipvalue.risk.kernel.seeds import fresh_seed

bp = Blueprint("collateral", __name__, url_prefix="/v1/collateral")


@bp.post("")
@operation(
    request=CollateralRequest,
    response=CollateralResult,
    status=201,
    tags=["collateral"],
    jobs=True,
    errors=[404],
)
def assess() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Value range, VaR/ES, liquidation and lending value, max loan, LTV breach probability.

    With ``valuation_id`` the starting value, currency and (when ``volatility`` is omitted)
    volatility are that stored valuation's; with ``volatility_id`` each path takes one of that
    stored estimate's posterior draws. Runs over the synchronous budget (paths x horizon) answer
    202 with a job.
    """
    payload = json_body()
    request = CollateralRequest.model_validate(payload)
    check_limit("max_paths", request.paths, "paths")
    resolved = resolve_collateral(request)
    if request.seed is None:
        resolved["seed"] = fresh_seed()
    return submit_or_run(
        "collateral",
        collateral_job,
        resolved,
        float(request.paths) * max(1.0, request.horizon_years),
        request=payload,
        inputs=resolved,
        seed=resolved["seed"],
        location="/v1/collateral/{id}",
    )


@bp.get("/<record_id>")
@operation(response=CollateralResult, tags=["collateral"])
def read(record_id: str) -> dict[str, Any]:
    """A stored collateral assessment, identical on every read."""
    return record_answer(get_record("collateral", record_id))


@bp.get("")
@operation(
    response=RecordList[CollateralResult],
    tags=["collateral"],
    record=False,
    errors=[422],
    parameters=list_parameters("collateral"),
)
def index() -> dict[str, Any]:
    """The tenant's collateral assessments, newest first; filter by currency, valuation_id,
    within_limit."""
    return list_records("collateral")
