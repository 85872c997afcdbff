"""Settings: defaults, overridden by ``IPVALUE_*`` environment variables, then by ``create_app``.

Every setting has an upper-case name (the Flask config key) and an environment variable
``IPVALUE_<NAME>``. ``create_app(config)`` takes the same names, so tests override them directly.

======================  ==========================================  ===========================
name                    meaning                                     default
======================  ==========================================  ===========================
DATABASE_URL            SQLAlchemy URL                              SQLite file in the instance
                                                                    folder
AUTO_MIGRATE            run Alembic migrations at start             true
MAX_BODY_BYTES          largest request body (413 above)            2 MiB
MAX_PATHS               largest ``simulation.paths`` (422 above)    1 000 000
MAX_ASSETS              most assets in one request (422 above)      10 000
MAX_SERIES_LENGTH       longest series (per-year list, ``years``,   1 000
                        volatility series) (422 above)
RATE_LIMIT              requests per second per key (0: no limit)   50
RATE_BURST              requests a key may send at once            100
ANON_RATE_LIMIT         requests per second per client address      10
                        without a key checked recently (0: off)
ANON_RATE_BURST         such requests an address may send at once   50
PROXY_COUNT             trusted reverse proxies in front; the       0
                        client address is then taken from
                        ``X-Forwarded-For``
MAX_PATH_STEPS          largest ``simulation.paths`` x value-path   50 000 000
                        time steps of a valuation (422 above)
SYNC_BUDGET             work answered inline (path-years, see       2 000 000
                        `api.limits.valuation_work`); above it the
                        request becomes a job (202)
JOB_WORKERS             jobs one server worker runs at once, each   1
                        in its own process (gunicorn runs one
                        worker per core)
MAX_JOBS_PER_TENANT     queued and running jobs of one tenant       20
                        (429 with Retry-After above)
JOB_LEASE_SECONDS       a running job's lease; its process extends  60
                        it every quarter of it (heartbeat)
JOB_WRITE_RETRY_SECONDS how long a job's final write is retried     300
                        while the database is unreachable
JOB_POLL_SECONDS        how often an idle worker looks for queued   1
                        jobs
DASK_SCHEDULER          address of a Dask scheduler; jobs run       (unset: local pool)
                        there when set
JOBS_ON_RESTART         ``rerun`` or ``fail`` unfinished jobs       rerun
MAX_JOB_ATTEMPTS        runs of one job before it is failed         3
JOB_SWEEP_SECONDS       how often a server worker looks for jobs    30
                        of dead processes (`api.recovery`)
KEY_CACHE_SECONDS       how long a valid key is trusted in a        30
                        worker without another database look-up
                        (a revoked key works this long at most)
BODY_TIMEOUT            seconds a request body may take to arrive   10
                        under gunicorn (408 after; 0: no limit)
INSTANCE_PATH           the instance folder: default SQLite file,   ``instance`` in the
                        metrics of the workers, gunicorn's control  working directory
                        socket
WEBHOOK_ALLOW_PRIVATE   deliver webhooks to private, loopback and   false
                        link-local addresses too (tests, closed
                        networks); job processes read it from the
                        environment. Metadata addresses are always
                        refused
LOG_LEVEL               logging level                               INFO
LOG_FORMAT              ``json`` or ``text``                        json
======================  ==========================================  ===========================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "IPVALUE_"

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,
    "AUTO_MIGRATE": True,
    "MAX_BODY_BYTES": 2 * 1024 * 1024,
    "MAX_PATHS": 1_000_000,
    "MAX_ASSETS": 10_000,
    "MAX_SERIES_LENGTH": 1_000,
    "RATE_LIMIT": 50.0,
    "RATE_BURST": 100,
    "ANON_RATE_LIMIT": 10.0,
    "ANON_RATE_BURST": 50,
    "PROXY_COUNT": 0,
    "MAX_PATH_STEPS": 50_000_000,
    "SYNC_BUDGET": 2_000_000,
    "JOB_WORKERS": 1,
    "MAX_JOBS_PER_TENANT": 20,
    "JOB_LEASE_SECONDS": 60.0,
    "JOB_WRITE_RETRY_SECONDS": 300.0,
    "JOB_POLL_SECONDS": 1.0,
    "DASK_SCHEDULER": None,
    "JOBS_ON_RESTART": "rerun",
    "MAX_JOB_ATTEMPTS": 3,
    "JOB_SWEEP_SECONDS": 30.0,
    "KEY_CACHE_SECONDS": 30.0,
    "BODY_TIMEOUT": 10.0,
    "INSTANCE_PATH": None,
    "WEBHOOK_ALLOW_PRIVATE": False,
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
    "SECRET_KEY": None,
    "CONSOLE_SESSION_MINUTES": 60.0,
}


def _convert(name: str, raw: str) -> Any:
    default = DEFAULTS[name]
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw or None


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings: defaults overridden by ``IPVALUE_*`` variables.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read; ``os.environ`` by default.

    Raises
    ------
    ValueError
        A variable that does not parse, naming it.
    """
    env = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for name in DEFAULTS:
        raw = env.get(ENV_PREFIX + name)
        if raw is None:
            continue
        try:
            settings[name] = _convert(name, raw)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{name}={raw!r} does not parse: {exc}") from exc
    if settings["LOG_FORMAT"] not in {"json", "text"}:
        raise ValueError(f"{ENV_PREFIX}LOG_FORMAT must be 'json' or 'text'")
    if settings["JOBS_ON_RESTART"] not in {"rerun", "fail"}:
        raise ValueError(f"{ENV_PREFIX}JOBS_ON_RESTART must be 'rerun' or 'fail'")
    return settings


def instance_folder(settings: Mapping[str, Any]) -> Path:
    """The instance folder of these settings (``INSTANCE_PATH``, else ``./instance``), absolute."""
    return Path(settings.get("INSTANCE_PATH") or "instance").resolve()
