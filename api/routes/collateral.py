"""``POST /v1/collateral``: an IP asset as loan collateral."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, current_app

from ipvalue.api.auth import current_tenant
from ipvalue.api.body import json_body
from ipvalue.api.capabilities import collateral_job
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.limits import check_limit
from ipvalue.api.openapi import operation
from ipvalue.models.collateral import CollateralRequest, CollateralResult
from ipvalue.models.errors import InputError

bp = Blueprint("collateral", __name__, url_prefix="/v1/collateral")


def _stored_value(valuation_id: str) -> float:
    """Point value of a stored valuation of this tenant (404 for anyone else's)."""
    record = current_app.extensions["ipvalue.store"].get(
        "valuation", current_tenant(), valuation_id
    )
    point = float(record["result"]["value"]["point"])
    if not point > 0:
        raise InputError.for_field(
            "valuation_id", f"the stored valuation's point value is {point:g}; nothing to lend on"
        )
    return point


@bp.post("")
@operation(
    request=CollateralRequest, response=CollateralResult, status=201, tags=["collateral"], jobs=True
)
def assess() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Value range, VaR/ES, liquidation and lending value, max loan, LTV breach probability.

    With ``valuation_id`` the starting value is that stored valuation's point value. Runs over
    the synchronous budget (paths x horizon) answer 202 with a job.
    """
    payload = json_body()
    request = CollateralRequest.model_validate(payload)
    check_limit("max_paths", request.paths, "paths")
    resolved = request.model_dump(mode="json", exclude_none=True)
    if request.valuation_id is not None:
        resolved.pop("valuation_id")
        resolved["value"] = _stored_value(request.valuation_id)
    if request.seed is None:
        resolved["seed"] = secrets.randbits(63)
    return submit_or_run(
        "collateral",
        collateral_job,
        resolved,
        float(request.paths) * max(1.0, request.horizon_years),
        request=payload,
        seed=resolved["seed"],
        location="/v1/collateral/{id}",
    )


@bp.get("/<record_id>")
@operation(response=CollateralResult, tags=["collateral"])
def read(record_id: str) -> dict[str, Any]:
    """A stored collateral assessment, identical on every read."""
    record = current_app.extensions["ipvalue.store"].get("collateral", current_tenant(), record_id)
    return {"id": record["id"], **record["result"], "request": record["request"]}
