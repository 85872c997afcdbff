"""Alerts a monitoring run raised: ``GET /v1/alerts``, ``POST /v1/alerts/{id}/acknowledge``."""

from __future__ import annotations

from typing import Any, get_args

from flask import Blueprint, request

from ipvalue.api.auth import current_tenant
from ipvalue.api.body import json_body
from ipvalue.api.openapi import operation, query
from ipvalue.api.pagination import parse_page
from ipvalue.api.records import common_parameters
from ipvalue.api.routes.assets import book
from ipvalue.models.book import Acknowledgement, Alert, AlertStatus
from ipvalue.models.errors import InputError

bp = Blueprint("alerts", __name__, url_prefix="/v1/alerts")


@bp.get("")
@operation(
    tags=["book"],
    record=False,
    errors=[422],
    parameters=[
        *common_parameters(),
        *query(
            status=({"type": "string", "enum": list(get_args(AlertStatus))}, "where it stands"),
            loan_id=({"type": "string"}, "the loan's alerts only"),
        ),
    ],
)
def list_alerts() -> dict[str, Any]:
    """The tenant's alerts, newest first: ``status`` (open, acknowledged, cleared),
    ``loan_id``, ``limit``, ``cursor``, ``created_after/before`` (on ``raised_at``)."""
    page = parse_page(request.args, allowed=("status", "loan_id"))
    status = request.args.get("status")
    if status is not None and status not in get_args(AlertStatus):
        raise InputError.for_field(
            "status", f"must be one of {', '.join(get_args(AlertStatus))}; got {status!r}"
        )
    return book().list_alerts(current_tenant(), page, status, request.args.get("loan_id"))


@bp.post("/<alert_id>/acknowledge")
@operation(request=Acknowledgement, response=Alert, tags=["book"], record=False)
def acknowledge(alert_id: str) -> dict[str, Any]:
    """Acknowledge an alert: who saw it, when, and a note (the first acknowledgement stays)."""
    body = Acknowledgement.model_validate(json_body())
    return book().acknowledge(current_tenant(), alert_id, body.by, body.note)
