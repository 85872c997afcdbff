"""Monte Carlo engine: simulated means against independent closed forms and quadrature,
antithetic variance reduction, copulas, reproducibility, refusals and legal hazards."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special
from scipy import stats as sps

from ipvalue.models.errors import InputError
from ipvalue.risk.montecarlo import simulate_valuation
from ipvalue.risk.montecarlo.chunks import run_chunk
from ipvalue.risk.montecarlo.plan import make_plan
from tests.montecarlo_helpers import make_request, rfr, within

REVENUE = np.array([100.0, 110.0, 120.0, 130.0, 140.0])
DISCOUNT = 1.1 ** -np.arange(1, 6)


def test_rfr_uniform_royalty_mean_is_linear_in_the_rate():
    req = make_request([rfr(royalty_rate={"dist": "uniform", "low": 0.02, "high": 0.08})])
    res = simulate_valuation(req)
    expected = float((REVENUE * 0.05 * 0.75 * DISCOUNT).sum())
    assert (msg := within(res.mean, expected, res.se_mean)) is None, msg
    assert res.point_value == pytest.approx(expected)


def test_rfr_uncertain_revenue_series_per_year_and_growth():
    per_year = [{"dist": "triangular", "low": r * 0.8, "mode": r, "high": r * 1.4} for r in REVENUE]
    res = simulate_valuation(make_request([rfr(revenue=per_year)]))
    expected = float(((REVENUE * 0.8 + REVENUE + REVENUE * 1.4) / 3 * 0.0375 * DISCOUNT).sum())
    assert (msg := within(res.mean, expected, res.se_mean)) is None, msg

    growth = {"base": 100.0, "growth": {"dist": "uniform", "low": 0.0, "high": 0.2}, "years": 5}
    res = simulate_valuation(make_request([rfr(revenue=growth)]))
    # E[(1+G)^t] for G uniform on [0, 0.2]: (1.2^(t+1) - 1) / (0.2 (t+1))
    t = np.arange(5)
    moments = (1.2 ** (t + 1) - 1.0) / (0.2 * (t + 1))
    expected = float((100.0 * moments * 0.0375 * DISCOUNT).sum())
    assert (msg := within(res.mean, expected, res.se_mean)) is None, msg


def _bs_call(s, k, t, vol, r, q):
    d1 = (np.log(s / k) + (r - q + 0.5 * vol**2) * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    return s * math.exp(-q * t) * special.ndtr(d1) - k * math.exp(-r * t) * special.ndtr(d2)


def test_real_option_with_lognormal_underlying_matches_quadrature():
    method = {
        "method": "real_option",
        "underlying_value": {"dist": "lognormal", "median": 100.0, "sigma": 0.3},
        "exercise_cost": 90.0,
        "years": 2.0,
        "volatility": 0.4,
        "risk_free_rate": 0.03,
        "dividend_yield": 0.02,
    }
    res = simulate_valuation(make_request([method]))

    def integrand(z: float) -> float:
        return _bs_call(100.0 * math.exp(0.3 * z), 90.0, 2.0, 0.4, 0.03, 0.02) * sps.norm.pdf(z)

    expected, _ = integrate.quad(integrand, -10, 10)
    assert (msg := within(res.mean, expected, res.se_mean)) is None, msg


def test_replacement_cost_with_independent_obsolescence_is_a_product_of_means():
    method = {
        "method": "replacement_cost",
        "costs": [
            {
                "name": "R&D",
                "amount": {"dist": "triangular", "low": 8e5, "mode": 1e6, "high": 1.3e6},
            }
        ],
        "developer_profit_rate": 0.1,
        "obsolescence": {
            "functional": {"dist": "pert", "low": 0.0, "mode": 0.1, "high": 0.3},
            "technological": {"dist": "uniform", "low": 0.0, "high": 0.2},
            "economic": {"dist": "normal", "mean": 0.05, "sd": 0.02, "low": 0.0, "high": 0.1},
        },
    }
    res = simulate_valuation(make_request([method]))
    cost = (8e5 + 1e6 + 1.3e6) / 3
    f = (0.0 + 4 * 0.1 + 0.3) / 6
    t = 0.1
    e = 0.05  # symmetric truncation keeps the mean
    expected = cost * 1.1 * (1 - f) * (1 - t) * (1 - e)
    assert (msg := within(res.mean, expected, res.se_mean)) is None, msg


def test_qmc_mean_agrees_and_is_reproducible():
    req = make_request(
        [rfr(royalty_rate={"dist": "uniform", "low": 0.02, "high": 0.08})], qmc=True, paths=4096
    )
    a, b = simulate_valuation(req), simulate_valuation(req)
    expected = float((REVENUE * 0.05 * 0.75 * DISCOUNT).sum())
    assert (msg := within(a.mean, expected, a.se_mean)) is None, msg
    # Scrambled Sobol points integrate this smooth one-input case far better than sd / sqrt(n).
    assert abs(a.mean - expected) < 0.1 * a.se_mean
    assert a.model_dump() == b.model_dump()


def test_antithetic_variates_halve_the_variance_of_a_monotone_case():
    methods = [
        rfr(
            revenue={"base": {"dist": "lognormal", "median": 100.0, "sigma": 0.3}, "years": 5},
            royalty_rate={"dist": "uniform", "low": 0.02, "high": 0.08},
        )
    ]
    plain = simulate_valuation(make_request(methods))
    mirrored = simulate_valuation(make_request(methods, antithetic=True))
    ratio = (plain.se_mean / mirrored.se_mean) ** 2
    assert ratio >= 2.0, f"variance ratio {ratio:.2f}"
    assert (
        msg := within(mirrored.mean, plain.mean, math.hypot(plain.se_mean, mirrored.se_mean))
    ) is None, msg


CORRELATED = ["methods[0].revenue.base", "methods[0].royalty_rate", "methods[0].discount_rate"]
RANKS = [[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]]


def _correlated_request(matrix=RANKS, **sim):
    method = rfr(
        revenue={"base": {"dist": "lognormal", "median": 100.0, "sigma": 0.3}, "years": 5},
        royalty_rate={"dist": "pert", "low": 0.02, "mode": 0.05, "high": 0.1},
        discount_rate={"dist": "normal", "mean": 0.12, "sd": 0.02, "low": 0.05, "high": 0.2},
    )
    corr = {"inputs": CORRELATED, "matrix": matrix} | sim.pop("corr", {})
    return make_request([method], correlations=corr, **sim)


@pytest.mark.parametrize(
    ("copula", "tolerance"),
    [
        ("gaussian", 0.015),
        # 2 sin(pi rho / 6) is exact for the Gaussian copula only; for t(4) it is close.
        ("student_t", 0.03),
    ],
)
def test_sampled_rank_correlations_match_the_request(copula, tolerance):
    plan = make_plan(_correlated_request(copula=copula, paths=65_536))
    out = run_chunk(plan, 0, keep_samples=True)
    x = np.column_stack([out.samples[p] for p in CORRELATED])
    rho = sps.spearmanr(x).statistic
    # Standard error of Spearman's rho is about (1 - rho^2) / sqrt(n) < 0.004 here.
    np.testing.assert_allclose(rho, RANKS, atol=tolerance)


def test_correlation_raises_the_spread_of_a_product():
    independent = simulate_valuation(_correlated_request(matrix=np.eye(3).tolist()))
    together = simulate_valuation(_correlated_request(matrix=[[1, 0.9, 0], [0.9, 1, 0], [0, 0, 1]]))
    assert together.sd > 1.1 * independent.sd


NOT_PSD = [[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]


def test_a_matrix_that_is_not_positive_semidefinite_is_refused():
    with pytest.raises(InputError) as err:
        simulate_valuation(_correlated_request(matrix=NOT_PSD))
    assert err.value.problems[0].field == "simulation.correlations.matrix"
    assert "positive semi-definite" in err.value.problems[0].message


def test_repair_uses_the_nearest_valid_matrix_and_reports_it():
    res = simulate_valuation(_correlated_request(matrix=NOT_PSD, corr={"repair": True}))
    assert res.correlations is not None and res.correlations.repaired
    used = np.array(res.correlations.rank_matrix)
    assert np.linalg.eigvalsh(used)[0] >= -1e-10
    np.testing.assert_allclose(np.diag(used), 1.0)
    assert np.all(np.sign(used) == np.sign(NOT_PSD))
    assert any("positive semi-definite" in w for w in res.warnings)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("methods[0].royalty_rat", "no uncertain input is called"),
        ("methods[0].tax_rate", "fixed number"),
    ],
)
def test_unknown_or_fixed_correlation_inputs_are_refused_naming_the_field(name, message):
    method = rfr(royalty_rate={"dist": "uniform", "low": 0.02, "high": 0.08})
    corr = {"inputs": ["methods[0].royalty_rate", name], "matrix": [[1, 0.5], [0.5, 1]]}
    with pytest.raises(InputError) as err:
        simulate_valuation(make_request([method], correlations=corr))
    assert err.value.problems[0].field == "simulation.correlations.inputs[1]"
    assert message in err.value.problems[0].message


@pytest.mark.parametrize("options", [{}, {"antithetic": True}, {"qmc": True}])
def test_the_same_seed_gives_bit_identical_results(options):
    req = _correlated_request(paths=70_000, copula="student_t", **options)
    a, b = simulate_valuation(req), simulate_valuation(req)
    assert a.model_dump() == b.model_dump()
    assert a.seed == 12345 and a.entropy == "12345"
    other = simulate_valuation(_correlated_request(paths=70_000, seed=54321, **options))
    assert other.mean != a.mean


def test_a_run_without_seed_records_one_that_reproduces_it():
    req = make_request([rfr(royalty_rate={"dist": "uniform", "low": 0.02, "high": 0.08})])
    req.simulation.seed = None
    first = simulate_valuation(req)
    req.simulation.seed = first.seed
    assert simulate_valuation(req).model_dump() == first.model_dump()


@pytest.mark.parametrize(
    "options",
    [
        {"antithetic": True},
        {"qmc": True, "copula": "student_t"},
        {
            "horizon_years": 3,
            "volatility": 0.3,
            "legal_risk": {"invalidation_hazard": 0.05, "litigation_loss_hazard": 0.03},
        },
    ],
)
def test_two_worker_threads_give_the_same_numbers_as_one(options):
    req = _correlated_request(paths=200_000, **options)
    assert simulate_valuation(req, workers=2).model_dump() == simulate_valuation(req).model_dump()


def _flat_income_request(**legal):
    method = {
        "method": "dcf",
        "cash_flows": [100.0] * 10,
        "discount_rate": 0.1,
    }
    risk = {"invalidation_hazard": 0, "lapse_hazard": 0, "litigation_loss_hazard": 0} | legal
    return make_request([method], legal_risk=risk, paths=50_000)


def _expected_weights(p: float) -> np.ndarray:
    """E[share of year t inside life] for an exponential life with yearly probability p."""
    lam = -math.log1p(-p)
    t = np.arange(1, 11)
    return np.exp(-lam * (t - 1)) * (1 - math.exp(-lam)) / lam


def test_a_flat_invalidation_hazard_matches_the_closed_form_survival():
    none = simulate_valuation(_flat_income_request())
    res = simulate_valuation(_flat_income_request(invalidation_hazard=0.05))
    d = 1.1 ** -np.arange(1, 11)
    expected = float((100.0 * d * _expected_weights(0.05)).sum())
    assert res.mean < none.mean
    assert (msg := within(res.mean, expected, res.se_mean)) is None, msg
    window = res.legal_risk.within_years
    assert res.legal_risk.prob_invalidated == pytest.approx(1 - 0.95**window, abs=0.01)


def test_a_lost_case_cuts_income_by_its_share_from_then_on():
    res = simulate_valuation(
        _flat_income_request(litigation_loss_hazard=0.1, litigation_loss_share=0.4)
    )
    d = 1.1 ** -np.arange(1, 11)
    expected = float((100.0 * d * (1 - 0.4 * (1 - _expected_weights(0.1)))).sum())
    assert (msg := within(res.mean, expected, res.se_mean)) is None, msg


def test_default_hazards_for_a_patent_lower_the_mean_and_say_where_they_come_from():
    method = rfr(royalty_rate={"dist": "uniform", "low": 0.02, "high": 0.08})
    legal = {"filing_date": "2020-01-01", "grant_date": "2022-06-01"}
    zero = simulate_valuation(make_request([method], kind="patent", legal=legal))
    default = simulate_valuation(
        make_request([method], kind="patent", legal=legal, legal_risk=None)
    )
    assert default.mean < zero.mean - 3 * default.se_mean
    used = default.legal_risk
    assert used.invalidation_hazard == pytest.approx(0.02 * 0.71 * 0.74)
    assert isinstance(used.lapse_hazard, list)
    assert "maintenance" in used.sources["defaults_basis"]
    assert zero.legal_risk.prob_lapsed == 0


def test_horizon_needs_a_volatility():
    with pytest.raises(InputError) as err:
        simulate_valuation(make_request([rfr()], horizon_years=1))
    assert err.value.problems[0].field == "simulation.volatility"


def test_draws_outside_a_field_range_are_clipped_and_counted():
    method = rfr(royalty_rate={"dist": "normal", "mean": 0.02, "sd": 0.02})
    res = simulate_valuation(make_request([method]))
    count = res.clipped["methods[0].royalty_rate"]
    expected = 20_000 * special.ndtr(-1.0)
    assert abs(count - expected) < 4 * math.sqrt(expected)
    assert any("clipped" in w for w in res.warnings)


def test_methods_combine_per_path_with_the_reconciliation_weights():
    methods = [
        rfr(royalty_rate={"dist": "uniform", "low": 0.02, "high": 0.08}),
        {
            "method": "replacement_cost",
            "costs": [{"name": "c", "amount": {"dist": "uniform", "low": 10, "high": 30}}],
        },
    ]
    req = make_request(methods)
    req.weights = [3.0, 1.0]
    res = simulate_valuation(req)
    combined = (
        0.75 * res.by_method["relief_from_royalty"].mean
        + 0.25 * res.by_method["replacement_cost"].mean
    )
    assert res.mean == pytest.approx(combined, rel=1e-12)
    assert {d.input for d in res.sensitivity} == {
        "methods[0].royalty_rate",
        "methods[1].costs[0].amount",
    }
    assert sum(d.variance_share for d in res.sensitivity) == pytest.approx(1.0)
    assert sum(res.histogram.counts) == res.paths


def _u(low: float, high: float) -> dict:
    return {"dist": "uniform", "low": low, "high": high}


EVERY_METHOD = [
    {
        "method": "dcf",
        "cash_flows": [100, _u(50, 150), 120],
        "discount_rate": 0.1,
        "terminal_growth": _u(0, 0.03),
    },
    {
        "method": "excess_earnings",
        "revenue": [1000] * 5,
        "operating_margin": _u(0.2, 0.3),
        "tax_rate": 0.25,
        "contributory_charges": [{"name": "wc", "rate": _u(0.01, 0.03)}],
        "discount_rate": 0.15,
        "tab_years": 15,
    },
    {
        "method": "with_and_without",
        "incremental_profit": [_u(10, 20)] * 4,
        "tax_rate": 0.25,
        "discount_rate": 0.1,
    },
    {
        "method": "profit_split",
        "revenue": [1000] * 5,
        "royalty_rate": _u(0.01, 0.03),
        "operating_margin": 0.2,
        "tax_rate": 0.25,
        "discount_rate": 0.12,
    },
    {
        "method": "equivalent_investment_split",
        "ip_cost": _u(100, 200),
        "ip_cost_profit_rate": 0.1,
        "other_investment": 500,
        "other_investment_profit_rate": 0.1,
        "profit": [100] * 5,
        "discount_rate": 0.1,
    },
    {
        "method": "multiplier_cost",
        "material_cost": _u(10, 20),
        "labour_cost": 10,
        "research_labour_cost": 30,
        "research_multiplier": 2,
        "failure_rate": 0.3,
        "profit_rate": 0.1,
        "years_used": 2,
        "years_remaining": _u(3, 8),
    },
    {
        "method": "market",
        "comparables": [
            {"royalty_rate": _u(0.02, 0.04), "adjustments": {"time": _u(0.9, 1.1)}},
            {"royalty_rate": 0.03, "adjustments": [1.1]},
        ],
        "revenue": [1000] * 5,
        "tax_rate": 0.25,
        "discount_rate": 0.12,
    },
    {
        "method": "market",
        "label": "prices",
        "comparables": [{"price": _u(100, 200)}, {"price": 150}],
    },
]


@pytest.mark.parametrize("status", ["granted", "lapsed"])
def test_every_method_simulates_with_default_legal_risk_and_value_paths(status):
    legal = {"status": status, "filing_date": "2015-01-01"}
    req = make_request(
        EVERY_METHOD,
        kind="patent",
        legal=legal,
        legal_risk=None,
        paths=3000,
        antithetic=True,
        horizon_years=3,
        volatility=0.3,
    )
    res = simulate_valuation(req)
    assert set(res.by_method) == {m.get("label", m["method"]) for m in EVERY_METHOD}
    assert res.value_paths is not None and len(res.value_paths.times) == 37
    dumped = res.model_dump(mode="json")
    assert {"mean", "sd", "p05", "p50", "p95", "se_mean"} <= set(dumped)
    if status == "lapsed":
        assert res.by_method["dcf"].mean == 0.0
        assert res.legal_risk.prob_invalidated == 0.0
    else:
        assert res.mean < res.point_value  # legal risk takes value away


def test_posterior_volatility_draws_widen_the_value_path_bands():
    """Each path takes one posterior volatility draw: an uncertain volatility (a thinly observed
    asset) gives a wider p05-p95 band at the horizon than its mean volatility alone."""
    draws = np.random.default_rng(1).lognormal(math.log(0.3), 0.5, 4_000)
    fixed = simulate_valuation(make_request([rfr()], horizon_years=2, volatility=0.3))
    spread = simulate_valuation(make_request([rfr()], horizon_years=2, volatility=draws.tolist()))
    assert fixed.value_paths is not None and spread.value_paths is not None
    width = {
        name: res.value_paths.bands["p95"][-1] - res.value_paths.bands["p05"][-1]
        for name, res in (("fixed", fixed), ("draws", spread))
    }
    assert width["draws"] > width["fixed"], width
    assert spread.value_paths.volatility_draws == draws.size
    again = simulate_valuation(make_request([rfr()], horizon_years=2, volatility=draws.tolist()))
    assert again.value_paths == spread.value_paths


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_reaches_one_in_order(workers):
    seen: list[float] = []
    simulate_valuation(make_request([rfr()], paths=300_000), workers=workers, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 2


def test_empty_volatility_draws_are_refused():
    with pytest.raises(ValueError, match="posterior draws"):
        make_request([rfr()], horizon_years=1, volatility=[])
