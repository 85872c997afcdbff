"""Request rates: token buckets, refused with 429 and ``Retry-After``.

Two limits:

- per API key: ``RATE_BURST`` requests at once and ``RATE_LIMIT`` per second on average
  (``RATE_LIMIT = 0`` turns it off);
- per client address, for ``/v1/`` requests that do not carry a key this worker has already
  checked (no key, a malformed one, an unknown or revoked one, or a valid key not yet cached):
  ``ANON_RATE_BURST`` at once, ``ANON_RATE_LIMIT`` per second (0: off). Above it the request is
  refused before the database is asked, so guessing keys costs the service nothing. Behind a
  reverse proxy set ``PROXY_COUNT`` so the client's address is read from ``X-Forwarded-For``.

Under gunicorn the buckets are shared by all workers: the master creates `SharedBuckets` in
shared memory before it forks them (`share_buckets`), so a key gets the same rate whichever
worker answers. Elsewhere (tests, the development server) each process has `TokenBuckets`.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from typing import Any

from flask import Flask, current_app, g

from ipvalue.models.errors import IPValueError

#: How many ``(key, tokens, time)`` entries `TokenBuckets` keeps before dropping full ones.
MAX_ENTRIES = 100_000


class RateLimitedError(IPValueError):
    """Too many requests for this key or client."""

    status = 429
    title = "Too many requests"
    slug = "rate-limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


def _refill(tokens: float, last: float, stamp: float, rate: float, burst: int) -> float:
    return min(float(burst), tokens + max(0.0, stamp - last) * rate)


class TokenBuckets:
    """One token bucket per key, in this process.

    Parameters
    ----------
    rate : float
        Tokens added per second (requests per second allowed on average).
    burst : int
        Bucket size (requests allowed at once).

    Notes
    -----
    A bucket that has refilled completely is the same as no bucket, so above `MAX_ENTRIES`
    keys the full ones are dropped: memory stays bounded and no key gains anything.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._buckets: dict[object, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: object, now: float | None = None) -> float:
        """Take one token for ``key``; returns 0 when allowed, else seconds until it would be."""
        stamp = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), stamp))
            tokens = _refill(tokens, last, stamp, self.rate, self.burst)
            if len(self._buckets) >= MAX_ENTRIES and key not in self._buckets:
                self._drop_full(stamp)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, stamp)
                return 0.0
            self._buckets[key] = (tokens, stamp)
            return (1.0 - tokens) / self.rate

    def _drop_full(self, stamp: float) -> None:
        full = [
            k
            for k, (tokens, last) in self._buckets.items()
            if _refill(tokens, last, stamp, self.rate, self.burst) >= self.burst
        ]
        for k in full:
            del self._buckets[k]


class SharedBuckets:
    """Token buckets in shared memory, for processes forked after it is made.

    An open-addressed table of ``slots`` entries ``(key, tokens, last time)``: a key lives in one
    of the ``window`` slots from its hash, so two keys never share a bucket. A new key takes an
    empty slot of its window, or one whose bucket has refilled completely (dropping a full
    bucket changes nothing). Only when every slot of the window holds a key that is still being
    limited does the new key take the fullest of them; that key starts full again next time,
    which needs ``window`` keys active at once in one window (with 65,536 slots, many thousands
    of busy keys). Keys are non-zero 64-bit integers (`client_key` maps addresses to negative
    ones, API key ids are positive). Times are ``time.monotonic()``, system-wide on Linux.
    """

    def __init__(self, rate: float, burst: int, slots: int = 65_536, window: int = 32) -> None:
        import multiprocessing

        self.rate = rate
        self.burst = max(1, burst)
        self.slots = slots
        self.window = min(window, slots)
        ctx = multiprocessing.get_context("fork")
        self._keys = ctx.RawArray("q", slots)
        self._values = ctx.RawArray("d", 2 * slots)
        self._lock = ctx.Lock()

    def _home(self, key: int) -> int:
        digest = hashlib.blake2b(key.to_bytes(8, "little", signed=True), digest_size=8).digest()
        return int.from_bytes(digest, "little") % self.slots

    def _slot(self, key: int, stamp: float) -> int:
        """The slot holding ``key``, claiming one (with a full bucket) when it has none."""
        keys, values = self._keys, self._values
        home = self._home(key)
        free = fullest = -1
        most = -1.0
        for step in range(self.window):
            slot = (home + step) % self.slots
            held = keys[slot]
            if held == key:
                return slot
            if free >= 0:
                continue
            if held == 0:
                free = slot
                continue
            tokens = _refill(values[2 * slot], values[2 * slot + 1], stamp, self.rate, self.burst)
            if tokens >= self.burst:
                free = slot
            elif tokens > most:
                fullest, most = slot, tokens
        slot = free if free >= 0 else fullest
        keys[slot] = key
        values[2 * slot], values[2 * slot + 1] = float(self.burst), stamp
        return slot

    def take(self, key: object, now: float | None = None) -> float:
        """As `TokenBuckets.take`; ``key`` must be a non-zero integer."""
        key_id = int(key)  # type: ignore[call-overload]
        if key_id == 0:
            raise ValueError("a shared bucket key is a non-zero integer")
        stamp = time.monotonic() if now is None else now
        values = self._values
        with self._lock:
            slot = self._slot(key_id, stamp)
            tokens = _refill(values[2 * slot], values[2 * slot + 1], stamp, self.rate, self.burst)
            values[2 * slot + 1] = stamp
            if tokens >= 1.0:
                values[2 * slot] = tokens - 1.0
                return 0.0
            values[2 * slot] = tokens
            return (1.0 - tokens) / self.rate


