"""The OpenAPI 3.1 document, generated from the routes and their pydantic models.

A view declares its models with `operation`, placed *under* Flask's route decorator::

    from ipvalue.api.openapi import operation
    from ipvalue.models.volatility import VolatilityRequest, VolatilityResult

    @bp.post("")
    @operation(
        request=VolatilityRequest,       # JSON body schema (validation mode)
        response=VolatilityResult,       # success body schema (serialization mode)
        status=200,                      # success status (default 200; 201 for created)
        summary="Estimate volatility",   # default: first docstring line
        tags=["volatility"],
        jobs=True,                       # may answer 202 with a job (api.jobs.submit_or_run)
    )
    def estimate(): ...

Stored records: a ``201`` answer (what `api.jobs.submit_or_run` gives) and a ``GET`` of
``/v1/<kind>/{id}`` are documented as the response model *plus* the record's own fields: ``id``,
and optionally ``request``, ``inputs``, ``seed``, ``versions``, ``created_at``, ``job_id``, so a
result model need not declare them (even with ``extra="forbid"``). Pass ``record=False`` when
the model already describes the whole body, ``record=True`` to force it elsewhere.

`build_document` walks the app's URL map, so every route appears, declared or not (undeclared
ones with their docstring and problem answers only). Errors are documented for each operation:
401 and 429 on ``/v1/``, 400/413/422 with a body, 422 with query parameters, 404 with a path
parameter, 501 when pending.

Examples: each request body shows those of `ipvalue.api.openapi_examples`; each GET and DELETE
shows its success answer as the service gave it (`ipvalue.api.openapi_responses`, read from the
committed ``openapi_responses.json``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version as package_version
from typing import Any, Literal, TypeVar

from flask import Flask
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from ipvalue.api.openapi_examples import JOB_ACCEPTED, RESPONSES, request_examples
from ipvalue.api.schemas import JobAccepted, Problem

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__openapi__"
REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>")
_ERROR_TITLES = {
    400: "Bad request (not a plain JSON object)",
    401: "No valid API key",
    404: "Not found (or another tenant's)",
    405: "Method not allowed",
    413: "Body over max_body_bytes",
    415: "Unsupported media type",
    422: "Invalid input, or over a size limit (``limit`` names it)",
    429: "Rate limit of the key exceeded (see Retry-After)",
    500: "Internal error",
    501: "Not implemented yet: the capability lands in a later version",
    503: "Not ready, or the database is unreachable (see Retry-After)",
}


@dataclass(frozen=True)
class Operation:
    """What `operation` records on a view."""

    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    summary: str | None = None
    description: str | None = None
    tags: Sequence[str] = ()
    jobs: bool = False
    errors: Sequence[int] = ()
    pending: bool = False
    media_type: str | tuple[str, ...] = "application/json"
    record: bool | None = None
    parameters: Sequence[dict[str, Any]] = ()
    uploads: Sequence[str] = ()
    file_body: Sequence[str] = ()


def operation(
    *,
    request: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
    jobs: bool = False,
    errors: Sequence[int] = (),
    pending: bool = False,
    media_type: str | tuple[str, ...] = "application/json",
    record: bool | None = None,
    parameters: Sequence[dict[str, Any]] = (),
    uploads: Sequence[str] = (),
    file_body: Sequence[str] = (),
) -> Callable[[F], F]:
    """Declare a view's request and response models for the OpenAPI document.

    Parameters
    ----------
    request, response : pydantic model class, optional
    status : int
        Status of the success answer.
    summary, description : str, optional
        Default: the docstring's first line and the rest.
    tags : sequence of str
    jobs : bool
        The view may answer 202 with a job id.
    errors : sequence of int
        Extra error statuses beyond the standard ones.
    pending : bool
        The view answers 501 until its capability lands.
    media_type : str or tuple of str
        Media type(s) of the success answer (``text/html`` for a page; several for a document
        offered as HTML and PDF).
    record : bool, optional
        Document the answer as a stored record (model + ``id`` and record fields); by default
        for 201 answers and ``GET /v1/<kind>/{id}`` (not jobs).
    parameters : sequence of dict
        OpenAPI parameter objects beside the path's (e.g. a list's query parameters,
        `ipvalue.api.records.list_parameters`).
    uploads : sequence of str
        Media types of a file the body may be instead of JSON (``text/csv``, ...); each is
        documented as a binary body, and ``multipart/form-data`` with the file in ``file``.
    file_body : sequence of str
        Media types of a body that is a file and never JSON (a bulk import): documented as
        text of those types, without a JSON schema.
    """

    def mark(view: F) -> F:
        setattr(
            view,
            ATTRIBUTE,
            Operation(
                request,
                response,
                status,
                summary,
                description,
                tuple(tags),
                jobs,
                tuple(errors),
                pending,
                media_type,
                record,
                tuple(parameters),
                tuple(uploads),
                tuple(file_body),
            ),
        )
        return view

    return mark


def query(**specs: tuple[dict[str, Any], str]) -> list[dict[str, Any]]:
    """Optional query parameters, ``name=(JSON schema, description)``, as OpenAPI parameter
    objects (for `operation`'s ``parameters``)."""
    return [
        {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
        for name, (schema, text) in specs.items()
    ]


_RECORDS: dict[type[BaseModel], type[BaseModel]] = {}


def record_model(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` plus the fields of a stored record (``id`` required, the others optional)."""
    derived = _RECORDS.get(model)
    if derived is None:
        namespace: dict[str, Any] = {
            "__module__": model.__module__,
            "__doc__": f"{model.__name__} as stored: its fields plus the record's id and inputs.",
            "__annotations__": {
                "id": str,
                "request": dict[str, Any] | None,
                "inputs": dict[str, Any] | None,
                "seed": str | int | None,
                "versions": dict[str, str] | None,
                "created_at": str | None,
                "job_id": str | None,
            },
            "model_config": ConfigDict(extra="allow"),
            "id": Field(description="id of the stored record"),
            "request": Field(default=None, description="the body as it was sent"),
            "inputs": Field(default=None, description="the inputs as resolved"),
            "seed": Field(default=None, description="the seed or entropy used"),
            "versions": Field(default=None, description="library versions that computed it"),
            "created_at": Field(default=None, description="ISO 8601 UTC"),
            "job_id": Field(default=None, description="the job that computed it, if any"),
        }
        derived = _RECORDS[model] = type(f"{model.__name__}Record", (model,), namespace)
    return derived


def _is_record(op: Operation, method: str, path: str, params: list[str]) -> bool:
    if op.record is not None:
        return op.record
    if method == "post":
        return op.status == 201
    return (
        method == "get"
        and bool(params)
        and path.startswith("/v1/")
        and not path.startswith("/v1/jobs/")
    )


_HEADERS = {
    401: {"WWW-Authenticate": "Bearer challenge"},
    429: {"Retry-After": "seconds until the key may send again"},
    202: {"Location": "the job: GET it for status, progress and result"},
    201: {"Location": "the stored record, when it can be read back"},
}


def _headers(status: int, required: bool = True) -> dict[str, Any]:
    return {
        name: {
            "description": text,
            "required": required and status != 201,
            "schema": {"type": "string"},
        }
        for name, text in _HEADERS.get(status, {}).items()
    }


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _ERROR_TITLES.get(status, "Error"),
        "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}},
    }
    if status in _HEADERS:
        response["headers"] = _headers(status)
    return response


def _json_response(
    description: str, schema: dict[str, Any], media_type: str | tuple[str, ...] = "application/json"
) -> dict[str, Any]:
    types = (media_type,) if isinstance(media_type, str) else media_type
    return {"description": description, "content": {t: {"schema": schema} for t in types}}


_RST_LITERAL = re.compile(r"``([^`]+)``")
_RST_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|obj):`~?([^`]+)`")
_NUMPYDOC_RULE = re.compile(r"^(\w[\w ]*)\n-{3,}$", re.MULTILINE)


def markdown(text: str) -> str:
    """A docstring's text as Markdown: RST literals and roles become code spans, numpydoc
    section rules become bold headings."""
    text = _RST_ROLE.sub(r"`\1`", text)
    text = _RST_LITERAL.sub(r"`\1`", text)
    return _NUMPYDOC_RULE.sub(r"**\1**\n", text)


def _uploads(media_types: Sequence[str]) -> dict[str, Any]:
    """Request body content of a file upload: each media type, and multipart with ``file``."""
    if not media_types:
        return {}
    binary = {"type": "string", "format": "binary"}
    content: dict[str, Any] = {m: {"schema": binary} for m in media_types}
    content["multipart/form-data"] = {
        "schema": {"type": "object", "properties": {"file": binary}, "required": ["file"]}
    }
    return content


def _docs(view: Callable[..., Any], op: Operation) -> tuple[str, str]:
    doc = (view.__doc__ or "").strip().splitlines()
    summary = markdown(op.summary or (doc[0].strip() if doc else view.__name__))
    description = markdown(op.description or "\n".join(line.strip() for line in doc[1:]).strip())
    if op.pending:
        description = (description + "\n\n" if description else "") + (
            "**Not implemented yet**: answers 501 problem+json until its capability lands."
        )
    return summary, description


def build_document(
    app: Flask, title: str = "ipvalue", version: str | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``; ``info.version`` is the installed package's."""
    from ipvalue.api.openapi_responses import examples_of  # run as a script, it imports the app

    if version is None:
        version = package_version("ipvalue")
    found: list[
        tuple[str, str, Callable[..., Any], Operation, list[str], type[BaseModel] | None]
    ] = []
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (Problem, "serialization"),
        (JobAccepted, "serialization"),
    ]
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.endpoint.startswith("console."):
            continue  # the console's pages are for people, not part of the HTTP API
        view = app.view_functions[rule.endpoint]
        op: Operation = getattr(view, ATTRIBUTE, None) or Operation()
        params = _PARAM.findall(rule.rule)
        path = _PARAM.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = op.response
            if response is not None and _is_record(op, method.lower(), path, params):
                response = record_model(response)
            found.append((path, method.lower(), view, op, params, response))
            if response is not None:
                models.append((response, "serialization"))
        if op.request is not None:
            models.append((op.request, "validation"))
    refs, defs = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, view, op, params, response in found:
        summary, description = _docs(view, op)
        entry: dict[str, Any] = {
            "operationId": re.sub(r"[^A-Za-z0-9]+", "_", f"{method}{path}").strip("_"),
            "summary": summary,
            "tags": list(op.tags) or [path.strip("/").split("/")[-1] or "service"],
        }
        if description:
            entry["description"] = description
        parameters = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in params
        ] + [dict(p) for p in op.parameters]
        if parameters:
            entry["parameters"] = parameters
        statuses: set[int] = set(op.errors) | {500}
        if path.startswith("/v1/"):
            statuses.add(503)
        if method in {"post", "put", "patch"}:
            schema = refs[(op.request, "validation")] if op.request else {"type": "object"}
            content = (
                {m: {"schema": {"type": "string"}} for m in op.file_body}
                if op.file_body
                else {"application/json": {"schema": schema}, **_uploads(op.uploads)}
            )
            for media, named in request_examples().get((method, path), {}).items():
                if media in content and named:
                    content[media]["examples"] = named
            entry["requestBody"] = {"required": True, "content": content}
            statuses |= {400, 413, 415, 422}
        if path.startswith("/v1/"):
            entry["security"] = [{"bearer": []}]
            statuses |= {401, 429}
        if params:
            statuses.add(404)
        if op.parameters:
            statuses.add(422)  # a query parameter of the wrong type or value
        if op.pending:
            statuses.add(501)
        responses: dict[str, Any] = {}
        if not op.pending:
            if response:
                schema = refs[(response, "serialization")]
            elif op.media_type == "application/json":
                schema = {"type": "object"}
            else:
                schema = {"type": "string"}
            responses[str(op.status)] = _json_response("Success", schema, op.media_type)
            if op.status == 201:
                responses["201"]["headers"] = _headers(201)
        if op.jobs:
            responses["202"] = _json_response(
                "Accepted as a job: poll the location",
                refs[(JobAccepted, "serialization")],
            )
            responses["202"]["headers"] = _headers(202)
            responses["202"]["content"]["application/json"]["examples"] = {"job": JOB_ACCEPTED}
        for status in sorted(statuses):
            responses[str(status)] = _problem_response(status)
        for (m, p, status_text), named in RESPONSES.items():
            if (m, p) == (method, path) and status_text in responses:
                for body in responses[status_text].get("content", {}).values():
                    body["examples"] = named
        recorded = examples_of(method, path)
        if recorded is not None and recorded[0] in responses:
            content = responses[recorded[0]].get("content", {})
            for media, named in recorded[1].items():
                if media in content:
                    content[media].setdefault("examples", {}).update(named)
        entry["responses"] = responses
        paths.setdefault(path, {})[method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Values intellectual property and simulates its risk. Every `/v1/` request "
                "carries `Authorization: Bearer <key>`; every error is application/problem+json. "
                "Endpoints marked *Not implemented yet* answer 501 until their capability lands."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an ipvalue API key"}
            },
        },
    }
