"""Tenants and their API keys.

A key is ``ipv_`` followed by 43 random URL-safe characters (256 bits). Only its SHA-256 is
stored: the key is random, so a slow password hash would add nothing but latency to every
request. The first characters (``prefix``) are kept in clear to tell keys apart in listings.
``ipvalue keys create --tenant NAME`` prints a new key once; it cannot be shown again.

A worker trusts a key it has checked for ``KEY_CACHE_SECONDS`` before asking the database again,
so a revoked key stops working within that time.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ipvalue.api.db import now
from ipvalue.api.tables import api_keys, tenants

KEY_PREFIX = "ipv_"


@dataclass(frozen=True)
class KeyInfo:
    """Who a valid key belongs to."""

    key_id: int
    tenant: str


@dataclass(frozen=True)
class NewKey:
    """A key just created: ``secret`` is shown once and never stored."""

    key_id: int
    tenant: str
    prefix: str
    secret: str


def hash_key(secret: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def ensure_tenant(engine: Engine, name: str) -> None:
    """Create tenant ``name`` unless it exists."""
    if not name or len(name) > 64:
        raise ValueError("a tenant name has 1 to 64 characters")
    with engine.begin() as conn:
        exists = conn.execute(select(tenants.c.name).where(tenants.c.name == name)).first()
        if exists is None:
            try:
                conn.execute(insert(tenants), {"name": name, "created_at": now()})
            except IntegrityError:  # created meanwhile by another process
                pass


def create_key(engine: Engine, tenant: str, label: str | None = None) -> NewKey:
    """Create a key for ``tenant`` (and the tenant, if new).

    Returns
    -------
    NewKey
        The key's secret: print it once, it is not stored.
    """
    ensure_tenant(engine, tenant)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    prefix = secret[:12]
    with engine.begin() as conn:
        result = conn.execute(
            insert(api_keys).returning(api_keys.c.id),
            {
                "tenant": tenant,
                "prefix": prefix,
                "key_hash": hash_key(secret),
                "label": label,
                "created_at": now(),
            },
        )
        key_id = int(result.scalar_one())
    return NewKey(key_id=key_id, tenant=tenant, prefix=prefix, secret=secret)


def revoke_key(engine: Engine, prefix: str) -> int:
    """Revoke every live key starting with ``prefix``; returns how many."""
    with engine.begin() as conn:
        result = conn.execute(
            update(api_keys)
            .where(api_keys.c.prefix == prefix[:12], api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        return int(result.rowcount)


def list_keys(engine: Engine) -> list[dict[str, object]]:
    """Every key's id, tenant, prefix, label and dates (never the secret)."""
    query = select(
        api_keys.c.id,
        api_keys.c.tenant,
        api_keys.c.prefix,
        api_keys.c.label,
        api_keys.c.created_at,
        api_keys.c.revoked_at,
    ).order_by(api_keys.c.id)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


class KeyRing:
    """Checks presented keys against the database, with a short per-process cache.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    cache_seconds : float
        How long a checked key (valid or not) is remembered.
    """

    def __init__(self, engine: Engine, cache_seconds: float = 30.0) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, KeyInfo | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, secret: str) -> KeyInfo | None:
        """The key's owner, or None for an unknown or revoked key."""
        digest = hash_key(secret)
        stamp = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and stamp - hit[0] < self.cache_seconds:
            return hit[1]
        query = select(api_keys.c.id, api_keys.c.tenant).where(
            api_keys.c.key_hash == digest, api_keys.c.revoked_at.is_(None)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        info = None if row is None else KeyInfo(key_id=int(row[0]), tenant=str(row[1]))
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (stamp, info)
        return info
