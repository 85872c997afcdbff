"""problem+json (RFC 9457) for every error the service returns."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, json, request
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ipvalue.models.errors import FieldProblem, InputError, IPValueError
from ipvalue.models.methods import METHOD_NAMES
from ipvalue.models.uncertain import DISTRIBUTION_NAMES

PROBLEM_BASE = "https://ipvalue.dev/problems/"
_TAGS = (
    frozenset(METHOD_NAMES)
    | frozenset(DISTRIBUTION_NAMES)
    | {
        "number",
        "distribution",
        "list",
        "growth",
        "collateral_value",
        "litigation",
    }
)
_FIELD_PREFIX = re.compile(r"^(?:Value error, )?([a-z_][a-z0-9_]*): (.+)$", re.DOTALL)
log = logging.getLogger("ipvalue.api")


def problem(status: int, title: str, detail: str, slug: str, **extra: Any) -> Response:
    """A problem+json response."""
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
        **extra,
    }
    resp = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    return resp


def field_path(loc: tuple[Any, ...], prefix: str = "") -> str:
    """A pydantic error location as a request field path.

    ``('methods', 0, 'relief_from_royalty', 'royalty_rate', 'number')`` becomes
    ``methods[0].royalty_rate``.

    Drops the segments pydantic adds for union members (method and distribution tags,
    ``function-after[...]``, ``list[...]``, growth-series class names).
    """
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _TAGS or "[" in str(part) or str(part).endswith("GrowthSeries"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def problems_from_validation(exc: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """One problem per pydantic error, each naming its field and the fix."""
    problems: list[FieldProblem] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        path = field_path(tuple(err["loc"]), prefix)
        message = str(err["msg"]).removeprefix("Value error, ")
        match = _FIELD_PREFIX.match(message)
        if match:
            path = f"{path}.{match.group(1)}" if path else match.group(1)
            message = match.group(2)
        if err["type"] == "missing":
            message = "is required"
        elif err["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            tag = str(err.get("ctx", {}).get("discriminator", "")).strip("'")
            known = {"method": METHOD_NAMES, "dist": DISTRIBUTION_NAMES}.get(tag, ())
            expected = ", ".join(repr(t) for t in known)
            path = f"{path}.{tag}" if path else tag
            given = err.get("ctx", {}).get("tag")
            message = (
                f"unknown {tag} {given!r}; use one of {expected}"
                if given is not None
                else f"is required; use one of {expected}"
            )
        elif err["type"] == "extra_forbidden":
            message = "is not a known field; check its spelling against the API reference"
        if (path, message) not in seen:
            seen.add((path, message))
            problems.append(FieldProblem(path or "(body)", message))
    return problems


def problems_of(exc: Exception) -> list[FieldProblem]:
    """The field problems of a pydantic error or an `InputError` (one for any other error)."""
    if isinstance(exc, ValidationError):
        return problems_from_validation(exc)
    if isinstance(exc, InputError) and exc.problems:
        return list(exc.problems)
    return [FieldProblem("(input)", str(exc))]


def validation_problem(problems: list[FieldProblem], status: int = 422) -> Response:
    """422 problem+json with ``errors: [{field, message}]``."""
    first = problems[0]
    detail = f"{first.field}: {first.message}"
    if len(problems) > 1:
        detail += f" (and {len(problems) - 1} more)"
    return problem(
        status,
        "Invalid input",
        detail,
        "invalid-input",
        errors=[{"field": p.field, "message": p.message} for p in problems],
    )


def error_response(exc: IPValueError) -> Response:
    """problem+json for one of our exceptions, with its ``limit`` and headers if it has them."""
    extra = {"limit": exc.limit} if hasattr(exc, "limit") else {}
    resp = problem(exc.status, exc.title, str(exc), exc.slug, **extra)
    for key, value in getattr(exc, "headers", {}).items():
        resp.headers[key] = value
    return resp


def register_error_handlers(app: Flask) -> None:
    """Map every exception to problem+json; nothing leaves as an HTML page or a bare 500."""

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return validation_problem(problems_from_validation(exc))

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError) -> Response:
        log.error("database unavailable: %s", str(exc).splitlines()[0])
        resp = problem(
            503,
            "Service unavailable",
            "the database is not reachable; retry later",
            "unavailable",
        )
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(InputError)
    def _input(exc: InputError) -> Response:
        problems = exc.problems or [FieldProblem("(body)", exc.detail)]
        return validation_problem(problems, exc.status)

    @app.errorhandler(IPValueError)
    def _ours(exc: IPValueError) -> Response:
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        resp = problem(
            status,
            exc.name,
            exc.description or exc.name,
            re.sub(r"[^a-z0-9]+", "-", exc.name.lower()).strip("-"),
        )
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        for key, value in exc.get_headers() or []:
            if key.lower() in {"retry-after", "www-authenticate"}:
                resp.headers[key] = value
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return problem(
            500, "Internal error", "an unexpected error occurred; it has been logged", "internal"
        )
