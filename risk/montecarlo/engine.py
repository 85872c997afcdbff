"""The Monte Carlo valuation: the entry point the API calls.

Samples every uncertain input for N paths (in chunks with independent, reproducible streams; see
:mod:`risk.montecarlo.chunks`), values each path with the same vectorised method formulas as the
point value, combines the methods per path with the reconciliation weights and summarises the
distribution with its Monte Carlo errors (:mod:`risk.montecarlo.summary`).
"""

from __future__ import annotations

from collections.abc import Callable

from ipvalue.models.simulation import SimulationResult
from ipvalue.models.valuation import ValuationRequest
from ipvalue.risk.montecarlo.chunks import simulate_chunks
from ipvalue.risk.montecarlo.plan import make_plan
from ipvalue.risk.montecarlo.summary import summarise
from ipvalue.valuation.engine import PointValuation


def simulate_valuation(
    request: ValuationRequest,
    *,
    point: PointValuation | None = None,
    workers: int = 1,
    progress: Callable[[float], None] | None = None,
) -> SimulationResult:
    """Simulate the distribution of an asset's value.

    Parameters
    ----------
    request : ValuationRequest
        Its ``simulation`` settings drive the run (defaults when omitted): ``paths``, ``seed``
        (a fresh 63-bit seed is drawn and recorded when omitted), ``correlations``, ``copula``,
        ``antithetic``, ``qmc``, ``legal_risk``, ``thresholds``, and ``horizon_years`` with
        ``volatility`` for value paths.
    point : PointValuation, optional
        The request's point valuation (``valuation.engine.point_valuation``): its point value,
        legal life and fixed method steps are reused, not recomputed. Computed when not given.
    workers : int
        Threads to spread the chunks over; the numbers do not depend on it.
    progress : callable, optional
        Receives the completed fraction of the paths (0 to 1) as chunks finish.

    Returns
    -------
    SimulationResult
        The ``distribution`` object of the API, money in the request's currency.

    Raises
    ------
    models.errors.InputError
        Bad correlation inputs or matrix, value paths without a volatility, or inputs whose
        draws give no finite value; each names the field to fix.
    """
    plan = make_plan(request, point)
    chunks = simulate_chunks(plan, workers, progress)
    return summarise(plan, chunks, plan.point.point)
