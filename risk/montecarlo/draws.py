"""The draws of one chunk: normal scores, legal-event uniforms and the sampled inputs.

Within a chunk every input is an inverse-CDF transform of a standard normal score
(pseudo-random, or ``Phi^-1`` of scrambled Sobol points), correlated through a copula where the
request asks, and mirrored (``-z``) for antithetic variates.
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
from ipvalue.risk.montecarlo.sampling import clip_to_bounds, crosses, from_normal_scores
from ipvalue.valuation.discounting import FloatArray

QMC_EDGE = 1e-12
"""Sobol points are kept this far inside (0, 1) before ``Phi^-1``."""


def normal_scores(plan: Plan, rng: np.random.Generator, n: int) -> FloatArray:
    """Standard normal scores, shape (inputs, n): independent, Sobol, correlated, mirrored."""
    d = len(plan.inputs)
    half = -(-n // 2) if plan.sim.antithetic else n
    if d == 0:
        return np.empty((0, n))
    if plan.sim.qmc:
        sobol = qmc.Sobol(d, scramble=True, seed=rng)
        u = sobol.random_base2(max(math.ceil(math.log2(half)), 0))[:half]
        z = special.ndtri(np.clip(u.T, QMC_EDGE, 1.0 - QMC_EDGE))
    else:
        z = standard_normal(rng, (d, half))
    if plan.copula is not None:
        chi2 = rng.chisquare(plan.copula.dof, half) if plan.copula.kind == "student_t" else None
        if plan.all_rows_copula is not None:
            z = correlate(z, plan.all_rows_copula, chi2)
        else:
            idx = plan.correlated
            z[idx] = correlate(z[idx], plan.copula, chi2)
    if plan.sim.antithetic:
        z = np.concatenate([z, -z], axis=1)[:, :n]
    return z


def legal_uniforms(plan: Plan, rng: np.random.Generator, n: int) -> FloatArray:
    half = -(-n // 2) if plan.sim.antithetic else n
    u = 1.0 - rng.random((half, len(EVENTS)))  # in (0, 1]
    if plan.sim.antithetic:
        u = np.concatenate([u, 1.0 - u])[:n]
    return u


def sample(plan: Plan, z: FloatArray) -> tuple[dict[str, FloatArray], dict[str, int]]:
    samples: dict[str, FloatArray] = {}
    clipped: dict[str, int] = {}
    for j, item in enumerate(plan.inputs):
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
