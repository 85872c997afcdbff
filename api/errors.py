"""problem+json (RFC 9457) for every error the service returns."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, current_app, json, request
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ipvalue.models.errors import FieldProblem, InputError, IPValueError
from ipvalue.models.fields import DATE_HELP, PATTERN_HELP, fmt, range_message
from ipvalue.models.methods import METHOD_NAMES
from ipvalue.models.uncertain import DISTRIBUTION_NAMES

PROBLEM_BASE = "https://ipvalue.dev/problems/"
_COVERS = ("collateral_value", "litigation")
_TAGS = frozenset(METHOD_NAMES) | frozenset(DISTRIBUTION_NAMES) | {"number", "distribution"}
_TAGS |= frozenset(_COVERS)
"""Discriminator tags pydantic puts in an error's location (they are not request fields)."""
_BASIC_LABELS = frozenset({"float", "int", "str", "bool", "list", "dict", "none", "is-instance"})
_FIELD_PREFIX = re.compile(r"^(?:Value error, )?([a-z_][a-z0-9_]*): (.+)$", re.DOTALL)
_TYPE_NOUNS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list [...]",
    "dict_type": "an object {...}",
    "model_type": "an object {...}",
    "model_attributes_type": "an object {...}",
    "date_type": DATE_HELP,
    "date_parsing": DATE_HELP,
    "date_from_datetime_parsing": DATE_HELP,
    "none_required": "null",
}
"""What a value of each pydantic type error should have been, in words."""
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
    return part in _TAGS or text in _BASIC_LABELS or "[" in text or text.startswith("constrained-")


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


def _limit_of(path: str, err: dict[str, Any]) -> str | None:
    """For ``paths`` over the model's cap, the configured ``max_paths`` limit's message."""
    if not path.split(".")[-1] == "paths" or err["type"] != "less_than_equal":
        return None
    try:
        limit = int(current_app.config["MAX_PATHS"])
    except (RuntimeError, KeyError):
        return None
    return f"{fmt(err.get('input'))} is over the limit max_paths = {limit} of this server"


def _message(err: dict[str, Any], path: str) -> tuple[str, str]:
    """(path, house message) for one pydantic error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    given = err.get("input")
    message = str(err["msg"]).removeprefix("Value error, ")
    match = _FIELD_PREFIX.match(message)
    if match and kind in {"value_error", "assertion_error"}:
        path = f"{path}.{match.group(1)}" if path else match.group(1)
        message = match.group(2)
    if kind == "missing":
        return path, "is required"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        tag = str(ctx.get("discriminator", "")).strip("'")
        expected = ", ".join(repr(t) for t in _CHOICES.get(tag, ()))
        if not expected:
            expected = str(ctx.get("expected_tags", ""))
        path = f"{path}.{tag}" if path else tag
        if kind == "union_tag_not_found":
            return path, f"is required; use one of {expected}"
        return path, f"unknown {tag} {ctx.get('tag')!r}; use one of {expected}"
    if kind == "extra_forbidden":
        return path, "is not a known field; check its spelling against the API reference"
    if kind == "literal_error":
        return path, f"must be one of {ctx.get('expected')}; got {fmt(given)}"
    if kind == "string_pattern_mismatch":
        help_ = PATTERN_HELP.get(str(ctx.get("pattern")), f"text matching {ctx.get('pattern')}")
        return path, f"must be {help_}; got {fmt(given)}"
    if kind in {"string_too_short", "too_short"}:
        if kind == "string_too_short" and ctx.get("min_length") == 1:
            return path, "must not be empty"
        unit = "characters" if kind.startswith("string") else "items"
        return path, f"must have at least {ctx.get('min_length')} {unit}"
    if kind in {"string_too_long", "too_long"}:
        unit = "characters" if kind.startswith("string") else "items"
        return path, f"must have at most {ctx.get('max_length')} {unit}"
    limit = _limit_of(path, err)
    if limit is not None:
        return path, limit
    bound = range_message(kind, ctx, given)
    if bound is not None:
        return path, bound
    if kind in _TYPE_NOUNS:
        return path, f"must be {_TYPE_NOUNS[kind]}; got {_given(given)}"
    return path, message


def _given(value: Any) -> str:
    """The refused value, shortly: ``true``, ``'10'``, a list or an object."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = fmt(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problems_from_validation(exc: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """One problem per pydantic error, each naming its full field path and the fix.

    Errors of the members of one union (``volatility`` is a number or a list of numbers) are
    merged: when some member got the right type, only its complaint is kept (``must be at most
    5``, not also ``must be a list``); when none did, one message lists what is allowed.
    """
    errors = exc.errors(include_url=False)
    by_union: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for err in errors:
        branch = _union_branch(tuple(err["loc"]))
        if branch is not None:
            by_union.setdefault(branch, []).append(err)
    dropped: set[int] = set()
    merged: dict[int, str] = {}
    for group in by_union.values():
        kinds = [e["type"] in _TYPE_NOUNS for e in group]
        if len(group) < 2:
            continue
        if not all(kinds):
            dropped |= {id(e) for e, is_type in zip(group, kinds, strict=True) if is_type}
        else:
            nouns = list(dict.fromkeys(_TYPE_NOUNS[e["type"]] for e in group))
            merged[id(group[0])] = f"must be {' or '.join(nouns)}; got {_given(group[0]['input'])}"
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
