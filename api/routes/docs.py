"""``/openapi.json`` (generated from the routes' models), ``/docs`` (an offline page), and ``/``
leading to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, redirect

from ipvalue.api.openapi import build_document, operation

bp = Blueprint("docs", __name__)
PAGE = Path(__file__).resolve().parents[1] / "static" / "docs.html"


@bp.get("/openapi.json")
@operation(tags=["service"])
def openapi_json() -> dict[str, Any]:
    """The OpenAPI 3.1 document of this service."""
    document = current_app.extensions.get("ipvalue.openapi")
    if document is None:
        document = current_app.extensions["ipvalue.openapi"] = build_document(current_app)
    return dict(document)


@bp.get("/docs")
@operation(media_type="text/html", tags=["service"])
def docs() -> Response:
    """A browsable page of the OpenAPI document; self-contained, no CDN."""
    return Response(PAGE.read_text(encoding="utf-8"), mimetype="text/html")


@bp.get("/")
@operation(status=302, media_type="text/html", tags=["service"])
def index() -> Response:
    """Leads to the documentation page, ``/docs``."""
    return redirect("/docs", code=302)
