"""Reading and validating request bodies: strict JSON, then the pydantic model.

A body is read as JSON only when it says so (``Content-Type: application/json``, or none); any
other type is 415. The JSON itself must be plain: no duplicate keys (which one would count?), no
``NaN`` or ``Infinity`` (not JSON), no lone UTF-16 surrogates (``"\\ud800"`` is no character), at
most `MAX_DEPTH` levels of nesting. Each refusal is a 400 problem naming the field.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel

from ipvalue.models.errors import FieldProblem, InputError

T = TypeVar("T", bound=BaseModel)

MAX_DEPTH = 32
"""Deepest nesting of objects and arrays accepted in a body (the deepest request needs ~8)."""
JSON_TYPES = frozenset({"application/json"})
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyError(InputError):
    """A body that is not plain JSON (400)."""

    status = 400
    title = "Bad request"
    slug = "bad-body"


class UnsupportedBody(InputError):
    """A body of a media type the endpoint does not read (415)."""

    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


def _refuse(field: str, message: str) -> BodyError:
    return BodyError(f"{field}: {message}", [FieldProblem(field, message)])


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _refuse(key, "appears twice in one object; give each field once")
        out[key] = value
    return out


class _NotANumber:
    """Stands for ``NaN``/``Infinity`` while parsing, so the walk can name its field."""

    def __init__(self, text: str) -> None:
        self.text = text


def _float(text: str) -> float | _NotANumber:
    value = float(text)
    return _NotANumber(text[:40]) if math.isinf(value) else value


def _where(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def check_plain(document: Any) -> None:
    """Refuse nesting deeper than `MAX_DEPTH`, non-finite numbers and lone surrogates.

    Walks without recursion, so any depth is safe to check.
    """
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, _NotANumber):
            raise _refuse(
                path or "(body)", f"{node.text} is not a finite JSON number; give a finite number"
            )
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise _refuse(
                    path or "(body)", "holds a lone UTF-16 surrogate (\\ud800-\\udfff); send text"
                )
            continue
        if not isinstance(node, dict | list):
            continue
        if depth >= MAX_DEPTH:
            top = re.split(r"[.\[]", path, maxsplit=1)[0]
            raise _refuse(
                top or "(body)",
                f"nests objects and arrays deeper than {MAX_DEPTH} levels; flatten the body",
            )
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            where = _where(path, key)
            if isinstance(key, str) and _SURROGATE.search(key):
                raise _refuse(path or "(body)", "has a key with a lone UTF-16 surrogate; send text")
            stack.append((value, where, depth + 1))


def loads(data: bytes | str, other: str = "") -> Any:
    """Parse strict JSON (see the module docstring); `BodyError` says what is wrong.

    ``other`` names the endpoint's other accepted media types, for the message about a body
    that is not JSON at all.
    """
    also = f", or {other}" if other else ""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise _refuse("(body)", f"is not valid UTF-8 (byte {exc.start}); send UTF-8") from None
    if not text.strip():
        raise _refuse("(body)", f"is empty; send a JSON object {{...}}{also}")
    try:
        document = json.loads(
            text, object_pairs_hook=_pairs, parse_constant=_NotANumber, parse_float=_float
        )
    except RecursionError:
        raise _refuse(
            "(body)", f"nests objects and arrays deeper than {MAX_DEPTH} levels; flatten the body"
        ) from None
    except json.JSONDecodeError as exc:
        raise _refuse(
            "(body)",
            f"is not valid JSON ({exc.msg.lower()} at line {exc.lineno} column {exc.colno}); "
            f"send a JSON object {{...}}{also}",
        ) from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise _refuse("(body)", f"holds a number that cannot be read: {exc}") from None
    check_plain(document)
    return document


def json_body(other: str = "") -> dict[str, Any]:
    """The request body as a strict JSON object, or a 400/415 problem saying why not.

    Parameters
    ----------
    other : str, optional
        The endpoint's other accepted media types, in words, for the 415 message
        (e.g. ``"text/csv for a CSV file"``).
    """
    mimetype = request.mimetype
    if mimetype and mimetype not in JSON_TYPES:
        also = f", or {other}" if other else ""
        raise UnsupportedBody(
            f"the body is {mimetype}; send JSON with Content-Type: application/json{also}",
            [
                FieldProblem(
                    "Content-Type",
                    f"is {mimetype}; send JSON with Content-Type: application/json{also}",
                )
            ],
        )
    data = loads(request.get_data(cache=True), other)
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "true/false", type(None): "null"}
        what = kind.get(type(data), "a number")
        raise _refuse("(body)", f"must be a JSON object {{...}}, not {what}")
    return data


def parse(model: type[T]) -> T:
    """Validate the JSON body against ``model`` (pydantic errors become 422 problem+json)."""
    return model.model_validate(json_body())
