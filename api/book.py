"""Where the pledge book lives: versioned assets and loans, alerts, and loan leases.

- ``book_versions`` keeps every version of every asset and loan (append-only; the database
  refuses updates and deletes, migration 0006). ``book_heads`` points at the latest version and
  keeps what lists filter and sort on (``label``: the asset's name or the borrower; ``status``:
  the asset's legal status or the loan's state; ``category``: the asset's kind; ``risk``: the
  loan's latest probability of an LTV breach). ``DELETE`` archives: the head gets
  ``archived_at``, every version stays readable.
- ``alerts`` change status only: open -> acknowledged -> cleared, or open -> cleared.
- ``loan_leases``: a monitoring run holds a loan's lease while it evaluates it, so exactly one
  run handles a loan at a time across workers and processes (an insert, or an update of an
  expired lease, is atomic on SQLite and PostgreSQL alike).

Everything is tenant-scoped: another tenant's id is "not found". Records (a loan's evaluations)
are the record store's (`BookStore.records`, `ipvalue.api.store.SqlStore`); a loan's evaluation
is written through it in the transaction that stores its alerts.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ipvalue.api.db import dumps, iso, now
from ipvalue.api.pagination import Page, keyset_filter, order_newest, page_of, parse_time
from ipvalue.api.store import SqlStore, in_batches
from ipvalue.api.versions import library_versions
from ipvalue.models.errors import InputError, NotFoundError

metadata = MetaData()
_TS = DateTime(timezone=True)

# Mirrors of the tables of migration 0006 (the FK target only needs its name here).
_tenants = Table("tenants", metadata, Column("name", String(64), primary_key=True))

book_heads = Table(
    "book_heads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    Column("version", Integer, nullable=False),
    Column("archived_at", _TS, nullable=True),
    Column("label", String(200), nullable=True),
    Column("status", String(32), nullable=True),
    Column("category", String(32), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("risk", Float, nullable=True),
)

book_versions = Table(
    "book_versions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("document", Text, nullable=False),
    Column("versions", Text, nullable=False),
    Column("idempotency_key", String(200), nullable=True),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=False),
    Column("loan_id", String(36), nullable=False),
    Column("asset_id", String(36), nullable=True),
    Column("rule", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("raised_at", _TS, nullable=False),
    Column("status", String(16), nullable=False),
    Column("acknowledged_by", String(200), nullable=True),
    Column("acknowledged_at", _TS, nullable=True),
    Column("note", Text, nullable=True),
    Column("cleared_at", _TS, nullable=True),
    Column("run_id", String(36), nullable=True),
)

loan_leases = Table(
    "loan_leases",
    metadata,
    Column("loan_id", String(36), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("expires_at", _TS, nullable=False),
)

FACTS = ("label", "status", "category", "currency")
"""The head columns a kind's facts fill (see `BookStore.create`)."""


def _not_found(kind: str, item_id: str) -> NotFoundError:
    return NotFoundError(f"no {kind} with id {item_id!r} for this API key's tenant")


def _entry(head: Any, version: Any) -> dict[str, Any]:
    return {
        "id": head["id"],
        "kind": head["kind"],
        "version": int(version["version"]),
        "latest_version": int(head["version"]),
        "created_at": iso(head["created_at"]),
        "updated_at": iso(version["created_at"]),
        "archived_at": iso(head["archived_at"]),
        "versions": json.loads(version["versions"]),
        "document": json.loads(version["document"]),
        "risk": head["risk"],
    }


