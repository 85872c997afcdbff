"""``POST /v1/insurance/quotes``: collateral-value and litigation/invalidation cover."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, current_app

from ipvalue.api.auth import current_tenant
from ipvalue.api.body import json_body
from ipvalue.api.capabilities import InsuranceQuoteBody, insurance_job
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.limits import check_limit
from ipvalue.api.openapi import operation
from ipvalue.models.insurance import CollateralQuoteRequest, InsuranceQuote

bp = Blueprint("insurance", __name__, url_prefix="/v1/insurance/quotes")


@bp.post("")
@operation(
    request=InsuranceQuoteBody, response=InsuranceQuote, status=201, tags=["insurance"], jobs=True
)
def quote() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Expected loss, premium = EL / (1 - loadings) + capital charge on ES99, and breakdown.

    ``cover`` is ``collateral_value`` (pays the lender's shortfall at default) or
    ``litigation`` (frequency-severity simulation of suits and invalidation).
    """
    payload = json_body()
    request = InsuranceQuoteBody.model_validate(payload).root
    paths = request.simulation.paths
    check_limit("max_paths", paths, "simulation.paths")
    years = request.collateral.horizon_years if isinstance(request, CollateralQuoteRequest) else 1.0
    resolved = request.model_dump(mode="json", exclude_none=True)
    if request.simulation.seed is None:
        resolved["simulation"]["seed"] = secrets.randbits(63)
    return submit_or_run(
        "insurance_quote",
        insurance_job,
        resolved,
        float(paths) * max(1.0, years),
        request=payload,
        seed=resolved["simulation"]["seed"],
        location="/v1/insurance/quotes/{id}",
    )


@bp.get("/<record_id>")
@operation(response=InsuranceQuote, tags=["insurance"])
def read(record_id: str) -> dict[str, Any]:
    """A stored quote, identical on every read."""
    store = current_app.extensions["ipvalue.store"]
    record = store.get("insurance_quote", current_tenant(), record_id)
    return {"id": record["id"], **record["result"], "request": record["request"]}
