"""Compiled sampler: numpy's normals bit for bit, scipy's marginals, the disk cache, bad input.

References: ``numpy.random.Generator.standard_normal`` on ``PCG64`` (the numbers the engine
drew before the compiled sampler, so a recorded seed keeps its results); the inverse CDFs and
moments of ``scipy.stats`` (``uniform``, ``triang``, ``beta`` for PERT, ``norm``,
``truncnorm``, ``lognorm``); ``numpy.einsum`` for the copula's combination.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import special
from scipy import stats as sps

from ipvalue.models.uncertain import Distribution, DistributionBase, Pert, Triangular, Uniform
from ipvalue.risk.montecarlo import normals
from ipvalue.risk.montecarlo.normals import (
    combine,
    compiled,
    normal_cdf,
    numpy_tables,
    standard_normal,
)
from ipvalue.risk.montecarlo.sampling import (
    PERT_SHAPE,
    distribution_mean,
    from_normal_scores,
    from_uniforms,
    warm_up,
)

DIST: TypeAdapter[DistributionBase] = TypeAdapter(Distribution)


def _pcg(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(0, 3))))


# ------------------------------------------------------------------ numpy's normals, bit for bit


def test_the_tables_read_from_numpy_are_numpys():
    tables = numpy_tables()
    assert tables is not None, "libnpyrandom.a not readable: the compiled path is not in use"
    x = tables.wi * 2.0**52  # layer edges, from the base (index 255) to the peak (index 1)
    assert tables.wi[-1] * 2.0**52 == pytest.approx(normals.ZIGGURAT_R, rel=0, abs=0)
    assert np.all(np.diff(x[1:]) > 0)
    # Each layer's density is the normal density at its edge (the table's definition).
    assert np.allclose(tables.fi[1:], np.exp(-0.5 * x[1:] ** 2), rtol=1e-13)
    assert np.all(tables.ki[2:] >> np.uint64(52) == 0) and tables.ki[1] == 0


@pytest.mark.parametrize("seed", [0, 1, 20260101, 2**63 - 1])
@pytest.mark.parametrize("shape", [0, 1, 3, (4, 1000), (2, 65_536)])
def test_standard_normal_equals_numpy_and_leaves_the_same_state(seed, shape):
    ours, theirs = _pcg(seed), _pcg(seed)
    x = standard_normal(ours, shape)
    y = theirs.standard_normal(shape)
    assert x.shape == y.shape and x.dtype == y.dtype
    assert np.array_equal(x, y)
    # The stream continues unchanged: uniforms, raw words and normals drawn after it.
    assert ours.bit_generator.state == theirs.bit_generator.state
    assert np.array_equal(ours.random(5), theirs.random(5))
    assert np.array_equal(standard_normal(ours, 7), theirs.standard_normal(7))


def test_a_million_draws_cover_the_wedges_and_the_tail_and_still_match():
    x = standard_normal(_pcg(7), 1_000_000)
    assert np.array_equal(x, _pcg(7).standard_normal(1_000_000))
    # P(|Z| > r) = 2.6e-4: a few hundred draws came from the tail (Marsaglia 1964) branch.
    assert np.count_nonzero(np.abs(x) > normals.ZIGGURAT_R) > 100
    assert sps.kstest(x, "norm").pvalue > 1e-3


def test_other_bit_generators_fall_back_to_numpy():
    ours = np.random.Generator(np.random.Philox(5))
    assert np.array_equal(
        standard_normal(ours, 100), np.random.Generator(np.random.Philox(5)).standard_normal(100)
    )


def test_without_numpys_tables_numpy_draws(monkeypatch):
    monkeypatch.setattr(normals, "numpy_tables", lambda: None)
    assert np.array_equal(standard_normal(_pcg(2), 50), _pcg(2).standard_normal(50))


def test_the_table_reader_refuses_what_is_not_an_archive():
    assert normals._ar_members(b"not an archive") == []
    assert normals._elf_symbols(b"\x7fELF\x01\x01" + bytes(64), ("ki_double",)) == {}


def test_bad_shapes_are_refused_as_numpy_refuses_them():
    with pytest.raises(ValueError):
        standard_normal(_pcg(1), -1)
    with pytest.raises(ValueError):
        _pcg(1).standard_normal(-1)


# ------------------------------------------------------------------------------ the marginals

CASES = [
    ({"dist": "uniform", "low": 0.10, "high": 0.20}, sps.uniform(0.10, 0.10)),
    ({"dist": "triangular", "low": 0.03, "mode": 0.05, "high": 0.08}, sps.triang(0.4, 0.03, 0.05)),
    ({"dist": "triangular", "low": 0.0, "mode": 0.0, "high": 1.0}, sps.triang(0.0, 0.0, 1.0)),
    ({"dist": "triangular", "low": 0.0, "mode": 1.0, "high": 1.0}, sps.triang(1.0, 0.0, 1.0)),
    # PERT(low, mode, high) is low + (high - low) Beta(1 + 4 (mode - low) / span, ...)
    ({"dist": "pert", "low": 1.0, "mode": 2.0, "high": 5.0}, sps.beta(2.0, 4.0, 1.0, 4.0)),
    ({"dist": "normal", "mean": 1e6, "sd": 2e5}, sps.norm(1e6, 2e5)),
    (
        {"dist": "normal", "mean": 0.1, "sd": 0.05, "low": 0.0},
        sps.truncnorm(-2.0, np.inf, 0.1, 0.05),
    ),
    ({"dist": "lognormal", "median": 2.0, "sigma": 0.5}, sps.lognorm(0.5, 0.0, 2.0)),
]


@pytest.mark.parametrize(("spec", "reference"), CASES, ids=[c[0]["dist"] for c in CASES])
def test_marginals_follow_scipy(spec, reference):
    dist = DIST.validate_python(spec)
    z = standard_normal(_pcg(11), 200_000)
    x = from_normal_scores(dist, z)
    # The inverse CDF of each normal score, as scipy computes it.
    assert np.allclose(x, reference.ppf(special.ndtr(z)), rtol=1e-9, atol=1e-12)
    assert sps.kstest(x, reference.cdf).pvalue > 1e-3
    se = reference.std() / np.sqrt(x.size)
    assert abs(x.mean() - reference.mean()) < 4 * se
    assert distribution_mean(dist) == pytest.approx(reference.mean(), rel=1e-12)
    assert x.var(ddof=1) == pytest.approx(reference.var(), rel=0.02)


def _textbook(dist: DistributionBase, z: np.ndarray) -> np.ndarray:
    """The array formulas the compiled transforms replaced (numpy and scipy, step by step)."""
    u = special.ndtr(z)
    if isinstance(dist, Uniform):
        return u * (dist.high - dist.low) + dist.low
    span = dist.high - dist.low
    if isinstance(dist, Triangular):
        left = np.sqrt(u * (span * (dist.mode - dist.low))) + dist.low
        right = dist.high - np.sqrt((1.0 - u) * (span * (dist.high - dist.mode)))
        return np.where(u < (dist.mode - dist.low) / span, left, right)
    assert isinstance(dist, Pert)
    alpha = 1.0 + PERT_SHAPE * (dist.mode - dist.low) / span
    beta = 1.0 + PERT_SHAPE * (dist.high - dist.mode) / span
    return dist.low + span * special.betaincinv(alpha, beta, u)


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4])
def test_compiled_transforms_equal_the_array_formulas(index):
    dist = DIST.validate_python(CASES[index][0])
    z = np.random.default_rng(index).standard_normal((3, 5000)) * 3.0
    z[0, :4] = [0.0, -40.0, 40.0, 1e-300]
    # From the same uniforms, the compiled inverse CDFs are the textbook formulas bit for bit.
    assert np.array_equal(from_uniforms(dist, special.ndtr(z[0])), _textbook(dist, z[0]))
    # Through the compiled normal CDF (within 4e-15 of scipy's), to rounding.
    span = dist.support[1] - dist.support[0]
    np.testing.assert_allclose(
        from_normal_scores(dist, z[0]), _textbook(dist, z[0]), rtol=1e-13, atol=1e-14 * span
    )
    # Views that are not contiguous give the same numbers.
    assert np.array_equal(
        from_normal_scores(dist, z[:, 7]), from_normal_scores(dist, z[:, 7].copy())
    )
    assert from_normal_scores(dist, np.empty(0)).shape == (0,)
    assert from_uniforms(dist, np.empty(0)).shape == (0,)


def test_compiled_normal_cdf_is_scipys_ndtr_to_rounding():
    z = np.concatenate(
        [np.random.default_rng(3).standard_normal(200_000) * 3.0, np.linspace(-37, 37, 20_001)]
    )
    ours, scipy_ndtr = normal_cdf(z), special.ndtr(z)
    rel = np.abs(ours - scipy_ndtr) / scipy_ndtr
    assert rel[np.abs(z) < 9].max() < 5e-15  # every draw's reach
    assert rel.max() < 1e-13
    assert np.all(np.diff(normal_cdf(np.linspace(-9, 9, 100_001))) >= 0)
    assert normal_cdf(np.array([0.0, np.inf, -np.inf, -40.0])).tolist() == [0.5, 1.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "triangular", "low": 0.08, "mode": 0.05, "high": 0.03},
        {"dist": "triangular", "low": 0.05, "mode": 0.05, "high": 0.05},
        {"dist": "pert", "low": 1.0, "mode": 6.0, "high": 5.0},
        {"dist": "uniform", "low": 0.2, "high": 0.1},
        {"dist": "uniform", "low": 0.1, "high": float("inf")},
        {"dist": "normal", "mean": 1.0, "sd": -1.0},
        {"dist": "lognormal", "median": -2.0, "sigma": 0.5},
    ],
)
def test_bad_parameters_are_refused_before_sampling(spec):
    with pytest.raises(ValidationError):
        DIST.validate_python(spec)


# ------------------------------------------------------------------- copula, cache, compiled


@pytest.mark.parametrize(("k", "n"), [(1, 10), (4, 65_536), (7, 3001), (3, 0)])
def test_combine_equals_einsum_bit_for_bit(k, n):
    rng = np.random.default_rng(k)
    factor, z = rng.standard_normal((k, k)), rng.standard_normal((k, n))
    assert np.array_equal(combine(factor, z), np.einsum("ij,jn->in", factor, z))


def test_machine_code_is_cached_in_the_service_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("IPVALUE_CACHE_DIR", str(tmp_path))

    @numba.njit
    def twice(x):  # pragma: no cover - compiled
        return 2 * x

    assert compiled(twice)(21) == 42
    assert list((tmp_path / "numba").rglob("*.nbi")), "no numba index written in the cache folder"
    assert compiled(twice) is twice  # attached once


def test_an_unwritable_cache_folder_only_costs_the_compile(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("IPVALUE_CACHE_DIR", str(blocker))

    @numba.njit
    def thrice(x):  # pragma: no cover - compiled
        return 3 * x

    assert compiled(thrice)(2) == 6


def test_a_cache_folder_others_can_write_is_not_used(tmp_path, monkeypatch, caplog):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone could plant an index (a pickle) here
    monkeypatch.setenv("IPVALUE_CACHE_DIR", str(shared))

    @numba.njit
    def four_times(x):  # pragma: no cover - compiled
        return 4 * x

    assert compiled(four_times)(2) == 8
    assert not list(shared.rglob("*.nbi"))
    assert "not cached on disk" in caplog.text and "writable by other users" in caplog.text


def test_warm_up_compiles_the_signatures_a_simulation_uses():
    from ipvalue.risk.montecarlo import sampling

    kernels = (normals._fill_normals, normals._combine, sampling._inverse_cdf)
    warm_up()
    before = [list(k.signatures) for k in kernels]
    assert all(before)
    z = standard_normal(_pcg(4), (3, 100))
    x = combine(np.linalg.cholesky(np.full((3, 3), 0.5) + 0.5 * np.eye(3)), z)
    for index in (0, 1, 4):
        from_normal_scores(DIST.validate_python(CASES[index][0]), x[0])
    assert [list(k.signatures) for k in kernels] == before, "a simulation compiled anew"
