"""Webhook subscriptions and their deliveries, through a transactional outbox.

A tenant subscribes a URL to events (``alert.raised``, ``monitoring.completed``) and gets a
secret once. Each event becomes one ``webhook_outbox`` row per subscription, written in the same
transaction as what it reports (an alert is committed together with its deliveries), so a
process killed between the commit and the send loses nothing: `deliver_due` sends every row
that is due, whoever wrote it, until it is delivered: **at least once** (a receiver must expect
a repeat and use the body's ``delivery_id`` to drop it).

A delivery is ``POST <url>`` with the JSON body and ``X-Ipvalue-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body with the subscription's secret (`sign`). A 2xx answer delivers it;
anything else (or no answer within `TIMEOUT` seconds) is retried with exponential backoff,
`BACKOFF_BASE` x 2^(attempts - 1) seconds capped at `BACKOFF_CAP`, and given up as ``failed``
after `MAX_ATTEMPTS`. The row is the delivery log (``GET /v1/webhooks/{id}/deliveries``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from ipvalue.api.book import _TS, metadata
from ipvalue.api.db import dumps, iso, now
from ipvalue.api.pagination import Page, keyset_filter, order_newest, page_of, parse_time
from ipvalue.models.errors import NotFoundError

EVENTS = ("alert.raised", "monitoring.completed")
TIMEOUT = 5.0
BACKOFF_BASE = 30.0
BACKOFF_CAP = 3600.0
MAX_ATTEMPTS = 10

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("archived_at", _TS, nullable=True),
)

outbox = Table(
    "webhook_outbox",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=False),
    Column("webhook_id", String(36), ForeignKey("webhooks.id"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", _TS, nullable=False),
    Column("delivered_at", _TS, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Ipvalue-Signature`` header value of ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def subscribe(engine: Engine, tenant: str, url: str, events: list[str]) -> dict[str, Any]:
    """Create a subscription; the answer carries its ``secret`` (shown only here)."""
    hook = {
        "id": str(uuid.uuid4()),
        "tenant": tenant,
        "url": url,
        "events": dumps(sorted(set(events))),
        "secret": "whsec_" + secrets.token_urlsafe(32),
        "created_at": now(),
    }
    with engine.begin() as conn:
        conn.execute(insert(webhooks), hook)
    return {**hook_answer(hook), "secret": hook["secret"]}


def hook_answer(row: Any) -> dict[str, Any]:
    """A subscription as the API shows it (never its secret)."""
    return {
        "id": row["id"],
        "url": row["url"],
        "events": json.loads(row["events"]),
        "created_at": iso(row["created_at"]),
        "archived_at": iso(row.get("archived_at")),
    }


def get_hook(engine: Engine, tenant: str, hook_id: str) -> dict[str, Any]:
    """The tenant's subscription ``hook_id`` (404 for anyone else's)."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(webhooks).where(webhooks.c.id == hook_id, webhooks.c.tenant == tenant)
            )
            .mappings()
            .first()
        )
    if row is None:
        raise NotFoundError(f"no webhook with id {hook_id!r} for this API key's tenant")
    return hook_answer(row)


def enqueue(conn: Connection, tenant: str, event: str, data: dict[str, Any]) -> int:
    """Write one outbox row per live subscription of ``tenant`` to ``event``, inside the
    caller's transaction; returns how many."""
    rows = conn.execute(
        select(webhooks.c.id, webhooks.c.events).where(
            webhooks.c.tenant == tenant, webhooks.c.archived_at.is_(None)
        )
    ).all()
    stamp = now()
    count = 0
    for hook_id, events in rows:
        if event not in json.loads(events):
            continue
        delivery_id = str(uuid.uuid4())
        body = {"event": event, "delivery_id": delivery_id, "created_at": iso(stamp), "data": data}
        conn.execute(
            insert(outbox),
            {
                "id": delivery_id,
                "tenant": tenant,
                "webhook_id": hook_id,
                "event": event,
                "body": dumps(body),
                "created_at": stamp,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": stamp,
            },
        )
        count += 1
    return count


Sender = Callable[[str, bytes, dict[str, str]], int]


def http_send(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url``; the answer's status (an error status is returned, not raised)."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones."""
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1)))


def deliver_due(
    engine: Engine, tenant: str | None = None, send: Sender = http_send, limit: int = 500
) -> dict[str, int]:
    """Send every due delivery (of ``tenant``, or all); returns counts by outcome.

    Each row is claimed by moving its ``next_attempt_at`` past the timeout before sending, so
    two deliverers running at once do not both send it in the same instant.
    """
    stamp = now()
    clauses = [outbox.c.status == "pending", outbox.c.next_attempt_at <= stamp]
    if tenant is not None:
        clauses.append(outbox.c.tenant == tenant)
    query = (
        select(outbox, webhooks.c.url, webhooks.c.secret)
        .join(webhooks, webhooks.c.id == outbox.c.webhook_id)
        .where(*clauses)
        .order_by(outbox.c.created_at, outbox.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        due = [dict(r) for r in conn.execute(query).mappings()]
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    for row in due:
        hold = now() + dt.timedelta(seconds=TIMEOUT * 3)
        with engine.begin() as conn:
            took = conn.execute(
                update(outbox)
                .where(outbox.c.id == row["id"], outbox.c.next_attempt_at == row["next_attempt_at"])
                .values(next_attempt_at=hold)
            ).rowcount
        if not took:
            continue
        body = row["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "X-Ipvalue-Signature": sign(row["secret"], body),
            "X-Ipvalue-Event": row["event"],
            "X-Ipvalue-Delivery": row["id"],
        }
        status: int | None = None
        error: str | None = None
        try:
            status = send(row["url"], body, headers)
        except Exception as exc:  # any failure to reach the receiver is retried
            error = f"{type(exc).__name__}: {exc}"[:500]
        attempts = int(row["attempts"]) + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error}
        if status is not None and 200 <= status < 300:
            values.update(status="delivered", delivered_at=now())
            counts["delivered"] += 1
        elif attempts >= MAX_ATTEMPTS:
            values.update(status="failed")
            counts["failed"] += 1
        else:
            values.update(next_attempt_at=now() + dt.timedelta(seconds=backoff(attempts)))
            counts["retry"] += 1
        with engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row["id"]).values(**values))
    return counts


def deliveries(engine: Engine, tenant: str, hook_id: str, page: Page) -> dict[str, Any]:
    """A page of a subscription's delivery log, newest first."""
    get_hook(engine, tenant, hook_id)
    query = (
        select(outbox)
        .where(outbox.c.webhook_id == hook_id, outbox.c.tenant == tenant)
        .where(*keyset_filter(page, outbox.c.created_at, outbox.c.id))
        .order_by(*order_newest(outbox.c.created_at, outbox.c.id))
        .limit(page.limit + 1)
    )
    with engine.connect() as conn:
        rows = [
            {
                "id": r["id"],
                "event": r["event"],
                "created_at": iso(r["created_at"]),
                "status": r["status"],
                "attempts": r["attempts"],
                "next_attempt_at": iso(r["next_attempt_at"]),
                "delivered_at": iso(r["delivered_at"]),
                "last_status": r["last_status"],
                "last_error": r["last_error"],
                "body": json.loads(r["body"]),
            }
            for r in conn.execute(query).mappings()
        ]
    return page_of(rows, page, lambda d: d, lambda d: (parse_time(d["created_at"]), d["id"]))
