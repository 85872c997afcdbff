"""Requests per second per API key: a token bucket, refused with 429 and ``Retry-After``.

Each key may send ``RATE_BURST`` requests at once and ``RATE_LIMIT`` per second on average.
The buckets live in each server process: behind gunicorn with W workers a key that spreads its
requests over all of them may get up to W times the rate. ``RATE_LIMIT = 0`` turns it off.
"""

from __future__ import annotations

import math
import threading
import time

from flask import Flask, current_app, g

from models.errors import IPValueError


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


def install_rate_limit(app: Flask) -> None:
    """Refuse a key's requests above ``RATE_LIMIT`` per second with 429 (after auth)."""
    rate = float(app.config["RATE_LIMIT"])
    if rate <= 0:
        return
    app.extensions["ipvalue.ratelimit"] = TokenBuckets(rate, int(app.config["RATE_BURST"]))

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
