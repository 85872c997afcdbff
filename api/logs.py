"""Logs: one JSON object per line (``LOG_FORMAT=json``) or one plain line (``text``).

A request's id is its ``X-Request-ID`` header when it sends a sane one, else a new one; it is
returned in the response's ``X-Request-ID`` and appears in every line logged while serving it.
Each request ends with one ``access`` line: method, path, status, duration, tenant. In text it
reads ``2026-12-01T10:00:00.123Z INFO ipvalue.access POST /v1/valuations 201 12.3 ms
tenant=demo request_id=...``. gunicorn's own lines go through the same formatter
(`gunicorn_logconfig`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request

_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
log = logging.getLogger("ipvalue.access")


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object with time, level, logger, message and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


JsonFormatter.converter = time.gmtime  # type: ignore[assignment]

_ACCESS_FIELDS = ("method", "path", "status", "duration_ms")


class TextFormatter(JsonFormatter):
    """Format a record as one line: time, level, logger, message, then ``key=value`` extras.

    An access line puts method, path, status and duration in place of the message.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = json.loads(super().format(record))
        head = [entry.pop("time"), entry.pop("level"), entry.pop("logger")]
        message = entry.pop("message")
        exception = entry.pop("exception", None)
        if message == "access" and all(k in entry for k in _ACCESS_FIELDS[:3]):
            method, path, status = (entry.pop(k) for k in _ACCESS_FIELDS[:3])
            duration = entry.pop("duration_ms", None)
            message = f"{method} {path} {status}" + ("" if duration is None else f" {duration} ms")
        extras = [f"{k}={v}" for k, v in entry.items() if v is not None]
        line = " ".join([*head, message, *extras])
        return line if exception is None else f"{line}\n{exception}"


FORMATTERS: dict[str, type[logging.Formatter]] = {"json": JsonFormatter, "text": TextFormatter}


def formatter_for(fmt: str) -> logging.Formatter:
    """The formatter of ``LOG_FORMAT`` (``json`` or ``text``)."""
    try:
        return FORMATTERS[fmt]()
    except KeyError:
        raise ValueError(f"LOG_FORMAT must be one of {sorted(FORMATTERS)}; got {fmt!r}") from None


def gunicorn_logconfig(fmt: str = "json", level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for gunicorn: its own lines in the chosen format too."""
    formatter_for(fmt)  # refuse an unknown format before gunicorn starts
    handler = {
        "class": "logging.StreamHandler",
        "formatter": fmt,
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {fmt: {"()": f"{__name__}.{FORMATTERS[fmt].__name__}"}},
        "handlers": {"stderr": handler},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send the ``ipvalue`` loggers to stderr, as JSON lines or plain text."""
    logger = logging.getLogger("ipvalue")
    logger.setLevel(level.upper())
    for handler in list(logger.handlers):
        if getattr(handler, "_ipvalue", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._ipvalue = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter_for(fmt))
    logger.addHandler(handler)
    logger.propagate = False


def install_request_ids(app: Flask) -> None:
    """Give each request an id, echo it in ``X-Request-ID``, and log one access line."""

    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        started = g.get("started")
        log.info(
            "access",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": None
                if started is None
                else round((time.perf_counter() - started) * 1000, 2),
                "tenant": g.get("tenant"),
            },
        )
        return response
