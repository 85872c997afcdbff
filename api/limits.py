"""Size limits: body bytes, simulation paths and path steps, assets, series length, jobs.

Each is a setting (see `api.config`) and each refusal names its limit: 413 for the body
(``limit: "max_body_bytes"``), 429 for a tenant's jobs (``"max_jobs_per_tenant"``), 422 for the
others (``limit: "max_paths"``, ``"max_path_steps"``, ``"max_assets"``, ``"max_series_length"``).
Routes call `check_limit` for what they count, e.g.::

    check_limit("max_assets", len(assets), "assets")
    check_series_lengths(payload)   # every list and {"years": N} in the body

`valuation_work` estimates what a valuation costs, from everything that drives it, in the unit
of ``SYNC_BUDGET`` (path-years); above the budget the request runs as a job.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from ipvalue.api.errors import error_response
from ipvalue.models.errors import LimitExceededError
from ipvalue.models.methods import INCOME_METHODS

#: Setting behind each limit name.
SETTINGS = {
    "max_body_bytes": "MAX_BODY_BYTES",
    "max_paths": "MAX_PATHS",
    "max_path_steps": "MAX_PATH_STEPS",
    "max_assets": "MAX_ASSETS",
    "max_series_length": "MAX_SERIES_LENGTH",
}

#: Lists that are not series (their length is bounded by their own limit or by the model).
NOT_SERIES = frozenset({"assets", "methods"})


def limit_value(name: str) -> int:
    """The configured value of limit ``name`` (e.g. ``"max_paths"``)."""
    return int(current_app.config[SETTINGS[name]])


def check_limit(name: str, value: int, field: str) -> None:
    """Raise a 422 naming ``name`` when ``value`` exceeds it.

    Parameters
    ----------
    name : str
        A key of `SETTINGS`.
    value : int
        What the request asks for.
    field : str
        Where in the request, e.g. ``simulation.paths``.
    """
    limit = limit_value(name)
    if value > limit:
        raise LimitExceededError(
            f"{field}: {value} is over the limit {name} = {limit} of this server; "
            "ask for less or split the request",
            limit=name,
        )


def check_series_lengths(document: Any, path: str = "") -> None:
    """Apply ``max_series_length`` to every list and every ``years`` count in ``document``."""
    if isinstance(document, dict):
        years = document.get("years")
        if "base" in document and isinstance(years, int) and not isinstance(years, bool):
            check_limit("max_series_length", years, f"{path}.years" if path else "years")
        for key, value in document.items():
            if key in NOT_SERIES and isinstance(value, list):
                for i, item in enumerate(value):
                    check_series_lengths(item, f"{path}.{key}[{i}]" if path else f"{key}[{i}]")
                continue
            check_series_lengths(value, f"{path}.{key}" if path else str(key))
    elif isinstance(document, list):
        check_limit("max_series_length", len(document), path or "(body)")
        for i, item in enumerate(document):
            if isinstance(item, dict | list):
                check_series_lengths(item, f"{path}[{i}]")


def _too_large() -> LimitExceededError:
    limit = int(current_app.config["MAX_BODY_BYTES"])
    return LimitExceededError(
        f"the request body is over the limit max_body_bytes = {limit} bytes of this server",
        limit="max_body_bytes",
        status_code=413,
    )


def install_body_limit(app: Flask) -> None:
    """Refuse bodies over ``MAX_BODY_BYTES`` with 413 naming the limit."""
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_BODY_BYTES"])

    @app.before_request
    def _check_length() -> None:
        length = request.content_length
        if length is not None and length > int(current_app.config["MAX_BODY_BYTES"]):
            raise _too_large()

    @app.errorhandler(RequestEntityTooLarge)
    def _streamed_too_large(_exc: RequestEntityTooLarge) -> Response:
        return error_response(_too_large())


def too_many_jobs(count: int, limit: int, retry_after: int) -> LimitExceededError:
    """The 429 for a tenant with ``count`` jobs queued or running, at ``limit`` or above."""
    exc = LimitExceededError(
        f"this API key's tenant has {count} jobs queued or running, the limit "
        f"max_jobs_per_tenant = {limit} of this server; wait for some to finish "
        "(GET /v1/jobs/{id}) and send the request again",
        limit="max_jobs_per_tenant",
        status_code=429,
    )
    exc.headers = {"Retry-After": str(max(1, retry_after))}  # type: ignore[attr-defined]
    return exc


#: Work per path of one method-year, of one uncertain input's draw, and of one value-path step,
#: in path-years (one method-year of one path = 1). Fitted to run times of request shapes that
#: stress each driver (``benchmarks/budget.py``): drawing one input costs about as much as four
#: method-years (the inverse-CDF transform and clipping), one value-path step (a normal draw,
#: the value, the alive mask, the quantile bands) about as much as two.
METHOD_YEAR_WORK = 1.0
INPUT_WORK = 4.0
PATH_STEP_WORK = 2.0


def path_steps(simulation: Any) -> int:
    """Time steps of a valuation's value paths: ``ceil(horizon_years x steps_per_year)``, or 0."""
    if simulation is None or simulation.horizon_years is None:
        return 0
    return max(math.ceil(simulation.horizon_years * simulation.steps_per_year - 1e-9), 1)


