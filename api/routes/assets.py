"""The pledge book's assets: ``/v1/assets`` (versioned), their legal events, and bulk
legal-status imports (``POST /v1/legal-status/imports``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, request
from pydantic import BaseModel

from ipvalue.api.auth import current_tenant
from ipvalue.api.body import json_body
from ipvalue.api.book import BookStore
from ipvalue.api.openapi import operation, query
from ipvalue.api.pagination import parse_page
from ipvalue.api.records import common_parameters
from ipvalue.models.asset import Asset
from ipvalue.models.book import AssetBody, BookEvent, EventsBody, UnclassifiedEvent
from ipvalue.models.errors import FieldProblem, InputError
from ipvalue.risk.book.imports import FORMATS, asset_keys, match_key, parse
from ipvalue.risk.book.legal_record import legal_record

bp = Blueprint("assets", __name__, url_prefix="/v1")

ASSET_FILTERS = {"asset_name": "label", "asset_kind": "category", "status": "status"}
"""List filters of ``GET /v1/assets`` and the head column each reads (``status``: the legal
status when the asset was last changed)."""


def book() -> BookStore:
    """The request's pledge book."""
    engine = current_app.extensions["ipvalue.engine"]
    store = current_app.extensions.get("ipvalue.book")
    if store is None or store.engine is not engine:
        store = current_app.extensions["ipvalue.book"] = BookStore(engine)
    return store


def today() -> dt.date:
    """The service's date (UTC): events after it are refused."""
    return dt.datetime.now(dt.UTC).date()


def asset_facts(document: dict[str, Any]) -> dict[str, Any]:
    """The head columns of an asset document."""
    asset = Asset.model_validate(document["asset"])
    events = [BookEvent.model_validate(e) for e in document.get("events", [])]
    status = legal_record(asset, events, today()).status
    return {"label": asset.name[:200], "category": asset.kind, "status": status}


def asset_answer(entry: dict[str, Any], as_of: dt.date | None = None) -> dict[str, Any]:
    """An asset entry as the API shows it, with its legal record as it stands on ``as_of``."""
    doc = entry["document"]
    asset = Asset.model_validate(doc["asset"])
    events = [BookEvent.model_validate(e) for e in doc.get("events", [])]
    record = legal_record(asset, events, as_of or today())
    return {
        "id": entry["id"],
        "kind": "asset",
        "version": entry["version"],
        "latest_version": entry["latest_version"],
        "created_at": entry["created_at"],
        "updated_at": entry["updated_at"],
        "archived_at": entry["archived_at"],
        "versions": entry["versions"],
        "asset": doc["asset"],
        "external_ids": doc.get("external_ids", {}),
        "appraisal": doc.get("appraisal"),
        "observations": doc.get("observations"),
        "legal": record.summary(),
        "unclassified_events": doc.get("unclassified_events", []),
    }


class AssetAnswer(BaseModel):
    """An asset of the book, its version and its legal record as it stands."""

    id: str
    version: int
    asset: dict[str, Any]
    legal: dict[str, Any]


