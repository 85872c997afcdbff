"""Prometheus metrics, served at ``GET /metrics`` (prometheus-client's text format).

- ``ipvalue_http_requests_total{method, route, status}`` and
  ``ipvalue_http_request_duration_seconds{method, route, status}``: every request, by its route
  template (``/v1/valuations/<record_id>``, never the raw path, so label values stay few;
  ``unmatched`` for paths no route serves);
- ``ipvalue_jobs{status}``: jobs per state now (``queued`` is the queue depth);
- ``ipvalue_job_duration_seconds{kind, status}``: run time of finished jobs (start to finish);
- ``ipvalue_monitoring_evaluations_total``: loan evaluations stored by monitoring runs;
- ``ipvalue_alerts{status, severity}``: the pledge book's alerts per state now;
- ``ipvalue_webhook_deliveries{status}`` and ``ipvalue_webhook_delivery_attempts_total``: the
  webhook outbox per state, and every delivery attempt made.

The job, monitoring and webhook figures are read from their tables when scraped, so they count
every job wherever it ran (local pool, Dask workers on other machines) and survive restarts.

Under gunicorn every worker counts its own requests; `prepare_multiprocess` (called by the
master before it forks) points prometheus-client's multiprocess mode at a directory of this
instance, emptied at start, and a scrape of any worker sums them all.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy import Engine, case, extract, func, select

from ipvalue.api.book import alerts
from ipvalue.api.monitor_evaluation import EVALUATION_KIND
from ipvalue.api.tables import jobs, records
from ipvalue.api.webhooks import outbox

#: Upper bounds (s) of the request latency buckets.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Upper bounds (s) of the job duration buckets.
JOB_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
JOB_STATES = ("queued", "running", "succeeded", "failed")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_lock = threading.Lock()
_request_metrics: tuple[Any, Any] | None = None


def prepare_multiprocess(directory: str | Path) -> Path:
    """Empty ``directory`` and make this process and its children count into it.

    Call in the gunicorn master before any worker starts (and before any metric is made).
    """
    from prometheus_client import values

    folder = Path(directory)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    values.ValueClass = values.get_value_class()  # made before the variable was set
    return folder


def mark_process_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (its counters stay summed)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def _metrics() -> tuple[Any, Any]:
    """The request counter and histogram, made once per process."""
    global _request_metrics
    with _lock:
        if _request_metrics is None:
            from prometheus_client import Counter, Histogram

            labels = ("method", "route", "status")
            _request_metrics = (
                Counter("ipvalue_http_requests", "HTTP requests answered", labels),
                Histogram(
                    "ipvalue_http_request_duration_seconds",
                    "Time to answer an HTTP request (s)",
                    labels,
                    buckets=REQUEST_BUCKETS,
                ),
            )
        return _request_metrics


def _seconds(engine: Engine) -> Any:
    """SQL for a finished job's run time in seconds, on this engine's database."""
    if engine.dialect.name == "sqlite":
        return (func.julianday(jobs.c.finished_at) - func.julianday(jobs.c.started_at)) * 86400.0
    return extract("epoch", jobs.c.finished_at - jobs.c.started_at)


class JobCollector:
    """Job counts and durations from the ``jobs`` table, read at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

        states = GaugeMetricFamily("ipvalue_jobs", "Jobs in each state", labels=["status"])
        counts = dict.fromkeys(JOB_STATES, 0)
        duration = _seconds(self.engine)
        finished = jobs.c.status.in_(("succeeded", "failed")) & jobs.c.started_at.is_not(None)
        per_bucket = [func.sum(case((duration <= b, 1), else_=0)) for b in JOB_BUCKETS]
        query = (
            select(jobs.c.kind, jobs.c.status, func.count(), func.sum(duration), *per_bucket)
            .where(finished)
            .group_by(jobs.c.kind, jobs.c.status)
        )
        with self.engine.connect() as conn:
            for status, n in conn.execute(select(jobs.c.status, func.count()).group_by("status")):
                counts[str(status)] = int(n)
            rows = list(conn.execute(query))
        for status, n in counts.items():
            states.add_metric([status], n)
        yield states
        hist = HistogramMetricFamily(
            "ipvalue_job_duration_seconds",
            "Run time of finished jobs, from start to finish (s)",
            labels=["kind", "status"],
        )
        for kind, status, n, total, *cumulative in rows:
            buckets = [
                (f"{b:g}", int(c or 0)) for b, c in zip(JOB_BUCKETS, cumulative, strict=True)
            ]
            hist.add_metric(
                [str(kind), str(status)], [*buckets, ("+Inf", int(n))], float(total or 0.0)
            )
        yield hist


class BookCollector:
    """Monitoring, alert and webhook figures from their tables, read at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        evaluations = select(func.count()).where(records.c.kind == EVALUATION_KIND)
        by_alert = select(alerts.c.status, alerts.c.severity, func.count()).group_by(
            alerts.c.status, alerts.c.severity
        )
        by_delivery = select(outbox.c.status, func.count(), func.sum(outbox.c.attempts)).group_by(
            outbox.c.status
        )
        with self.engine.connect() as conn:
            n_evaluations = int(conn.execute(evaluations).scalar_one())
            alert_rows = list(conn.execute(by_alert))
            delivery_rows = list(conn.execute(by_delivery))
        yield CounterMetricFamily(
            "ipvalue_monitoring_evaluations",
            "Loan evaluations stored by monitoring runs",
            value=n_evaluations,
        )
        states = GaugeMetricFamily(
            "ipvalue_alerts", "Alerts in each state", labels=["status", "severity"]
        )
        for status, severity, n in alert_rows:
            states.add_metric([str(status), str(severity)], int(n))
        yield states
        deliveries = GaugeMetricFamily(
            "ipvalue_webhook_deliveries", "Webhook deliveries in each state", labels=["status"]
        )
        attempts = CounterMetricFamily(
            "ipvalue_webhook_delivery_attempts", "Webhook delivery attempts made"
        )
        total_attempts = 0
        for status, n, tried in delivery_rows:
            deliveries.add_metric([str(status)], int(n))
            total_attempts += int(tried or 0)
        attempts.add_metric([], total_attempts)
        yield deliveries
        yield attempts


def exposition(engine: Engine) -> tuple[bytes, str]:
    """The metrics page: this process's (or all workers') requests, and the jobs."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    _metrics()
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    registry.register(JobCollector(engine))
    registry.register(BookCollector(engine))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward:
    """Collect another registry's metrics (this process's, outside multiprocess mode)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()


def metrics_response() -> Response:
    """``GET /metrics``."""
    body, content_type = exposition(current_app.extensions["ipvalue.engine"])
    return Response(body, content_type=content_type)


def install_metrics(app: Flask) -> None:
    """Count every request by method, route template and status, with its latency."""
    counter, histogram = _metrics()

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("metrics_started")
        rule = request.url_rule
        labels = (
            request.method,
            rule.rule if rule is not None else "unmatched",
            response.status_code,
        )
        counter.labels(*labels).inc()
        if started is not None:
            histogram.labels(*labels).observe(time.perf_counter() - started)
        return response
