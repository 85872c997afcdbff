"""Monitoring runs: every open loan of a tenant evaluated as of a date, alerts raised.

`run_monitoring` is the one implementation behind ``POST /v1/monitoring/runs`` (a job: it runs
in a job worker from its JSON payload, see `monitoring_job`) and ``ipvalue monitor run`` (the
CLI, for cron). The loans open on the run date (started, not matured, not archived) go in
chunks of `CHUNK_LOANS`; for each chunk:

1. take its loans' leases in one transaction (`BookStore.take_leases`), so exactly one run
   handles a loan at a time across web workers and job processes; a loan another run holds is
   reported in ``skipped``;
2. read the pledged assets, the loans' baselines (their latest evaluations) and their alerts,
   one query each, and estimate an asset's volatility from its observations when they changed
   (`posterior_draws`; its posterior draws feed the collateral);
3. evaluate the loans (`evaluate_jobs`, :func:`ipvalue.risk.book.monitor.evaluate_loan`):
   appraisals re-run as of the date with the legal record as it now stands, the bundle's
   collateral, every trigger rule; here, or in the workers of an ``executor`` (a Dask client,
   a process pool) while this process goes on with the next chunks: the work needs no
   database, and each loan's collateral is seeded by its id and the date, so where it runs
   changes no number;
4. decide the alerts (:func:`ipvalue.risk.book.alerts.decide_alerts`) and store, in one
   transaction, the evaluations (record kind ``loan_evaluation``, subject the loan id), the
   new and cleared alerts with their webhook outbox rows, and the loans' risk for
   ``GET /v1/loans?sort=risk``: a crash leaves a loan either evaluated or not, never half;
   then give the leases back.

A loan that fails (no appraisal, no volatility, a currency that differs) is reported in
``failures`` with its problem; the others go on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from ipvalue.api.book import (
    BookStore,
    alert_answer,
    alerts,
    book_heads,
    book_versions,
)
from ipvalue.api.db import dumps, engine_for, now
from ipvalue.api.jobs import process_tag
from ipvalue.api.monitor_evaluation import (
    EVALUATION_KIND,
    ChunkSpec,
    LoanJob,
    Outcome,
    evaluate_jobs,
    evaluate_packed,
    keep_freed_memory,
    pack,
    problem_of,
    unpack,
)
from ipvalue.api.store import SqlStore, write_rows
from ipvalue.api.tables import tenants
from ipvalue.api.webhooks import deliver_due, enqueue, webhooks
from ipvalue.models.asset import Asset
from ipvalue.models.book import LoanBody
from ipvalue.models.errors import IPValueError, NotFoundError
from ipvalue.risk.book.alerts import KnownAlert, decide_alerts
from ipvalue.risk.book.monitor import Baseline, is_open
from ipvalue.risk.kernel.seeds import seed_of

log = logging.getLogger("ipvalue.monitor")

LEASE_SECONDS = 600.0
"""How long a run holds a loan's lease before another may take it (a dead run's loans free up)."""


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


CHUNK_LOANS = 64
"""Loans a run leases, reads and stores together: one lease transaction, one query per kind
of data and one store transaction per chunk, instead of a dozen round trips per loan."""


def _slices(items: list[Any], size: int) -> Iterator[list[Any]]:
    for k in range(0, len(items), size):
        yield items[k : k + size]


def _current(conn: Connection, kind: str, tenant: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latest versions of the tenant's items ``ids`` of ``kind`` (missing ones left out):
    ``{id: {"id", "version", "archived_at", "document"}}``."""
    found: dict[str, dict[str, Any]] = {}
    for part in _slices(sorted(set(ids)), 500):
        query = (
            select(
                book_heads.c.id,
                book_heads.c.version,
                book_heads.c.archived_at,
                book_versions.c.document,
            )
            .join(
                book_versions,
                and_(
                    book_versions.c.id == book_heads.c.id,
                    book_versions.c.version == book_heads.c.version,
                ),
            )
            .where(
                book_heads.c.kind == kind,
                book_heads.c.tenant == tenant,
                book_heads.c.id.in_(part),
            )
        )
        for row in conn.execute(query):
            found[row.id] = {
                "id": row.id,
                "version": int(row.version),
                "archived_at": row.archived_at,
                "document": json.loads(row.document),
            }
    return found


def _baselines(store: BookStore, tenant: str, loan_ids: list[str]) -> dict[str, Baseline]:
    """Each loan's baseline from its latest evaluation (loans never evaluated left out)."""
    out: dict[str, Baseline] = {}
    for subject, record in store.records.latest_many(EVALUATION_KIND, tenant, loan_ids).items():
        base = record["result"].get("baseline")
        if base:
            out[subject] = Baseline(
                dt.date.fromisoformat(base["date"]), float(base["value"]), base["volatility"]
            )
    return out


