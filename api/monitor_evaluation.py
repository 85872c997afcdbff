"""Evaluating a chunk of loans without the database: what a monitoring run's workers run.

`evaluate_jobs` takes `LoanJob` s (everything a loan's evaluation needs, read by the run) and
returns `Outcome` s (what fired, the run's line, the ``records`` row), so it runs inline, in a
process pool or on Dask (`ipvalue.api.monitor.run_monitoring` stores the outcomes). A worker
runs it through `evaluate_packed`: the chunk goes out and comes back as one ``bytes`` each way
(`pack`, `unpack`), so the executor moves two buffers instead of taking apart and rebuilding a
few thousand small objects a chunk.
"""

from __future__ import annotations

import datetime as dt
import pickle
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ipvalue.api.store import record_row
from ipvalue.models.asset import Asset
from ipvalue.models.book import Appraisal, BookEvent, LoanBody
from ipvalue.models.errors import IPValueError, NotFoundError
from ipvalue.risk.book.alerts import Fired
from ipvalue.risk.book.monitor import Baseline, PledgedAsset, evaluate_loan

EVALUATION_KIND = "loan_evaluation"
"""Record kind of a loan's stored evaluation (its subject is the loan id)."""


def problem_of(exc: Exception) -> dict[str, Any]:
    """The problem+json body a loan that cannot be evaluated carries in the run's ``failures``."""
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


KEEP_FREED_BYTES = 256 * 1024**2
"""Freed memory a monitoring process keeps for reuse instead of giving back to the system."""
_allocator_tuned: list[bool] = []


def keep_freed_memory() -> bool:
    """Let this process reuse the memory it frees (glibc's ``mallopt``; elsewhere a no-op).

    Each loan's collateral allocates and frees a few arrays of a few MB (the paths on the
    monitoring dates, their sorted bands). glibc serves such blocks with ``mmap`` or trims
    them off the heap on ``free``, so every loan page-faults its memory in afresh: a quarter
    to a third of a loan's time, measured (``benchmarks/monitor.py``). Serving blocks up to
    32 MiB from the heap and trimming only beyond `KEEP_FREED_BYTES` removes the faults; the
    numbers are the same. Idempotent; returns whether the setting took.
    """
    if _allocator_tuned:
        return _allocator_tuned[0]
    ok = False
    try:
        import ctypes
        import ctypes.util

        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
        m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
        ok = bool(mallopt(m_mmap_threshold, 32 * 1024**2)) and bool(
            mallopt(m_trim_threshold, KEEP_FREED_BYTES)
        )
    except (OSError, AttributeError):  # not glibc
        ok = False
    _allocator_tuned.append(ok)
    return ok


@dataclass(frozen=True)
class LoanJob:
    """What evaluating one loan needs, without the database: sent to a worker as it is.

    Attributes
    ----------
    loan_id : str
    loan : LoanBody
    assets : tuple of (asset id, stored document or None, posterior volatility draws or None)
        The pledged assets in ``pledged_asset_ids`` order; None for one that is not the
        tenant's.
    baseline : Baseline or None
        From the loan's latest evaluation; None for its first.
    problem : dict or None
        Why it cannot be evaluated, found while reading it (an asset's observations that do
        not estimate).
    """

    loan_id: str
    loan: LoanBody
    assets: tuple[tuple[str, dict[str, Any] | None, tuple[float, ...] | None], ...]
    baseline: Baseline | None
    problem: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChunkSpec:
    """What every loan of a chunk shares: the run date, the paths, and what its stored
    records carry (tenant, run id)."""

    tenant: str
    as_of: dt.date
    run_id: str | None
    paths: int | None


@dataclass
class Outcome:
    """One loan's evaluation as a worker returns it: its problem, or what fired, its line of
    the run's answer (``loan_id``, ``value``, ``ltv``, ``prob_ltv_breach`` (the loan's risk),
    ``highest_severity``, ``next_revaluation_date``) and its ``records`` row, made where it was
    computed (the result is in it once, as JSON)."""

    loan_id: str
    problem: dict[str, Any] | None = None
    fired: list[Fired] = field(default_factory=list)
    line: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] | None = None


