"""Long runs as jobs: ``submit_or_run`` answers inline under the budget, else 202 and a job id.

How a route uses it::

    from ipvalue.api.jobs import submit_or_run

    @bp.post("")
    def create():
        payload = json_body()
        ...                                   # validate now: bad input is a 422, not a job
        return submit_or_run(
            "collateral",                     # record kind
            collateral_job,                   # module-level: fn(payload[, progress]) -> dict
            payload,                          # JSON; the job gets exactly this
            cost=paths * years * assets,      # or math.inf for any MCMC
            location="/v1/collateral/{id}",   # optional: where the record can be read
        )

Under ``SYNC_BUDGET`` the function runs in the request, its result is stored as an immutable
record and the answer is ``201 {"id": ..., **result}``. Above it a queued job row is written and
the answer is ``202 {"job_id", "status", "location": "/v1/jobs/<id>"}``; ``GET /v1/jobs/<id>``
shows status, progress and, once done, the same body a synchronous answer would have had, or the
error as problem+json fields. A function that takes a ``progress`` argument may call it with a
fraction in [0, 1]. A tenant may have ``MAX_JOBS_PER_TENANT`` jobs queued or running; above that
the answer is 429 with ``Retry-After``.

Job state lives in the database, never in memory only. Each server worker runs a dispatcher
(`JobRunner`) that takes the next queued job from the tenant with the fewest running jobs (ties:
the tenant served least recently), so one tenant's long jobs cannot starve another's. Taking a job
makes it ``running`` with the next attempt number and a lease (``JOB_LEASE_SECONDS``); the job
runs in its own process (`api.executors`), which names itself in ``jobs.owner`` and extends the
lease from a heartbeat thread. Every write of a run is fenced by ``(id, attempt, running)``: the
final one stores the record and marks the job succeeded in one transaction, so an attempt that
was superseded (its lease expired, its process was presumed dead) writes nothing, and the unique
``records.job_id`` makes a second record impossible. The final write is retried for
``JOB_WRITE_RETRY_SECONDS`` while the database is unreachable. A job process that dies ends only
its own job: re-queued while it has attempts left (``MAX_JOB_ATTEMPTS``), else failed with what
happened ("killed by signal 9"). Jobs of dead processes and expired leases are reclaimed by
`api.recovery`.

Modules: `states` (states, problems, retries, `settle`), `lease` (lease, heartbeat, fenced
writes), `execute` (the job process's side), `dispatch` (fair choice of the next job), `runner`
(each worker's dispatcher), `submit` (`submit_or_run` for routes).
"""

from ipvalue.api.executors import function_path, resolve
from ipvalue.api.jobs.dispatch import claim_next
from ipvalue.api.jobs.execute import call_job, execute_job
from ipvalue.api.jobs.runner import JobRunner
from ipvalue.api.jobs.states import (
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    SUPERSEDED,
    UNFINISHED,
    process_tag,
    retrying,
    settle,
)
from ipvalue.api.jobs.submit import submit_or_run

__all__ = [
    "FAILED",
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "SUPERSEDED",
    "UNFINISHED",
    "JobRunner",
    "call_job",
    "claim_next",
    "execute_job",
    "function_path",
    "process_tag",
    "resolve",
    "retrying",
    "settle",
    "submit_or_run",
]