@bp.post("/assets")
@operation(request=AssetBody, status=201, tags=["book"], record=False)
def create_asset() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Keep an asset in the book (version 1): the asset, its external ids, the appraisal to
    re-run at each monitoring date, and value observations."""
    body = AssetBody.model_validate(json_body())
    document = body.model_dump(mode="json", exclude_none=True)
    document["events"] = []
    document["unclassified_events"] = []
    entry = book().create("asset", current_tenant(), document, asset_facts(document))
    return asset_answer(entry), 201, {"Location": f"/v1/assets/{entry['id']}"}


def _version_arg() -> int | None:
    raw = request.args.get("version")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise InputError.for_field("version", f"must be a whole number from 1; got {raw!r}")
    return int(raw)


def _as_of_arg() -> dt.date | None:
    raw = request.args.get("as_of")
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise InputError.for_field("as_of", f"must be an ISO 8601 date; got {raw!r}") from exc


@bp.get("/assets/<asset_id>")
@operation(
    tags=["book"],
    record=False,
    parameters=query(
        version=({"type": "integer", "minimum": 1}, "an older version (1, 2, ...)"),
        as_of=({"type": "string", "format": "date"}, "the legal record as of this date"),
    ),
)
def read_asset(asset_id: str) -> dict[str, Any]:
    """An asset as it stands (``?version=N`` an older version; ``?as_of=`` the legal record
    on another date)."""
    unknown = sorted(set(request.args) - {"version", "as_of"})
    if unknown:
        raise InputError.for_field(unknown[0], "is not a parameter here; use version or as_of")
    entry = book().get("asset", current_tenant(), asset_id, _version_arg())
    return asset_answer(entry, _as_of_arg())


@bp.delete("/assets/<asset_id>")
@operation(tags=["book"], record=False)
def archive_asset(asset_id: str) -> dict[str, Any]:
    """Archive an asset: it leaves the lists, every version stays readable."""
    return asset_answer(book().archive("asset", current_tenant(), asset_id))


@bp.get("/assets")
@operation(
    tags=["book"],
    record=False,
    errors=[422],
    parameters=[
        *common_parameters(),
        *query(
            asset_name=({"type": "string"}, "the asset's name"),
            asset_kind=({"type": "string"}, "patent, trademark, ..."),
            status=({"type": "string"}, "the legal status when the asset last changed"),
            archived=(
                {"type": "string", "enum": ["true", "false"], "default": "false"},
                "true includes archived ones",
            ),
        ),
    ],
)
def list_assets() -> dict[str, Any]:
    """The book's assets, newest first: ``limit``, ``cursor``, ``created_after/before``,
    ``asset_name``, ``asset_kind``, ``status``, ``archived=true`` to include archived ones."""
    page = parse_page(request.args, allowed=(*ASSET_FILTERS, "archived"))
    facts = {col: request.args[name] for name, col in ASSET_FILTERS.items() if name in request.args}
    archived = _archived_arg()
    answer = book().list("asset", current_tenant(), page, facts, archived=archived)
    return {
        "items": [asset_answer(e) for e in answer["items"]],
        "next_cursor": answer["next_cursor"],
    }


def _archived_arg() -> bool:
    raw = request.args.get("archived", "false")
    if raw not in ("true", "false"):
        raise InputError.for_field("archived", f"must be true or false; got {raw!r}")
    return raw == "true"


def check_event(asset: Asset, event: BookEvent, field: str, latest: dt.date) -> None:
    """Refuse an event dated after ``latest`` or before the asset's filing date."""
    if event.date > latest:
        raise InputError.for_field(
            f"{field}.date",
            f"{event.date} is after today ({latest}); record events once they happen",
        )
    filed = asset.legal.filing_date
    if filed is not None and event.date < filed:
        raise InputError.for_field(
            f"{field}.date",
            f"{event.date} is before the asset's filing date ({filed}); check the date or asset",
        )


def _with_events(
    entry: dict[str, Any], events: list[BookEvent], unclassified: list[UnclassifiedEvent]
) -> tuple[dict[str, Any] | None, int]:
    """The asset document with the events it does not hold yet (by ``(source, code, date)``),
    or None when nothing is new; and how many events are new."""
    doc = entry["document"]
    known = {BookEvent.model_validate(e).key() for e in doc.get("events", [])}
    fresh = []
    for event in events:
        if event.key() not in known:
            known.add(event.key())
            fresh.append(event)
    kept = {(u["source"], u["code"], u["date"]) for u in doc.get("unclassified_events", [])}
    new_unclassified = [
        u for u in unclassified if (u.source, u.code, u.date.isoformat()) not in kept
    ]
    if not fresh and not new_unclassified:
        return None, 0
    document = {
        **doc,
        "events": [
            *doc.get("events", []),
            *(e.model_dump(mode="json", exclude_none=True) for e in fresh),
        ],
        "unclassified_events": [
            *doc.get("unclassified_events", []),
            *(u.model_dump(mode="json", exclude_none=True) for u in new_unclassified),
        ],
    }
    return document, len(fresh)


def add_events(
    tenant: str,
    by_asset: dict[str, tuple[list[BookEvent], list[UnclassifiedEvent]]],
    key: str | None = None,
    attempts: int = 3,
) -> dict[str, int]:
    """Add events to assets, each changed asset one new version, all in one transaction;
    duplicates by ``(source, code, date)`` are no-ops. Returns the number added per asset."""
    store = book()
    for attempt in range(attempts):
        changes = []
        added: dict[str, int] = {}
        for asset_id, (events, unclassified) in by_asset.items():
            entry = store.get("asset", tenant, asset_id)
            document, count = _with_events(entry, events, unclassified)
            added[asset_id] = count
            if document is not None:
                changes.append((asset_id, entry["version"], document, asset_facts(document), key))
        try:
            store.add_versions("asset", tenant, changes)
        except InputError:
            if attempt == attempts - 1:
                raise
            continue
        return added
    raise AssertionError("unreachable")


