"""Stored records as the routes answer them: one record (`record_answer`), a page of them
(`list_records`), and the query parameters of a list for the OpenAPI document
(`list_parameters`).

Every record has one envelope: ``id``, ``kind``, ``created_at``, ``versions``, ``seed`` (where
random), ``request``, ``inputs``, ``job_id``, ``result``. ``GET /v1/<kind>/{id}`` answers the
result's fields at the top level, as the ``POST`` did, beside the envelope's; list items carry
the envelope with ``result`` nested and the record's ``facts`` (the filterable fields).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from ipvalue.api.auth import current_tenant
from ipvalue.api.facts import FILTERS
from ipvalue.api.pagination import COMMON_PARAMS, DEFAULT_LIMIT, MAX_LIMIT, parse_page
from ipvalue.models.errors import InputError

ENVELOPE = ("id", "kind", "created_at", "versions", "seed", "request", "inputs", "job_id")


def get_record(kind: str, record_id: str) -> dict[str, Any]:
    """The caller's tenant's record of ``kind``; `NotFoundError` (404) for anyone else's."""
    return dict(current_app.extensions["ipvalue.store"].get(kind, current_tenant(), record_id))


def record_answer(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record as ``GET /v1/<kind>/{id}`` answers it: the envelope and the result's
    fields (a result's own ``seed``, the number it ran with, stands over the envelope's text)."""
    return {**{k: record[k] for k in ENVELOPE}, **record["result"]}


def _item(record: dict[str, Any], kind: str) -> dict[str, Any]:
    facts = record.get("facts") or {}
    return {
        **{k: record[k] for k in ENVELOPE},
        "currency": facts.get("currency"),
        "facts": {name: facts.get(f.column) for name, f in FILTERS[kind].items()},
        "result": record["result"],
    }


def list_records(kind: str) -> dict[str, Any]:
    """``{"items", "next_cursor"}``: a page of the caller's records of ``kind``, newest first,
    filtered by the query string (the common parameters and the kind's `FILTERS`).

    Raises
    ------
    InputError
        Naming the parameter: an unknown one, a bad limit, cursor or time, or a value outside
        an enumerated filter's choices.
    """
    filters = FILTERS[kind]
    page = parse_page(request.args, allowed=tuple(filters))
    facts: dict[str, str] = {}
    for name, spec in filters.items():
        if name not in request.args:
            continue
        value = request.args[name]
        if spec.choices and value not in spec.choices:
            raise InputError.for_field(
                name, f"must be one of {', '.join(spec.choices)}; got {value!r}"
            )
        facts[spec.column] = value
    answer = current_app.extensions["ipvalue.store"].list(kind, current_tenant(), page, facts)
    return {
        "items": [_item(record, kind) for record in answer["items"]],
        "next_cursor": answer["next_cursor"],
    }


_COMMON: dict[str, tuple[dict[str, Any], str]] = {
    "limit": (
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "items per page",
    ),
    "cursor": ({"type": "string"}, "next_cursor of the previous page"),
    "created_after": ({"type": "string", "format": "date-time"}, "only records created after"),
    "created_before": ({"type": "string", "format": "date-time"}, "only records created before"),
}


def common_parameters() -> list[dict[str, Any]]:
    """OpenAPI query parameters every list takes (`ipvalue.api.pagination.parse_page`)."""
    assert tuple(_COMMON) == COMMON_PARAMS
    return [
        {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
        for name, (schema, text) in _COMMON.items()
    ]


def list_parameters(kind: str) -> list[dict[str, Any]]:
    """OpenAPI query parameters of the list of ``kind``: the common ones and its filters."""
    params = common_parameters()
    for name, spec in FILTERS[kind].items():
        schema: dict[str, Any] = {"type": "string"}
        if spec.choices:
            schema["enum"] = list(spec.choices)
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": schema,
                "description": spec.description,
            }
        )
    return params
