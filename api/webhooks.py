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

Only public receivers (no server-side request forgery): a URL must be ``http://`` or
``https://`` and every address its host resolves to must be publicly routable; loopback,
link-local (169.254.0.0/16, fe80::/10), private (10/8, 172.16/12, 192.168/16, fc00::/7),
multicast, unspecified and other non-global addresses are refused (`refusal`), and cloud
metadata addresses and names always. The subscription is refused with 422 naming ``url``; each
delivery checks again (DNS may have changed since) and connects to the very address it checked,
follows no redirect, and a refused delivery is logged with status ``refused`` and the reason,
never sent. ``WEBHOOK_ALLOW_PRIVATE`` (``IPVALUE_WEBHOOK_ALLOW_PRIVATE=true``) admits private,
loopback and link-local receivers, for tests and closed networks; deliveries run in job
processes, which read it from the environment.

Through an outbound proxy when the environment names one (`proxy_for`): ``http_proxy`` /
``HTTP_PROXY`` for ``http://`` receivers, ``https_proxy`` / ``HTTPS_PROXY`` for ``https://``
ones, as ``http://[user:password@]host[:port]`` (port 80 by default; the credentials go as
``Proxy-Authorization: Basic``), unless ``no_proxy`` / ``NO_PROXY`` names the receiver's host
(comma-separated host names, domain suffixes such as ``.bank.example``, ``host:port``, or ``*``
for all); the lower-case name wins when both are set, as in urllib and curl. An ``http://``
delivery is sent to the proxy with the absolute URI (``POST http://host:port/path``); an
``https://`` one opens a ``CONNECT host:port`` tunnel and speaks TLS through it to the receiver,
verifying the receiver's certificate for the URL's host. The receiver is still resolved and
checked first (a refused one is never sent, proxy or not); the proxy itself may be private, and
it resolves the receiver's name itself, so the address it connects to is the proxy's to police.
A proxy setting that cannot be used (not a URL, a scheme other than ``http``, no host) and a
proxy that cannot be reached or refuses the tunnel are `ProxyError`: the delivery is retried and
its log says which variable and why (credentials left out).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import re
import secrets
import socket
import ssl
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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
from ipvalue.api.config import from_env
from ipvalue.api.db import dumps, iso, now
from ipvalue.api.pagination import Page, keyset_filter, order_newest, page_of, parse_time
from ipvalue.models.errors import InputError, NotFoundError

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


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
"""Cloud instance metadata services (AWS, GCP, Azure, OpenStack; AWS ECS; Alibaba; AWS IPv6):
refused even when private receivers are allowed."""
METADATA_HOSTS = frozenset(("metadata", "metadata.google.internal", "instance-data"))
"""Host names of metadata services, refused before any look-up."""
FIX = (
    "subscribe the receiver's public http:// or https:// URL (a test or closed network may set "
    "IPVALUE_WEBHOOK_ALLOW_PRIVATE=true to allow private, loopback and link-local receivers)"
)


class RefusedURL(ValueError):
    """A webhook URL this service does not send to; the message says why."""


class ProxyError(OSError):
    """A delivery that cannot go through the proxy the environment names: a setting that is
    not a usable proxy URL, or a proxy that does not answer or refuses the tunnel; the message
    names the variable and says why."""


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL's parts and the checked address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def refusal(address: IPAddress, allow_private: bool = False) -> str | None:
    """Why a receiver at ``address`` is refused, or None when it may be sent to."""
    ip = address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    kinds = (
        ("is_unspecified", "an unspecified address"),
        ("is_multicast", "a multicast address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_private", "a private address"),
    )
    for attribute, name in kinds:
        if getattr(ip, attribute):
            if allow_private and attribute in ("is_loopback", "is_link_local", "is_private"):
                return None
            return name
    if not ip.is_global:
        return None if allow_private else "an address that is not publicly routable"
    return None


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (``socket.getaddrinfo``), in the resolver's order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def target(url: str, allow_private: bool = False) -> Target:
    """Check ``url`` and resolve its host: the `Target` to connect to.

    Raises
    ------
    RefusedURL
        A scheme other than http or https, no host, a host that does not resolve, or one
        address of it `refusal` refuses.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedURL(f"is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedURL(f"must be http:// or https://; got scheme {parts.scheme or 'none'!r}")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise RefusedURL("has no host")
    if host in METADATA_HOSTS:
        raise RefusedURL(f"host {host!r} is a cloud metadata service")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = resolve_host(host, port)
    except (OSError, UnicodeError) as exc:
        raise RefusedURL(f"host {host!r} does not resolve ({exc})") from exc
    if not addresses:
        raise RefusedURL(f"host {host!r} does not resolve")
    for text in addresses:
        why = refusal(ipaddress.ip_address(text.split("%")[0]), allow_private)
        if why is not None:
            shown = "" if text == host else f" resolves to {text}, which"
            raise RefusedURL(f"host {host!r}{shown} is {why}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path, addresses[0])


def check_url(url: str, allow_private: bool = False) -> None:
    """Refuse a subscription's ``url`` with a 422 naming the field and the fix.

    Raises
    ------
    InputError
        On ``url``, when `target` refuses it.
    """
    try:
        target(url, allow_private)
    except RefusedURL as exc:
        raise InputError.for_field("url", f"{exc}; {FIX}") from exc


def allow_private_setting() -> bool:
    """``WEBHOOK_ALLOW_PRIVATE`` as the environment sets it (job processes have no app)."""
    return bool(from_env()["WEBHOOK_ALLOW_PRIVATE"])


def sign(secret: str, body: bytes) -> str:
    """The ``X-Ipvalue-Signature`` header value of ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def subscribe(
    engine: Engine, tenant: str, url: str, events: list[str], allow_private: bool = False
) -> dict[str, Any]:
    """Create a subscription; the answer carries its ``secret`` (shown only here).

    Raises
    ------
    InputError
        On ``url``, for a receiver this service does not send to (`check_url`).
    """
    check_url(url, allow_private)
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


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy a delivery goes through: where it listens, the variable that named it
    and the ``Proxy-Authorization`` header of its credentials, if any."""

    host: str
    port: int
    variable: str
    authorization: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """The proxy's own request headers (its credentials)."""
        return {} if self.authorization is None else {"Proxy-Authorization": self.authorization}

    def __str__(self) -> str:
        return f"{netloc(self.host, self.port, 0)} ({self.variable})"


def netloc(host: str, port: int, default_port: int) -> str:
    """``host[:port]`` as a URL writes it: an IPv6 address in brackets, no default port."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default_port else f"{shown}:{port}"


def parse_proxy(value: str, variable: str) -> Proxy:
    """The `Proxy` of a ``*_PROXY`` setting, ``http://[user:password@]host[:port]`` (a value
    without a scheme is taken as ``http://``; port 80 by default).

    Raises
    ------
    ProxyError
        Not a URL, a scheme other than ``http``, or no host; the message shows the value
        without its credentials.
    """
    text = value.strip()
    if "://" not in text:
        text = "http://" + text
    shown = re.sub(r"//.*@", "//***@", text)  # up to the last @: a password may hold / or @
    fix = f"set {variable} to http://[user:password@]host:port of an HTTP proxy"
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:  # its reason may quote part of a password: not told then
        why = "" if "@" in text else f" ({exc})"
        raise ProxyError(f"{variable} {shown!r} is not a valid proxy URL{why}; {fix}") from exc
    if parts.scheme.lower() != "http":
        raise ProxyError(
            f"{variable} {shown!r} has scheme {parts.scheme!r}; only http:// proxies are "
            f"supported (https:// receivers go through them by a CONNECT tunnel); {fix}"
        )
    if not parts.hostname:
        raise ProxyError(f"{variable} {shown!r} has no host; {fix}")
    authorization = None
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        authorization = f"Basic {token}"
    return Proxy(parts.hostname, port or 80, variable, authorization)


def proxy_for(where: Target) -> Proxy | None:
    """The proxy a delivery to ``where`` goes through, as the environment names it, or None
    to connect directly (no proxy for its scheme, or ``NO_PROXY`` names its host).

    Read on every delivery (job processes have no app) with urllib's rules: ``http_proxy`` or
    ``HTTP_PROXY`` for ``http://``, ``https_proxy`` or ``HTTPS_PROXY`` for ``https://`` (the
    lower-case name wins; ``HTTP_PROXY`` is ignored in a CGI process), and ``no_proxy`` or
    ``NO_PROXY``: host names and domain suffixes, with or without ``:port``, or ``*``.

    Raises
    ------
    ProxyError
        When the variable that applies is not a usable proxy URL (`parse_proxy`).
    """
    proxies = urllib.request.getproxies_environment()
    value = proxies.get(where.scheme)
    if not value:
        return None
    default_port = 443 if where.scheme == "https" else 80
    for name in (netloc(where.host, where.port, default_port), where.host):
        # urllib's own NO_PROXY matching (in urllib.request, not in its type stubs)
        if urllib.request.proxy_bypass_environment(name, proxies):  # type: ignore[attr-defined]
            return None
    return parse_proxy(value, f"{where.scheme.upper()}_PROXY")


def http_send(url: str, body: bytes, headers: dict[str, str], allow_private: bool = False) -> int:
    """POST ``body`` to ``url``; the answer's status (an error status is returned, not raised).

    The host is resolved and checked here (`target`). Without a proxy (`proxy_for`) the
    connection goes to the address checked, so a DNS answer that changes between the check and
    the connection cannot send it elsewhere; through a proxy an ``http://`` delivery is an
    absolute-URI request to the proxy and an ``https://`` one a ``CONNECT`` tunnel. TLS always
    verifies the certificate for the URL's host. Redirects are not followed.

    Raises
    ------
    RefusedURL
        When `target` refuses the URL.
    ProxyError
        When the proxy setting cannot be used, or the proxy cannot be reached or refuses the
        tunnel.
    """
    where = target(url, allow_private)
    proxy = proxy_for(where)
    https = where.scheme == "https"
    kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
    path = where.path
    if proxy is None:
        conn = kind(where.host, where.port, timeout=TIMEOUT)

        def pinned(address: tuple[str, int], *args: Any) -> socket.socket:
            return socket.create_connection((where.address, address[1]), *args)

        conn._create_connection = pinned  # type: ignore[attr-defined]
    else:
        conn = kind(proxy.host, proxy.port, timeout=TIMEOUT)
        if https:  # TLS to the receiver inside the tunnel, verified for where.host
            tunnel = {"Host": netloc(where.host, where.port, 0), **proxy.headers}
            conn.set_tunnel(where.host, where.port, headers=tunnel)
        else:
            path = f"http://{netloc(where.host, where.port, 80)}{where.path}"
            headers = {**headers, **proxy.headers}
    try:
        try:
            conn.connect()
        except ssl.SSLError:
            raise  # the receiver's TLS, not the proxy's
        except OSError as exc:
            if proxy is None:
                raise
            raise ProxyError(f"through the proxy {proxy}: {type(exc).__name__}: {exc}") from exc
        conn.request("POST", path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return int(answer.status)
    finally:
        conn.close()


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones."""
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1)))


