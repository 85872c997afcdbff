"""The Flask application factory.

The blueprints of ``api/routes`` are registered from one explicit list, :data:`BLUEPRINTS`; a new
route module adds its ``bp`` there (a test checks that no route module is left out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask

from ipvalue.api import config as settings
from ipvalue.api.auth import install_auth
from ipvalue.api.console import views as console
from ipvalue.api.console.session import install_console_session
from ipvalue.api.db import default_url, engine_for, migrate
from ipvalue.api.errors import register_error_handlers
from ipvalue.api.executors import make_executor
from ipvalue.api.jobs import JobRunner
from ipvalue.api.keys import KeyRing
from ipvalue.api.limits import install_body_limit
from ipvalue.api.logs import configure_logging, install_request_ids
from ipvalue.api.metrics import install_metrics
from ipvalue.api.monitor_schedule import install_monitor_schedule
from ipvalue.api.ratelimit import install_rate_limit
from ipvalue.api.routes import (
    alerts,
    assets,
    collateral,
    docs,
    documents,
    health,
    insurance,
    jobs,
    loans,
    monitoring,
    portfolios,
    triggers,
    valuations,
    volatility,
    webhooks,
)
from ipvalue.api.store import SqlStore

BLUEPRINTS: tuple[Blueprint, ...] = (
    alerts.bp,
    console.bp,
    assets.bp,
    collateral.bp,
    docs.bp,
    documents.bp,
    health.bp,
    insurance.bp,
    jobs.bp,
    loans.bp,
    monitoring.bp,
    portfolios.bp,
    triggers.bp,
    valuations.bp,
    volatility.bp,
    webhooks.bp,
)
"""Every blueprint the app serves, in registration order."""


def _register_routes(app: Flask) -> None:
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)


def _absolute_sqlite(url: str, root: Path) -> str:
    """Make a relative SQLite path absolute, so job workers find the same file."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((root / url[len(prefix) :]).resolve())
    return url


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the ipvalue WSGI app.

    Parameters
    ----------
    config : dict, optional
        Settings overriding the defaults and the ``IPVALUE_*`` environment (see `api.config`);
        tests pass their own, e.g. ``{"DATABASE_URL": ..., "RATE_LIMIT": 0}``.
        ``INSTANCE_PATH`` moves the instance folder (home of the default SQLite file).
    """
    merged = {**settings.from_env(), **(config or {})}
    app = Flask(__name__, instance_path=str(settings.instance_folder(merged)))
    app.config.from_mapping(JSON_SORT_KEYS=False, PROVIDE_AUTOMATIC_OPTIONS=False)
    app.config.update(merged)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if not app.config.get("TESTING"):
        configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    url = app.config["DATABASE_URL"] or default_url(app.instance_path)
    url = app.config["DATABASE_URL"] = _absolute_sqlite(url, Path.cwd())
    engine = engine_for(url)
    if app.config["AUTO_MIGRATE"]:
        migrate(engine)
    app.extensions["ipvalue.engine"] = engine
    app.extensions["ipvalue.store"] = app.config.get("STORE") or SqlStore(engine)
    app.extensions["ipvalue.keys"] = KeyRing(engine, float(app.config["KEY_CACHE_SECONDS"]))
    app.extensions["ipvalue.jobs"] = JobRunner.from_config(
        engine, url, make_executor(app.config["DASK_SCHEDULER"]), app.config
    )
    install_metrics(app)
    install_request_ids(app)
    install_auth(app)
    install_rate_limit(app)
    install_body_limit(app)
    register_error_handlers(app)
    install_console_session(app)
    _register_routes(app)
    install_monitor_schedule(app)
    return app
