"""Where records live: immutable documents by kind, tenant and id.

A record is what one request produced: the request as sent, the inputs as resolved (defaults
filled, seed fixed), the seed or entropy, library versions, the result, the tenant and the time.
``save`` never overwrites (the database also refuses updates and deletes, see the migration);
``get`` returns the same document on every read. A record of another tenant is "not found".
``list`` pages through a tenant's records of one kind, newest first, filtered by the facts
`ipvalue.api.facts.record_facts` keeps in columns; ``latest`` and ``latest_many`` give the newest
record about a subject (a monitored loan), the second for many subjects in one query.

Every record is written here: `record_row` makes the row (its id, digest and facts) and
`write_row` inserts it, inside the caller's transaction when a record must be committed together
with something else (a job's final state, a loan's evaluation with its alerts); ``save`` does
both in one statement of its own, or in the connection it is given.

`SqlStore` is the service's store; `MemoryStore` keeps the same contract in a dict for unit tests
of code that needs a store but no database.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, insert, select

from ipvalue.api.db import autocommit, dumps, iso, now
from ipvalue.api.delta import STORED, delta, restore
from ipvalue.api.digest import record_digest
from ipvalue.api.facts import COLUMNS, record_facts
from ipvalue.api.pagination import Page, keyset_filter, order_newest, page_of, parse_time
from ipvalue.api.tables import records
from ipvalue.api.versions import library_versions
from ipvalue.models.errors import NotFoundError

RECORD_FIELDS = ("request", "inputs", "seed", "versions", "result", "job_id", "subject")


class RecordStore(Protocol):
    """Immutable records by kind, tenant and id."""

    def save(self, kind: str, tenant: str, record: dict[str, Any]) -> str:
        """Store ``record`` (keys of `RECORD_FIELDS`) and return its new id."""
        ...

    def get(self, kind: str, tenant: str, record_id: str) -> dict[str, Any]:
        """The record with ``id``, ``kind``, ``created_at`` and `RECORD_FIELDS`.

        Raises `NotFoundError` when it does not exist or belongs to another tenant.
        """
        ...

    def find_digest(self, tenant: str, sha256: str) -> tuple[str, str] | None:
        """``(kind, id)`` of the tenant's record whose `record_digest` is ``sha256``, if any."""
        ...

    def history(self, kind: str, tenant: str, subject: str) -> list[dict[str, Any]]:
        """The tenant's records of ``kind`` about ``subject`` (e.g. a monitored asset), oldest
        first."""
        ...

    def latest_many(
        self, kind: str, tenant: str, subjects: Iterable[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """The newest record of ``kind`` about each of ``subjects`` (every subject when None),
        by subject; subjects without one are absent."""
        ...


def record_row(kind: str, tenant: str, record: dict[str, Any]) -> dict[str, Any]:
    """The ``records`` row of ``record`` (keys of `RECORD_FIELDS`; ``result`` required).

    ``versions`` defaults to the versions installed here; ``request`` is stored as given and
    ``inputs`` (default ``request``) as its difference from the request (`ipvalue.api.delta`),
    so a large body is not stored twice.
    """
    seed = record.get("seed")
    document = {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "created_at": now(),
        "request": record.get("request"),
        "inputs": record.get("inputs", record.get("request")),
        "seed": None if seed is None else str(seed),
        "versions": record.get("versions") or library_versions(),
        "result": record["result"],
        "job_id": record.get("job_id"),
    }
    row = {
        **document,
        "tenant": tenant,
        "subject": record.get("subject"),
        **{name: dumps(document[name]) for name in ("request", "versions", "result")},
        "inputs": dumps(_stored_inputs(record)),
        **record_facts(kind, record),
    }
    row["sha256"] = record_digest({**document, "created_at": iso(document["created_at"])})
    return row


def write_row(conn: Connection, row: dict[str, Any]) -> str:
    """Insert a `record_row` in the caller's transaction; returns the record's id.

    The one ``INSERT`` into ``records``: a record committed together with other rows (a job's
    state, a loan's alerts, the webhook outbox) is written through here, so it is either all
    there or not at all.
    """
    conn.execute(insert(records), row)
    return str(row["id"])


def _stored_inputs(record: dict[str, Any]) -> Any:
    """The inputs as stored: the difference from the request when that is smaller."""
    request, inputs = record.get("request"), record.get("inputs", record.get("request"))
    change = delta(request, inputs)
    if "$set" in change:
        return inputs
    return {STORED: change}


def _inputs(request: Any, stored: Any) -> Any:
    if isinstance(stored, dict) and set(stored) == {STORED}:
        return restore(request, stored[STORED])
    return stored


def _check_facts(facts: dict[str, str] | None) -> dict[str, str]:
    unknown = set(facts or {}) - set(COLUMNS)
    if unknown:
        raise ValueError(f"not fact columns: {sorted(unknown)}")
    return dict(facts or {})


def _key(document: dict[str, Any]) -> tuple[Any, str]:
    return parse_time(document["created_at"]), document["id"]


def _not_found(kind: str, record_id: str) -> NotFoundError:
    return NotFoundError(f"no {kind} with id {record_id!r} for this API key's tenant")


class SqlStore:
    """Records in the ``records`` table of a SQLAlchemy engine.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A migrated database.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(
        self, kind: str, tenant: str, record: dict[str, Any], conn: Connection | None = None
    ) -> str:
        """Store ``record``; in ``conn``'s transaction when given (committed with it)."""
        row = record_row(kind, tenant, record)
        if conn is not None:
            return write_row(conn, row)
        with autocommit(self.engine) as own:  # one INSERT: atomic, one round trip
            return write_row(own, row)

    def get(self, kind: str, tenant: str, record_id: str) -> dict[str, Any]:
        query = select(records).where(
            records.c.id == record_id, records.c.kind == kind, records.c.tenant == tenant
        )
        with autocommit(self.engine) as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise _not_found(kind, record_id)
        return _document(row)

    def find_digest(self, tenant: str, sha256: str) -> tuple[str, str] | None:
        query = select(records.c.kind, records.c.id).where(
            records.c.tenant == tenant, records.c.sha256 == sha256
        )
        with autocommit(self.engine) as conn:
            row = conn.execute(query).first()
        return None if row is None else (str(row.kind), str(row.id))

    def history(self, kind: str, tenant: str, subject: str) -> list[dict[str, Any]]:
        query = (
            select(records)
            .where(records.c.kind == kind, records.c.tenant == tenant, records.c.subject == subject)
            .order_by(records.c.created_at, records.c.id)
        )
        with autocommit(self.engine) as conn:
            return [_document(row) for row in conn.execute(query).mappings()]

    def latest(self, kind: str, tenant: str, subject: str) -> dict[str, Any] | None:
        """The newest record of ``kind`` about ``subject``, or None."""
        return self.latest_many(kind, tenant, [subject]).get(subject)

    def latest_many(
        self, kind: str, tenant: str, subjects: Iterable[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """The newest record of ``kind`` about each subject, in one query per `IN_BATCH`
        subjects (one query for every subject of the tenant when ``subjects`` is None)."""
        wanted = None if subjects is None else sorted(set(subjects))
        if wanted is not None and not wanted:
            return {}
        batches: list[list[str] | None] = [None] if wanted is None else [*in_batches(wanted)]
        found: dict[str, dict[str, Any]] = {}
        with autocommit(self.engine) as conn:
            for batch in batches:
                for row in conn.execute(_newest_query(kind, tenant, batch)).mappings():
                    found[row["subject"]] = _document(row)
        return found

    def list(
        self, kind: str, tenant: str, page: Page, facts: dict[str, str] | None = None
    ) -> dict[str, Any]:
        clauses = [records.c.kind == kind, records.c.tenant == tenant]
        clauses += [records.c[name] == value for name, value in _check_facts(facts).items()]
        clauses += keyset_filter(page, records.c.created_at, records.c.id)
        query = (
            select(records)
            .where(*clauses)
            .order_by(*order_newest(records.c.created_at, records.c.id))
            .limit(page.limit + 1)
        )
        with autocommit(self.engine) as conn:
            rows = [_document(row) for row in conn.execute(query).mappings()]
        return page_of(rows, page, lambda doc: doc, _key)


IN_BATCH = 500
"""Subjects per ``IN (...)`` list of `SqlStore.latest_many` (a page of a list holds at most
`ipvalue.api.pagination.MAX_LIMIT` = 500, so a page is one query)."""


def in_batches(items: list[str]) -> list[list[str]]:
    """``items`` in lists of at most `IN_BATCH`, one ``IN (...)`` each."""
    return [items[i : i + IN_BATCH] for i in range(0, len(items), IN_BATCH)]


def _newest_query(kind: str, tenant: str, subjects: list[str] | None) -> Any:
    """The newest row of ``kind`` per subject (ties broken by id, as lists order them)."""
    clauses = [records.c.kind == kind, records.c.tenant == tenant, records.c.subject.isnot(None)]
    if subjects is not None:
        clauses.append(records.c.subject.in_(subjects))
    rank = (
        func.row_number()
        .over(
            partition_by=records.c.subject,
            order_by=(records.c.created_at.desc(), records.c.id.desc()),
        )
        .label("newest")
    )
    ranked = select(records, rank).where(*clauses).subquery()
    return select(ranked).where(ranked.c.newest == 1)


def _document(row: Any) -> dict[str, Any]:
    """A ``records`` row as the stored document."""
    request = json.loads(row["request"])
    return {
        "id": row["id"],
        "kind": row["kind"],
        "created_at": iso(row["created_at"]),
        "request": request,
        "inputs": _inputs(request, json.loads(row["inputs"])),
        "seed": row["seed"],
        "versions": json.loads(row["versions"]),
        "result": json.loads(row["result"]),
        "job_id": row["job_id"],
        "subject": row["subject"],
        "facts": {name: row[name] for name in COLUMNS},
        "sha256": row["sha256"],
    }


class MemoryStore:
    """The same contract in a dict; for tests that need a store but no database."""

    def __init__(self) -> None:
        self._records: dict[str, tuple[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def save(self, kind: str, tenant: str, record: dict[str, Any]) -> str:
        record_id = str(uuid.uuid4())
        seed = record.get("seed")
        stored = {
            "id": record_id,
            "kind": kind,
            "created_at": iso(now()),
            **{k: copy.deepcopy(record.get(k)) for k in RECORD_FIELDS},
            "seed": None if seed is None else str(seed),
            "facts": record_facts(kind, record),
        }
        stored = json.loads(dumps(stored))
        stored["sha256"] = record_digest(stored)
        with self._lock:
            self._records[record_id] = (tenant, stored)
        return record_id

    def find_digest(self, tenant: str, sha256: str) -> tuple[str, str] | None:
        with self._lock:
            for owner, doc in self._records.values():
                if owner == tenant and doc["sha256"] == sha256:
                    return str(doc["kind"]), str(doc["id"])
        return None

    def get(self, kind: str, tenant: str, record_id: str) -> dict[str, Any]:
        with self._lock:
            found = self._records.get(record_id)
        if found is None or found[0] != tenant or found[1]["kind"] != kind:
            raise _not_found(kind, record_id)
        return copy.deepcopy(found[1])

    def history(self, kind: str, tenant: str, subject: str) -> list[dict[str, Any]]:
        with self._lock:
            found = [
                copy.deepcopy(doc)
                for owner, doc in self._records.values()
                if owner == tenant and doc["kind"] == kind and doc["subject"] == subject
            ]
        return sorted(found, key=lambda doc: (doc["created_at"], doc["id"]))

    def latest(self, kind: str, tenant: str, subject: str) -> dict[str, Any] | None:
        return self.latest_many(kind, tenant, [subject]).get(subject)

    def latest_many(
        self, kind: str, tenant: str, subjects: Iterable[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        wanted = None if subjects is None else set(subjects)
        with self._lock:
            docs = [
                copy.deepcopy(doc)
                for owner, doc in self._records.values()
                if owner == tenant
                and doc["kind"] == kind
                and doc["subject"] is not None
                and (wanted is None or doc["subject"] in wanted)
            ]
        found: dict[str, dict[str, Any]] = {}
        for doc in sorted(docs, key=lambda d: (d["created_at"], d["id"])):
            found[doc["subject"]] = doc
        return found

    def list(
        self, kind: str, tenant: str, page: Page, facts: dict[str, str] | None = None
    ) -> dict[str, Any]:
        wanted = _check_facts(facts)
        after, before, cursor = page.created_after, page.created_before, page.after
        found = []
        with self._lock:
            for owner, doc in self._records.values():
                key = _key(doc)
                if (
                    owner != tenant
                    or doc["kind"] != kind
                    or any(doc["facts"][name] != value for name, value in wanted.items())
                    or (after is not None and not key[0] > after)
                    or (before is not None and not key[0] < before)
                    or (cursor is not None and not key < cursor)
                ):
                    continue
                found.append(copy.deepcopy(doc))
        found.sort(key=_key, reverse=True)
        return page_of(found[: page.limit + 1], page, lambda doc: doc, _key)
