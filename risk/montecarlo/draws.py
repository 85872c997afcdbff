"""The draws of one chunk: normal scores, legal-event uniforms and the sampled inputs.

Within a chunk every input is an inverse-CDF transform of a standard normal score
(pseudo-random, or ``Phi^-1`` of scrambled Sobol points), correlated through a copula where the
request asks, and mirrored (``-z``) for antithetic variates; a uniform, triangular or PERT input
outside any copula takes its uniform directly (mirrored ``1 - u``). Legal-event uniforms come
after the scores from the same stream, one contiguous row per event.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special
from scipy.stats import qmc

from ipvalue.models.uncertain import base_value, is_uncertain
from ipvalue.risk.montecarlo.copula import correlate
from ipvalue.risk.montecarlo.legal import EVENTS
from ipvalue.risk.montecarlo.normals import standard_normal
from ipvalue.risk.montecarlo.plan import Plan
from ipvalue.risk.montecarlo.sampling import (
    clip_to_bounds,
    crosses,
    from_normal_scores,
    from_uniforms,
)
from ipvalue.valuation.discounting import FloatArray

QMC_EDGE = 1e-12
"""Sobol points are kept this far inside (0, 1) before ``Phi^-1``."""


def normal_scores(plan: Plan, rng: np.random.Generator, n: int) -> FloatArray:
    """The scores of a chunk, shape (inputs, n): a row per input.

    Rows of the inputs in ``plan.by_uniform`` hold uniforms on [0, 1) (pseudo-random, or the
    Sobol coordinate itself); every other row holds standard normal scores: independent,
    Sobol (``Phi^-1`` of the point), correlated through the copula. Antithetic variates mirror
    each path: ``-z`` for a normal score, ``1 - u`` for a uniform.
    """
    d = len(plan.inputs)
    half = -(-n // 2) if plan.sim.antithetic else n
    if d == 0:
        return np.empty((0, n))
    uniform = list(plan.by_uniform)
    normal = [j for j in range(d) if j not in plan.by_uniform]
    if plan.sim.qmc:
        sobol = qmc.Sobol(d, scramble=True, seed=rng)
        points = sobol.random_base2(max(math.ceil(math.log2(half)), 0))[:half].T
        z = np.clip(points, QMC_EDGE, 1.0 - QMC_EDGE)
        if normal:
            z[normal] = special.ndtri(z[normal])
    elif not uniform:
        z = standard_normal(rng, (d, half))
    elif not normal:
        z = rng.random((d, half))
    else:  # normals first, then uniforms, each drawn straight into its rows where they adjoin
        z = np.empty((d, half))
        for rows, fill in (
            (normal, lambda out, k: standard_normal(rng, (k, half), out=out)),
            (uniform, lambda out, k: rng.random((k, half), out=out)),
        ):
            if rows == list(range(rows[0], rows[0] + len(rows))):
                fill(z[rows[0] : rows[0] + len(rows)], len(rows))
            else:
                z[rows] = fill(None, len(rows))
    if plan.copula is not None:
        chi2 = rng.chisquare(plan.copula.dof, half) if plan.copula.kind == "student_t" else None
        if plan.all_rows_copula is not None:
            z = correlate(z, plan.all_rows_copula, chi2)
        else:
            idx = plan.correlated
            z[idx] = correlate(z[idx], plan.copula, chi2)
    if plan.sim.antithetic:
        mirror = -z
        if uniform:
            mirror[uniform] = 1.0 - z[uniform]
        z = np.concatenate([z, mirror], axis=1)[:, :n]
    return z


def legal_uniforms(plan: Plan, rng: np.random.Generator, n: int) -> FloatArray:
    """Uniforms on (0, 1], shape (events, n): one contiguous row per legal event."""
    half = -(-n // 2) if plan.sim.antithetic else n
    u = rng.random((len(EVENTS), half))
    np.subtract(1.0, u, out=u)  # in (0, 1]
    if plan.sim.antithetic:
        u = np.concatenate([u, 1.0 - u], axis=1)[:, :n]
    return u


def sample(plan: Plan, z: FloatArray) -> tuple[dict[str, FloatArray], dict[str, int]]:
    samples: dict[str, FloatArray] = {}
    clipped: dict[str, int] = {}
    for j, item in enumerate(plan.inputs):
        if j in plan.by_uniform:
            x = from_uniforms(item.dist, z[j])
        else:
            x = from_normal_scores(item.dist, z[j])
        if item.bounds is not None and crosses(item.dist, item.bounds):
            x, count = clip_to_bounds(x, item.bounds)
            if count:
                clipped[item.path] = count
        samples[item.path] = x
    return samples, clipped


def draw_from(samples: dict[str, FloatArray]) -> Any:
    def draw(path: str, model: Any) -> Any:
        found = samples.get(path)
        if found is not None:
            return found
        if is_uncertain(model):
            raise KeyError(f"input {path} was not sampled")  # pragma: no cover - a bug
        return base_value(model)

    return draw