def _known_alerts(
    conn: Connection, tenant: str, loan_ids: list[str]
) -> dict[str, list[KnownAlert]]:
    """Each loan's alerts, oldest first, as `decide_alerts` takes them."""
    query = (
        select(
            alerts.c.loan_id,
            alerts.c.id,
            alerts.c.rule,
            alerts.c.asset_id,
            alerts.c.severity,
            alerts.c.status,
        )
        .where(alerts.c.tenant == tenant, alerts.c.loan_id.in_(loan_ids))
        .order_by(alerts.c.raised_at, alerts.c.id)
    )
    out: dict[str, list[KnownAlert]] = {i: [] for i in loan_ids}
    for loan_id, *known in conn.execute(query):
        out[loan_id].append(KnownAlert(*known))
    return out


ALERT_FIELDS = ("asset_id", "rule", "severity", "reason", "action")
"""What an alert row takes from a fired rule."""


@dataclass
class _Chunk:
    """A chunk in flight: its leases, known alerts, and its outcomes once computed."""

    held: set[str]
    known: dict[str, list[KnownAlert]]
    outcomes: Any  # list of Outcome, or a future of one


def _store_chunk(
    engine: Engine, tenant: str, outcomes: list[Outcome], chunk: _Chunk, run_id: str | None
) -> list[tuple[Outcome, int, int]]:
    """Decide each evaluated loan's alerts (:func:`~ipvalue.risk.book.alerts.decide_alerts`)
    and store the chunk's evaluations, new and cleared alerts, risks and outbox rows in one
    transaction (so each loan's evaluation is stored whole or not at all); the rows are those
    of a loan's evaluation. Returns ``(outcome, alerts raised, alerts cleared)`` per
    loan."""
    stamp = now()
    new_alerts: list[dict[str, Any]] = []
    cleared: list[str] = []
    stored = []
    for item in outcomes:
        assert item.record is not None
        decision = decide_alerts(chunk.known[item.loan_id], item.fired)
        for alert in decision.raise_:
            new_alerts.append(
                {
                    "id": str(uuid.uuid4()),
                    "tenant": tenant,
                    "loan_id": item.loan_id,
                    "raised_at": stamp,
                    "status": "open",
                    "run_id": run_id,
                    **{k: getattr(alert, k) for k in ALERT_FIELDS},
                }
            )
        cleared += decision.clear
        stored.append((item, len(decision.raise_), len(decision.clear)))
    if not stored:
        return []
    with engine.begin() as conn:
        write_rows(conn, [item.record for item in outcomes if item.record])
        if new_alerts:
            conn.execute(insert(alerts), new_alerts)
        if cleared:
            conn.execute(
                update(alerts)
                .where(alerts.c.tenant == tenant, alerts.c.id.in_(cleared))
                .values(status="cleared", cleared_at=stamp)
            )
        conn.execute(
            update(book_heads)
            .where(book_heads.c.id == bindparam("loan"), book_heads.c.tenant == tenant)
            .values(risk=bindparam("loan_risk")),
            [{"loan": o.loan_id, "loan_risk": o.line["prob_ltv_breach"]} for o in outcomes],
        )
        # the outbox rows of each new alert; a tenant with no live subscription has none (one
        # query for the chunk instead of one per alert)
        if (
            new_alerts
            and conn.execute(
                select(webhooks.c.id)
                .where(webhooks.c.tenant == tenant, webhooks.c.archived_at.is_(None))
                .limit(1)
            ).first()
        ):
            blank = dict.fromkeys(alerts.c.keys())
            for row in new_alerts:
                enqueue(conn, tenant, "alert.raised", alert_answer({**blank, **row}))
    return stored


