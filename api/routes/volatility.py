"""``POST /v1/volatility``: Bayesian volatility of an asset's value (PyMC), always a job."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint

from ipvalue.api.body import json_body
from ipvalue.api.capabilities import volatility_job
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.limits import check_limit
from ipvalue.api.openapi import operation
from ipvalue.api.records import get_record, list_parameters, list_records, record_answer
from ipvalue.api.schemas import RecordList
from ipvalue.models.volatility import VolatilityRequest, VolatilityResult
from ipvalue.risk.kernel.seeds import fresh_seed
from ipvalue.risk.volatility import parse_request

bp = Blueprint("volatility", __name__, url_prefix="/v1/volatility")


@bp.post("")
@operation(
    request=VolatilityRequest, response=VolatilityResult, status=201, tags=["volatility"], jobs=True
)
def estimate() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Estimate the annualised volatility with its HDI and MCMC diagnostics.

    MCMC always runs as a job: the answer is 202 with a job id; ``GET /v1/jobs/{id}`` gives the
    result. A request without ``seed`` gets one, recorded so the fit can be repeated.
    """
    payload = json_body()
    peers = payload.get("related_series")
    for i, series in enumerate(
        [payload.get("series"), *(peers if isinstance(peers, list) else [])]
    ):
        if isinstance(series, list):
            field = "series" if i == 0 else f"related_series[{i - 1}]"
            check_limit("max_series_length", len(series), field)
    parse_request(payload)  # bad input is a 422 now, not a failed job
    resolved = dict(payload)
    if resolved.get("seed") is None:
        resolved["seed"] = fresh_seed()
    return submit_or_run(
        "volatility",
        volatility_job,
        resolved,
        math.inf,
        request=payload,
        seed=resolved["seed"],
        location="/v1/volatility/{id}",
    )


@bp.get("/<record_id>")
@operation(response=VolatilityResult, tags=["volatility"])
def read(record_id: str) -> dict[str, Any]:
    """A stored volatility estimate, identical on every read."""
    return record_answer(get_record("volatility", record_id))


@bp.get("")
@operation(
    response=RecordList[VolatilityResult],
    tags=["volatility"],
    record=False,
    errors=[422],
    parameters=list_parameters("volatility"),
)
def index() -> dict[str, Any]:
    """The tenant's volatility estimates, newest first; filter by model, asset_kind, reliable."""
    return list_records("volatility")