def client_key(address: str | None) -> int:
    """A client address as a negative 63-bit bucket key (API key ids are positive)."""
    digest = hashlib.blake2b((address or "").encode(), digest_size=8).digest()
    return -(int.from_bytes(digest, "little") >> 1) - 1


#: Buckets shared by the workers of this server, set by `share_buckets` in the gunicorn master.
SHARED: dict[str, SharedBuckets] = {}


def share_buckets(settings: dict[str, Any]) -> None:
    """Create buckets every process forked from now on shares (call in the gunicorn master)."""
    SHARED.clear()
    for name, rate, burst in _limits(settings):
        if rate > 0:
            SHARED[name] = SharedBuckets(rate, burst)


def _limits(settings: Any) -> list[tuple[str, float, int]]:
    return [
        ("key", float(settings["RATE_LIMIT"]), int(settings["RATE_BURST"])),
        ("client", float(settings["ANON_RATE_LIMIT"]), int(settings["ANON_RATE_BURST"])),
    ]


def _buckets(rate: float, burst: int, name: str) -> SharedBuckets | TokenBuckets:
    shared = SHARED.get(name)
    if shared is not None and (shared.rate, shared.burst) == (rate, max(1, burst)):
        return shared
    return TokenBuckets(rate, burst)


def install_rate_limits(app: Flask) -> None:
    """Make the buckets of both limits, and trust ``PROXY_COUNT`` proxies' ``X-Forwarded-For``."""
    proxies = int(app.config["PROXY_COUNT"])
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    for name, rate, burst in _limits(app.config):
        if rate > 0:
            app.extensions[f"ipvalue.ratelimit.{name}"] = _buckets(rate, burst, name)


def _refuse(wait: float, what: str, rate: float, setting: str) -> RateLimitedError:
    return RateLimitedError(
        f"{what} limited to {rate:g} requests per second (limit {setting}); "
        f"retry after {math.ceil(wait)} s",
        retry_after=max(1, math.ceil(wait)),
    )


def limit_client(address: str | None) -> None:
    """Charge a request without a checked key to its client address; raise 429 above the limit."""
    buckets = current_app.extensions.get("ipvalue.ratelimit.client")
    if buckets is None:
        return
    wait = buckets.take(client_key(address))
    if wait > 0:
        raise _refuse(
            wait,
            "requests without a valid API key from one address are",
            buckets.rate,
            "anon_rate_limit",
        )


def install_rate_limit(app: Flask) -> None:
    """Refuse a key's requests above ``RATE_LIMIT`` per second with 429 (after auth)."""
    install_rate_limits(app)
    if "ipvalue.ratelimit.key" not in app.extensions:
        return

    @app.before_request
    def _limit() -> None:
        key_id = getattr(g, "key_id", None)
        if key_id is None:
            return
        buckets = current_app.extensions["ipvalue.ratelimit.key"]
        wait = buckets.take(key_id)
        if wait > 0:
            raise _refuse(wait, "this API key is", buckets.rate, "rate_limit")
