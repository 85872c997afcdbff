"""Requests per second per API key: a token bucket, refused with 429 and ``Retry-After``.

Each key may send ``RATE_BURST`` requests at once and ``RATE_LIMIT`` per second on average.
``RATE_LIMIT = 0`` turns it off.

Under gunicorn the buckets are shared by all workers: the master creates `SharedBuckets` in
shared memory before it forks them (`share_buckets`), so a key gets the same rate whichever
worker answers. Elsewhere (tests, the development server) each process has `TokenBuckets`.
"""

from __future__ import annotations

import math
import threading
import time

from flask import Flask, current_app, g

from ipvalue.models.errors import IPValueError


class RateLimitedError(IPValueError):
    """Too many requests for this key."""

    status = 429
    title = "Too many requests"
    slug = "rate-limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


class TokenBuckets:
    """One token bucket per key.

    Parameters
    ----------
    rate : float
        Tokens added per second (requests per second allowed on average).
    burst : int
        Bucket size (requests allowed at once).
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
            tokens = min(float(self.burst), tokens + (stamp - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, stamp)
                return 0.0
            self._buckets[key] = (tokens, stamp)
            return (1.0 - tokens) / self.rate


class SharedBuckets:
    """Token buckets in shared memory, for processes forked after it is made.

    A direct-mapped table of ``slots`` entries ``(key id, tokens, last time)``, indexed by the
    integer key id modulo ``slots``; a key meeting another in its slot takes it over with a full
    bucket. Times are ``time.monotonic()``, which is system-wide on Linux.
    """

    def __init__(self, rate: float, burst: int, slots: int = 4096) -> None:
        import multiprocessing

        self.rate = rate
        self.burst = max(1, burst)
        self.slots = slots
        ctx = multiprocessing.get_context("fork")
        self._table = ctx.RawArray("d", 3 * slots)
        self._lock = ctx.Lock()

    def take(self, key: object, now: float | None = None) -> float:
        """As `TokenBuckets.take`; ``key`` must be an integer key id."""
        key_id = int(key)  # type: ignore[call-overload]
        stamp = time.monotonic() if now is None else now
        base = 3 * (key_id % self.slots)
        table = self._table
        with self._lock:
            if table[base] != key_id + 1:
                table[base], table[base + 1], table[base + 2] = key_id + 1, self.burst, stamp
            tokens = min(float(self.burst), table[base + 1] + (stamp - table[base + 2]) * self.rate)
            table[base + 2] = stamp
            if tokens >= 1.0:
                table[base + 1] = tokens - 1.0
                return 0.0
            table[base + 1] = tokens
            return (1.0 - tokens) / self.rate


#: Buckets shared by the workers of this server, set by `share_buckets` in the gunicorn master.
SHARED: SharedBuckets | None = None


def share_buckets(rate: float, burst: int) -> None:
    """Create buckets every process forked from now on shares (call in the gunicorn master)."""
    global SHARED
    SHARED = SharedBuckets(rate, burst) if rate > 0 else None


def install_rate_limit(app: Flask) -> None:
    """Refuse a key's requests above ``RATE_LIMIT`` per second with 429 (after auth)."""
    rate = float(app.config["RATE_LIMIT"])
    if rate <= 0:
        return
    burst = int(app.config["RATE_BURST"])
    shared = SHARED if SHARED is not None and (SHARED.rate, SHARED.burst) == (rate, burst) else None
    app.extensions["ipvalue.ratelimit"] = shared or TokenBuckets(rate, burst)

    @app.before_request
    def _limit() -> None:
        key_id = getattr(g, "key_id", None)
        if key_id is None:
            return
        wait = current_app.extensions["ipvalue.ratelimit"].take(key_id)
        if wait > 0:
            raise RateLimitedError(
                f"this API key is limited to {rate:g} requests per second (limit rate_limit); "
                f"retry after {math.ceil(wait)} s",
                retry_after=max(1, math.ceil(wait)),
            )
