"""Serving for real: gunicorn with several workers (``ipvalue serve --production``).

Server settings come from the environment: ``IPVALUE_BIND`` (default ``127.0.0.1:8000``),
``IPVALUE_WORKERS`` (default: one per core, at least 2), ``IPVALUE_THREADS`` (threads per
worker, default 4), ``IPVALUE_TIMEOUT`` (seconds, default 60). Requests are short and CPU-bound,
so more workers than cores only adds switching: on 2 cores, 2 workers x 4 threads answered
``benchmarks/load.py`` fastest (more throughput and a lower p99 than 3 or 4 workers).

The master migrates the database, recovers unfinished jobs and creates the shared rate-limit
buckets once, before any worker starts; each worker builds its own app (engine, key cache, job
dispatcher), loads the Monte Carlo sampler's compiled kernels (`warm_up_worker`, so no request
pays for them) and takes queued jobs, each run in its own process that dies with the worker. A
worker that is stopping, or whose master is gone, takes no new job; when it exits it ends its
job processes and re-queues their jobs (`api.jobs.JobRunner.shutdown`).

Everything of one running instance lives in its instance folder (``IPVALUE_INSTANCE_PATH``,
default ``./instance``): the default SQLite file, ``metrics/`` (prometheus-client's
multiprocess files, emptied at each start), gunicorn's control socket ``gunicorn.ctl`` and
``cache-key``, the key signing compiled-model cache entries (unless ``IPVALUE_CACHE_KEY_FILE``
names another), so two instances on one machine never share them. gunicorn's own lines use
``IPVALUE_LOG_FORMAT`` like the app's; its error answers (414 URI too long, 431 headers too
large, 400 malformed request) are problem+json like every other error (`ProblemWorker`), and a
body that does not arrive within ``IPVALUE_BODY_TIMEOUT`` seconds gets 408 (`api.bodyread`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from ipvalue.api.config import from_env, instance_folder
from ipvalue.api.errors import PROBLEM_BASE
from ipvalue.api.logs import gunicorn_logconfig
from ipvalue.api.metrics import mark_process_dead, prepare_multiprocess
from ipvalue.api.ratelimit import share_buckets
from ipvalue.api.recovery import start_sweeper

log = logging.getLogger("ipvalue.server")
#: Longest path of a Unix socket (``sun_path`` holds 108 bytes with the final NUL).
MAX_SOCKET_PATH = 107


def server_options(bind: str | None = None, workers: int | None = None) -> dict[str, Any]:
    """gunicorn settings from the arguments, then ``IPVALUE_*``, then defaults."""
    env = os.environ
    cores = os.cpu_count() or 1
    settings = from_env()
    options: dict[str, Any] = {
        "bind": bind or env.get("IPVALUE_BIND") or "127.0.0.1:8000",
        "workers": workers or int(env.get("IPVALUE_WORKERS") or max(2, cores)),
        "threads": int(env.get("IPVALUE_THREADS", 4)),
        "worker_class": f"{__name__}.ProblemWorker",
        "timeout": int(env.get("IPVALUE_TIMEOUT", 60)),
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": None,
        "logconfig_dict": gunicorn_logconfig(settings["LOG_FORMAT"], settings["LOG_LEVEL"]),
        "on_starting": _on_starting,
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
        "child_exit": _child_exit,
    }
    control = instance_folder(settings) / "gunicorn.ctl"
    if len(str(control)) <= MAX_SOCKET_PATH:
        options["control_socket"] = str(control)
    else:  # the path does not fit a Unix socket: no control socket rather than a shared one
        options["control_socket_disable"] = True
    return options


_prepared: list[Path] = []


def prepare_instance() -> Path:
    """Create the instance folder and empty its metrics directory, once per process.

    Call before any app is built in the gunicorn master (`serve` does, if nobody did before).
    """
    if not _prepared:
        folder = instance_folder(from_env())
        folder.mkdir(parents=True, exist_ok=True)
        prepare_multiprocess(folder / "metrics")
        # the key signing compiled-model cache entries, outside the cache (job processes inherit)
        os.environ.setdefault("IPVALUE_CACHE_KEY_FILE", str(folder / "cache-key"))
        _prepared.append(folder)
    return _prepared[0]


def _child_exit(_server: Any, worker: Any) -> None:
    mark_process_dead(worker.pid)


def problem_bytes(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 problem+json answer that closes the connection."""
    slug = reason.lower().replace(" ", "-")
    body = json.dumps(
        {"type": PROBLEM_BASE + slug, "title": reason, "status": status, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


_ADVICE = {
    414: "the request line (method, path and query) is longer than the server accepts; "
    "shorten the URL or send the data in the body",
    431: "the request's headers are more or larger than the server accepts; send fewer or "
    "smaller headers",
}


def _write_problem(sock: Any, status: int, reason: str, mesg: str) -> None:
    advice = _ADVICE.get(status)
    detail = f"{advice} ({mesg})" if advice and mesg else advice or mesg or reason
    gunicorn_util.write_nonblock(sock, problem_bytes(status, reason, detail))


class ProblemWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker whose own error answers are problem+json, not HTML."""

    def init_process(self) -> None:
        gunicorn_util.write_error = _write_problem
        super().init_process()


def _on_starting(_server: Any) -> None:
    from ipvalue.api.db import default_url, dispose_all, engine_for, migrate
    from ipvalue.api.recovery import recover_jobs

    settings = from_env()
    url = settings["DATABASE_URL"] or default_url(instance_folder(settings))
    engine = engine_for(url)
    migrate(engine)
    recover_jobs(engine, settings["JOBS_ON_RESTART"], settings["MAX_JOB_ATTEMPTS"])
    dispose_all()
    share_buckets(settings)


def warm_up_worker(worker: Any) -> float:
    """Load (or compile, then cache) the Monte Carlo sampler's kernels in this worker process,
    before it accepts a request; returns the seconds it took (logged).

    numba's dispatchers live per process and a worker is forked from a master that never
    simulated, so each worker does this once (gunicorn's ``post_worker_init``). The worker tells
    the master it is alive around it, so a first compilation slower than ``timeout`` does not
    get it killed.
    """
    import time

    from ipvalue.risk.montecarlo import sampling

    worker.notify()
    started = time.perf_counter()
    sampling.warm_up()
    seconds = time.perf_counter() - started
    worker.notify()
    log.info("worker %d: Monte Carlo sampler ready in %.2f s", os.getpid(), seconds)
    return seconds


def _post_worker_init(worker: Any) -> None:
    """Warm the sampler, then dispatch jobs and sweep in this worker; no new job once it stops
    or its master is gone."""
    warm_up_worker(worker)
    start_sweeper(worker.wsgi, lambda: bool(worker.alive) and worker.ppid == os.getppid())


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
        from ipvalue.api.bodyread import BodyDeadline

        app = create_app()
        app.wsgi_app = BodyDeadline(  # type: ignore[method-assign]
            app.wsgi_app, float(app.config["BODY_TIMEOUT"]), int(app.config["MAX_BODY_BYTES"])
        )
        return app


def serve(bind: str | None = None, workers: int | None = None) -> None:
    """Run gunicorn until it is stopped (`prepare_instance` first, if not done yet)."""
    prepare_instance()
    Server(server_options(bind, workers)).run()
