"""The console's session: a signed cookie holding the API key, its tenant and a CSRF token.

The cookie is signed with the app's ``SECRET_KEY`` (``IPVALUE_SECRET_KEY``, else a key made once
in the instance folder, mode 0600, so every worker of a deployment shares it), is HttpOnly and
SameSite=Lax, and expires ``CONSOLE_SESSION_MINUTES`` after sign-in. The key is checked again
on every page, so a revoked key ends its sessions. Every form posts the session's CSRF token;
a post without it is refused.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import secrets
from pathlib import Path

from flask import Flask, current_app, request, session

from ipvalue.api.keys import KeyInfo
from ipvalue.models.errors import IPValueError

SECRET_FILE = "console-secret"


class CsrfError(IPValueError):
    """A console form posted without this session's CSRF token."""

    status = 400
    title = "Bad request"
    slug = "csrf"


def _instance_secret(folder: Path) -> str:
    """The instance folder's console secret, made once (O_EXCL, 0600)."""
    path = folder / SECRET_FILE
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()


def install_console_session(app: Flask) -> None:
    """Give ``app`` its session secret and the console cookie's settings."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = (
            secrets.token_hex(32)  # a test app writes nothing to its instance folder
            if app.config.get("TESTING")
            else _instance_secret(Path(app.instance_path))
        )
    app.config["SESSION_COOKIE_NAME"] = "ipvalue_console"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_PATH"] = "/console"
    minutes = float(app.config.get("CONSOLE_SESSION_MINUTES") or 60)
    app.permanent_session_lifetime = dt.timedelta(minutes=minutes)


def sign_in(secret: str, info: KeyInfo) -> None:
    """Start a session for ``secret`` (a checked key of ``info.tenant``)."""
    session.clear()
    session.permanent = True
    session["key"] = secret
    session["tenant"] = info.tenant
    session["csrf"] = secrets.token_urlsafe(32)
    session["since"] = dt.datetime.now(dt.UTC).isoformat()


def signed_in_key() -> str | None:
    """The session's key if it is still valid (not revoked, session not expired)."""
    secret = session.get("key")
    if not secret:
        return None
    started = dt.datetime.fromisoformat(str(session.get("since")))
    if dt.datetime.now(dt.UTC) - started > current_app.permanent_session_lifetime:
        session.clear()
        return None
    info = current_app.extensions["ipvalue.keys"].lookup(secret)
    if info is None:
        session.clear()
        return None
    return str(secret)


def csrf_token() -> str:
    """This session's CSRF token (for the forms' hidden field)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Refuse a form post whose ``csrf`` field is not this session's token."""
    sent = request.form.get("csrf", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise CsrfError(
            "the form was not sent from this console session (missing or stale CSRF token); "
            "reload the page and send it again"
        )
