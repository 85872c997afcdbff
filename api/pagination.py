"""Cursor pagination for every list endpoint: ``limit``, ``cursor``, ``created_after/before``.

Lists answer ``{"items": [...], "next_cursor"}`` newest first. The cursor is the keyset of the
last item shown, ``(created_at, id)``, as URL-safe base64 of a small JSON array, so a page never
repeats or skips a row when new rows arrive between two requests (offsets would).

`parse_page` reads and checks the common query parameters; `keyset_filter` and `order_newest`
build the SQLAlchemy clauses for a table with ``created_at`` and ``id`` columns; `page_of` cuts
the fetched rows (ask for ``limit + 1``) into the answer.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, and_, or_
from sqlalchemy.sql.elements import ColumnElement

from ipvalue.api.db import iso
from ipvalue.models.errors import InputError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
COMMON_PARAMS = ("limit", "cursor", "created_after", "created_before")


@dataclass(frozen=True)
class Page:
    """The common list parameters of one request."""

    limit: int
    after: tuple[datetime, str] | None
    created_after: datetime | None
    created_before: datetime | None


def encode_cursor(created_at: datetime, row_id: str) -> str:
    """The cursor that continues after the row ``(created_at, row_id)``."""
    raw = json.dumps([iso(created_at), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, row_id = json.loads(raw)
        return parse_time(str(stamp), "cursor"), str(row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InputError.for_field(
            "cursor", "is not a cursor this service gave; pass next_cursor of the previous page"
        ) from exc


def parse_time(value: str, field: str = "created_at") -> datetime:
    """An ISO 8601 date or time as an aware UTC datetime (no zone: UTC).

    Raises
    ------
    InputError
        Naming ``field`` when ``value`` is not ISO 8601.
    """
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError.for_field(
            field, f"must be an ISO 8601 date or time, e.g. 2026-12-01T00:00:00Z; got {value!r}"
        ) from exc
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def parse_page(args: Mapping[str, str], allowed: Sequence[str] = ()) -> Page:
    """The common list parameters of ``args``; refuses any parameter not in ``allowed``.

    Parameters
    ----------
    args : mapping
        The query string (``request.args``).
    allowed : sequence of str
        The kind's own filter names, accepted beside `COMMON_PARAMS`.

    Raises
    ------
    InputError
        For a limit outside [1, 500], a cursor this service did not give, a bad time, or an
        unknown parameter.
    """
    unknown = sorted(set(args) - set(COMMON_PARAMS) - set(allowed))
    if unknown:
        names = ", ".join([*COMMON_PARAMS, *allowed])
        raise InputError.for_field(unknown[0], f"is not a parameter of this list; use {names}")
    raw_limit = args.get("limit", str(DEFAULT_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise InputError.for_field(
            "limit", f"must be a whole number from 1 to {MAX_LIMIT}; got {raw_limit!r}"
        )
    cursor = args.get("cursor")
    return Page(
        limit=int(raw_limit),
        after=_decode_cursor(cursor) if cursor else None,
        created_after=parse_time(args["created_after"], "created_after")
        if "created_after" in args
        else None,
        created_before=parse_time(args["created_before"], "created_before")
        if "created_before" in args
        else None,
    )


def keyset_filter(page: Page, created_at: Column[Any], row_id: Column[Any]) -> list[Any]:
    """WHERE clauses for ``page`` on a table's ``created_at`` and ``id`` columns."""
    clauses: list[ColumnElement[bool]] = []
    if page.created_after is not None:
        clauses.append(created_at > page.created_after)
    if page.created_before is not None:
        clauses.append(created_at < page.created_before)
    if page.after is not None:
        stamp, last_id = page.after
        clauses.append(or_(created_at < stamp, and_(created_at == stamp, row_id < last_id)))
    return clauses


def order_newest(created_at: Column[Any], row_id: Column[Any]) -> tuple[Any, Any]:
    """ORDER BY for newest first, ties broken by id (the order `keyset_filter` continues)."""
    return created_at.desc(), row_id.desc()


def page_of(
    rows: Sequence[Any],
    page: Page,
    item: Callable[[Any], dict[str, Any]],
    key: Callable[[Any], tuple[datetime, str]],
) -> dict[str, Any]:
    """The list answer from rows fetched with ``LIMIT page.limit + 1``.

    Parameters
    ----------
    rows : sequence
        Rows in `order_newest` order, at most ``page.limit + 1``.
    item : callable
        A row as the item shown.
    key : callable
        A row's ``(created_at, id)``.
    """
    shown = rows[: page.limit]
    more = len(rows) > page.limit
    return {
        "items": [item(row) for row in shown],
        "next_cursor": encode_cursor(*key(shown[-1])) if more and shown else None,
    }
