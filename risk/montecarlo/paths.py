"""Value paths through time: the kernel's lognormal value process with legal-event jumps.

``V_t = V_0 exp((drift - sigma^2 / 2) t + sigma W_t)``, times 0 from the time the right is
invalidated or lapses, and times ``1 - loss_share`` from the time an infringement case is lost
(:class:`risk.kernel.process.ValueProcess`). ``sigma`` is one annual volatility, or one draw per
path (e.g. posterior draws of a Bayesian volatility estimate), so the bands carry the
volatility's own uncertainty. The loop runs over time steps; every step is vectorised over paths.
Bands are inverted-CDF quantiles, the convention of :mod:`risk.kernel.measures`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.risk.kernel import hazard, seeds
from ipvalue.risk.kernel.process import LegalStops, ValueProcess, time_grid
from ipvalue.risk.kernel.seeds import SeedLike
from ipvalue.risk.montecarlo.stats import QUANTILES, quantile_name
from ipvalue.valuation.discounting import FloatArray


@dataclass(frozen=True)
class LegalJumps:
    """Legal events on value paths: given per-path times, or yearly probabilities to draw them.

    Attributes
    ----------
    stop_times : array (paths,), optional
        Years until the right stops (invalidation or lapse); the value is 0 from then.
    loss_times : array (paths,), optional
        Years until an infringement case is lost; the value falls by ``loss_share`` from then.
    stop_hazard, loss_hazard : float
        Yearly probabilities used to draw the times not given, decimal in [0, 1).
    loss_share : float
        Share of value lost with a lost case, decimal in [0, 1].
    """

    stop_times: FloatArray | None = None
    loss_times: FloatArray | None = None
    stop_hazard: float = 0.0
    loss_hazard: float = 0.0
    loss_share: float = 0.0


@dataclass(frozen=True)
class ValuePaths:
    """Simulated value paths and their per-period summaries.

    Attributes
    ----------
    times : array (steps + 1,)
        Years from now, starting at 0.
    bands : dict
        Quantile name (``"p05"``) -> array (steps + 1,) of that quantile of the value, currency.
    mean : array (steps + 1,)
        Mean value per period, currency.
    prob_stopped : array (steps + 1,)
        Share of paths whose right has stopped by each time.
    terminal : array (paths,)
        Value at the horizon per path, currency.
    paths : array (paths, steps + 1) or None
        Every path (``keep_paths=True``), currency.
    """

    times: FloatArray
    bands: dict[str, FloatArray]
    mean: FloatArray
    prob_stopped: FloatArray
    terminal: FloatArray
    paths: FloatArray | None


def simulate_value_paths(
    value0: ArrayLike,
    volatility: ArrayLike,
    horizon_years: float,
    steps_per_year: int = 12,
    paths: int = 10_000,
    seed: SeedLike = None,
    drift: float = 0.0,
    legal: LegalJumps | None = None,
    *,
    keep_paths: bool = True,
    quantiles: tuple[float, ...] = QUANTILES,
) -> ValuePaths:
    """Simulate the value of a right over a horizon.

    Parameters
    ----------
    value0 : float or array (paths,)
        Value now, currency (one per path to carry valuation uncertainty into the paths).
    volatility : float or array (paths,)
        Annual volatility of the value's log, decimal; an array gives one draw per path.
    horizon_years : float
        Length of the paths, years.
    steps_per_year : int
        Time steps per year; the number of steps is ceil(horizon x steps_per_year).
    paths : int
        Number of paths.
    seed : int, SeedSequence or Generator, optional
        Source of randomness (a run is reproducible from it): first the legal event times not
        given (``paths`` uniforms each, stop then loss), then ``paths`` normals per step.
    drift : float
        Expected annual return of the value, decimal (0: a martingale).
    legal : LegalJumps, optional
        Legal events; none when omitted.
    keep_paths : bool
        Keep the full ``(paths, steps + 1)`` array (memory ``8 x paths x (steps + 1)`` bytes).
    quantiles : tuple of float
        Probabilities of the bands.

    Returns
    -------
    ValuePaths
    """
    rng = seeds.generator(seed)
    times = time_grid(horizon_years, steps_per_year)
    legal = legal or LegalJumps()
    stop = legal.stop_times
    if stop is None:
        stop = hazard.event_times(rng, legal.stop_hazard, paths)
    loss = legal.loss_times
    if loss is None:
        loss = hazard.event_times(rng, legal.loss_hazard, paths)
    process = ValueProcess(value0, volatility, drift, LegalStops(stop, loss, legal.loss_share))
    full = np.empty((paths, times.size)) if keep_paths else None
    bands = {quantile_name(p): np.empty(times.size) for p in quantiles}
    mean = np.empty(times.size)
    stopped = np.empty(times.size)
    value = np.empty(paths)
    for j, (t, value) in enumerate(process.steps(times, rng, paths)):
        if full is not None:
            full[:, j] = value
        qs = np.quantile(value, quantiles, method="inverted_cdf")
        for p, q in zip(quantiles, qs, strict=True):
            bands[quantile_name(p)][j] = q
        mean[j] = value.mean()
        stopped[j] = np.count_nonzero(stop <= t) / paths
    return ValuePaths(times, bands, mean, stopped, value, full)
