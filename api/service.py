"""Operations shared by the HTTP API and the CLI, so both give the same answer."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ipvalue.models.valuation import ValuationRequest
from ipvalue.valuation.engine import value_asset

Progress = Callable[[float], None]


def run_valuation(payload: dict[str, Any], progress: Progress | None = None) -> dict[str, Any]:
    """Validate a valuation request and value it.

    ``progress``, if given, receives the simulation's completed fraction (when the engine
    reports it).

    Returns
    -------
    dict
        The JSON-ready result: ``value.point``, ``value.by_method``, methods with audit trails,
        legal life, reconciliation, warnings, and ``distribution`` when ``simulation`` is given.
    """
    request = ValuationRequest.model_validate(payload)
    result = value_asset(request).model_dump(mode="json")
    if request.simulation is not None:
        result["distribution"] = simulate(request, progress)
    return result


def simulate(request: ValuationRequest, progress: Progress | None = None) -> dict[str, Any]:
    """The Monte Carlo distribution for a request with ``simulation``."""
    from ipvalue.models.errors import NotImplementedYetError

    try:
        from ipvalue.risk.montecarlo import simulate_valuation
    except ImportError as exc:  # pragma: no cover - until the engine lands
        raise NotImplementedYetError(
            "simulation is not available in this version; omit 'simulation' for a point value"
        ) from exc
    kwargs: dict[str, Any] = {}
    if progress is not None and "progress" in inspect.signature(simulate_valuation).parameters:
        kwargs["progress"] = progress
    return simulate_valuation(request, **kwargs).model_dump(mode="json")


def valuation_job(payload: dict[str, Any], progress: Progress | None = None) -> dict[str, Any]:
    """`run_valuation` as a job function (module-level, so a job can be re-run by name)."""
    return run_valuation(payload, progress)
