"""Turn a method's input model into numbers: base values, or sampled arrays.

A ``Draw`` maps an input's path in the request (``methods[0].royalty_rate``,
``methods[0].revenue[2]``, ``methods[0].revenue.base``) and its model (a float or a
distribution) to a number or an array of shape ``(paths,)``. The point value uses
:func:`base_draw`; the Monte Carlo engine passes a draw that returns sampled paths, and the same
method formulas run on those arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel

from ipvalue.models.series import GrowthSeries
from ipvalue.models.uncertain import DistributionBase, base_value
from ipvalue.valuation.discounting import FloatArray, years_last

Draw = Callable[[str, Any], Any]


def base_draw(path: str, value: Any) -> float:
    """The deterministic value of any input: its base value."""
    return base_value(value)


def resolve_series(series: Any, path: str, draw: Draw) -> FloatArray:
    """A series as an array of shape ``(..., years)``.

    A list draws each year's number (``path[i]``); a growth series draws ``base`` and ``growth``
    once and compounds: B, B(1+G), ..., B(1+G)^(N-1).
    """
    if isinstance(series, GrowthSeries):
        base = np.asarray(draw(f"{path}.base", series.base), dtype=float)
        growth = np.asarray(draw(f"{path}.growth", series.growth), dtype=float)
        step = 1.0 + growth
        # Year by year, B (1+G)^t = B (1+G)^(t-1) (1+G): each year is one contiguous row.
        shape = (
            base.shape if base.shape == step.shape else np.broadcast_shapes(base.shape, step.shape)
        )
        out = np.empty((series.years, *shape))
        if series.years:
            out[0] = base
        for t in range(1, series.years):
            np.multiply(out[t - 1, ...], step, out=out[t, ...])
        return years_last(out)
    years = [np.asarray(draw(f"{path}[{i}]", x), dtype=float) for i, x in enumerate(series)]
    shape = np.broadcast_shapes(*(y.shape for y in years))
    return years_last(np.stack([np.broadcast_to(y, shape) for y in years]))


def uncertain_paths(obj: Any, path: str) -> list[tuple[str, Any]]:
    """Every numeric input below ``obj`` with its request path (for sampling and correlation)."""
    if isinstance(obj, DistributionBase) or (
        isinstance(obj, int | float) and not isinstance(obj, bool)
    ):
        return [(path, obj)]
    if isinstance(obj, BaseModel):
        found: list[tuple[str, Any]] = []
        for name in type(obj).model_fields:
            found += uncertain_paths(getattr(obj, name), f"{path}.{name}" if path else name)
        return found
    if isinstance(obj, list):
        return [p for i, x in enumerate(obj) for p in uncertain_paths(x, f"{path}[{i}]")]
    if isinstance(obj, dict):
        return [p for k, x in obj.items() for p in uncertain_paths(x, f"{path}.{k}")]
    return []
