"""Dependence between inputs: Gaussian and Student-t copulas from rank correlations.

A request gives Spearman rank correlations. For a Gaussian copula the normal-score correlation
that yields Spearman's rho is ``r = 2 sin(pi rho / 6)`` (Kruskal 1958); the same map is used for
the Student-t copula, where it is close but not exact. A rank matrix that is not positive
semi-definite is refused, or, when the request sets ``repair``, replaced by the nearest
correlation matrix (Higham 2002, alternating projections with Dykstra's correction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ipvalue.models.errors import InputError
from ipvalue.risk.montecarlo.normals import combine
from ipvalue.valuation.discounting import FloatArray

MATRIX_FIELD = "simulation.correlations.matrix"
PSD_TOLERANCE = 1e-10
"""Smallest eigenvalue allowed below zero before a matrix counts as not PSD."""


def spearman_to_pearson(rho: ArrayLike) -> FloatArray:
    """Normal-score (Pearson) correlation giving rank correlation ``rho``: 2 sin(pi rho / 6)."""
    return 2.0 * np.sin(np.pi * np.asarray(rho, dtype=float) / 6.0)


def pearson_to_spearman(r: ArrayLike) -> FloatArray:
    """Inverse of :func:`spearman_to_pearson`: (6 / pi) arcsin(r / 2)."""
    return 6.0 / np.pi * np.arcsin(np.asarray(r, dtype=float) / 2.0)


def min_eigenvalue(matrix: ArrayLike) -> float:
    """Smallest eigenvalue of a symmetric matrix."""
    return float(np.linalg.eigvalsh(np.asarray(matrix, dtype=float))[0])


def nearest_correlation(matrix: ArrayLike, tol: float = 1e-12, max_iter: int = 500) -> FloatArray:
    """Nearest correlation matrix in the Frobenius norm (Higham 2002).

    Parameters
    ----------
    matrix : array (n, n)
        Symmetric with unit diagonal, possibly indefinite.

    Returns
    -------
    array (n, n)
        Positive semi-definite, symmetric, unit diagonal.
    """
    y = np.asarray(matrix, dtype=float).copy()
    correction = np.zeros_like(y)
    for _ in range(max_iter):
        r = y - correction
        values, vectors = np.linalg.eigh(r)
        x = (vectors * np.maximum(values, 0.0)) @ vectors.T
        correction = x - r
        previous = y
        y = x.copy()
        np.fill_diagonal(y, 1.0)
        if np.linalg.norm(y - previous) <= tol * np.linalg.norm(y):
            break
    y = 0.5 * (y + y.T)
    # Clear any residual negative eigenvalue left by rounding, keeping a unit diagonal.
    values, vectors = np.linalg.eigh(y)
    if values[0] < 0:
        y = (vectors * np.maximum(values, 0.0)) @ vectors.T
        d = np.sqrt(np.diag(y))
        y = y / np.outer(d, d)
    return y


@dataclass(frozen=True)
class CopulaPlan:
    """How correlated normal scores are made.

    Attributes
    ----------
    rank_matrix : array (k, k)
        Rank correlations applied (the request's, or the repaired one).
    pearson : array (k, k)
        Normal-score correlation of the copula.
    factor : array (k, k)
        ``A`` with ``A A^T = pearson``; correlated scores are ``z A^T``.
    repaired : bool
        Whether the request's matrix was replaced.
    kind : str
        ``"gaussian"`` or ``"student_t"``.
    dof : float
        Degrees of freedom of the Student-t copula.
    """

    rank_matrix: FloatArray
    pearson: FloatArray
    factor: FloatArray
    repaired: bool
    kind: str
    dof: float


def plan_copula(
    rank_matrix: ArrayLike, *, repair: bool, kind: str = "gaussian", dof: float = 4.0
) -> CopulaPlan:
    """Check (or repair) a rank-correlation matrix and factor its normal-score version.

    Raises
    ------
    InputError
        On ``simulation.correlations.matrix`` when it is not positive semi-definite and
        ``repair`` is false.
    """
    rho = np.asarray(rank_matrix, dtype=float)
    smallest = min_eigenvalue(rho)
    repaired = False
    if smallest < -PSD_TOLERANCE:
        if not repair:
            raise InputError.for_field(
                MATRIX_FIELD,
                f"is not positive semi-definite (smallest eigenvalue {smallest:.4g}); "
                "make the correlations consistent, or set correlations.repair to true to use "
                "the nearest valid matrix",
            )
        rho = nearest_correlation(rho)
        repaired = True
    pearson = spearman_to_pearson(rho)
    if min_eigenvalue(pearson) < -PSD_TOLERANCE:
        # The sine map can push a barely-PSD rank matrix just outside; move it back.
        pearson = nearest_correlation(pearson)
        rho = pearson_to_spearman(pearson)
        repaired = True
    values, vectors = np.linalg.eigh(pearson)
    factor = vectors * np.sqrt(np.maximum(values, 0.0))
    return CopulaPlan(rho, pearson, factor, repaired, kind, dof)


def correlate(z: FloatArray, plan: CopulaPlan, chi2: FloatArray | None = None) -> FloatArray:
    """Turn independent normal scores into scores with the copula's dependence.

    Parameters
    ----------
    z : array (k, paths)
        Independent standard normal scores, one row per correlated input.
    plan : CopulaPlan
    chi2 : array (paths,), optional
        Chi-square draws with ``plan.dof`` degrees of freedom (Student-t copula only).

    Returns
    -------
    array (k, paths)
        Standard normal scores whose joint law is the copula's; feed them to the inverse CDFs.
    """
    x = combine(plan.factor, z)
    if plan.kind == "gaussian":
        return x
    if chi2 is None:
        raise ValueError("the Student-t copula needs chi-square draws")
    t = x / np.sqrt(chi2 / plan.dof)
    # Work in the lower tail on both sides so extreme draws keep their precision.
    return -np.sign(t) * special.ndtri(special.stdtr(plan.dof, -np.abs(t)))
