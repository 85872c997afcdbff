"""Collateral assessment: the published lognormal case, an independent quadrature, properties,
and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from ipvalue.models.collateral import CollateralRequest
from ipvalue.models.insurance import CollateralQuoteRequest
from ipvalue.risk.collateral import assess_collateral
from ipvalue.risk.insurance import collateral_expected_loss_exact
from tests.conftest import load_cases

CASE = next(c for c in load_cases() if c["id"] == "lognormal-collateral-1y")


def request(**kw):
    base = {"value": 10.0, "volatility": 0.4, "horizon_years": 1.0, "seed": 7, "paths": 50_000}
    return CollateralRequest.model_validate(base | kw)


def test_reference_lognormal_case_quantiles_fall_in_their_intervals():
    x = CASE["inputs"]
    result = assess_collateral(
        request(
            value=x["value"],
            volatility=x["volatility"],
            horizon_years=x["horizon_years"],
            drift=x["drift"],
            paths=200_000,
        )
    )
    for name in ("p05", "p50", "p95"):
        ci = result.range.intervals[name]
        expected = CASE["expected"][name]
        assert ci.ci_low <= expected <= ci.ci_high, (
            f"{name}: expected {expected} ({CASE['source']}), computed {ci.value}, "
            f"interval [{ci.ci_low}, {ci.ci_high}]"
        )
    tol = CASE["tolerance"]
    for ours, key in (
        (result.var95, "var95_loss_from_value"),
        (result.es95, "es95_loss_from_value"),
    ):
        expected = CASE["expected"][key]
        assert abs(ours - expected) <= tol, (
            f"{key}: expected {expected}, computed {ours}, tol {tol}"
        )


def test_orderly_sale_value_matches_the_lognormal_median():
    r = assess_collateral(request(time_to_sell_years=0.5, liquidation_discount=0.3, paths=100_000))
    exact = 10 * math.exp(-0.5 * 0.4**2 * 0.5) * 0.7
    assert r.orderly_liquidation_value == pytest.approx(exact, rel=0.01)
    assert r.forced_liquidation_value == pytest.approx(4.0)


def test_lending_value_haircut_and_max_loan_follow_their_definitions():
    r = assess_collateral(request(liquidation_discount=0.3, max_ltv=0.5))
    assert r.lending_value == pytest.approx(r.range.p05 * 0.7)
    assert r.implied_haircut == pytest.approx(1 - r.range.p05 / 10)
    assert r.max_loan == pytest.approx(min(0.5 * 10, r.lending_value))


@pytest.mark.parametrize(("practice", "cap"), [(None, 0.30), ("cn", 0.30), ("uk", 0.50)])
def test_ltv_cap_defaults_follow_lending_practice(practice, cap):
    r = assess_collateral(request(lender_practice=practice, loan_amount=2.0))
    assert r.max_ltv == cap
    assert r.ltv == pytest.approx(0.2)


def test_breach_probability_along_paths_against_the_reflection_formula():
    # Continuous monitoring of a driftless log value: P(min_t log(V_t/V0) < b) by reflection.
    # With 365 dates a year, the discrete probability sits just below the continuous one.
    sigma, horizon, loan, cap = 0.4, 1.0, 2.4, 0.3
    r = assess_collateral(
        request(volatility=sigma, loan_amount=loan, max_ltv=cap, steps_per_year=365, paths=20_000)
    )
    b = math.log(loan / cap / 10)  # breach when V_t < loan / cap
    mu = -0.5 * sigma**2
    s = sigma * math.sqrt(horizon)
    continuous = stats.norm.cdf((b - mu * horizon) / s) + math.exp(
        2 * mu * b / sigma**2
    ) * stats.norm.cdf((b + mu * horizon) / s)
    p = r.prob_ltv_breach
    assert continuous - 0.03 <= p.value <= continuous + 3 * p.se
    at_end = stats.norm.cdf((b - mu * horizon) / s)
    assert abs(r.prob_ltv_breach_at_horizon.value - at_end) <= 4 * r.prob_ltv_breach_at_horizon.se


def test_expected_loss_agrees_with_independent_quadrature():
    common = {
        "value": 10.0,
        "volatility": 0.4,
        "loan_amount": 6.0,
        "horizon_years": 2.0,
        "annual_pd": 0.1,
        "liquidation_discount": 0.3,
        "time_to_sell_years": 0.5,
    }
    exact = collateral_expected_loss_exact(
        CollateralQuoteRequest.model_validate({"cover": "collateral_value", "collateral": common})
    )
    r = assess_collateral(request(**common, steps_per_year=52, paths=200_000, seed=3))
    el = r.loan_loss.expected_loss
    assert abs(el.value - exact) <= 3 * el.se + 0.01 * exact, (exact, el)


def test_risk_sharing_scales_the_lenders_loss():
    kw = {"loan_amount": 6.0, "annual_pd": 0.1}
    alone = assess_collateral(request(**kw)).loan_loss
    shared = assess_collateral(request(**kw, risk_sharing={"insurer": 0.6, "guarantor": 0.2}))
    assert shared.loan_loss.lender_share == pytest.approx(0.2)
    assert shared.loan_loss.expected_loss_lender.value == pytest.approx(
        0.2 * alone.expected_loss.value
    )


def test_bigger_loan_never_lowers_breach_probability_or_loss():
    results = [
        assess_collateral(request(loan_amount=loan, annual_pd=0.05, paths=10_000))
        for loan in (1.0, 2.0, 3.0, 5.0)
    ]
    breach = [r.prob_ltv_breach.value for r in results]
    loss = [r.loan_loss.expected_loss.value for r in results]
    assert breach == sorted(breach) and loss == sorted(loss)


def test_posterior_volatility_draws_widen_the_range():
    fixed = assess_collateral(request(volatility=0.3))
    draws = np.random.default_rng(0).lognormal(math.log(0.3), 0.4, 2_000).tolist()
    uncertain = assess_collateral(request(volatility=draws))
    assert uncertain.range.p95 - uncertain.range.p05 > fixed.range.p95 - fixed.range.p05


def test_legal_expiry_inside_the_horizon_zeroes_the_collateral():
    r = assess_collateral(request(legal_risk={"remaining_life_years": 0.5}, loan_amount=1.0))
    assert r.range.p95 == 0 and r.lending_value == 0
    assert r.prob_ltv_breach.value == 1


def test_same_seed_same_numbers():
    a = assess_collateral(request(loan_amount=3.0, annual_pd=0.05))
    b = assess_collateral(request(loan_amount=3.0, annual_pd=0.05))
    assert a.model_dump() == b.model_dump()


BAD = [
    ({"volatility": None}, "volatility"),
    ({"value": None}, "value"),
    ({"value": -5}, "value"),
    ({"horizon_years": 0}, "horizon_years"),
    ({"horizon_years": 100}, "horizon_years"),
    ({"max_ltv": 1.5}, "max_ltv"),
    ({"loan_amount": -1}, "loan_amount"),
    ({"annual_pd": 1.0}, "annual_pd"),
    ({"liquidation_discount": 2}, "liquidation_discount"),
    ({"risk_sharing": {"insurer": 0.8, "guarantor": 0.4}}, "risk_sharing.guarantor"),
    ({"lender_practice": "mars"}, "lender_practice"),
    ({"volatility": []}, "volatility"),
    ({"paths": 1_000_000, "steps_per_year": 365, "horizon_years": 10}, "paths"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_names_the_field(change, field):
    body = {"value": 10.0, "volatility": 0.4, "horizon_years": 1.0} | change
    body = {k: v for k, v in body.items() if v is not None}
    with pytest.raises(ValidationError) as info:
        CollateralRequest.model_validate(body)
    text = str(info.value)
    assert field.split(".")[-1] in text, text


def test_without_a_loan_the_maximum_loan_is_assessed():
    r = assess_collateral(request(max_ltv=0.5, annual_pd=0.02))
    assert r.loan_amount is None
    assert r.loan_assessed == pytest.approx(r.max_loan)
    assert r.ltv == pytest.approx(r.max_loan / 10)
    assert 0 <= r.prob_ltv_breach.value <= 1
    assert r.prob_ltv_breach_at_horizon.value <= r.prob_ltv_breach.value
    assert r.loan_loss is not None and r.loan_loss.expected_loss.value >= 0
    assert any("maximum loan" in a for a in r.assumptions)


def test_bands_at_fewer_dates_change_nothing_else():
    """``band_every`` thins the stored fan (every k-th date and the horizon); every figure,
    the breach probability over all monitoring dates included, stays the same."""
    r = request(horizon_years=2.6, loan_amount=3.0, max_ltv=0.5, annual_pd=0.02, paths=5_000)
    full = assess_collateral(r).model_dump()
    thin = assess_collateral(r, band_every=3).model_dump()
    times, bands = full.pop("times"), full.pop("bands")
    rows = sorted(set(range(0, len(times), 3)) | {len(times) - 1})
    assert thin.pop("times") == [times[i] for i in rows]
    assert thin.pop("bands") == {k: [v[i] for i in rows] for k, v in bands.items()}
    assert thin == full
    assert len(times) == 33 and rows[-1] == 32  # monthly dates over 2.6 years, horizon kept


def test_bands_are_the_inverted_cdf_quantiles_of_each_date():
    r = request(horizon_years=1.0, paths=2_001, steps_per_year=4)
    out = assess_collateral(r)
    assert out.bands["p50"][0] == 10.0 and out.times[-1] == 1.0
    assert out.bands["p05"][-1] == out.range.p05 and out.bands["p95"][-1] == out.range.p95
    for lo, mid, hi in zip(out.bands["p05"], out.bands["p50"], out.bands["p95"], strict=True):
        assert lo <= mid <= hi
