"""Reconciliation: one value from several methods, and a warning when they disagree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.valuation.discounting import FloatArray

DISAGREEMENT_RATIO = 2.0
"""Warn when the largest method value exceeds the smallest positive one by more than this."""


def normalise_weights(
    keys: list[str], weights: dict[str, float] | list[float] | None
) -> dict[str, float]:
    """Weights per method key, summing to 1 (equal when none are given).

    Parameters
    ----------
    keys : list of str
        Method keys in request order.
    weights : dict, list or None
        By key (missing keys weigh 0), in order, or None for equal weights.
    """
    if weights is None:
        raw = [1.0] * len(keys)
    elif isinstance(weights, list):
        raw = [float(w) for w in weights]
    else:
        raw = [float(weights.get(k, 0.0)) for k in keys]
    total = sum(raw)
    return {k: w / total for k, w in zip(keys, raw, strict=True)}


def weighted_value(values: dict[str, ArrayLike], weights: dict[str, float]) -> FloatArray:
    """Weighted sum of method values; each may be a float or an array of paths."""
    total: FloatArray = np.zeros(())
    for key, w in weights.items():
        if w:
            total = total + w * np.asarray(values[key], dtype=float)
    return total


@dataclass(frozen=True)
class Disagreement:
    """How far the methods' point values lie apart.

    Attributes
    ----------
    ratio : float or None
        Largest over smallest positive value; None with fewer than two positive values.
    warning : str or None
        Set when ``ratio`` exceeds the threshold.
    """

    ratio: float | None
    warning: str | None


def disagreement(values: dict[str, float], threshold: float = DISAGREEMENT_RATIO) -> Disagreement:
    """Check whether the approaches disagree widely (largest / smallest > ``threshold``)."""
    positive = {k: v for k, v in values.items() if v > 0}
    if len(values) < 2:
        return Disagreement(None, None)
    if len(positive) < len(values):
        zero = sorted(set(values) - set(positive))
        return Disagreement(
            None,
            f"methods {zero} give no positive value while others do; review before relying on "
            "the reconciled value",
        )
    hi = max(positive, key=positive.__getitem__)
    lo = min(positive, key=positive.__getitem__)
    ratio = positive[hi] / positive[lo]
    if ratio > threshold:
        return Disagreement(
            ratio,
            f"the approaches disagree widely: {hi} ({positive[hi]:,.0f}) is {ratio:.1f}x "
            f"{lo} ({positive[lo]:,.0f}), above {threshold:g}x; review the inputs and weights",
        )
    return Disagreement(ratio, None)
