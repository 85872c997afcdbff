"""``Authorization: Bearer <key>`` on every ``/v1/`` request; the key's tenant goes to ``g``.

After `install_auth`, a view reads the caller with `current_tenant()`. A request without a valid
key gets 401 before routing, so unknown ``/v1/`` paths leak nothing either. A request whose key
this worker has not checked recently is first charged to its client address
(`api.ratelimit.limit_client`): past ``ANON_RATE_LIMIT`` it gets 429 before the database is asked.
"""

from __future__ import annotations

from typing import ClassVar

from flask import Flask, current_app, g, request

from ipvalue.api.ratelimit import limit_client
from ipvalue.models.errors import IPValueError

PROTECTED_PREFIX = "/v1/"


class UnauthorizedError(IPValueError):
    """No key, or a key that is unknown or revoked."""

    status = 401
    title = "Unauthorized"
    slug = "unauthorized"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="ipvalue"'}


def current_tenant() -> str:
    """The tenant of this request's key (only inside an authenticated ``/v1/`` request)."""
    return str(g.tenant)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def install_auth(app: Flask) -> None:
    """Require a valid key on ``/v1/``; set ``g.tenant`` and ``g.key_id``."""

    @app.before_request
    def _authenticate() -> None:
        if not request.path.startswith(PROTECTED_PREFIX):
            return
        token = _bearer()
        keys = current_app.extensions["ipvalue.keys"]
        info = None if token is None else keys.cached(token)
        if info is None:
            limit_client(request.remote_addr)
        if token is None:
            raise UnauthorizedError(
                "send 'Authorization: Bearer <key>'; create a key with "
                "'ipvalue keys create --tenant NAME'"
            )
        if info is None:
            info = keys.lookup(token)
        if info is None:
            raise UnauthorizedError("the API key is unknown or revoked")
        g.tenant = info.tenant
        g.key_id = info.key_id
