"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from api.errors import register_error_handlers
from api.routes import health, valuations
from api.store import MemoryStore


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the ipvalue WSGI app.

    Parameters
    ----------
    config : dict, optional
        Overrides of the default settings (tests pass their own).
    """
    app = Flask(__name__)
    app.config.from_mapping(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    if config:
        app.config.update(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["ipvalue.store"] = app.config.get("STORE") or MemoryStore()
    register_error_handlers(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(valuations.bp)
    return app
