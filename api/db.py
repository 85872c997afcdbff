"""The database: an engine for the configured URL, migrations, and a readiness check.

The embedded default is a SQLite file under the Flask instance folder (created on first start);
production points ``IPVALUE_DATABASE_URL`` at PostgreSQL
(``postgresql+psycopg://user@host:5432/db``). SQLite runs in WAL mode with ``synchronous=NORMAL``:
a committed write survives the crash of any process (a killed gunicorn worker), and readers never
block the writer.

On PostgreSQL every statement is a network round trip to another process, and on a busy machine
each one costs a context switch, so a request makes as few as it can:

- a pooled connection is pinged only when it has been idle for `PING_AFTER` seconds (one that was
  used a moment ago is alive; one whose server went away meanwhile is replaced, and a disconnect
  seen by a statement invalidates the whole pool), not on every checkout;
- reads and single-statement writes run in autocommit (`autocommit`): a lone ``SELECT`` or
  ``INSERT`` needs no ``BEGIN`` and ``ROLLBACK``/``COMMIT`` around it. Four round trips per read
  became one, three per stored record one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0007"
#: A pooled PostgreSQL connection idle longer than this (s) is pinged before it is handed out.
PING_AFTER = 5.0
#: Connections kept open per process and engine, and how many more may be opened under load.
POOL_SIZE, MAX_OVERFLOW = 8, 16

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def default_url(instance_path: str | Path) -> str:
    """The embedded default: ``<instance>/ipvalue.sqlite``, creating the folder."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'ipvalue.sqlite'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _stamp_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["ipvalue.used"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection idle longer than `PING_AFTER`; a dead one is replaced by the pool."""
    used = record.info.get("ipvalue.used")
    if used is None or time.monotonic() - used < PING_AFTER:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        if not dbapi_connection.autocommit:
            dbapi_connection.rollback()
    except Exception as error:
        raise exc.DisconnectionError(f"pooled connection is gone: {error}") from error


def make_engine(url: str) -> Engine:
    """A new engine for ``url`` (SQLite gets WAL and a busy timeout; PostgreSQL pings idle
    connections only)."""
    parsed = make_url(url)
    pool = {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW}
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, **pool)
    event.listen(engine, "checkin", _stamp_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


@contextlib.contextmanager
def autocommit(engine: Engine) -> Iterator[Connection]:
    """A connection whose every statement is its own transaction: one round trip each.

    For reads, and for a write of one statement (atomic on its own); several writes that must
    land together go through ``engine.begin()``. On SQLite (in-process, no round trips) this is
    ``engine.begin()``, so a write is committed there too.
    """
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


def engine_for(url: str) -> Engine:
    """One shared engine per URL and process (job workers reuse it across jobs)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose(url: str) -> None:
    """Close and forget this process's engine for ``url``."""
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def dispose_all() -> None:
    """Close every pooled connection of this process (before forking workers)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision (a no-op when it is there already)."""
    if current_revision(engine) == HEAD:
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    """The schema's Alembic revision, or None on an empty database."""
    with engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except Exception:
            conn.rollback()
            return None
    return None if row is None else str(row[0])


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer ``SELECT 1``."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def now() -> dt.datetime:
    """The current time in UTC, to the microsecond."""
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    """A stored timestamp as ISO 8601 UTC (SQLite returns naive datetimes; they are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def dumps(document: Any) -> str:
    """Serialise a JSON document once, for storage; reading it back gives the same document."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
