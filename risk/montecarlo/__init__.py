"""Monte Carlo engine (issue 4): value distributions with error bars, value paths, legal risk.

Entry points:

- :func:`simulate_valuation` -- ``ValuationRequest`` -> :class:`models.simulation.SimulationResult`;
- :func:`simulate_value_paths` -- a lognormal value process with legal-event jumps and quantile
  bands per period (the collateral capability builds on it).
"""

from ipvalue.risk.montecarlo.engine import simulate_valuation
from ipvalue.risk.montecarlo.paths import LegalJumps, ValuePaths, simulate_value_paths

__all__ = ["LegalJumps", "ValuePaths", "simulate_valuation", "simulate_value_paths"]
