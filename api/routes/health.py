"""Liveness (``/healthz``) and readiness (``/readyz``: the database answers)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app

from api.db import ping
from api.errors import problem
from api.openapi import operation
from api.schemas import Health

bp = Blueprint("health", __name__)
log = logging.getLogger("ipvalue.health")


@bp.get("/healthz")
@operation(response=Health, tags=["service"])
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
@operation(response=Health, tags=["service"], errors=[503])
def readyz() -> dict[str, Any] | Response:
    """The service can take requests: its database answers."""
    try:
        ping(current_app.extensions["ipvalue.engine"])
    except Exception as exc:
        log.warning("database not reachable: %s", exc)
        return problem(503, "Not ready", "the database is not reachable", "not-ready")
    return {"status": "ready", "database": "ok"}
