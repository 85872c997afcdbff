"""Shared fixtures: an app on a fresh database, authenticated and anonymous clients.

- ``client`` sends a valid ``Authorization: Bearer`` key of tenant ``test-tenant`` by default;
  ``anon_client`` sends none; ``other_client`` is a second tenant.
- ``app`` uses a fresh SQLite file per test (a copy of a database migrated once per session),
  with the rate limit off; with ``IPVALUE_TEST_DATABASE=postgresql`` a fresh PostgreSQL schema
  instead (`.ci/run` runs the API tests so too). ``make_app(**settings)`` builds one with other
  settings.
- ``pg_url`` is a PostgreSQL database (a fresh schema of ``IPVALUE_TEST_POSTGRES_URL``, by default
  ``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Without a server the tests using it
  skip with a message, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ipvalue.api import create_app
from ipvalue.api.db import dispose, engine_for, migrate
from ipvalue.api.keys import create_key

SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES_FILE = SHARED / "reference" / "cases.json"
LOCAL_CASES_FILE = Path(__file__).parent / "reference" / "cases.json"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TENANT = "test-tenant"


def load_cases() -> list[dict[str, Any]]:
    """Published worked examples: ../shared/reference/cases.json, or the copy kept in tests/."""
    path = CASES_FILE if CASES_FILE.exists() else LOCAL_CASES_FILE
    return list(json.loads(path.read_text())["cases"])


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the latest schema, copied by each test that needs a database."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    url = f"sqlite:///{path}"
    migrate(engine_for(url))
    dispose(url)
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_template: Path) -> str:
    """A fresh, migrated SQLite database for one test."""
    path = tmp_path / "ipvalue.sqlite"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def default_db_url(request: pytest.FixtureRequest) -> str:
    """The database of ``app``: SQLite, or PostgreSQL when ``IPVALUE_TEST_DATABASE=postgresql``."""
    if os.environ.get("IPVALUE_TEST_DATABASE", "sqlite").lower().startswith("postgres"):
        return str(request.getfixturevalue("pg_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def make_app(default_db_url: str) -> Iterator[Callable[..., Any]]:
    """Build apps with settings of the test's choosing (default database: ``default_db_url``)."""
    built: list[Any] = []

    def make(**settings: Any) -> Any:
        config = {"TESTING": True, "DATABASE_URL": default_db_url, "RATE_LIMIT": 0, **settings}
        app = create_app(config)
        built.append(app)
        return app

    yield make
    for app in built:
        app.extensions["ipvalue.jobs"].shutdown()
        dispose(app.config["DATABASE_URL"])


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app()


def key_for(app: Any, tenant: str = TENANT) -> str:
    """A new API key of ``tenant`` in ``app``'s database."""
    return create_key(app.extensions["ipvalue.engine"], tenant).secret


def authed_client(app: Any, key: str) -> Any:
    """A test client sending ``key`` as Bearer by default."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def api_key(app: Any) -> str:
    return key_for(app)


@pytest.fixture
def client(app: Any, api_key: str) -> Any:
    return authed_client(app, api_key)


@pytest.fixture
def anon_client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def other_client(app: Any) -> Any:
    return authed_client(app, key_for(app, "other-tenant"))


def worker_pids(master: int) -> list[int]:
    """The child processes of ``master`` (gunicorn's workers)."""
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/readyz")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def gunicorn_server(
    db_url: str, log_path: Path, workers: int = 2, **env: str
) -> Iterator[tuple[int, int]]:
    """``ipvalue serve --production`` on a free loopback port; yields (master pid, port).

    ``env`` adds ``IPVALUE_*`` settings (the rate limit is off unless given).
    """
    port = _free_port()
    environ = {
        **os.environ,
        "IPVALUE_DATABASE_URL": db_url,
        "IPVALUE_RATE_LIMIT": "0",
        "IPVALUE_LOG_LEVEL": "WARNING",
        # its own instance folder: control socket and metrics never shared with another server
        "IPVALUE_INSTANCE_PATH": str(log_path.parent / f"instance-{port}"),
        **env,
    }
    ipvalue = str(Path(sys.executable).with_name("ipvalue"))
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [ipvalue, "serve", "--production", "--port", str(port), "--workers", str(workers)],
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while len(worker_pids(proc.pid)) < workers or not _ready(port):
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("gunicorn did not start: " + log_path.read_text(), pytrace=False)
                time.sleep(0.1)
            yield proc.pid, port
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _pg_unreachable(url: str) -> str | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server URL, checked reachable (skip locally, fail under CI)."""
    url = os.environ.get("IPVALUE_TEST_POSTGRES_URL", PG_DEFAULT)
    why = _pg_unreachable(url)
    if why is not None:
        message = (
            f"PostgreSQL is not reachable at {url} ({why}). Start one (trust auth, database "
            "'test') or set IPVALUE_TEST_POSTGRES_URL to run the PostgreSQL tests"
        )
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + "; CI requires them.", pytrace=False)
        pytest.skip(message + ".")
    return url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server, dropped after the test."""
    from sqlalchemy import create_engine, text

    schema = f"ipv_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_server else "?"
    url = f"{pg_server}{sep}options=-csearch_path%3D{schema}"
    yield url
    dispose(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """Each database the service supports: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("pg_url"))
