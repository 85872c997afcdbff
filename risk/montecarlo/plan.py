"""The plan of a Monte Carlo valuation: its seed, its chunks and what every chunk shares.

Paths are simulated in chunks of :data:`CHUNK_PATHS`. Chunk ``i`` draws from its own stream,
``SeedSequence(seed, spawn_key=(0, i))`` (:data:`risk.kernel.seeds.VALUATION_INPUTS`), so the
numbers do not depend on how many worker threads run the chunks or in what order, and a run is
bit-identical from its recorded seed. The seed is decided once per request
(:func:`risk.kernel.seeds.fresh_seed` when the request gives none) and kept in the request's
model; the point value and legal life come from the point valuation, computed once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ipvalue.models.asset import DEAD_STATUSES
from ipvalue.models.errors import InputError
from ipvalue.models.valuation import Simulation, ValuationRequest, method_keys
from ipvalue.risk.kernel import seeds
from ipvalue.risk.montecarlo.copula import CopulaPlan, plan_copula
from ipvalue.risk.montecarlo.legal import EVENTS, LegalPlan, flat, plan_legal_risk
from ipvalue.risk.montecarlo.sampling import UncertainInput, uncertain_inputs
from ipvalue.valuation.engine import PointValuation, point_valuation
from ipvalue.valuation.life import LegalLife
from ipvalue.valuation.reconcile import normalise_weights
from ipvalue.valuation.resolve import uncertain_paths

CHUNK_PATHS = 1 << 16
"""Paths per chunk (and per independent random stream); 65,536 keeps temporaries in cache."""
SENSITIVITY_PATHS = 1 << 15
"""The sensitivity ranking uses the inputs of the first this many paths."""
CORRELATIONS_FIELD = "simulation.correlations.inputs"


def seeded(request: ValuationRequest) -> ValuationRequest:
    """``request`` with its simulation seed decided: the given one, else a fresh one."""
    if request.simulation is None or request.simulation.seed is not None:
        return request
    return request.with_seed(seeds.fresh_seed())


@dataclass(frozen=True)
class Plan:
    """Everything a chunk needs; read-only, so chunks can run in worker threads."""

    request: ValuationRequest
    sim: Simulation
    seed: int
    point: PointValuation
    keys: list[str]
    weights: dict[str, float]
    inputs: list[UncertainInput]
    copula: CopulaPlan | None
    correlated: list[int]
    legal: LegalPlan
    all_rows_copula: CopulaPlan | None = None
    """When every input is correlated: the copula with its factor's rows and columns in input
    order, so the scores are correlated in one pass without gathering and scattering rows."""

    @property
    def life(self) -> LegalLife:
        """The remaining legal life at the valuation date (from the point valuation)."""
        return self.point.life

    @property
    def chunks(self) -> int:
        return -(-self.sim.paths // CHUNK_PATHS)

    def chunk_size(self, index: int) -> int:
        return min(CHUNK_PATHS, self.sim.paths - index * CHUNK_PATHS)


def _check_correlation_inputs(names: list[str], inputs: list[UncertainInput], request: Any) -> None:
    known = {item.path for item in inputs}
    every = {p for p, _ in _all_numeric_paths(request)}
    for i, name in enumerate(names):
        if name in known:
            continue
        field_path = f"{CORRELATIONS_FIELD}[{i}]"
        if name in every:
            raise InputError.for_field(
                field_path,
                f"{name} is a fixed number; only inputs given as distributions can be correlated",
            )
        listed = ", ".join(sorted(known)[:10]) or "none"
        raise InputError.for_field(
            field_path, f"no uncertain input is called {name!r}; the uncertain inputs are {listed}"
        )


def _all_numeric_paths(request: ValuationRequest) -> list[tuple[str, Any]]:
    return [p for i, m in enumerate(request.methods) for p in uncertain_paths(m, f"methods[{i}]")]


def _legal_inputs(request: ValuationRequest, sim: Simulation) -> list[UncertainInput]:
    if sim.legal_risk is None:
        return []
    found = uncertain_inputs(sim.legal_risk, "simulation.legal_risk")
    return [item for item in found if item.path.endswith("_hazard")]


def make_plan(request: ValuationRequest, point: PointValuation | None = None) -> Plan:
    """Validate the simulation settings and fix everything the chunks share.

    Parameters
    ----------
    request : ValuationRequest
        Its ``simulation.seed`` is used; a request without one gets a fresh seed here (and the
        plan's request keeps it).
    point : PointValuation, optional
        The request's point valuation (legal life, the market regression); computed here when
        not given.

    Raises
    ------
    InputError
        Unknown or fixed inputs in ``simulation.correlations.inputs``; a correlation matrix that
        is not positive semi-definite (without ``repair``); value paths without a volatility.
    """
    if request.simulation is None:
        request = request.model_copy(update={"simulation": Simulation()})
    request = seeded(request)
    sim = request.simulation
    assert sim is not None and sim.seed is not None
    inputs = [
        item for i, m in enumerate(request.methods) for item in uncertain_inputs(m, f"methods[{i}]")
    ]
    inputs += _legal_inputs(request, sim)
    copula, correlated, all_rows_copula = None, [], None
    if sim.correlations is not None:
        _check_correlation_inputs(sim.correlations.inputs, inputs, request)
        position = {item.path: j for j, item in enumerate(inputs)}
        correlated = [position[name] for name in sim.correlations.inputs]
        copula = plan_copula(
            sim.correlations.matrix,
            repair=sim.correlations.repair,
            kind=sim.copula,
            dof=sim.copula_dof,
        )
        if sorted(correlated) == list(range(len(inputs))):
            factor = np.empty_like(copula.factor)
            factor[np.ix_(correlated, correlated)] = copula.factor
            all_rows_copula = replace(copula, factor=factor)
    if sim.horizon_years is not None and sim.volatility is None:
        raise InputError.for_field(
            "simulation.volatility",
            "value paths over horizon_years need the value's annual volatility, e.g. 0.4",
        )
    if point is None:
        point = point_valuation(request)
    legal = plan_legal_risk(request.asset, request.valuation_date, sim.legal_risk)
    if request.asset.legal.status in DEAD_STATUSES:
        legal = LegalPlan({e: flat(0.0) for e in EVENTS}, {}, 0.0, legal.sources)
    keys = method_keys(request.methods)
    return Plan(
        request=request,
        sim=sim,
        seed=sim.seed,
        point=point,
        keys=keys,
        weights=normalise_weights(keys, request.weights),
        inputs=inputs,
        copula=copula,
        correlated=correlated,
        legal=legal,
        all_rows_copula=all_rows_copula,
    )
