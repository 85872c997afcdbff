"""Monitoring runs: every open loan of a tenant evaluated as of a date, alerts raised.

`run_monitoring` is the one implementation behind ``POST /v1/monitoring/runs`` (a job: it runs
in a job worker from its JSON payload, see `monitoring_job`) and ``ipvalue monitor run`` (the
CLI, for cron). For each loan open on the run date (started, not matured, not archived):

1. take the loan's lease (`BookStore.take_lease`), so exactly one run handles a loan at a time
   across web workers and job processes; a loan another run holds is reported in ``skipped``;
2. evaluate it (:func:`ipvalue.risk.book.monitor.evaluate_loan`): appraisals re-run as of the
   date with the legal record as it now stands, volatility re-estimated from an asset's
   observations when they changed (`posterior_draws`; its posterior draws feed the collateral),
   the bundle's collateral, every trigger rule;
3. decide its alerts (:func:`ipvalue.risk.book.alerts.decide_alerts`) and store, in one
   transaction, the evaluation (record kind ``loan_evaluation``, subject the loan id), the new
   and cleared alerts and the loan's risk for ``GET /v1/loans?sort=risk``: a crash leaves a
   loan either evaluated or not, never half.

A loan that fails (no appraisal, no volatility, a currency that differs) is reported in
``failures`` with its problem; the others go on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from ipvalue.api.book import BookStore
from ipvalue.api.db import dumps, engine_for
from ipvalue.api.jobs import process_tag
from ipvalue.api.store import SqlStore, record_row
from ipvalue.api.tables import tenants
from ipvalue.api.webhooks import deliver_due, enqueue
from ipvalue.models.asset import Asset
from ipvalue.models.book import Appraisal, BookEvent, LoanBody
from ipvalue.models.errors import IPValueError
from ipvalue.risk.book.alerts import KnownAlert, decide_alerts
from ipvalue.risk.book.monitor import Baseline, PledgedAsset, evaluate_loan, is_open
from ipvalue.risk.kernel.seeds import seed_of

log = logging.getLogger("ipvalue.monitor")

EVALUATION_KIND = "loan_evaluation"
LEASE_SECONDS = 600.0
"""How long a run holds a loan's lease before another may take it (a dead run's loans free up)."""


def _problem(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ValidationError):
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return {"title": "Invalid input", "status": 422, "detail": str(errors[0]), "errors": errors}
    if isinstance(exc, IPValueError):
        problem: dict[str, Any] = {"title": exc.title, "status": exc.status, "detail": str(exc)}
        if getattr(exc, "problems", None):
            problem["errors"] = [{"field": p.field, "message": p.message} for p in exc.problems]  # type: ignore[attr-defined]
        return problem
    return {"title": "Evaluation failed", "status": 422, "detail": f"{type(exc).__name__}: {exc}"}


def _baseline(store: BookStore, tenant: str, loan_id: str) -> Baseline | None:
    latest = store.records.latest(EVALUATION_KIND, tenant, loan_id)
    base = None if latest is None else latest["result"].get("baseline")
    if not base:
        return None
    return Baseline(dt.date.fromisoformat(base["date"]), float(base["value"]), base["volatility"])


def posterior_draws(
    store: BookStore, tenant: str, asset_id: str, asset: Asset, observations: dict[str, Any]
) -> tuple[float, ...]:
    """Posterior draws of an asset's volatility from its observations: estimated (MCMC, as
    ``POST /v1/volatility``) once per distinct set of observations and kept as a
    ``volatility`` record about ``observations:<asset id>:<digest>``; new observations (a new
    asset version with other ``observations``) are estimated afresh."""
    body = {
        "series": observations["series"],
        "kind": observations.get("kind", "levels"),
        "periods_per_year": observations.get("periods_per_year", 12),
        "asset_kind": asset.kind,
    }
    text = dumps(body)
    digest = hashlib.sha256(text.encode()).hexdigest()
    body["seed"] = seed_of(text)
    subject = f"observations:{asset_id}:{digest[:16]}"
    cached = store.records.latest("volatility", tenant, subject)
    if cached is not None:
        result = cached["result"]
    else:
        from ipvalue.api.capabilities import volatility_job

        result = volatility_job(body)
        store.records.save(
            "volatility",
            tenant,
            {"request": body, "result": result, "subject": subject, "seed": body["seed"]},
        )
    return tuple(float(d) for d in result["posterior_sigma_draws"])


def _pledged(store: BookStore, tenant: str, loan: LoanBody) -> list[PledgedAsset]:
    out = []
    for asset_id in loan.pledged_asset_ids:
        doc = store.get("asset", tenant, asset_id)["document"]
        appraisal = doc.get("appraisal")
        asset = Asset.model_validate(doc["asset"])
        observations = doc.get("observations")
        out.append(
            PledgedAsset(
                id=asset_id,
                asset=asset,
                events=tuple(BookEvent.model_validate(e) for e in doc.get("events", [])),
                appraisal=None if appraisal is None else Appraisal.model_validate(appraisal),
                volatility_draws=None
                if not observations
                else posterior_draws(store, tenant, asset_id, asset, observations),
            )
        )
    return out


def run_monitoring(
    db_url: str,
    tenant: str,
    as_of: dt.date,
    loan_ids: list[str] | None = None,
    run_id: str | None = None,
    progress: Callable[[float], None] | None = None,
    paths: int | None = None,
) -> dict[str, Any]:
    """Monitor the tenant's open loans as of ``as_of`` (see the module docstring).

    Parameters
    ----------
    db_url : str
        The service's database.
    tenant : str
    as_of : datetime.date
        The run date.
    loan_ids : list of str, optional
        Only these loans (each must be the tenant's); default every loan.
    run_id : str, optional
        Stored with each evaluation and alert (the job id).
    progress : callable, optional
        Receives the fraction of loans done.
    paths : int, optional
        Paths of each collateral simulation (default `risk.book.monitor.MONITOR_PATHS`).

    Returns
    -------
    dict
        ``as_of``, ``loans_checked``, ``alerts_raised``, ``alerts_cleared``, ``failures``
        (``[{"loan_id", "problem"}]``), ``skipped`` and one line per loan in ``loans``.
    """
    store = BookStore(engine_for(db_url))
    if loan_ids is None:
        entries = list(store.all_current("loan", tenant))
    else:
        entries = [store.get("loan", tenant, i) for i in loan_ids]
    owner = f"{process_tag('monitor')}:{uuid.uuid4().hex[:8]}"[:64]
    failures: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    raised_total = cleared_total = checked = 0
    extra = {} if paths is None else {"paths": paths}
    for n, entry in enumerate(entries):
        if progress is not None:
            progress(n / max(1, len(entries)))
        loan_id = entry["id"]
        loan = LoanBody.model_validate(entry["document"])
        if entry["archived_at"] is not None or not is_open(loan, as_of):
            continue
        if not store.take_lease(loan_id, owner, LEASE_SECONDS):
            skipped.append({"loan_id": loan_id, "reason": "another monitoring run holds this loan"})
            continue
        try:
            try:
                evaluation = evaluate_loan(
                    loan_id,
                    loan,
                    _pledged(store, tenant, loan),
                    as_of,
                    _baseline(store, tenant, loan_id),
                    **extra,
                )
            except (IPValueError, ValidationError, ValueError) as exc:
                failures.append({"loan_id": loan_id, "problem": _problem(exc)})
                continue
            known = [
                KnownAlert(a["id"], a["rule"], a["asset_id"], a["severity"], a["status"])
                for a in store.loan_alerts(tenant, loan_id)
            ]
            decision = decide_alerts(known, evaluation.fired)
            result = evaluation.to_json()
            collateral = result["collateral"]
            risk = None if collateral is None else float(collateral["prob_ltv_breach"]["value"])
            if collateral is None:
                risk = 1.0  # a worthless bundle: the breach is certain
            record = record_row(
                EVALUATION_KIND,
                tenant,
                {
                    "request": {"loan_id": loan_id, "as_of": result["as_of"], "run_id": run_id},
                    "result": result,
                    "subject": loan_id,
                },
            )
            ids = store.commit_evaluation(
                tenant,
                loan_id,
                record,
                [vars(f) for f in decision.raise_],
                decision.clear,
                risk,
                run_id,
                also=lambda conn, new: [enqueue(conn, tenant, "alert.raised", a) for a in new],
            )
        finally:
            store.release_lease(loan_id, owner)
        checked += 1
        raised_total += len(ids)
        cleared_total += len(decision.clear)
        lines.append(
            {
                "loan_id": loan_id,
                "value": result["value"],
                "ltv": None if collateral is None else collateral["ltv"],
                "prob_ltv_breach": risk,
                "highest_severity": result["highest_severity"],
                "alerts_raised": len(ids),
                "next_revaluation_date": result["next_revaluation_date"],
            }
        )
    if progress is not None:
        progress(1.0)
    summary = {
        "as_of": as_of.isoformat(),
        "run_id": run_id,
        "loans_checked": checked,
        "alerts_raised": raised_total,
        "alerts_cleared": cleared_total,
        "failures": failures,
        "skipped": skipped,
    }
    with store.engine.begin() as conn:
        enqueue(conn, tenant, "monitoring.completed", summary)
    try:
        deliver_due(store.engine, tenant)
    except Exception:  # deliveries stay in the outbox; the next run or deliverer sends them
        log.exception("webhook deliveries after the monitoring run failed")
    return {**summary, "loans": lines}


def monitoring_job(payload: dict[str, Any], progress: Any = None) -> dict[str, Any]:
    """The job of ``POST /v1/monitoring/runs``: ``{"db_url", "tenant", "as_of", "loan_ids",
    "run_id"}`` -> the run's result (no Flask; runs in a job worker)."""
    return run_monitoring(
        payload["db_url"],
        payload["tenant"],
        dt.date.fromisoformat(payload["as_of"]),
        payload.get("loan_ids"),
        payload.get("run_id"),
        progress,
    )


def tenant_names(db_url: str) -> list[str]:
    """Every tenant of the database (the CLI monitors them all by default)."""
    with engine_for(db_url).connect() as conn:
        return [r[0] for r in conn.execute(select(tenants.c.name).order_by(tenants.c.name))]


def store_run(db_url: str, tenant: str, request: dict[str, Any], result: dict[str, Any]) -> str:
    """Keep a CLI run as a ``monitoring_run`` record, as a job's would be; returns its id."""
    return SqlStore(engine_for(db_url)).save(
        "monitoring_run", tenant, {"request": request, "result": result}
    )


SCHEDULE_LEASE = "schedule:monitoring"
"""The lease that makes one process of the whole service start each scheduled run."""


def parse_every(text: str | None) -> float | None:
    """``IPVALUE_MONITOR_EVERY`` in seconds: a number of seconds, or ``30m``, ``6h``, ``1d``;
    None (no schedule) when unset, empty or ``0``.

    Raises
    ------
    ValueError
        Naming the setting, for anything else.
    """
    if text is None or str(text).strip() in ("", "0"):
        return None
    raw = str(text).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = units.get(raw[-1], 1)
    number = raw[:-1] if raw[-1] in units else raw
    try:
        seconds = float(number) * factor
    except ValueError:
        seconds = -1.0
    if not seconds >= 60:
        raise ValueError(
            f"IPVALUE_MONITOR_EVERY: give seconds (at least 60) or 30m, 6h, 1d; got {text!r}"
        )
    return seconds


def scheduled_tick(runner: Any, db_url: str, every: float, owner: str) -> list[str]:
    """Start a monitoring job per tenant if this process takes the schedule's lease (held for
    ``every`` seconds, so the whole service starts one run per period); returns the job ids."""
    store = BookStore(engine_for(db_url))
    if not store.take_lease(SCHEDULE_LEASE, owner, every):
        return []
    as_of = dt.datetime.now(dt.UTC).date().isoformat()
    jobs = []
    for tenant in tenant_names(db_url):
        run_id = str(uuid.uuid4())
        payload = {
            "db_url": db_url,
            "tenant": tenant,
            "as_of": as_of,
            "loan_ids": None,
            "run_id": run_id,
        }
        inputs = {"as_of": as_of, "loan_ids": None, "run_id": run_id, "scheduled": True}
        context = {
            "request": {"as_of": as_of, "scheduled": True},
            "inputs": inputs,
            "seed": None,
            "location": "/v1/monitoring/runs/{id}",
            "subject": None,
        }
        try:
            jobs.append(runner.create("monitoring_run", tenant, monitoring_job, payload, context))
        except IPValueError as exc:  # e.g. the tenant's job limit: the others still run
            log.warning("scheduled monitoring run of tenant %s not started: %s", tenant, exc)
    return jobs


def install_monitor_schedule(app: Any) -> None:
    """Start the in-service schedule when ``MONITOR_EVERY`` (or ``IPVALUE_MONITOR_EVERY``) is
    set: a daemon thread per server process ticks every minute; the schedule's lease lets one of
    them start each period's run, as jobs through the service's job runner."""
    import os
    import threading
    import time

    every = parse_every(app.config.get("MONITOR_EVERY", os.environ.get("IPVALUE_MONITOR_EVERY")))
    if every is None:
        return
    runner = app.extensions["ipvalue.jobs"]
    db_url = app.config["DATABASE_URL"]
    owner = f"{process_tag('schedule')}:{uuid.uuid4().hex[:8]}"[:64]

    def loop() -> None:
        while True:
            try:
                scheduled_tick(runner, db_url, every, owner)
            except Exception:
                log.exception("scheduled monitoring run could not start")
            time.sleep(min(60.0, every))

    threading.Thread(target=loop, name="ipvalue-monitor-schedule", daemon=True).start()
