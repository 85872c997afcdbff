"""The console's way into the API: a request to this same app with the signed-in key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from werkzeug.test import Client


@dataclass
class Answer:
    """An API answer: status, JSON body (or None), raw bytes and media type."""

    status: int
    json: Any
    data: bytes
    mimetype: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def field_errors(self) -> dict[str, str]:
        """``{field: message}`` of a problem's ``errors`` (for messages beside form fields)."""
        if not isinstance(self.json, dict):
            return {}
        return {e["field"]: e["message"] for e in self.json.get("errors") or []}


def api(method: str, path: str, key: str, **kwargs: Any) -> Answer:
    """``method path`` on the API as the holder of ``key`` (query, ``json``, ``data``,
    ``content_type`` as for a werkzeug test client)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = Client(app)
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    environ = {"REMOTE_ADDR": request.remote_addr or "127.0.0.1"}
    response = client.open(
        path, method=method, headers=headers, environ_overrides=environ, **kwargs
    )
    try:
        data = response.get_data()
        body = response.get_json(silent=True) if response.is_json else None
        return Answer(response.status_code, body, data, response.mimetype or "")
    finally:
        response.close()
