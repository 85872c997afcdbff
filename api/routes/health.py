"""Liveness (``/healthz``), readiness (``/readyz``: the database answers), ``/metrics``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app

from ipvalue.api.db import HEAD, current_revision, ping
from ipvalue.api.errors import problem
from ipvalue.api.metrics import metrics_response
from ipvalue.api.openapi import operation
from ipvalue.api.schemas import Health

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
    """The service can take requests: its database answers and its schema is current."""
    engine = current_app.extensions["ipvalue.engine"]
    try:
        ping(engine)
        revision = current_revision(engine)
    except Exception as exc:
        log.warning("database not reachable: %s", exc)
        return problem(503, "Not ready", "the database is not reachable", "not-ready")
    if revision != HEAD:
        detail = (
            f"the database schema is at revision {revision}, not {HEAD}; run 'ipvalue db upgrade'"
        )
        return problem(503, "Not ready", detail, "not-ready")
    return {"status": "ready", "database": "ok"}


@bp.get("/metrics")
@operation(media_type="text/plain", tags=["service"])
def metrics() -> Response:
    """Prometheus metrics: requests by route and status with latencies, jobs by state and
    duration (see `ipvalue.api.metrics`)."""
    return metrics_response()
