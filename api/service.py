"""Operations shared by the HTTP API and the CLI, so both give the same answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipvalue.models.valuation import ValuationRequest
from ipvalue.risk.montecarlo import simulate_valuation
from ipvalue.risk.montecarlo.plan import seeded
from ipvalue.valuation.engine import point_valuation

Progress = Callable[[float], None]


class RequestPayload(dict[str, Any]):
    """A request's JSON document that carries its validated model within this process.

    Stored and sent to a job worker as the plain JSON it is (the worker validates it there);
    a run in this process takes the model it carries and does not validate again.
    """

    def __init__(self, document: dict[str, Any], request: ValuationRequest) -> None:
        super().__init__(document)
        self.request = request


def valuation_request(payload: dict[str, Any] | ValuationRequest) -> ValuationRequest:
    """The validated request of ``payload``: the model it is or carries, else validated now."""
    if isinstance(payload, ValuationRequest):
        return payload
    if isinstance(payload, RequestPayload):
        return payload.request
    return ValuationRequest.model_validate(payload)


def run_valuation(
    payload: dict[str, Any] | ValuationRequest, progress: Progress | None = None
) -> dict[str, Any]:
    """Value a request: the point value once, then the simulation reusing it.

    ``progress``, if given, receives the simulation's completed fraction. A simulation without
    a seed gets one here, recorded in the result.

    Returns
    -------
    dict
        The JSON-ready result: ``value.point``, ``value.by_method``, methods with audit trails,
        legal life, reconciliation, warnings, and ``distribution`` when ``simulation`` is given.
    """
    request = seeded(valuation_request(payload))
    point = point_valuation(request)
    result = point.result.model_dump(mode="json")
    if request.simulation is not None:
        distribution = simulate_valuation(request, point=point, progress=progress)
        result["distribution"] = distribution.model_dump(mode="json")
    return result


def valuation_job(payload: dict[str, Any], progress: Progress | None = None) -> dict[str, Any]:
    """`run_valuation` as a job function (module-level, so a job can be re-run by name)."""
    return run_valuation(payload, progress)
