"""Tenants and their API keys.

A key is ``ipv_`` followed by 43 random URL-safe characters (256 bits). Only its SHA-256 is
stored: the key is random, so a slow password hash would add nothing but latency to every
request. The first characters (``prefix``) are kept in clear to tell keys apart in listings.
``ipvalue keys create --tenant NAME`` prints a new key once; it cannot be shown again.

A worker trusts a valid key it has checked for ``KEY_CACHE_SECONDS`` before asking the database
again, so a revoked key stops working within that time (30 s by default).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ipvalue.api.db import now
from ipvalue.api.tables import api_keys, tenants

KEY_PREFIX = "ipv_"
_KEY_SHAPE = re.compile(r"^ipv_[A-Za-z0-9_-]{43}$")


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


def well_formed(secret: str) -> bool:
    """Whether ``secret`` has the shape of a key this service makes (``ipv_`` + 43 characters)."""
    return _KEY_SHAPE.match(secret) is not None


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

    Only valid keys are cached (at most ``max_cached``, least recently used dropped first), so
    unknown tokens, however many, never push a valid key out. A token that is not shaped like a
    key (`well_formed`) is refused without asking the database.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    cache_seconds : float
        How long a valid key is trusted without asking the database again (s); a revoked key
        keeps working for up to this long in a worker that checked it recently.
    max_cached : int
        Most valid keys remembered.
    """

    def __init__(
        self, engine: Engine, cache_seconds: float = 30.0, max_cached: int = 10_000
    ) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self.max_cached = max_cached
        self._cache: OrderedDict[str, tuple[float, KeyInfo]] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, secret: str) -> KeyInfo | None:
        """The key's owner if this process checked it within ``cache_seconds``, else None."""
        digest = hash_key(secret)
        with self._lock:
            hit = self._cache.get(digest)
            if hit is None:
                return None
            if time.monotonic() - hit[0] >= self.cache_seconds:
                del self._cache[digest]
                return None
            self._cache.move_to_end(digest)
            return hit[1]

    def lookup(self, secret: str) -> KeyInfo | None:
        """The key's owner, or None for an unknown, revoked or malformed key."""
        info = self.cached(secret)
        if info is not None or not well_formed(secret):
            return info
        digest = hash_key(secret)
        stamp = time.monotonic()
        query = select(api_keys.c.id, api_keys.c.tenant).where(
            api_keys.c.key_hash == digest, api_keys.c.revoked_at.is_(None)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        info = KeyInfo(key_id=int(row[0]), tenant=str(row[1]))
        with self._lock:
            self._cache[digest] = (stamp, info)
            self._cache.move_to_end(digest)
            while len(self._cache) > self.max_cached:
                self._cache.popitem(last=False)
        return info
