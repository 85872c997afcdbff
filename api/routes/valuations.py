"""``POST /v1/valuations`` and ``GET /v1/valuations/{id}``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from api.body import json_body
from api.service import run_valuation

bp = Blueprint("valuations", __name__, url_prefix="/v1/valuations")


def _store() -> Any:
    return current_app.extensions["ipvalue.store"]


def _tenant() -> str:
    from flask import g

    return getattr(g, "tenant", "default")


@bp.post("")
def create() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Value an asset; 201 with the stored record's id and the result."""
    payload = json_body()
    result = run_valuation(payload)
    record = {"request": payload, "result": result}
    record_id = _store().save("valuation", _tenant(), record)
    body = {"id": record_id, **result}
    return body, 201, {"Location": f"/v1/valuations/{record_id}"}


@bp.get("/<record_id>")
def read(record_id: str) -> dict[str, Any]:
    """The stored record, identical on every read."""
    record = _store().get("valuation", _tenant(), record_id)
    return {"id": record_id, **record["result"], "request": record["request"]}
