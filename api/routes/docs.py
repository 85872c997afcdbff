"""``/openapi.json`` (generated from the routes' models), ``/docs`` (Swagger UI, served by the
app itself from the ``flask-swagger-ui`` package's files: no CDN), and ``/`` leading to it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Blueprint, Response, abort, current_app, redirect
from werkzeug.wrappers import Response as WerkzeugResponse

from ipvalue.api.openapi import build_document, operation

bp = Blueprint("docs", __name__)
SWAGGER_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
ASSETS = frozenset(
    {
        "swagger-ui.css",
        "index.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "favicon-16x16.png",
    }
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ipvalue API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="stylesheet" href="/docs/assets/index.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script>
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
};
</script>
</body>
</html>
"""


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
    """The API's browsable page: Swagger UI over ``/openapi.json``, every file served here."""
    return Response(PAGE, mimetype="text/html")


@bp.get("/docs/assets/<name>")
@operation(media_type=("text/css", "text/javascript", "image/png"), tags=["service"])
def asset(name: str) -> Response:
    """A file of the Swagger UI page (its scripts, style sheets and icons)."""
    if name not in ASSETS:
        abort(404)
    response = Response(_asset_bytes(name), mimetype=_MEDIA[name.rsplit(".", 1)[-1]])
    response.cache_control.max_age = 86400
    return response


_MEDIA = {"css": "text/css", "js": "text/javascript", "png": "image/png"}


@functools.cache
def _asset_bytes(name: str) -> bytes:
    return (SWAGGER_DIST / name).read_bytes()


@bp.get("/")
@operation(status=302, media_type="text/html", tags=["service"])
def index() -> WerkzeugResponse:
    """Leads to the documentation page, ``/docs``."""
    return redirect("/docs", code=302)