@bp.post("/assets/<asset_id>/events")
@operation(request=EventsBody, status=201, tags=["book"], record=False)
def post_events(asset_id: str) -> tuple[dict[str, Any], int]:
    """Add legal events (any order; duplicates by ``(source, code, date)`` or a repeated
    ``Idempotency-Key`` are no-ops). A lapse, expiry or invalidation changes the status and the
    remaining life at once."""
    tenant = current_tenant()
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise InputError.for_field("Idempotency-Key", "must be 1 to 200 characters")
    store = book()
    entry = store.get("asset", tenant, asset_id)
    if key is not None:
        done = store.version_with_key(tenant, asset_id, key)
        if done is not None:
            answer = asset_answer(store.get("asset", tenant, asset_id, done))
            return {**answer, "added": 0, "replayed": True}, 200
    body = EventsBody.model_validate(json_body())
    asset = Asset.model_validate(entry["document"]["asset"])
    latest = today()
    for i, event in enumerate(body.events):
        check_event(asset, event, f"events[{i}]", latest)
    added = add_events(tenant, {asset_id: (body.events, [])}, key=key)[asset_id]
    updated = store.get("asset", tenant, asset_id)
    return {**asset_answer(updated), "added": added, "replayed": False}, 201 if added else 200


@bp.post("/legal-status/imports")
@operation(
    tags=["book"],
    record=False,
    errors=[413],
    file_body=("text/plain", "text/csv"),
    parameters=[
        {
            "name": "format",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "enum": list(FORMATS)},
            "description": "the file's format: uspto-maintfee (the USPTO maintenance-fee "
            "events file) or csv (the README's columns)",
        },
        {
            "name": "on_error",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["fail", "skip"], "default": "fail"},
            "description": "fail: a malformed line imports nothing; skip: import the good lines",
        },
    ],
)
def import_legal_status() -> tuple[dict[str, Any], int]:
    """Import a bulk legal-status file (the body): ``?format=uspto-maintfee`` (the USPTO
    maintenance-fee events file) or ``csv`` (the README's columns). A malformed line is
    reported with its number and nothing is imported unless ``on_error=skip``; unknown office
    codes are kept on the asset and reported."""
    unknown = sorted(set(request.args) - {"format", "on_error"})
    if unknown:
        raise InputError.for_field(unknown[0], "is not a parameter here; use format, on_error")
    fmt = request.args.get("format")
    if fmt not in FORMATS:
        raise InputError.for_field("format", f"must be one of {', '.join(FORMATS)}; got {fmt!r}")
    on_error = request.args.get("on_error", "fail")
    if on_error not in ("fail", "skip"):
        raise InputError.for_field("on_error", f"must be fail or skip; got {on_error!r}")
    try:
        text = request.get_data(cache=False).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.for_field("body", "the file must be UTF-8 or ASCII text") from exc
    parsed = parse(fmt, text)
    tenant = current_tenant()
    latest = today()
    index: dict[str, str] = {}
    assets: dict[str, Asset] = {}
    for entry in book().all_current("asset", tenant):
        assets[entry["id"]] = Asset.model_validate(entry["document"]["asset"])
        for k in asset_keys(entry["id"], entry["document"].get("external_ids", {})):
            index.setdefault(k, entry["id"])
    rejected = [{"line": r.line, "message": r.message} for r in parsed.rejected]
    by_asset: dict[str, tuple[list[BookEvent], list[UnclassifiedEvent]]] = {}
    unmatched = 0
    unknown_codes: dict[str, int] = {}
    administrative = 0
    for row in parsed.rows:
        if row.unknown and row.code:
            unknown_codes[row.code] = unknown_codes.get(row.code, 0) + 1
        found = next((index[k] for k in match_key(row.ids) if k in index), None)
        if found is None:
            unmatched += 1
            continue
        if row.event is not None:
            try:
                check_event(assets[found], row.event, "date", latest)
            except InputError as exc:
                rejected.append({"line": row.line, "message": exc.problems[0].message})
                continue
        events, kept = by_asset.setdefault(found, ([], []))
        if row.event is not None:
            events.append(row.event)
        elif row.unknown:
            kept.append(
                UnclassifiedEvent(
                    code=row.code or "", date=row.date, source=row.source, detail=row.detail
                )
            )
        else:
            administrative += 1
    rejected.sort(key=lambda r: int(r["line"]))
    if rejected and on_error != "skip":
        raise InputError(
            f"{len(rejected)} line(s) of the file cannot be imported (first: line "
            f"{rejected[0]['line']}: {rejected[0]['message']}); nothing was imported. Fix them, "
            "or send ?on_error=skip to import the rest",
            [FieldProblem(f"line {r['line']}", str(r["message"])) for r in rejected[:100]],
        )
    imported = sum(add_events(tenant, by_asset).values()) if by_asset else 0
    return {
        "format": fmt,
        "lines": len(parsed.rows) + len(parsed.rejected),
        "imported": imported,
        "matched_assets": len(by_asset),
        "unmatched": unmatched,
        "administrative": administrative,
        "unknown_codes": unknown_codes,
        "rejected": rejected,
    }, 200
