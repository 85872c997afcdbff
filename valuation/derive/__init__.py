"""Derived inputs: the number a derivation object stands for, from its (possibly sampled) parts.

A method asks ``call.draw(path, x)`` for each input. :func:`derived_draw` wraps a draw so that
when ``x`` is a :class:`~ipvalue.models.derivations.Derivation` (a discount rate built up from
parts, ...) its registered function computes the number from the parts, each drawn at its own
path. The same function serves the point value (floats) and the simulation (arrays of shape
``(paths,)``), so the derivation is one formula. For the point value the wrapper also keeps each
derivation's :class:`Derived` (its figures, for the audit trail) and refuses a derived number
outside the range of the plain number it replaces.

A new derivation is a model class in :mod:`ipvalue.models.derivations` and one line in
:data:`DERIVE`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ipvalue.models.cost_methods import WeightedInvestmentYears
from ipvalue.models.derivations import (
    BuildUpRate,
    CapmRate,
    Derivation,
    RiskAccumulationRate,
    TermStructureRate,
    WaccRate,
    WaraRate,
)
from ipvalue.models.errors import InputError
from ipvalue.models.licence import CapacityShare
from ipvalue.models.royalties import (
    BrandStrengthRoyalty,
    FourFactorSplit,
    RoyaltyFromProfitSplit,
    ScoredRate,
    SplitFromSalesRoyalty,
    ThreeFactorSplit,
    TwentyFivePercentRule,
)
from ipvalue.models.uncertain import Bounds
from ipvalue.valuation.derive import cost, licence, rates, royalties
from ipvalue.valuation.derive.derived import Derived
from ipvalue.valuation.resolve import Draw

DeriveFunction = Callable[[Any, str, Draw], Derived]
"""``(parts, path, draw) -> Derived``: ``parts`` is the object under the derivation's key and
``path`` its place in the request (``methods[0].discount_rate.build_up``)."""

DERIVE: dict[type[Derivation], DeriveFunction] = {
    BuildUpRate: rates.build_up,
    CapmRate: rates.capm,
    RiskAccumulationRate: rates.risk_accumulation,
    WaccRate: rates.wacc,
    WaraRate: rates.wara,
    TermStructureRate: rates.term_structure,
    ThreeFactorSplit: royalties.three_factor,
    FourFactorSplit: royalties.four_factor,
    ScoredRate: royalties.scoring,
    BrandStrengthRoyalty: royalties.brand_strength,
    SplitFromSalesRoyalty: royalties.from_sales_royalty,
    RoyaltyFromProfitSplit: royalties.from_profit_split,
    TwentyFivePercentRule: royalties.twenty_five_percent_rule,
    CapacityShare: licence.capacity,
    WeightedInvestmentYears: cost.weighted_investment_years,
}


def derive(x: Derivation, path: str, draw: Draw) -> Derived:
    """The number derivation ``x`` at ``path`` stands for, its parts drawn by ``draw``."""
    return DERIVE[type(x)](x.parts, f"{path}.{x.tag()}", draw)


def derived_draw(
    draw: Draw,
    record: dict[str, Derived] | None = None,
    clipped: dict[str, int] | None = None,
) -> Draw:
    """``draw`` that also resolves derivation objects (nested ones too).

    Parameters
    ----------
    draw : Draw
        Gives plain inputs (base values, or sampled paths).
    record : dict, optional
        Given for the point value: receives each derivation's :class:`Derived` by its path, and
        a derived number outside its field's range raises :class:`InputError` naming the path.
    clipped : dict, optional
        For the simulation (no ``record``): a derived number is clipped, path by path, into the
        range of the plain number it replaces (a build-up whose sampled premiums sum below 0,
        a WARA residual that turns negative, ...), and ``clipped[<path>.<practice>]`` is set to
        how many paths were moved, as the sampled inputs' clipping is reported. Setting (not
        adding) keeps the count right when a method evaluates its draw more than once.
    """

    def resolved(path: str, x: Any) -> Any:
        if not isinstance(x, Derivation):
            return draw(path, x)
        out = derive(x, path, resolved)
        if record is not None:
            _check_bounds(x, path, out)
            record[path] = out
            return out.value
        value, count = clip_into(out.value, type(x).bounds)
        if count and clipped is not None:
            clipped[f"{path}.{x.tag()}"] = count
        return value

    return resolved


def clip_into(value: Any, bounds: Bounds | None) -> tuple[Any, int]:
    """Paths of a derived number clipped into ``bounds`` (open ends: the nearest float inside).

    Returns
    -------
    value : float or array
        Unchanged when every path is inside (or the value is a single number, which the point
        value has checked already).
    count : int
        How many paths were moved.
    """
    if bounds is None:
        return value, 0
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0 or arr.size == 0:
        return value, 0
    low = np.nextafter(bounds.low, np.inf) if bounds.open_low else bounds.low
    high = np.nextafter(bounds.high, -np.inf) if bounds.open_high else bounds.high
    outside = (arr < low) | (arr > high)
    count = int(np.count_nonzero(outside))
    if not count:
        return value, 0
    return np.clip(arr, low, high), count


def _check_bounds(x: Derivation, path: str, out: Derived) -> None:
    bounds = type(x).bounds
    if bounds is None:
        return
    value = float(np.asarray(out.value))
    if not bounds.contains(value):
        fix = f" ({bounds.fix})" if bounds.fix else ""
        raise InputError.for_field(
            f"{path}.{x.tag()}",
            f"derives {value:g} ({out.formula}), which must be in {bounds.describe()}{fix}; "
            "check its parts",
        )
