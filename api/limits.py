"""Size limits: body bytes, simulation paths, assets per request, series length.

Each is a setting (see `api.config`) and each refusal names its limit: 413 for the body
(``limit: "max_body_bytes"``), 422 for the others (``limit: "max_paths"``, ``"max_assets"``,
``"max_series_length"``). Routes call `check_limit` for what they count, e.g.::

    check_limit("max_assets", len(assets), "assets")
    check_series_lengths(payload)   # every list and {"years": N} in the body
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from ipvalue.api.errors import error_response
from ipvalue.models.errors import LimitExceededError

#: Setting behind each limit name.
SETTINGS = {
    "max_body_bytes": "MAX_BODY_BYTES",
    "max_paths": "MAX_PATHS",
    "max_assets": "MAX_ASSETS",
    "max_series_length": "MAX_SERIES_LENGTH",
}

#: Lists that are not series (their length is bounded by their own limit or by the model).
NOT_SERIES = frozenset({"assets", "methods"})


def limit_value(name: str) -> int:
    """The configured value of limit ``name`` (e.g. ``"max_paths"``)."""
    return int(current_app.config[SETTINGS[name]])


def check_limit(name: str, value: int, field: str) -> None:
    """Raise a 422 naming ``name`` when ``value`` exceeds it.

    Parameters
    ----------
    name : str
        A key of `SETTINGS`.
    value : int
        What the request asks for.
    field : str
        Where in the request, e.g. ``simulation.paths``.
    """
    limit = limit_value(name)
    if value > limit:
        raise LimitExceededError(
            f"{field}: {value} is over the limit {name} = {limit} of this server; "
            "ask for less or split the request",
            limit=name,
        )


def check_series_lengths(document: Any, path: str = "") -> None:
    """Apply ``max_series_length`` to every list and every ``years`` count in ``document``."""
    if isinstance(document, dict):
        years = document.get("years")
        if "base" in document and isinstance(years, int) and not isinstance(years, bool):
            check_limit("max_series_length", years, f"{path}.years" if path else "years")
        for key, value in document.items():
            if key in NOT_SERIES and isinstance(value, list):
                for i, item in enumerate(value):
                    check_series_lengths(item, f"{path}.{key}[{i}]" if path else f"{key}[{i}]")
                continue
            check_series_lengths(value, f"{path}.{key}" if path else str(key))
    elif isinstance(document, list):
        check_limit("max_series_length", len(document), path or "(body)")
        for i, item in enumerate(document):
            if isinstance(item, dict | list):
                check_series_lengths(item, f"{path}[{i}]")


def _too_large() -> LimitExceededError:
    limit = int(current_app.config["MAX_BODY_BYTES"])
    return LimitExceededError(
        f"the request body is over the limit max_body_bytes = {limit} bytes of this server",
        limit="max_body_bytes",
        status_code=413,
    )


def install_body_limit(app: Flask) -> None:
    """Refuse bodies over ``MAX_BODY_BYTES`` with 413 naming the limit."""
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_BODY_BYTES"])

    @app.before_request
    def _check_length() -> None:
        length = request.content_length
        if length is not None and length > int(current_app.config["MAX_BODY_BYTES"]):
            raise _too_large()

    @app.errorhandler(RequestEntityTooLarge)
    def _streamed_too_large(_exc: RequestEntityTooLarge) -> Response:
        return error_response(_too_large())
