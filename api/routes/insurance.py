"""``POST /v1/insurance/quotes``: collateral-value and litigation/invalidation cover."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ipvalue.api.body import json_body
from ipvalue.api.capabilities import InsuranceQuoteBody, insurance_job
from ipvalue.api.feeds import resolve_insurance
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.limits import check_limit
from ipvalue.api.openapi import operation
from ipvalue.api.records import get_record, list_parameters, list_records, record_answer
from ipvalue.api.schemas import RecordList
from ipvalue.models.insurance import CollateralQuoteRequest, InsuranceQuote
from ipvalue.risk.kernel.seeds import fresh_seed

bp = Blueprint("insurance", __name__, url_prefix="/v1/insurance/quotes")


@bp.post("")
@operation(
    request=InsuranceQuoteBody,
    response=InsuranceQuote,
    status=201,
    tags=["insurance"],
    jobs=True,
    errors=[404],
)
def quote() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Expected loss, premium = EL / (1 - loadings) + capital charge on ES99, and breakdown.

    ``cover`` is ``collateral_value`` (pays the lender's shortfall at default) or
    ``litigation`` (frequency-severity simulation of suits and invalidation). A collateral
    cover may name a stored ``collateral_id`` instead of giving ``collateral``.
    """
    payload = json_body()
    request = InsuranceQuoteBody.model_validate(payload).root
    paths = request.simulation.paths
    check_limit("max_paths", paths, "simulation.paths")
    resolved = resolve_insurance(request, payload)
    request = InsuranceQuoteBody.model_validate(resolved).root
    years = request.exposure.horizon_years if isinstance(request, CollateralQuoteRequest) else 1.0
    if request.simulation.seed is None:
        resolved["simulation"]["seed"] = fresh_seed()
    return submit_or_run(
        "insurance_quote",
        insurance_job,
        resolved,
        float(paths) * max(1.0, years),
        request=payload,
        inputs=resolved,
        seed=resolved["simulation"]["seed"],
        location="/v1/insurance/quotes/{id}",
    )


@bp.get("/<record_id>")
@operation(response=InsuranceQuote, tags=["insurance"])
def read(record_id: str) -> dict[str, Any]:
    """A stored quote, identical on every read."""
    return record_answer(get_record("insurance_quote", record_id))


@bp.get("")
@operation(
    response=RecordList[InsuranceQuote],
    tags=["insurance"],
    record=False,
    errors=[422],
    parameters=list_parameters("insurance_quote"),
)
def index() -> dict[str, Any]:
    """The tenant's quotes, newest first; filter by cover, currency, collateral_id, asset_name."""
    return list_records("insurance_quote")
