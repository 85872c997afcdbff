"""Response bodies of the service's own endpoints (records, jobs, problems, health).

The domain's request and result models live in ``models/``; these wrap them for HTTP.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ipvalue.models.simulation import SimulationResult
from ipvalue.models.valuation import ValuationResult


class FieldError(BaseModel):
    """One invalid field."""

    field: str = Field(description="path of the field, e.g. methods[0].royalty_rate")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; every 4xx and 5xx answer is one."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="one per invalid field")
    limit: str | None = Field(default=None, description="the size limit that was exceeded")


class StoredValuation(ValuationResult):
    """A valuation's stored result: the point value and, when simulated, its distribution."""

    distribution: SimulationResult | None = Field(
        default=None, description="Monte Carlo distribution when `simulation` was given"
    )


class ValuationCreated(StoredValuation):
    """Answer of ``POST /v1/valuations``: the result with its record id."""

    id: str = Field(description="id of the stored record; GET /v1/valuations/{id} returns it")


class ValuationRecord(ValuationCreated):
    """A stored valuation: the result, the request, resolved inputs, seed and versions."""

    kind: Literal["valuation"] = "valuation"
    created_at: str = Field(description="ISO 8601 UTC")
    request: dict[str, Any] = Field(description="the body as it was sent")
    inputs: dict[str, Any] = Field(description="the request with defaults filled and seed fixed")
    seed: str | None = Field(description="the simulation seed used (null without simulation)")
    versions: dict[str, str] = Field(description="python and library versions that computed it")
    job_id: str | None = Field(default=None, description="the job that computed it, if any")


class RecordCheck(BaseModel):
    """Answer of ``GET /v1/records/verify``: whether a printed SHA-256 is one of your records."""

    match: bool
    kind: str | None = Field(description="the record's kind when it matches")
    id: str | None = Field(description="the record's id when it matches")


class JobAccepted(BaseModel):
    """202 answer: the request runs as a job."""

    job_id: str
    status: Literal["queued"]
    location: str = Field(description="poll GET /v1/jobs/{job_id}")


class JobState(BaseModel):
    """A job's status, progress and, once done, result or error."""

    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: float = Field(ge=0, le=1)
    attempts: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    location: str | None = Field(description="URL of the stored record once succeeded")
    result: dict[str, Any] | None = Field(
        description="the body a synchronous answer would have had"
    )
    error: dict[str, Any] | None = Field(description="problem fields when failed")


class Health(BaseModel):
    """Liveness or readiness."""

    status: str
    database: str | None = None


R = TypeVar("R", bound=BaseModel)


class StoredRecord(BaseModel, Generic[R]):
    """One item of a list: a stored record's envelope with its result."""

    id: str
    kind: str
    created_at: str = Field(description="ISO 8601 UTC")
    versions: dict[str, str] = Field(description="python and library versions that computed it")
    seed: str | None = Field(description="the seed used, where the result is random")
    request: Any = Field(description="the body as it was sent")
    inputs: Any = Field(description="the inputs as resolved (defaults filled, ids looked up)")
    job_id: str | None = Field(description="the job that computed it, if any")
    currency: str | None = Field(description="ISO 4217 code of its money figures")
    facts: dict[str, str | None] = Field(description="the list's filter fields of this record")
    result: R


class RecordList(BaseModel, Generic[R]):
    """A page of stored records, newest first."""

    items: list[StoredRecord[R]]
    next_cursor: str | None = Field(
        description="pass as cursor for the next page; null on the last page"
    )