def run_monitoring(
    db_url: str,
    tenant: str,
    as_of: dt.date,
    loan_ids: list[str] | None = None,
    run_id: str | None = None,
    progress: Callable[[float], None] | None = None,
    paths: int | None = None,
    executor: Any = None,
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
    executor : optional
        Where the chunks are evaluated: anything with ``submit(fn, *args)`` returning a future
        with ``result()`` (a ``distributed.Client``, a ``concurrent.futures`` process pool);
        default here. This process keeps the leases, the reads and the writes, so the workers
        never wait on the database's write lock; a chunk goes out and comes back as one
        buffer each way (`evaluate_packed`); at most `IN_FLIGHT` chunks per worker are out at
        a time, and they are stored in order, so the result is the same as without.

    Returns
    -------
    dict
        ``as_of``, ``loans_checked``, ``alerts_raised``, ``alerts_cleared``, ``failures``
        (``[{"loan_id", "problem"}]``), ``skipped`` and one line per loan in ``loans``.

    Raises
    ------
    NotFoundError
        When one of ``loan_ids`` is not the tenant's loan (before any loan is evaluated).
    """
    keep_freed_memory()
    store = BookStore(engine_for(db_url))
    engine = store.engine
    if loan_ids is None:
        entries = list(store.all_current("loan", tenant))
    else:
        with engine.connect() as conn:
            found = _current(conn, "loan", tenant, loan_ids)
        for i in loan_ids:
            if i not in found:
                raise NotFoundError(f"no loan with id {i!r} for this API key's tenant")
        entries = [found[i] for i in loan_ids]
    owner = f"{process_tag('monitor')}:{uuid.uuid4().hex[:8]}"[:64]
    spec = ChunkSpec(tenant, as_of, run_id, paths)
    failures: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    totals = {"checked": 0, "raised": 0, "cleared": 0}
    todo = []
    for entry in entries:
        loan = LoanBody.model_validate(entry["document"])
        if entry["archived_at"] is None and is_open(loan, as_of):
            todo.append((entry["id"], loan))
    chunks = list(_slices(todo, CHUNK_LOANS))
    window = max(1, IN_FLIGHT * _workers(executor))
    in_flight: deque[_Chunk] = deque()

    def finish(chunk: _Chunk) -> None:
        try:
            outcomes = chunk.outcomes if executor is None else unpack(chunk.outcomes.result())
            failures.extend(
                {"loan_id": o.loan_id, "problem": o.problem} for o in outcomes if o.problem
            )
            done = [o for o in outcomes if o.problem is None]
            for item, raised, cleared in _store_chunk(engine, tenant, done, chunk, run_id):
                totals["checked"] += 1
                totals["raised"] += raised
                totals["cleared"] += cleared
                lines.append({**item.line, "alerts_raised": raised})
        finally:
            store.release_leases(chunk.held, owner)
        if progress is not None:
            progress(len(lines) / max(1, len(todo)))

    try:
        for part in chunks:
            held = store.take_leases([loan_id for loan_id, _ in part], owner, LEASE_SECONDS)
            chunk = _Chunk(held, {}, [])
            in_flight.append(chunk)
            skipped += [
                {"loan_id": loan_id, "reason": "another monitoring run holds this loan"}
                for loan_id, _ in part
                if loan_id not in held
            ]
            jobs = _jobs(store, tenant, [(i, loan) for i, loan in part if i in held], chunk)
            if executor is None:
                chunk.outcomes = evaluate_jobs(spec, jobs)
            else:
                chunk.outcomes = _submit(executor, evaluate_packed, pack((spec, jobs)))
            while len(in_flight) > (0 if executor is None else window):
                finish(in_flight.popleft())
        while in_flight:
            finish(in_flight.popleft())
    finally:  # a failure part way: every lease still held goes back
        for chunk in in_flight:
            store.release_leases(chunk.held, owner)
    if progress is not None:
        progress(1.0)
    summary = {
        "as_of": as_of.isoformat(),
        "run_id": run_id,
        "loans_checked": totals["checked"],
        "alerts_raised": totals["raised"],
        "alerts_cleared": totals["cleared"],
        "failures": failures,
        "skipped": skipped,
    }
    with engine.begin() as conn:
        enqueue(conn, tenant, "monitoring.completed", summary)
    try:
        deliver_due(engine, tenant)
    except Exception:  # deliveries stay in the outbox; the next run or deliverer sends them
        log.exception("webhook deliveries after the monitoring run failed")
    return {**summary, "loans": lines}


IN_FLIGHT = 2
"""Chunks out per worker of an executor: one computing, one waiting, so no worker idles while
this process stores the last one."""


def _submit(executor: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """``executor.submit(fn, *args)``; a Dask client is told the task is not pure (its
    arguments need no hashing: each chunk is sent once)."""
    if callable(getattr(executor, "scheduler_info", None)):
        return executor.submit(fn, *args, pure=False)
    return executor.submit(fn, *args)


def _workers(executor: Any) -> int:
    """How many workers ``executor`` has (a Dask client's, a process pool's), at least 1."""
    if executor is None:
        return 1
    info = getattr(executor, "scheduler_info", None)
    if callable(info):
        return max(1, len(info().get("workers", {})))
    return max(1, int(getattr(executor, "_max_workers", 1) or 1))


def _jobs(
    store: BookStore, tenant: str, part: list[tuple[str, LoanBody]], chunk: _Chunk
) -> list[LoanJob]:
    """The chunk's loans as jobs: their assets, baselines and (into ``chunk``) alerts read in
    one query each; posterior volatility draws from an asset's observations."""
    ids = [loan_id for loan_id, _ in part]
    if not ids:
        return []
    with store.engine.connect() as conn:
        assets = _current(
            conn, "asset", tenant, [a for _, loan in part for a in loan.pledged_asset_ids]
        )
        chunk.known = _known_alerts(conn, tenant, ids)
    baselines = _baselines(store, tenant, ids)
    draws: dict[str, tuple[float, ...] | None] = {}
    problems: dict[str, dict[str, Any]] = {}
    for asset_id, entry in assets.items():
        observations = entry["document"].get("observations")
        draws[asset_id] = None
        if observations:
            try:
                asset = Asset.model_validate(entry["document"]["asset"])
                draws[asset_id] = posterior_draws(store, tenant, asset_id, asset, observations)
            except (IPValueError, ValidationError, ValueError) as exc:
                problems[asset_id] = problem_of(exc)
    return [
        LoanJob(
            loan_id,
            loan,
            tuple(
                (a, (assets[a]["document"] if a in assets else None), draws.get(a))
                for a in loan.pledged_asset_ids
            ),
            baselines.get(loan_id),
            next((problems[a] for a in loan.pledged_asset_ids if a in problems), None),
        )
        for loan_id, loan in part
    ]


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