def deliver_due(
    engine: Engine,
    tenant: str | None = None,
    send: Sender | None = None,
    limit: int = 500,
    allow_private: bool | None = None,
) -> dict[str, int]:
    """Send every due delivery (of ``tenant``, or all); returns counts by outcome.

    Each row is claimed by moving its ``next_attempt_at`` past the timeout before sending, so
    two deliverers running at once do not both send it in the same instant. Each URL is checked
    again first (`target`): a refused one is logged as ``refused`` with the reason and not sent.

    Parameters
    ----------
    send : callable, optional
        ``send(url, body, headers) -> status``; default `http_send`.
    allow_private : bool, optional
        Default `allow_private_setting` (``IPVALUE_WEBHOOK_ALLOW_PRIVATE``).
    """
    allow = allow_private_setting() if allow_private is None else allow_private
    if send is None:

        def send(url: str, body: bytes, headers: dict[str, str]) -> int:
            return http_send(url, body, headers, allow)

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
    counts = {"delivered": 0, "retry": 0, "failed": 0, "refused": 0}
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
            target(row["url"], allow)
        except RefusedURL as exc:  # never sent: the log says why
            refused = {"status": "refused", "last_status": None, "last_error": f"url {exc}"[:500]}
            with engine.begin() as conn:
                conn.execute(update(outbox).where(outbox.c.id == row["id"]).values(**refused))
            counts["refused"] += 1
            continue
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
