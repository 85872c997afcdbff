"""Endpoints of the contract (docs/api.md) whose capability has not landed yet: each answers 501
problem+json.

When a capability lands, add its route file (a module in ``api/routes`` with a ``bp``) and delete
its line here. A pending entry whose method and path a real route already serves is skipped, so
forgetting to delete it does no harm.
"""

from __future__ import annotations

from typing import NoReturn

from flask import Blueprint, Flask

from ipvalue.api.openapi import operation
from ipvalue.models.errors import NotImplementedYetError

#: (method, path, what is missing)
PENDING: list[tuple[str, str, str]] = []


def _view(method: str, path: str, what: str):  # type: ignore[no-untyped-def]
    def pending() -> NoReturn:
        raise NotImplementedYetError(
            f"{method} {path} ({what}) is not available in this version of ipvalue yet"
        )

    pending.__doc__ = f"{what[0].upper()}{what[1:]} (not implemented yet)."
    pending.__name__ = "pending_" + path.strip("/").replace("/", "_")
    return operation(pending=True, tags=[path.split("/")[2]])(pending)


def register_pending(app: Flask) -> None:
    """Add a 501 route for each `PENDING` entry that no registered route serves yet."""
    bp = Blueprint("pending", __name__)
    for method, path, what in PENDING:
        served = any(
            rule.rule == path and method in (rule.methods or set())
            for rule in app.url_map.iter_rules()
        )
        if not served:
            view = _view(method, path, what)
            bp.add_url_rule(path, endpoint=view.__name__, view_func=view, methods=[method])
    app.register_blueprint(bp)
