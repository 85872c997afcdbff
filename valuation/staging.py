"""Risk-adjusted NPV (rNPV): cash flows weighted by the probability of passing development stages.

Stages run one after another from the valuation date: stage i lasts ``years_i`` and succeeds with
probability ``p_i``; its outcome is known at its end E_i = years_1 + ... + years_i. A cash flow at
time tau is received only if every stage ended by tau succeeded, so it is weighted by
w(tau) = prod_{i: E_i <= tau} p_i (the cumulative probability of success once all stages are
over). Stage i's cost is paid at its start S_i = E_{i-1} if the stage is reached, so it is
weighted by the probability of reaching it, prod_{j < i} p_j, and discounted from S_i.
Stage costs discount with the discount factors of the cash flows: (1 + k)^-S_i at one rate, and
with a rate per year (a term structure) the product of each year's factor to S_i
(:func:`~ipvalue.valuation.discounting.discount_factor_at`), so a flat term structure is the one
rate.
Stewart, Allison and Johnson, "Putting a price on biotechnology", Nature Biotechnology 19
(2001) 813-817; Bogdan and Villiger, *Valuation in Life Sciences* (3rd ed., 2010), ch. 3.

Shapes: each stage's numbers are floats or arrays ``(...)`` of paths; times are ``(years,)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.valuation.discounting import FloatArray, TermRates, discount_factor_at


@dataclass(frozen=True)
class Staged:
    """The stage weighting of an income stream.

    Attributes
    ----------
    weights : array (..., years)
        Probability that each year's cash flow is received.
    reach : array (stages, ...)
        Probability of reaching each stage (1 for the first).
    success : array (...)
        Cumulative probability of passing every stage.
    costs_pv : array (...)
        Present value of the stage costs, each weighted by the probability of reaching it.
    ends : array (stages, ...)
        End of each stage, years from the valuation date.
    """

    weights: FloatArray
    reach: FloatArray
    success: FloatArray
    costs_pv: FloatArray
    ends: FloatArray


def stage_weighting(
    probabilities: Sequence[ArrayLike],
    costs: Sequence[ArrayLike],
    years: Sequence[ArrayLike],
    times: ArrayLike,
    discount_rate: ArrayLike | TermRates,
) -> Staged:
    """Probability weights of cash flows at ``times`` and the weighted PV of the stage costs.

    Parameters
    ----------
    probabilities, costs, years : sequences of float or array (...)
        Each stage's success probability (decimal), cost (currency, paid at the stage's start)
        and length (years), in order.
    times : array (years,)
        When each year's cash flow falls, years from the valuation date (t, t - 0.5 or t - 1).
    discount_rate : float or array (...), or TermRates
        Annual decimal, or a rate per year (rates ``(..., m)``), for the stage costs: the same
        discount factors as the cash flows, at each stage's start.

    Returns
    -------
    Staged
    """
    lead = (
        discount_rate.rates.shape[:-1]
        if isinstance(discount_rate, TermRates)
        else np.shape(discount_rate)
    )
    # (stages, ...): each stage's numbers per path, whichever of them or the rate varies
    p = _stacked(probabilities, lead)
    lengths = _stacked(years, lead)
    amounts = _stacked(costs, lead)
    ends = np.cumsum(lengths, axis=0)
    starts = ends - lengths
    reach = np.cumprod(np.concatenate([np.ones_like(p[:1]), p[:-1]]), axis=0)
    t = np.asarray(times, dtype=float)
    weights = np.ones(p.shape[1:] + t.shape)
    for i in range(p.shape[0]):
        over = ends[i][..., None] <= t + 1e-9  # stage i is over by the cash flow's time
        weights = weights * np.where(over, p[i][..., None], 1.0)
    costs_pv = (amounts * reach * discount_factor_at(discount_rate, starts)).sum(axis=0)
    return Staged(
        weights=weights,
        reach=reach,
        success=np.prod(p, axis=0),
        costs_pv=np.asarray(costs_pv, dtype=float),
        ends=ends,
    )


def _stacked(numbers: Sequence[ArrayLike], lead: tuple[int, ...]) -> FloatArray:
    """Each stage's number broadcast to the paths of every stage input and of the rate, stacked:
    ``(stages, ...)``."""
    arrays = [np.asarray(x, dtype=float) for x in numbers]
    return np.stack(np.broadcast_arrays(*arrays, np.empty(lead))[:-1])
