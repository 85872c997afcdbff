"""A request body must arrive within ``BODY_TIMEOUT`` seconds, or the request gets 408.

gunicorn's threaded workers read the body in the thread serving the request, and a read blocks
until the client sends more. A client that sends its headers and then a trickle of the body
would hold that thread for as long as it likes; a few such clients hold them all. `BodyDeadline`
reads the whole body first (at most ``MAX_BODY_BYTES`` + 1 bytes, the body limit answers the
rest) under a deadline kept by one `Watchdog` thread per process: when it passes, the watchdog
shuts the connection's read side, the blocked read returns, and the client gets a 408
problem+json while the thread goes back to work. A reverse proxy that buffers whole request
bodies (``deploy/nginx.conf``) protects the headers too; this bounds the body even without one.
"""

from __future__ import annotations

import heapq
import io
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ipvalue.api.errors import PROBLEM_BASE

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Watchdog:
    """Shuts the read side of sockets whose deadline passed; one thread, started on first use."""

    def __init__(self, tick: float = 0.1) -> None:
        self.tick = tick
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, socket.socket] = {}
        self._fired: set[int] = set()
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, sock: socket.socket, seconds: float) -> int:
        """Watch ``sock`` for ``seconds``; returns a ticket for `disarm`."""
        with self._lock:
            ticket = next(self._ids)
            self._armed[ticket] = sock
            heapq.heappush(self._heap, (time.monotonic() + seconds, ticket))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="body-deadline", daemon=True)
                self._thread.start()
        return ticket

    def disarm(self, ticket: int) -> bool:
        """Stop watching; True when the deadline had passed and the socket was shut."""
        with self._lock:
            self._armed.pop(ticket, None)
            if ticket in self._fired:
                self._fired.discard(ticket)
                return True
            return False

    def _run(self) -> None:
        while True:
            time.sleep(self.tick)
            stamp = time.monotonic()
            with self._lock:
                while self._heap and self._heap[0][0] <= stamp:
                    _, ticket = heapq.heappop(self._heap)
                    sock = self._armed.pop(ticket, None)
                    if sock is None:
                        continue
                    self._fired.add(ticket)
                    try:
                        sock.shutdown(socket.SHUT_RD)
                    except OSError:
                        pass


WATCHDOG = Watchdog()


def _timed_out(seconds: float, start_response: Callable[..., Any]) -> list[bytes]:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + "body-timeout",
            "title": "Request timeout",
            "status": 408,
            "detail": f"the request body did not arrive within {seconds:g} s (limit body_timeout); "
            "send it at once, or through a proxy that buffers it",
        }
    ).encode()
    start_response(
        "408 Request Timeout",
        [
            ("Content-Type", "application/problem+json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ],
    )
    return [body]


class BodyDeadline:
    """WSGI middleware: read the body under a deadline before the app sees it.

    Parameters
    ----------
    app : WSGI callable
    seconds : float
        Time allowed for the whole body, from the end of the headers (s); 0 turns it off.
    max_bytes : int
        Read at most this many bytes plus one (the app refuses a larger body with 413).
    """

    def __init__(self, app: Wsgi, seconds: float, max_bytes: int) -> None:
        self.app = app
        self.seconds = seconds
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        sock = environ.get("gunicorn.socket")
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        declared = int(length) if length.isdigit() else 0
        has_body = chunked or 0 < declared <= self.max_bytes  # above: the app answers 413
        if self.seconds <= 0 or sock is None or not has_body:
            return self.app(environ, start_response)
        ticket = WATCHDOG.arm(sock, self.seconds)
        try:
            data = environ["wsgi.input"].read(self.max_bytes + 1)
        except Exception:  # the watchdog shut the socket, or the client went away
            data = b""
        if WATCHDOG.disarm(ticket):
            return _timed_out(self.seconds, start_response)
        environ["wsgi.input"] = io.BytesIO(data)
        if not chunked:
            environ["CONTENT_LENGTH"] = str(len(data))
        return self.app(environ, start_response)
