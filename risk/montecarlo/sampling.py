"""Inverse-CDF sampling of uncertain inputs from standard normal scores.

Every input is drawn as ``x = F^{-1}(Phi(z))`` from a standard normal score ``z`` (shape
``(paths,)``), so one mechanism serves independent draws, copulas, antithetic pairs (``-z``) and
quasi-random points (``z = Phi^{-1}(u)``). Normal and lognormal inputs skip the round trip through
``Phi`` (``mean + sd z``, ``median exp(sigma z)``), which is exact and fast.

An unbounded distribution (normal without truncation, lognormal) may cross the allowed range of
its field (a royalty rate in [0, 1], say); such draws are clipped to the field's
:class:`~models.uncertain.Bounds` and counted, so the result can report how often it happened.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from pydantic import BaseModel
from scipy import special

from ipvalue.models.uncertain import (
    Bounds,
    DistributionBase,
    Fixed,
    Lognormal,
    Normal,
    Pert,
    Triangular,
    Uniform,
    is_uncertain,
)
from ipvalue.risk.kernel import seeds
from ipvalue.risk.montecarlo.normals import combine, compiled, scipy_function, standard_normal
from ipvalue.valuation.discounting import FloatArray

PERT_SHAPE = 4.0
"""Weight of the mode in the Beta-PERT distribution (the classic PERT value)."""


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain input of a request.

    Attributes
    ----------
    path : str
        Its path in the request, e.g. ``methods[0].royalty_rate``.
    dist : DistributionBase
        Its distribution (never ``fixed``).
    bounds : Bounds or None
        The field's allowed range, when it has one.
    """

    path: str
    dist: DistributionBase
    bounds: Bounds | None


def _pert_ab(d: Pert) -> tuple[float, float]:
    span = d.high - d.low
    alpha = 1.0 + PERT_SHAPE * (d.mode - d.low) / span
    beta = 1.0 + PERT_SHAPE * (d.high - d.mode) / span
    return alpha, beta


UNIFORM, TRIANGULAR, PERT = 0, 1, 2
"""Marginals that :func:`_inverse_cdf` computes from ``u = Phi(z)``."""


@numba.njit(nogil=True)
def _inverse_cdf(
    kind: int, z: Any, out: Any, p: Any, ndtr: Any, betaincinv: Any
) -> None:  # pragma: no cover - compiled
    """``out = F^-1(Phi(z))`` in one pass, with the operations of the textbook formulas.

    Parameters ``p`` (float64 array), by ``kind``: uniform ``(low, width)``; triangular
    ``(low, high, cut, span (mode - low), span (high - mode))``, i.e.
    ``low + sqrt(u span (mode - low))`` below the mode's share ``cut``, else
    ``high - sqrt((1 - u) span (high - mode))``; PERT ``(low, width, alpha, beta)``, the
    Beta(alpha, beta) quantile scaled to the range. ``ndtr`` and ``betaincinv`` are scipy's own
    (:func:`~ipvalue.risk.montecarlo.normals.scipy_function`), so each draw equals the scipy
    array formula's bit for bit.
    """
    for i in range(z.size):
        u = ndtr(z[i], 0)
        if kind == UNIFORM:
            out[i] = u * p[1] + p[0]
        elif kind == TRIANGULAR:
            if u < p[2]:
                out[i] = math.sqrt(u * p[3]) + p[0]
            else:
                out[i] = p[1] - math.sqrt((1.0 - u) * p[4])
        else:
            out[i] = p[0] + p[1] * betaincinv(p[2], p[3], u, 0)


def _transform(kind: int, z: FloatArray, *params: float) -> FloatArray:
    """Run :func:`_inverse_cdf` on ``z`` (any shape) into a new array."""
    out = np.empty(z.shape)
    compiled(_inverse_cdf)(
        kind,
        np.ascontiguousarray(z, dtype=float).reshape(-1),
        out.reshape(-1),
        np.array(params, dtype=float),
        scipy_function("__pyx_fuse_1ndtr", 1),
        scipy_function("__pyx_fuse_0betaincinv", 3),
    )
    return out


def warm_up() -> None:
    """Load (or compile, then cache) every compiled kernel of the sampler now.

    A new process otherwise pays numba's start-up and the cache load (about a second) in its
    first simulation; a server calls this once per worker before taking requests.
    """
    z = standard_normal(seeds.child(0), (1, 2))
    combine(np.eye(1), z)
    for kind in (UNIFORM, TRIANGULAR, PERT):
        _transform(kind, z[0], 0.0, 1.0, 0.5, 0.5, 0.5)


def _truncated_normal(d: Normal, z: FloatArray) -> FloatArray:
    a = -np.inf if d.low is None else (d.low - d.mean) / d.sd
    b = np.inf if d.high is None else (d.high - d.mean) / d.sd
    lo, hi = special.ndtr(a), special.ndtr(b)
    u = lo + special.ndtr(z) * (hi - lo)
    x = d.mean + d.sd * special.ndtri(u)
    return np.clip(x, -np.inf if d.low is None else d.low, np.inf if d.high is None else d.high)


