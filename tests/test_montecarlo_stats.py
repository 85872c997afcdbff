"""Monte Carlo statistics: the lognormal reference case through the engine, quantile CI coverage,
inverse-CDF samplers against scipy.stats, legal hazard schedules and value paths."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from ipvalue.models.uncertain import Lognormal, Normal, Pert, Triangular, Uniform
from ipvalue.risk.montecarlo import LegalJumps, simulate_valuation, simulate_value_paths
from ipvalue.risk.montecarlo.legal import maintenance_fee_schedule
from ipvalue.risk.montecarlo.sampling import from_normal_scores
from ipvalue.risk.montecarlo.stats import (
    QUANTILES,
    _ranks,
    histogram,
    quantile_name,
    quantile_ranks,
    quantiles_ranks,
    quantiles_with_ci,
    tail_risk,
)
from tests.montecarlo_helpers import make_request

HERE = Path(__file__).parent
CASES = [HERE / "reference" / "cases.json", HERE.parents[1] / "shared" / "reference" / "cases.json"]


def _case(case_id: str) -> dict:
    path = next(p for p in CASES if p.exists())
    data = json.loads(path.read_text())
    cases = data["cases"] if isinstance(data, dict) else data
    return next(c for c in cases if c["id"] == case_id)


LOGNORMAL = _case("lognormal-collateral-1y")
V0 = LOGNORMAL["inputs"]["value"]
SIGMA = LOGNORMAL["inputs"]["volatility"]
T = LOGNORMAL["inputs"]["horizon_years"]


def _closed_form_quantile(p: float) -> float:
    return V0 * math.exp(-0.5 * SIGMA**2 * T + SIGMA * math.sqrt(T) * special.ndtri(p))


def _lognormal_request(seed: int, paths: int):
    """A right worth exactly V0 today whose value then moves lognormally for T years."""
    method = {"method": "replacement_cost", "costs": [{"name": "cost", "amount": V0}]}
    return make_request(
        [method],
        seed=seed,
        paths=paths,
        horizon_years=T,
        volatility=SIGMA,
        drift=LOGNORMAL["inputs"]["drift"],
        steps_per_year=1,
    )


def test_lognormal_reference_case_through_the_engine():
    res = simulate_valuation(_lognormal_request(seed=20261127, paths=400_000))
    assert res.value_paths is not None
    at = res.value_paths.at_horizon
    expected = LOGNORMAL["expected"]
    for name in ("p05", "p50", "p95"):
        q = at.quantiles[name]
        assert q.ci_low <= expected[name] <= q.ci_high, (name, q, expected[name])
    tol = LOGNORMAL["tolerance"]
    assert at.tail.var95 == pytest.approx(expected["var95_loss_from_value"], abs=tol)
    assert at.tail.es95 == pytest.approx(expected["es95_loss_from_value"], abs=tol)
    assert res.value_paths.times[-1] == T
    assert res.value_paths.bands["p50"][0] == V0


def test_quantile_intervals_cover_the_closed_form_about_95_percent_of_the_time():
    seeds = 200
    covered = dict.fromkeys(QUANTILES, 0)
    for seed in range(seeds):
        at = simulate_valuation(_lognormal_request(seed=seed, paths=2_000)).value_paths.at_horizon
        for p in QUANTILES:
            q = at.quantiles[quantile_name(p)]
            covered[p] += q.ci_low <= _closed_form_quantile(p) <= q.ci_high
    # Each count is binomial(200, >= 0.95): below the 0.1 % point means the CIs are too narrow.
    floor = sps.binom.ppf(0.001, seeds, 0.95)
    assert all(c >= floor for c in covered.values()), (covered, floor)
    # ... and the intervals are not so wide that they cover nearly always.
    assert sum(covered.values()) / (seeds * len(QUANTILES)) < 0.985, covered


def test_order_statistic_intervals_on_a_known_sample():
    x = np.arange(1.0, 1001.0)
    (median,) = quantiles_with_ci(x, (0.5,))
    assert median.value == 500.0  # the inverted CDF: the ceil(1000 x 0.5)-th smallest
    assert median.ci_low < 500.5 < median.ci_high
    assert median.ci_high - median.ci_low == pytest.approx(2 * 1.96 * math.sqrt(250), abs=3)


U = np.linspace(0.001, 0.999, 999)
Z = special.ndtri(U)


@pytest.mark.parametrize(
    ("dist", "frozen"),
    [
        (Normal(dist="normal", mean=3.0, sd=2.0), sps.norm(3.0, 2.0)),
        (
            Normal(dist="normal", mean=0.1, sd=0.05, low=0.02, high=0.3),
            sps.truncnorm((0.02 - 0.1) / 0.05, (0.3 - 0.1) / 0.05, loc=0.1, scale=0.05),
        ),
        (Lognormal(dist="lognormal", median=50.0, sigma=0.4), sps.lognorm(0.4, scale=50.0)),
        (Uniform(dist="uniform", low=-1.0, high=3.0), sps.uniform(-1.0, 4.0)),
        (
            Triangular(dist="triangular", low=1.0, mode=2.0, high=5.0),
            sps.triang(0.25, loc=1.0, scale=4.0),
        ),
        (
            Pert(dist="pert", low=0.0, mode=0.1, high=0.5),
            sps.beta(1 + 4 * 0.2, 1 + 4 * 0.8, loc=0.0, scale=0.5),
        ),
    ],
)
def test_inverse_cdf_samplers_match_scipy(dist, frozen):
    np.testing.assert_allclose(from_normal_scores(dist, Z), frozen.ppf(U), rtol=1e-9, atol=1e-12)


def test_maintenance_fee_schedule_reproduces_the_payment_rates():
    schedule = maintenance_fee_schedule(0.0)
    np.testing.assert_allclose(schedule.survival([4.0, 8.0, 12.0, 20.0]), [0.84, 0.63, 0.49, 0.49])
    older = maintenance_fee_schedule(6.0)  # six years after grant: half of the 4-8 period left
    assert older.survival(2.0) == pytest.approx((0.63 / 0.84) ** 0.5)
    assert older.survival(6.0) == pytest.approx((0.63 / 0.84) ** 0.5 * 0.49 / 0.63)
    rng = np.random.default_rng(3)
    times = schedule.event_times(1.0 - rng.random(200_000))
    assert np.mean(times <= 8.0) == pytest.approx(0.37, abs=0.005)
    assert np.isinf(times).mean() == pytest.approx(0.49, abs=0.005)


def test_value_paths_with_posterior_volatility_draws_and_legal_jumps():
    rng = np.random.default_rng(0)
    sigma = rng.uniform(0.2, 0.6, 50_000)  # one draw per path
    jumps = LegalJumps(stop_hazard=0.1, loss_hazard=0.2, loss_share=0.5)
    vp = simulate_value_paths(100.0, sigma, 2.0, 4, paths=50_000, seed=1, legal=jumps)
    assert vp.paths is not None and vp.paths.shape == (50_000, 9)
    assert vp.times[-1] == 2.0
    assert vp.prob_stopped[-1] == pytest.approx(1 - 0.9**2, abs=0.01)
    # A martingale with independent jumps: E V_T = V0 x survival x E[loss factor].
    expected = 100.0 * 0.9**2 * (1 - 0.5 * (1 - 0.8**2))
    se = vp.terminal.std() / math.sqrt(vp.terminal.size)
    assert abs(vp.terminal.mean() - expected) < 3 * se
    again = simulate_value_paths(100.0, sigma, 2.0, 4, paths=50_000, seed=1, legal=jumps)
    np.testing.assert_array_equal(again.paths, vp.paths)
    lean = simulate_value_paths(
        100.0, sigma, 2.0, 4, paths=50_000, seed=1, legal=jumps, keep_paths=False
    )
    assert lean.paths is None
    np.testing.assert_array_equal(lean.terminal, vp.terminal)
    assert np.all(np.diff(vp.bands["p95"]) >= -1e-9) or vp.bands["p95"][-1] > 100.0


def _tied_sample() -> np.ndarray:
    rng = np.random.default_rng(7)
    x = np.round(rng.lognormal(0.0, 1.0, 20_001), 2)  # many ties
    x[:50] = -1e6  # far tails, clipped into the outer bins
    x[50:90] = 1e6
    return rng.permutation(x)


def test_histogram_from_sorted_values_counts_as_numpy_histogram():
    x = _tied_sample()
    h = histogram(x)
    counts, edges = np.histogram(np.clip(x, h.edges[0], h.edges[-1]), 50, (h.edges[0], h.edges[-1]))
    assert h.counts == [int(c) for c in counts]
    assert h.edges == [float(e) for e in edges]
    assert histogram(np.sort(x), presorted=True) == h


def test_average_ranks_are_scipy_rankdata():
    x = _tied_sample()
    np.testing.assert_array_equal(_ranks(x), sps.rankdata(x))
    np.testing.assert_array_equal(_ranks(np.array([2.0, 2.0, 2.0])), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(_ranks(np.array([3.0])), [1.0])


def test_presorted_statistics_are_the_unsorted_ones():
    x = _tied_sample()
    s = np.sort(x)
    assert quantiles_with_ci(s, presorted=True) == quantiles_with_ci(x)
    assert tail_risk(s, 1.0, presorted=True) == tail_risk(x, 1.0)


def test_vectorised_order_statistic_ranks_are_the_one_at_a_time_ones():
    for n in (1, 7, 1000, 100_000):
        together = quantiles_ranks(n, QUANTILES)
        for p, ranks in zip(QUANTILES, together, strict=True):
            alpha = 0.05
            lo = int(sps.binom.ppf(alpha / 2, n, p))
            hi = int(sps.binom.ppf(1 - alpha / 2, n, p)) + 1
            assert ranks == (max(lo, 1) - 1, min(hi, n) - 1) == quantile_ranks(n, p)


@pytest.mark.parametrize("n", [1, 2, 7, 100, 20_001])
def test_selected_ranks_give_every_statistic_a_sort_gives(n):
    """One partition at the ranks the statistics read serves as well as a full sort."""
    from ipvalue.risk.kernel import measures
    from ipvalue.risk.montecarlo import stats

    x = _tied_sample()[:n]
    ordered = np.sort(x)
    ranks = stats.histogram_ranks(n) + measures.quantile_ranks(n, stats.QUANTILES)
    for level in stats.TAIL_LEVELS:
        ranks += measures.tail_ranks(n, level)
    chosen = measures.select(x, ranks)
    assert sorted(chosen) == sorted(x)  # a new order of the same draws
    assert stats.quantiles_with_ci(chosen, stats.QUANTILES, presorted=True) == (
        stats.quantiles_with_ci(ordered, stats.QUANTILES, presorted=True)
    )
    for got, want in zip(
        stats.tail_risk(chosen, 1.0, presorted=True),
        stats.tail_risk(ordered, 1.0, presorted=True),
        strict=True,
    ):
        assert (got.var, got.se_var) == (want.var, want.se_var)
        assert got.es == pytest.approx(want.es, rel=1e-12, abs=1e-9)
        assert got.se_es == pytest.approx(want.se_es, rel=1e-9, abs=1e-9)
    assert stats.histogram(x, ordered=chosen) == stats.histogram(ordered, presorted=True)
    assert stats.histogram(x) == stats.histogram(ordered, presorted=True)