def valuation_work(request: Any, payload: dict[str, Any]) -> float:
    """What a valuation request costs, in path-years (0 without ``simulation``).

    ``paths x (sum over methods of their years + 4 x uncertain inputs + 2 x value-path steps)``,
    with each method's years as `method_units` counts them and the uncertain inputs those the
    engine samples (`risk.montecarlo.sampling.uncertain_inputs`).

    Parameters
    ----------
    request : models.valuation.ValuationRequest
        The validated request.
    payload : dict
        The body as sent (for the series lengths of each method).
    """
    simulation = request.simulation
    if simulation is None:
        return 0.0
    methods = payload.get("methods")
    sent: list[Any] = methods if isinstance(methods, list) else []
    years: float = sum(
        method_units(method, body) for method, body in zip(request.methods, sent, strict=False)
    )
    per_path = (
        METHOD_YEAR_WORK * years
        + INPUT_WORK * uncertain_count(request)
        + PATH_STEP_WORK * path_steps(simulation)
    )
    return float(simulation.paths) * per_path


LATTICE_NODES_PER_UNIT = 40.0
"""Binomial lattice nodes that cost as much as one method-year of income (measured with
benchmarks/montecarlo.py: a 50-step American lattice took 29x the Black-Scholes time)."""


def method_units(method: Any, body: Any) -> float:
    """Method-years of one method per path (``body``: the method as sent).

    An income method's years are the longest series in it (at least 1). A licence's are its
    running royalties' years (the licensee's sales) plus those of the income method valuing the
    licensee's maximum, when one does (at least 1: the upfront fee and the minimum price are a
    few numbers a path). Other methods count 1, a binomial lattice its nodes (`_method_units`).
    """
    if method.method in INCOME_METHODS:
        return float(max(1, series_years(body)))
    if method.method == "licence":
        sent = body if isinstance(body, dict) else {}
        units = float(series_years(sent.get("revenue")))
        inner = method.licensee_method
        if inner is not None:
            units += method_units(inner, sent.get("licensee_value"))
        return max(1.0, units)
    return _method_units(method)


def _method_units(method: Any) -> float:
    """Method-years of a method without a series: 1, or a lattice's nodes per path."""
    if getattr(method, "model", None) != "binomial":
        return 1.0
    from ipvalue.valuation.methods.option import SIMULATION_MAX_STEPS

    steps = min(method.lattice_steps, SIMULATION_MAX_STEPS)
    return max(1.0, steps * (steps + 1) / 2 / LATTICE_NODES_PER_UNIT)


def uncertain_count(request: Any) -> int:
    """How many inputs of ``request`` the simulation samples."""
    from ipvalue.risk.montecarlo.sampling import uncertain_inputs

    found = sum(len(uncertain_inputs(m, f"methods[{i}]")) for i, m in enumerate(request.methods))
    legal = request.simulation.legal_risk if request.simulation is not None else None
    if legal is not None:
        found += len(uncertain_inputs(legal, "simulation.legal_risk"))
    return found


def series_years(document: Any) -> int:
    """The longest per-year series in ``document``: list lengths and ``{"years": N}`` counts."""
    if isinstance(document, dict):
        own = document.get("years")
        found = own if isinstance(own, int) and not isinstance(own, bool) else 0
        return max([found, *(series_years(v) for v in document.values())])
    if isinstance(document, list):
        return max([len(document), *(series_years(v) for v in document)], default=0)
    return 0


def check_path_steps(request: Any) -> None:
    """422 naming ``max_path_steps`` when ``paths x value-path steps`` is above it."""
    steps = path_steps(request.simulation)
    if steps:
        check_limit(
            "max_path_steps",
            request.simulation.paths * steps,
            "simulation.paths x ceil(horizon_years x steps_per_year)",
        )
