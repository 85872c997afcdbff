"""problem+json (RFC 9457) for every error the service returns."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, json, request
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from werkzeug.exceptions import HTTPException

from ipvalue.models.derivations import DERIVED_TAG
from ipvalue.models.errors import FieldProblem, InputError, IPValueError
from ipvalue.models.fields import TYPE_NOUNS, fmt, given, house_message
from ipvalue.models.methods import METHOD_NAMES
from ipvalue.models.uncertain import DISTRIBUTION_NAMES

PROBLEM_BASE = "https://ipvalue.dev/problems/"
_COVERS = ("collateral_value", "litigation")
_TAGS = frozenset(METHOD_NAMES) | frozenset(DISTRIBUTION_NAMES) | {"number", "distribution"}
_TAGS |= frozenset(_COVERS)
"""Discriminator tags pydantic puts in an error's location (they are not request fields)."""
_BASIC_LABELS = frozenset({"float", "int", "str", "bool", "list", "dict", "none", "is-instance"})
_FIELD_PREFIX = re.compile(r"^(?:Value error, )?([a-z_][a-z0-9_]*): (.+)$", re.DOTALL)
_CHOICES = {"method": METHOD_NAMES, "dist": DISTRIBUTION_NAMES, "cover": _COVERS}
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


def _is_label(part: Any) -> bool:
    """True for a location segment pydantic adds for a union member or a validator."""
    text = str(part)
    return (
        part in _TAGS
        or text in _BASIC_LABELS
        or "[" in text
        or text.startswith(("constrained-", DERIVED_TAG))
    )


def field_path(loc: tuple[Any, ...], prefix: str = "") -> str:
    """A pydantic error location as a request field path.

    ``('methods', 0, 'relief_from_royalty', 'royalty_rate', 'number')`` becomes
    ``methods[0].royalty_rate``.

    Drops the segments pydantic adds for union members (method and distribution tags,
    ``function-after[...]``, ``list[...]``, ``constrained-float``, series shapes).
    """
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _is_label(part):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _union_branch(loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The location of the union an error comes from (None when it is not a union member's)."""
    for i, part in enumerate(loc):
        if not isinstance(part, int) and part not in _TAGS and _is_label(part):
            return loc[:i]
    return None


def _limit_of(path: str, err: Mapping[str, Any]) -> str | None:
    """For ``paths`` over the model's cap, the configured ``max_paths`` limit's message."""
    if not path.split(".")[-1] == "paths" or err["type"] != "less_than_equal":
        return None
    try:
        limit = int(current_app.config["MAX_PATHS"])
    except (RuntimeError, KeyError):
        return None
    return f"{fmt(err.get('input'))} is over the limit max_paths = {limit} of this server"


def _message(err: Mapping[str, Any], path: str) -> tuple[str, str]:
    """(path, house message) for one pydantic error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    given = err.get("input")
    message = str(err["msg"]).removeprefix("Value error, ")
    match = _FIELD_PREFIX.match(message)
    if match and kind in {"value_error", "assertion_error"}:
        path = f"{path}.{match.group(1)}" if path else match.group(1)
        message = match.group(2)
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        tag = str(ctx.get("discriminator", "")).strip("'")
        expected = ", ".join(repr(t) for t in _CHOICES.get(tag, ()))
        if not expected:
            expected = str(ctx.get("expected_tags", ""))
        path = f"{path}.{tag}" if path else tag
        if kind == "union_tag_not_found":
            return path, f"is required; use one of {expected}"
        return path, f"unknown {tag} {ctx.get('tag')!r}; use one of {expected}"
    limit = _limit_of(path, err)
    if limit is not None:
        return path, limit
    return path, house_message(kind, ctx, given, message)


def problems_from_validation(exc: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """One problem per pydantic error, each naming its full field path and the fix.

    Errors of the members of one union (``volatility`` is a number or a list of numbers) are
    merged: when some member got the right type, only its complaint is kept (``must be at most
    5``, not also ``must be a list``); when none did, one message lists what is allowed.
    """
    errors = exc.errors(include_url=False)
    by_union: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for err in errors:
        branch = _union_branch(tuple(err["loc"]))
        if branch is not None:
            by_union.setdefault(branch, []).append(err)
    dropped: set[int] = set()
    merged: dict[int, str] = {}
    for group in by_union.values():
        kinds = [e["type"] in TYPE_NOUNS for e in group]
        if len(group) < 2:
            continue
        if not all(kinds):
            dropped |= {id(e) for e, is_type in zip(group, kinds, strict=True) if is_type}
        else:
            nouns = list(dict.fromkeys(TYPE_NOUNS[e["type"]] for e in group))
            merged[id(group[0])] = f"must be {' or '.join(nouns)}; got {given(group[0]['input'])}"
            dropped |= {id(e) for e in group[1:]}
    problems: list[FieldProblem] = []
    seen: set[tuple[str, str]] = set()
    for err in errors:
        if id(err) in dropped:
            continue
        path, message = _message(err, field_path(tuple(err["loc"]), prefix))
        message = merged.get(id(err), message)
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


def non_finite_at(document: Any, path: str = "") -> str | None:
    """The path of the first NaN or infinite number in a JSON-ready ``document``, else None."""
    stack: list[tuple[Any, str]] = [(document, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return where or "(result)"
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in node.items())
        elif isinstance(node, list | tuple):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node))
    return None


def require_finite(result: Any) -> Any:
    """``result`` when every number in it is finite, else a 422 saying which one is not.

    Inputs are bounded so results stay finite; this catches what the bounds let through (a
    huge volatility over a long horizon, say) instead of storing NaN or failing at storage.
    """
    where = non_finite_at(result)
    if where is not None:
        raise InputError(
            f"the inputs give a result that is not a finite number ({where})",
            [
                FieldProblem(
                    "(body)",
                    f"the inputs give a result that is not a finite number at {where}; use "
                    "smaller amounts, growth, volatility or horizon",
                )
            ],
        )
    return result


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


def missing_schema(exc: DBAPIError) -> bool:
    """True when the database answers but has no ipvalue tables (a recreated, empty one)."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "42P01" or "no such table" in str(orig)


def _schema_missing(exc: DBAPIError) -> Response:
    log.error("database has no ipvalue schema: %s", str(exc).splitlines()[0])
    resp = problem(
        503,
        "Service unavailable",
        "the database has no ipvalue tables (was it recreated?); run 'ipvalue db upgrade', "
        "then retry",
        "unavailable",
    )
    resp.headers["Retry-After"] = "30"
    return resp


def register_error_handlers(app: Flask) -> None:
    """Map every exception to problem+json; nothing leaves as an HTML page or a bare 500."""

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return validation_problem(problems_from_validation(exc))

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError) -> Response:
        if missing_schema(exc):
            return _schema_missing(exc)
        log.error("database unavailable: %s", str(exc).splitlines()[0])
        resp = problem(
            503,
            "Service unavailable",
            "the database is not reachable; retry later",
            "unavailable",
        )
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(ProgrammingError)
    def _no_schema(exc: ProgrammingError) -> Response:
        if not missing_schema(exc):
            return _unexpected(exc)
        return _schema_missing(exc)

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
