"""Insurance quotes: closed forms, monotonicity, reproducibility and bad input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from ipvalue.models.insurance import (
    CollateralQuoteRequest,
    InsuranceQuote,
    InsuranceQuoteRequest,
    LitigationQuoteRequest,
)
from ipvalue.risk.insurance import collateral_expected_loss_exact, quote_insurance
from ipvalue.risk.kernel.loan_loss import black_put
from ipvalue.risk.kernel.measures import upper_tail


def expected_shortfall(losses: np.ndarray) -> tuple[float, float]:
    t = upper_tail(losses, 0.99)
    return t.var, t.es


REQUEST = TypeAdapter(InsuranceQuoteRequest)


def collateral(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cover": "collateral_value",
        "collateral": {
            "value": 1_000_000,
            "volatility": 0.5,
            "loan_amount": 500_000,
            "horizon_years": 3,
            "annual_pd": 0.1,
        },
        "simulation": {"paths": 200_000, "seed": 7},
    }
    return _merge(body, overrides)


def litigation(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cover": "litigation",
        "suits": {"frequency": 0.3},
        "limit": 5_000_000,
        "simulation": {"paths": 200_000, "seed": 7},
    }
    return _merge(body, overrides)


def _merge(body: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body


def quote(body: dict[str, Any]) -> InsuranceQuote:
    return quote_insurance(REQUEST.validate_python(body))


def assert_within_3se(mc: float, se: float, exact: float) -> None:
    assert se > 0
    assert abs(mc - exact) <= 3 * se, f"expected {exact}, computed {mc} +/- {se} (3 se)"


# --- building blocks ------------------------------------------------------------------------


def test_black_put_matches_hull_textbook_value() -> None:
    # Hull, Options, Futures and Other Derivatives, example 15.6: S=42, K=40, r=10 %, sigma=20 %,
    # T=0.5 gives a put of 0.81. Undiscounted Black put on the forward, then discounted.
    forward = 42 * math.exp(0.1 * 0.5)
    put = math.exp(-0.1 * 0.5) * black_put(forward, 40, 0.2, 0.5)
    assert put == pytest.approx(0.81, abs=0.005)


def test_expected_shortfall_on_known_samples() -> None:
    var, es = expected_shortfall(np.arange(100, dtype=float))
    assert (var, es) == (98.0, pytest.approx(99.0))
    atoms = np.zeros(1000)
    atoms[:5] = 1.0  # 0.5 % ones: the worst 1 % is half ones, half zeros
    var, es = expected_shortfall(atoms)
    assert (var, es) == (0.0, pytest.approx(0.5))
    u = np.random.default_rng(np.random.SeedSequence(3)).random(400_000)
    var, es = expected_shortfall(u)
    assert var == pytest.approx(0.99, abs=1e-3)
    assert es == pytest.approx(0.995, abs=1e-3)


# --- collateral-value cover: closed forms ---------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"collateral": {"liquidation_discount": 0.3, "time_to_sell_years": 0.5}},
        {"retention": 20_000, "share_insured": 0.6, "limit": 150_000},
        {"collateral": {"drift": 0.05, "annual_pd": 0.03, "horizon_years": 5}},
        {"collateral": {"volatility": [0.3, 0.5, 0.9]}},
    ],
    ids=["plain", "liquidation", "layer", "drift", "posterior"],
)
def test_collateral_cover_matches_put_formula(overrides: dict[str, Any]) -> None:
    request = REQUEST.validate_python(collateral(**overrides))
    result = quote_insurance(request)
    assert isinstance(request, CollateralQuoteRequest)
    assert_within_3se(
        result.expected_loss, result.expected_loss_se, collateral_expected_loss_exact(request)
    )


def test_collateral_cover_with_almost_no_volatility_is_pd_times_shortfall() -> None:
    # value 400,000 against a loan of 500,000: the shortfall on default is 100,000 for sure
    body = collateral(collateral={"value": 400_000, "volatility": 1e-9})
    result = quote(body)
    prob_default = 1 - (1 - 0.1) ** 3
    assert_within_3se(result.expected_loss, result.expected_loss_se, prob_default * 100_000)
    assert result.breakdown.prob_claim.value == pytest.approx(prob_default, abs=0.003)
    assert result.breakdown.details["prob_default_exact"] == pytest.approx(prob_default)


def test_collateral_cover_pays_nothing_without_default_risk() -> None:
    result = quote(collateral(collateral={"annual_pd": 0.0}))
    assert result.expected_loss == 0.0
    assert result.premium == 0.0


def test_posterior_of_one_repeated_draw_equals_the_number() -> None:
    scalar = quote(collateral())
    repeated = quote(collateral(collateral={"volatility": [0.5, 0.5, 0.5]}))
    assert repeated.model_dump() == scalar.model_dump()


def test_wider_posterior_of_volatility_raises_the_loss() -> None:
    narrow = quote(collateral(collateral={"volatility": [0.5]}))
    wide = quote(collateral(collateral={"volatility": [0.2, 0.5, 0.8]}))
    assert wide.expected_loss > narrow.expected_loss


# --- litigation cover: closed forms ---------------------------------------------------------


def test_poisson_with_fixed_severity() -> None:
    # 0.3 suits a year, each costing exactly 2m; retention 100k per claim; limit not binding
    body = litigation(
        suits={"frequency": 0.3, "severity_median": 2e6, "severity_sigma": 0.0},
        retention=100_000,
        limit=1e9,
    )
    result = quote(body)
    assert_within_3se(result.expected_loss, result.expected_loss_se, 0.3 * 1.9e6)
    prob_claim = result.breakdown.prob_claim
    assert_within_3se(prob_claim.value, prob_claim.se, 1 - math.exp(-0.3))
    assert result.breakdown.details["expected_claims"] == 0.3


def test_poisson_with_fixed_severity_and_binding_aggregate_limit() -> None:
    body = litigation(
        suits={"frequency": 1.5, "severity_median": 1e6, "severity_sigma": 0.0},
        retention=0,
        limit=2.5e6,
    )
    result = quote(body)
    n = np.arange(60)
    exact = float(np.sum(stats.poisson.pmf(n, 1.5) * np.minimum(n * 1e6, 2.5e6)))
    assert_within_3se(result.expected_loss, result.expected_loss_se, exact)
    assert result.breakdown.var99.value == 2.5e6
    assert result.breakdown.es99.value == pytest.approx(2.5e6)


def _lognormal_limited_mean(u: float, mu: float, sigma: float) -> float:
    """E[min(X, u)] for log X ~ N(mu, sigma^2) (Klugman, Loss Models, limited expected value)."""
    if u <= 0:
        return 0.0
    z = (math.log(u) - mu) / sigma
    return math.exp(mu + sigma**2 / 2) * stats.norm.cdf(z - sigma) + u * stats.norm.sf(z)


def test_lognormal_severity_layer_matches_limited_expected_values() -> None:
    retention, per_claim = 250_000, 3_000_000
    body = litigation(
        suits={"frequency": 0.4, "severity_median": 1e6, "severity_sigma": 1.2},
        retention=retention,
        limit_per_claim=per_claim,
        limit=1e10,
    )
    result = quote(body)
    mu, sigma = math.log(1e6), 1.2
    layer = _lognormal_limited_mean(retention + per_claim, mu, sigma) - _lognormal_limited_mean(
        retention, mu, sigma
    )
    assert_within_3se(result.expected_loss, result.expected_loss_se, 0.4 * layer)
    ground_up = result.breakdown.ground_up_expected_loss
    assert_within_3se(ground_up.value, ground_up.se, 0.4 * 1e6 * math.exp(sigma**2 / 2))


def test_invalidation_stream_uses_ptab_defaults() -> None:
    body = litigation(
        suits=None,
        invalidation={"frequency": 0.5, "loss_if_cancelled": 4e6, "defence_cost": 400_000},
        retention=0,
        limit=1e9,
    )
    result = quote(body)
    exact = 0.5 * 0.71 * (400_000 + 0.74 * 4e6)
    assert_within_3se(result.expected_loss, result.expected_loss_se, exact)
    assert result.breakdown.details["prob_cancelled_per_petition"] == pytest.approx(0.71 * 0.74)


def test_default_retention_is_two_percent_of_the_limit() -> None:
    request = REQUEST.validate_python(litigation())
    assert isinstance(request, LitigationQuoteRequest)
    assert request.effective_retention == pytest.approx(100_000)
    assert quote(litigation()).breakdown.details["retention_per_claim"] == pytest.approx(100_000)


def test_default_litigation_inputs_give_a_plausible_rate() -> None:
    # docs/domain.md: defensive patent insurance about 1.5-5 % of the limit a year. With a 2 %
    # yearly suit frequency, default severity (median 5.9m) and retention (2 % of limit), the loaded
    # expected loss lands in that band; the standalone ES99 capital charge comes on top.
    result = quote(litigation(suits={"frequency": 0.02}))
    b = result.breakdown
    assert 0.015 <= b.risk_premium / b.limit <= 0.05
    diversified = quote(litigation(suits={"frequency": 0.02}, pricing={"capital_share": 0.1}))
    assert 0.015 <= diversified.breakdown.rate_on_line <= 0.05


# --- pricing identities, reproducibility ----------------------------------------------------


@pytest.mark.parametrize("body", [collateral(), litigation()], ids=["collateral", "litigation"])
def test_breakdown_adds_up(body: dict[str, Any]) -> None:
    result = quote(body)
    b = result.breakdown
    el = result.expected_loss
    assert b.expected_loss.value == el and b.expected_loss.se == result.expected_loss_se
    assert b.risk_premium == pytest.approx(el / (1 - 0.20 - 0.05))
    assert b.risk_premium == pytest.approx(el + b.expense_amount + b.profit_amount)
    assert b.capital == pytest.approx(b.es99.value - el)
    assert b.capital_charge == pytest.approx(0.06 * b.capital * b.period_years)
    assert result.premium == pytest.approx(b.risk_premium + b.capital_charge)
    assert b.rate_on_line == pytest.approx(result.premium / b.limit)
    assert 0 < result.premium_se < result.premium
    assert b.es99.value >= b.var99.value >= b.quantiles["p95"].value >= b.quantiles["p50"].value
    assert b.quantiles["p995"].value <= b.limit
    for q in b.quantiles.values():
        assert q.ci_low <= q.value <= q.ci_high


def test_collateral_limit_defaults_to_insured_share_of_the_loan() -> None:
    result = quote(collateral(share_insured=0.6))
    assert result.breakdown.limit == pytest.approx(300_000)
    assert result.breakdown.period_years == 3
    assert result.breakdown.annual_rate_on_line == pytest.approx(result.breakdown.rate_on_line / 3)


@pytest.mark.parametrize("make", [collateral, litigation], ids=["collateral", "litigation"])
def test_same_seed_same_quote_and_other_seed_other_quote(make: Any) -> None:
    first = quote(make(simulation={"paths": 20_000, "seed": 11}))
    again = quote(make(simulation={"paths": 20_000, "seed": 11}))
    other = quote(make(simulation={"paths": 20_000, "seed": 12}))
    assert first.model_dump() == again.model_dump()
    assert first.expected_loss != other.expected_loss


def test_unseeded_run_reports_a_seed_that_reproduces_it() -> None:
    first = quote(collateral(simulation={"paths": 20_000, "seed": None}))
    again = quote(collateral(simulation={"paths": 20_000, "seed": first.seed}))
    assert first.model_dump() == again.model_dump()


def test_quote_serialises_with_the_contract_names() -> None:
    payload = quote(litigation(simulation={"paths": 5_000, "seed": 1})).model_dump(mode="json")
    assert {"expected_loss", "premium", "breakdown"} <= set(payload)


# --- monotonicity (common random numbers: same seed) ----------------------------------------

_SMALL = {"paths": 5_000, "seed": 5}


@settings(max_examples=25, deadline=None)
@given(
    low=st.floats(min_value=1_000, max_value=400_000),
    extra=st.floats(min_value=1.0, max_value=400_000),
)
def test_collateral_premium_rises_with_limit(low: float, extra: float) -> None:
    small = quote(collateral(limit=low, simulation=_SMALL))
    large = quote(collateral(limit=low + extra, simulation=_SMALL))
    assert large.expected_loss >= small.expected_loss
    assert large.premium >= small.premium * (1 - 1e-12)


@settings(max_examples=25, deadline=None)
@given(
    low=st.floats(min_value=0, max_value=300_000),
    extra=st.floats(min_value=1.0, max_value=190_000),
)
def test_collateral_premium_falls_with_retention(low: float, extra: float) -> None:
    small = quote(collateral(retention=low, simulation=_SMALL))
    large = quote(collateral(retention=min(low + extra, 499_000), simulation=_SMALL))
    assert large.expected_loss <= small.expected_loss
    assert large.premium <= small.premium * (1 + 1e-12)


@settings(max_examples=25, deadline=None)
@given(
    low=st.floats(min_value=100_000, max_value=5e6),
    extra=st.floats(min_value=1.0, max_value=5e6),
    retention=st.floats(min_value=0, max_value=1e6),
)
def test_litigation_premium_rises_with_limit_and_falls_with_retention(
    low: float, extra: float, retention: float
) -> None:
    base = litigation(limit=low, retention=retention, simulation=_SMALL)
    more_limit = quote(litigation(limit=low + extra, retention=retention, simulation=_SMALL))
    more_retention = quote(litigation(limit=low, retention=retention + extra, simulation=_SMALL))
    result = quote(base)
    assert more_limit.premium >= result.premium * (1 - 1e-12)
    assert more_retention.premium <= result.premium * (1 + 1e-12)


def test_collateral_premium_rises_with_volatility() -> None:
    quotes = [quote(collateral(collateral={"volatility": s})) for s in (0.2, 0.4, 0.8, 1.2)]
    losses = [q.expected_loss for q in quotes]
    premiums = [q.premium for q in quotes]
    assert losses == sorted(losses) and len(set(losses)) == 4
    assert premiums == sorted(premiums) and len(set(premiums)) == 4


def test_collateral_premium_rises_with_default_probability_and_share() -> None:
    pd = [quote(collateral(collateral={"annual_pd": p})).premium for p in (0.01, 0.05, 0.2)]
    assert pd == sorted(pd)
    share = [quote(collateral(share_insured=s)).premium for s in (0.2, 0.6, 1.0)]
    assert share == sorted(share)


# --- bad input ------------------------------------------------------------------------------


def _error_text(err: ValidationError) -> str:
    return " | ".join(
        ".".join(str(part) for part in e["loc"]) + ": " + e["msg"] for e in err.errors()
    )


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (collateral(cover="flood"), "cover"),
        (collateral(collateral={"annual_pd": 1.0}), "collateral.annual_pd"),
        (collateral(collateral={"annual_pd": -0.1}), "collateral.annual_pd"),
        (collateral(collateral={"loan_amount": -5}), "collateral.loan_amount"),
        (collateral(collateral={"value": 0}), "collateral.value"),
        (collateral(collateral={"volatility": -0.2}), "collateral.volatility"),
        (collateral(collateral={"volatility": []}), "collateral.volatility"),
        (collateral(collateral={"volatility": [0.3, -1]}), "collateral.volatility"),
        (collateral(collateral={"horizon_years": 0}), "collateral.horizon_years"),
        (collateral(collateral={"liquidation_discount": 1.2}), "collateral.liquidation_discount"),
        (collateral(share_insured=0), "share_insured"),
        (collateral(share_insured=1.5), "share_insured"),
        (collateral(retention=-1), "retention"),
        (collateral(retention=600_000), "retention"),
        (collateral(limit=0), "limit"),
        (collateral(pricing={"expense_loading": 0.8, "profit_loading": 0.3}), "expense_loading"),
        (collateral(pricing={"cost_of_capital": -0.1}), "pricing.cost_of_capital"),
        (collateral(simulation={"paths": 10}), "simulation.paths"),
        (collateral(simulation={"seed": -1}), "simulation.seed"),
        (collateral(premium=5), "premium"),
        (litigation(suits=None), "suits"),
        (litigation(suits={"frequency": -1}), "suits.frequency"),
        (litigation(limit=-5), "limit"),
        (
            litigation(
                invalidation={"frequency": 1, "loss_if_cancelled": 1, "institution_rate": 2}
            ),
            "invalidation.institution_rate",
        ),
        (
            litigation(suits={"frequency": 10}, simulation={"paths": 2_000_000}),
            "simulation.paths",
        ),
        (
            litigation(asset={"name": "EP1", "kind": "patent", "legal": {"status": "lapsed"}}),
            "asset.legal.status",
        ),
    ],
)
def test_bad_input_names_the_field(body: dict[str, Any], names: str) -> None:
    with pytest.raises(ValidationError) as info:
        REQUEST.validate_python(body)
    assert names in _error_text(info.value)


def test_cross_field_errors_point_at_the_exact_field() -> None:
    with pytest.raises(ValidationError) as info:
        REQUEST.validate_python(collateral(retention=500_000))
    (error,) = info.value.errors()
    assert error["loc"] == ("collateral_value", "retention")
    assert "must be below collateral.loan_amount (500000)" in error["msg"]


# --- the kernel's legal stops and the value on the same paths -------------------------------


def test_collateral_cover_with_a_legal_stop_matches_the_quadrature() -> None:
    body = collateral(collateral={"legal_risk": {"stop_hazard": 0.1}})
    request = REQUEST.validate_python(body)
    assert isinstance(request, CollateralQuoteRequest)
    result = quote_insurance(request)
    plain = quote(collateral())
    assert result.expected_loss > plain.expected_loss  # a stopped right recovers nothing
    assert_within_3se(
        result.expected_loss, result.expected_loss_se, collateral_expected_loss_exact(request)
    )


def test_collateral_value_at_the_horizon_is_the_lognormal_one() -> None:
    from ipvalue.risk.kernel import closed_form

    result = quote(collateral(simulation={"paths": 50_000, "seed": 3}))
    cv = result.breakdown.collateral_value
    assert cv is not None and cv.value == 1_000_000 and cv.horizon_years == 3
    for name, p in (("p05", 0.05), ("p50", 0.5), ("p95", 0.95)):
        q = cv.range.intervals[name]
        assert q.ci_low <= closed_form.quantile(1e6, 0.5, 3.0, p) <= q.ci_high, name
    es = closed_form.expected_shortfall(1e6, 0.5, 3.0, 0.95)
    assert abs(cv.es95.value - es) <= 3 * cv.es95.se


def test_a_seed_at_2_63_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        REQUEST.validate_python(collateral(simulation={"seed": 2**63}))
    assert "simulation.seed" in _error_text(info.value)