def _pledged_asset(
    asset_id: str, doc: dict[str, Any] | None, draws: tuple[float, ...] | None
) -> PledgedAsset:
    if doc is None:
        raise NotFoundError(f"no asset with id {asset_id!r} for this API key's tenant")
    appraisal = doc.get("appraisal")
    return PledgedAsset(
        id=asset_id,
        asset=Asset.model_validate(doc["asset"]),
        events=tuple(BookEvent.model_validate(e) for e in doc.get("events", [])),
        appraisal=None if appraisal is None else Appraisal.model_validate(appraisal),
        volatility_draws=draws,
    )


def evaluate_jobs(spec: ChunkSpec, jobs: list[LoanJob]) -> list[Outcome]:
    """Evaluate a chunk of loans (:func:`~ipvalue.risk.book.monitor.evaluate_loan`) and make
    their ``records`` rows: no database, so it runs inline or in any worker process (each
    loan's collateral is seeded by its id and the date, so where it runs changes nothing).
    A loan that fails carries its problem."""
    keep_freed_memory()
    extra = {} if spec.paths is None else {"paths": spec.paths}
    pledged: dict[str, PledgedAsset] = {}  # an asset pledged by several loans, validated once
    out = []
    for job in jobs:
        if job.problem is not None:
            out.append(Outcome(job.loan_id, problem=job.problem))
            continue
        try:
            for asset_id, doc, draws in job.assets:
                if asset_id not in pledged:
                    pledged[asset_id] = _pledged_asset(asset_id, doc, draws)
            evaluation = evaluate_loan(
                job.loan_id,
                job.loan,
                [pledged[a] for a, _, _ in job.assets],
                spec.as_of,
                job.baseline,
                **extra,
            )
        except (IPValueError, ValidationError, ValueError) as exc:
            out.append(Outcome(job.loan_id, problem=problem_of(exc)))
            continue
        result = evaluation.to_json()
        record = record_row(
            EVALUATION_KIND,
            spec.tenant,
            {
                "request": {
                    "loan_id": job.loan_id,
                    "as_of": result["as_of"],
                    "run_id": spec.run_id,
                },
                "result": result,
                "subject": job.loan_id,
            },
        )
        collateral = result["collateral"]
        line = {
            "loan_id": job.loan_id,
            "value": result["value"],
            "ltv": None if collateral is None else collateral["ltv"],
            # a worthless bundle (no collateral): the breach is certain
            "prob_ltv_breach": 1.0
            if collateral is None
            else float(collateral["prob_ltv_breach"]["value"]),
            "highest_severity": result["highest_severity"],
            "next_revaluation_date": result["next_revaluation_date"],
        }
        out.append(Outcome(job.loan_id, fired=evaluation.fired, line=line, record=record))
    return out


def pack(value: Any) -> bytes:
    """``value`` as one buffer for an executor (pickle; both ends are this service's own
    processes)."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> Any:
    """What `pack` packed."""
    return pickle.loads(blob)  # our own run's buffer, never outside input


def evaluate_packed(blob: bytes) -> bytes:
    """`evaluate_jobs` of ``pack((spec, jobs))``, its outcomes packed: what an executor's
    worker runs.

    Dask takes a task's arguments apart to find futures in them (every list, tuple, dict and
    dataclass, to the leaves of each stored document) and rebuilds them on the scheduler and
    the worker; a chunk's jobs are a few thousand such objects, its outcomes a few hundred.
    One ``bytes`` each way is moved as it is: measured (`benchmarks/monitor.py`, 10,000
    loans in chunks of 64, Dask ``LocalCluster`` of 2, quiet machine), the run's process's CPU
    fell from 8.1-9.0 s to 6.0-6.4 s and the speed-up over one process rose from 1.82-1.88x
    to 1.91-1.95x; the evaluations are the same.
    """
    spec, jobs = unpack(blob)
    return pack(evaluate_jobs(spec, jobs))
