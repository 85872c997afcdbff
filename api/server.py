"""Serving for real: gunicorn with several workers (``ipvalue serve --production``).

Server settings come from the environment: ``IPVALUE_BIND`` (default ``127.0.0.1:8000``),
``IPVALUE_WORKERS`` (default: one per core, at least 2), ``IPVALUE_THREADS`` (threads per
worker, default 4), ``IPVALUE_TIMEOUT`` (seconds, default 60). Requests are short and CPU-bound,
so more workers than cores only adds switching: on 2 cores, 2 workers x 4 threads answered
``benchmarks/load.py`` fastest (more throughput and a lower p99 than 3 or 4 workers).

The master migrates the database, recovers unfinished jobs and creates the shared rate-limit
buckets once, before any worker starts; each worker builds its own app (engine, key cache, job
pool) and takes re-queued jobs.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

from ipvalue.api.config import from_env
from ipvalue.api.ratelimit import share_buckets
from ipvalue.api.recovery import start_sweeper


def server_options(bind: str | None = None, workers: int | None = None) -> dict[str, Any]:
    """gunicorn settings from the arguments, then ``IPVALUE_*``, then defaults."""
    env = os.environ
    cores = os.cpu_count() or 1
    return {
        "bind": bind or env.get("IPVALUE_BIND", "127.0.0.1:8000"),
        "workers": workers or int(env.get("IPVALUE_WORKERS", max(2, cores))),
        "threads": int(env.get("IPVALUE_THREADS", 4)),
        "worker_class": "gthread",
        "timeout": int(env.get("IPVALUE_TIMEOUT", 60)),
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": None,
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": "ipvalue.api.logs.JsonFormatter"}},
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "stream": "ext://sys.stderr",
                }
            },
            "root": {"level": "INFO", "handlers": ["stderr"]},
            "loggers": {
                "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                "gunicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            },
        },
        "on_starting": _on_starting,
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
    }


def _on_starting(_server: Any) -> None:
    from flask import Flask

    from ipvalue.api.db import default_url, dispose_all, engine_for, migrate
    from ipvalue.api.recovery import recover_jobs

    settings = from_env()
    url = settings["DATABASE_URL"] or default_url(Flask("api").instance_path)
    engine = engine_for(url)
    migrate(engine)
    recover_jobs(engine, settings["JOBS_ON_RESTART"], settings["MAX_JOB_ATTEMPTS"])
    dispose_all()
    share_buckets(float(settings["RATE_LIMIT"]), int(settings["RATE_BURST"]))


def _post_worker_init(worker: Any) -> None:
    start_sweeper(worker.wsgi)


def _worker_exit(_server: Any, worker: Any) -> None:
    """Stop sweeping; cancel jobs not started (they stay queued, another worker takes them)."""
    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(app, "extensions"):
        return
    sweeper = app.extensions.get("ipvalue.sweeper")
    if sweeper is not None:
        sweeper.stop()
    app.extensions["ipvalue.jobs"].shutdown()


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn running `api.create_app` in each worker."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from ipvalue.api import create_app

        return create_app()


def serve(bind: str | None = None, workers: int | None = None) -> None:
    """Run gunicorn until it is stopped."""
    Server(server_options(bind, workers)).run()