class BookStore:
    """The pledge book in a migrated database.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.records = SqlStore(engine)

    # -- versioned items ----------------------------------------------------------------

    def create(
        self, kind: str, tenant: str, document: dict[str, Any], facts: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a new asset or loan as version 1; returns its entry."""
        item_id = str(uuid.uuid4())
        stamp = now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(book_heads),
                {
                    "id": item_id,
                    "kind": kind,
                    "tenant": tenant,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "version": 1,
                    **{k: facts.get(k) for k in FACTS},
                },
            )
            self._insert_version(conn, kind, tenant, item_id, 1, document, stamp, None)
        return self.get(kind, tenant, item_id)

    def _insert_version(
        self,
        conn: Connection,
        kind: str,
        tenant: str,
        item_id: str,
        version: int,
        document: dict[str, Any],
        stamp: dt.datetime,
        key: str | None,
    ) -> None:
        conn.execute(
            insert(book_versions),
            {
                "id": item_id,
                "version": version,
                "kind": kind,
                "tenant": tenant,
                "created_at": stamp,
                "document": dumps(document),
                "versions": dumps(library_versions()),
                "idempotency_key": key,
            },
        )

    def add_version(
        self,
        kind: str,
        tenant: str,
        item_id: str,
        version: int,
        document: dict[str, Any],
        facts: dict[str, Any],
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Store ``document`` as the version after ``version`` (the one it was made from).

        Raises
        ------
        InputError
            When another change made that version first (the caller reads and retries).
        """
        self.add_versions(kind, tenant, [(item_id, version, document, facts, idempotency_key)])
        return self.get(kind, tenant, item_id)

    def add_versions(
        self,
        kind: str,
        tenant: str,
        changes: list[tuple[str, int, dict[str, Any], dict[str, Any], str | None]],
    ) -> None:
        """Store several changes ``(id, version, document, facts, idempotency_key)`` in one
        transaction: all of them, or none (a bulk import is never half-written).

        Raises
        ------
        InputError
            When another change moved any of them first (nothing is stored; read and retry).
        """
        stamp = now()
        try:
            with self.engine.begin() as conn:
                for item_id, version, document, facts, key in changes:
                    moved = conn.execute(
                        update(book_heads)
                        .where(
                            book_heads.c.id == item_id,
                            book_heads.c.tenant == tenant,
                            book_heads.c.version == version,
                        )
                        .values(
                            version=version + 1,
                            updated_at=stamp,
                            **{k: facts.get(k) for k in FACTS},
                        )
                    ).rowcount
                    if not moved:
                        raise IntegrityError(item_id, None, Exception("version conflict"))
                    self._insert_version(
                        conn, kind, tenant, item_id, version + 1, document, stamp, key
                    )
        except IntegrityError as exc:
            raise InputError.for_field(
                "version",
                f"{kind} {exc.statement!r} changed while this change was made (its version is "
                "no longer the one read); send it again",
            ) from exc

    def _head(self, conn: Connection, kind: str, tenant: str, item_id: str) -> Any:
        head = (
            conn.execute(
                select(book_heads).where(
                    book_heads.c.id == item_id,
                    book_heads.c.kind == kind,
                    book_heads.c.tenant == tenant,
                )
            )
            .mappings()
            .first()
        )
        if head is None:
            raise _not_found(kind, item_id)
        return head

    def get(
        self, kind: str, tenant: str, item_id: str, version: int | None = None
    ) -> dict[str, Any]:
        """An asset's or loan's entry: the latest version, or ``version``."""
        with self.engine.connect() as conn:
            head = self._head(conn, kind, tenant, item_id)
            wanted = head["version"] if version is None else version
            row = (
                conn.execute(
                    select(book_versions).where(
                        book_versions.c.id == item_id, book_versions.c.version == wanted
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(
                f"{kind} {item_id!r} has versions 1 to {head['version']}; got version {version}"
            )
        return _entry(head, row)

    def version_with_key(self, tenant: str, item_id: str, key: str) -> int | None:
        """The version an ``Idempotency-Key`` made, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(book_versions.c.version).where(
                    book_versions.c.tenant == tenant,
                    book_versions.c.id == item_id,
                    book_versions.c.idempotency_key == key,
                )
            ).first()
        return None if row is None else int(row[0])

    def archive(self, kind: str, tenant: str, item_id: str) -> dict[str, Any]:
        """Archive an asset or loan (its versions stay readable); archiving twice is a no-op."""
        with self.engine.begin() as conn:
            self._head(conn, kind, tenant, item_id)
            conn.execute(
                update(book_heads)
                .where(book_heads.c.id == item_id, book_heads.c.archived_at.is_(None))
                .values(archived_at=now())
            )
        return self.get(kind, tenant, item_id)

    def _current(self) -> Any:
        return select(book_heads, book_versions).join(
            book_versions,
            and_(
                book_versions.c.id == book_heads.c.id,
                book_versions.c.version == book_heads.c.version,
            ),
        )

    def list(
        self,
        kind: str,
        tenant: str,
        page: Page,
        facts: dict[str, str] | None = None,
        archived: bool = False,
        by_risk: bool = False,
        risk_after: tuple[float, str] | None = None,
    ) -> dict[str, Any]:
        """A page of the tenant's items of ``kind`` (newest first, or riskiest first)."""
        clauses = [book_heads.c.kind == kind, book_heads.c.tenant == tenant]
        clauses += [book_heads.c[k] == v for k, v in (facts or {}).items()]
        if not archived:
            clauses.append(book_heads.c.archived_at.is_(None))
        query = self._current()
        if by_risk:
            risk = func.coalesce(book_heads.c.risk, -1.0)
            if risk_after is not None:
                last_risk, last_id = risk_after
                clauses.append(
                    or_(risk < last_risk, and_(risk == last_risk, book_heads.c.id < last_id))
                )
            if page.created_after is not None:
                clauses.append(book_heads.c.created_at > page.created_after)
            if page.created_before is not None:
                clauses.append(book_heads.c.created_at < page.created_before)
            query = query.where(*clauses).order_by(risk.desc(), book_heads.c.id.desc())
        else:
            clauses += keyset_filter(page, book_heads.c.created_at, book_heads.c.id)
            query = query.where(*clauses).order_by(
                *order_newest(book_heads.c.created_at, book_heads.c.id)
            )
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query.limit(page.limit + 1)).mappings()]
        entries = [_entry(r, r) for r in rows]
        if by_risk:
            shown = entries[: page.limit]
            more = len(entries) > page.limit
            return {
                "items": shown,
                "next_cursor": _risk_cursor(shown[-1]) if more and shown else None,
            }
        return page_of(entries, page, lambda e: e, lambda e: (parse_time(e["created_at"]), e["id"]))

    def all_current(self, kind: str, tenant: str) -> Iterator[dict[str, Any]]:
        """Every unarchived item of ``kind`` of the tenant, latest versions."""
        query = self._current().where(
            book_heads.c.kind == kind,
            book_heads.c.tenant == tenant,
            book_heads.c.archived_at.is_(None),
        )
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query.order_by(book_heads.c.id)).mappings()]
        for row in rows:
            yield _entry(row, row)

    # -- alerts ---------------------------------------------------------------------------

    def loan_alerts(self, tenant: str, loan_id: str) -> builtins.list[dict[str, Any]]:
        """A loan's alerts, oldest first."""
        query = (
            select(alerts)
            .where(alerts.c.tenant == tenant, alerts.c.loan_id == loan_id)
            .order_by(alerts.c.raised_at, alerts.c.id)
        )
        with self.engine.connect() as conn:
            return [alert_answer(r) for r in conn.execute(query).mappings()]

    def open_alerts(
        self, tenant: str, loan_ids: builtins.list[str] | None = None
    ) -> dict[str, builtins.list[dict[str, Any]]]:
        """The alerts not cleared of each loan (of ``loan_ids``, or every loan), oldest first,
        by loan id, in one query per `ipvalue.api.store.IN_BATCH` loans; loans without one are
        absent."""
        wanted = None if loan_ids is None else sorted(set(loan_ids))
        if wanted is not None and not wanted:
            return {}
        batches: list[list[str] | None] = [None] if wanted is None else [*in_batches(wanted)]
        found: dict[str, list[dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for batch in batches:
                clauses = [alerts.c.tenant == tenant, alerts.c.status != "cleared"]
                if batch is not None:
                    clauses.append(alerts.c.loan_id.in_(batch))
                query = select(alerts).where(*clauses).order_by(alerts.c.raised_at, alerts.c.id)
                for row in conn.execute(query).mappings():
                    found.setdefault(row["loan_id"], []).append(alert_answer(row))
        return found

    def list_alerts(
        self, tenant: str, page: Page, status: str | None, loan_id: str | None
    ) -> dict[str, Any]:
        """A page of the tenant's alerts, newest first."""
        clauses = [alerts.c.tenant == tenant]
        if status is not None:
            clauses.append(alerts.c.status == status)
        if loan_id is not None:
            clauses.append(alerts.c.loan_id == loan_id)
        clauses += keyset_filter(page, alerts.c.raised_at, alerts.c.id)
        query = (
            select(alerts)
            .where(*clauses)
            .order_by(*order_newest(alerts.c.raised_at, alerts.c.id))
            .limit(page.limit + 1)
        )
        with self.engine.connect() as conn:
            rows = [alert_answer(r) for r in conn.execute(query).mappings()]
        return page_of(rows, page, lambda a: a, lambda a: (parse_time(a["raised_at"]), a["id"]))

    def acknowledge(self, tenant: str, alert_id: str, by: str, note: str | None) -> dict[str, Any]:
        """Mark an open alert acknowledged by ``by``; acknowledging again keeps the first."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(alerts).where(alerts.c.id == alert_id, alerts.c.tenant == tenant)
            ).first()
            if row is None:
                raise _not_found("alert", alert_id)
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.acknowledged_at.is_(None))
                .values(acknowledged_by=by, acknowledged_at=now(), note=note)
            )
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.status == "open")
                .values(status="acknowledged")
            )
            found = conn.execute(select(alerts).where(alerts.c.id == alert_id)).mappings().first()
        return alert_answer(found)

    # -- leases ---------------------------------------------------------------------------

    def take_leases(self, loan_ids: builtins.list[str], owner: str, seconds: float) -> set[str]:
        """Take the leases of ``loan_ids`` for ``seconds`` in one transaction; returns those
        this owner now holds (a lease another owner holds and has not let expire stays theirs).

        An expired lease is taken by an update that re-checks the expiry (so of racing runs one
        moves it), a missing one by an insert that does nothing on a conflict (so of racing runs
        one creates it); then the rows this owner holds are read back.
        """
        if not loan_ids:
            return set()
        stamp = now()
        until = stamp + dt.timedelta(seconds=seconds)
        held = loan_leases.c.loan_id.in_(loan_ids)
        with self.engine.begin() as conn:
            conn.execute(
                update(loan_leases)
                .where(held, loan_leases.c.expires_at < stamp)
                .values(owner=owner, expires_at=until)
            )
            present = {r[0] for r in conn.execute(select(loan_leases.c.loan_id).where(held))}
            missing = [i for i in loan_ids if i not in present]
            if missing:
                conn.execute(
                    _insert_new(conn, loan_leases),
                    [{"loan_id": i, "owner": owner, "expires_at": until} for i in missing],
                )
            mine = select(loan_leases.c.loan_id).where(held, loan_leases.c.owner == owner)
            return {r[0] for r in conn.execute(mine)}

    def release_leases(self, loan_ids: builtins.list[str] | set[str], owner: str) -> None:
        """Give the leases back (only those this owner holds), in one transaction."""
        if not loan_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(loan_leases)
                .where(loan_leases.c.loan_id.in_(list(loan_ids)), loan_leases.c.owner == owner)
                .values(expires_at=now() - dt.timedelta(seconds=1))
            )


def _insert_new(conn: Connection, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` on SQLite or PostgreSQL."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def alert_answer(row: Any) -> dict[str, Any]:
    """An ``alerts`` row as the API shows it."""
    return {
        "id": row["id"],
        "loan_id": row["loan_id"],
        "asset_id": row["asset_id"],
        "rule": row["rule"],
        "severity": row["severity"],
        "reason": row["reason"],
        "action": row["action"],
        "raised_at": iso(row["raised_at"]),
        "status": row["status"],
        "acknowledged_by": row["acknowledged_by"],
        "acknowledged_at": iso(row["acknowledged_at"]),
        "note": row["note"],
        "cleared_at": iso(row["cleared_at"]),
        "run_id": row["run_id"],
    }


def _risk_cursor(entry: dict[str, Any]) -> str:
    risk = -1.0 if entry["risk"] is None else float(entry["risk"])
    raw = json.dumps(["risk", risk, entry["id"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_risk_cursor(cursor: str) -> tuple[float, str]:
    """The ``(risk, id)`` a ``sort=risk`` cursor continues after."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, risk, item_id = json.loads(raw)
        if tag != "risk":
            raise ValueError(tag)
        return float(risk), str(item_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InputError.for_field(
            "cursor", "is not a sort=risk cursor this service gave; pass next_cursor as given"
        ) from exc