def from_normal_scores(dist: DistributionBase, z: FloatArray) -> FloatArray:
    """Map standard normal scores to draws of ``dist`` by its inverse CDF.

    Parameters
    ----------
    dist : DistributionBase
        Any distribution of :mod:`models.uncertain`.
    z : array (paths,)
        Standard normal scores (independent, correlated through a copula, or quasi-random).

    Returns
    -------
    array (paths,)
        Draws in the input's own unit; monotone increasing in ``z``.
    """
    if isinstance(dist, Fixed):
        return np.full(z.shape, dist.value)
    if isinstance(dist, Normal):
        if dist.sd == 0:
            return np.full(z.shape, dist.mean)
        if dist.low is None and dist.high is None:
            x = dist.sd * z
            x += dist.mean
            return x
        return _truncated_normal(dist, z)
    if isinstance(dist, Lognormal):
        x = dist.sigma * z
        np.exp(x, out=x)
        x *= dist.median
        return x
    if isinstance(dist, Uniform):
        return _transform(UNIFORM, z, dist.low, dist.high - dist.low, 0.0, 0.0)
    if isinstance(dist, Triangular):
        span = dist.high - dist.low
        cut = (dist.mode - dist.low) / span
        left, right = span * (dist.mode - dist.low), span * (dist.high - dist.mode)
        return _transform(TRIANGULAR, z, dist.low, dist.high, cut, left, right)
    if isinstance(dist, Pert):
        alpha, beta = _pert_ab(dist)
        return _transform(PERT, z, dist.low, dist.high - dist.low, alpha, beta)
    raise TypeError(f"no sampler for {type(dist).__name__}")  # pragma: no cover


def distribution_mean(dist: DistributionBase) -> float:
    """Mean of a distribution before any clipping to field bounds (for tests and reports)."""
    if isinstance(dist, Fixed):
        return dist.value
    if isinstance(dist, Normal):
        if dist.sd == 0 or (dist.low is None and dist.high is None):
            return dist.mean
        a = -np.inf if dist.low is None else (dist.low - dist.mean) / dist.sd
        b = np.inf if dist.high is None else (dist.high - dist.mean) / dist.sd
        mass = special.ndtr(b) - special.ndtr(a)
        pdf = (np.exp(-0.5 * a * a) - np.exp(-0.5 * b * b)) / math.sqrt(2 * math.pi)
        return float(dist.mean + dist.sd * pdf / mass)
    if isinstance(dist, Lognormal):
        return dist.median * math.exp(0.5 * dist.sigma**2)
    if isinstance(dist, Uniform):
        return 0.5 * (dist.low + dist.high)
    if isinstance(dist, Triangular):
        return (dist.low + dist.mode + dist.high) / 3.0
    if isinstance(dist, Pert):
        return (dist.low + PERT_SHAPE * dist.mode + dist.high) / (PERT_SHAPE + 2.0)
    raise TypeError(f"no mean for {type(dist).__name__}")  # pragma: no cover


def crosses(dist: DistributionBase, bounds: Bounds | None) -> bool:
    """Whether draws of ``dist`` can fall outside ``bounds`` (so they need clipping)."""
    if bounds is None:
        return False
    low, high = dist.support
    return not (bounds.contains(low) and bounds.contains(high))


def clip_to_bounds(x: FloatArray, bounds: Bounds) -> tuple[FloatArray, int]:
    """Clip draws into a field's allowed range; open ends clip to the nearest float inside.

    Parameters
    ----------
    x : array (paths,)
    bounds : Bounds

    Returns
    -------
    clipped : array (paths,)
    count : int
        How many draws were outside and moved.
    """
    low = np.nextafter(bounds.low, np.inf) if bounds.open_low else bounds.low
    high = np.nextafter(bounds.high, -np.inf) if bounds.open_high else bounds.high
    if x.size == 0 or (x.min() >= low and x.max() <= high):
        return x, 0
    outside = int(np.count_nonzero((x < low) | (x > high)))
    return np.clip(x, low, high), outside


# --- finding uncertain inputs and their field bounds -------------------------------------------


def _walk(annotation: Any) -> list[Any]:
    """Every typing node below ``annotation`` that is not inside a list, dict or model."""
    nodes: list[Any] = [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        args = typing.get_args(annotation)
        nodes += _walk(args[0]) + list(args[1:])
    elif origin is not None and origin not in (list, dict):
        for arg in typing.get_args(annotation):
            nodes += _walk(arg)
    return nodes


def _bounds_of(annotation: Any, metadata: list[Any]) -> Bounds | None:
    for node in list(metadata) + _walk(annotation):
        if isinstance(node, Bounds):
            return node
    return None


def _container_arg(annotation: Any, container: type) -> Any:
    for node in _walk(annotation):
        if typing.get_origin(node) is container:
            return typing.get_args(node)[-1]
    return Any


def _collect(value: Any, path: str, annotation: Any, metadata: list[Any]) -> list[UncertainInput]:
    if isinstance(value, DistributionBase):
        if not is_uncertain(value):
            return []
        return [UncertainInput(path, value, _bounds_of(annotation, metadata))]
    if isinstance(value, BaseModel):
        found: list[UncertainInput] = []
        for name, info in type(value).model_fields.items():
            sub = f"{path}.{name}" if path else name
            found += _collect(getattr(value, name), sub, info.annotation, info.metadata)
        return found
    if isinstance(value, list):
        element = _container_arg(annotation, list)
        return [x for i, v in enumerate(value) for x in _collect(v, f"{path}[{i}]", element, [])]
    if isinstance(value, dict):
        element = _container_arg(annotation, dict)
        return [x for k, v in value.items() for x in _collect(v, f"{path}.{k}", element, [])]
    return []


def uncertain_inputs(obj: BaseModel, path: str) -> list[UncertainInput]:
    """Every uncertain (non-fixed) number below ``obj``, with its path and field bounds.

    Paths follow :func:`valuation.resolve.uncertain_paths`: ``methods[0].revenue[2]``,
    ``methods[0].revenue.growth``, ``methods[0].comparables[1].adjustments.time``.
    """
    return _collect(obj, path, type(obj), [])
