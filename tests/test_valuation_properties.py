"""Properties every valuation must keep, checked over generated inputs (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipvalue.valuation import cost, income, options
from ipvalue.valuation.discounting import (
    discount_factors,
    life_weights,
    tab_factor,
    terminal_value_pv,
)
from ipvalue.valuation.income_value import LostCase, discount_income

rates = st.floats(0.01, 0.6)
royalties = st.floats(0.0, 0.3)
taxes = st.floats(0.0, 0.5)
revenue_lists = st.lists(st.floats(0.0, 1e8), min_size=1, max_size=25)


@given(revenue_lists, royalties, royalties, taxes, rates)
def test_value_rises_with_royalty_rate(revenue, r1, r2, tax, k):
    lo, hi = sorted((r1, r2))
    v_lo = income.relief_from_royalty(revenue, lo, tax, k).value
    v_hi = income.relief_from_royalty(revenue, hi, tax, k).value
    assert v_hi >= v_lo - 1e-9 * max(1.0, abs(v_lo))


@given(revenue_lists, royalties, taxes, rates, rates)
def test_value_falls_with_discount_rate(revenue, rr, tax, k1, k2):
    lo, hi = sorted((k1, k2))
    v_lo = income.relief_from_royalty(revenue, rr, tax, lo).value
    v_hi = income.relief_from_royalty(revenue, rr, tax, hi).value
    assert v_hi <= v_lo + 1e-9 * max(1.0, abs(v_lo))


@settings(max_examples=50)
@given(
    st.lists(st.floats(0.0, 1e7), min_size=1, max_size=15),
    st.lists(st.tuples(royalties, taxes, rates), min_size=1, max_size=20),
)
def test_scalar_and_array_inputs_give_the_same_numbers(revenue, params):
    rr, tax, k = (np.array(col) for col in zip(*params, strict=True))
    vectorised = income.relief_from_royalty(np.tile(revenue, (len(rr), 1)), rr, tax, k).value
    one_by_one = [
        float(income.relief_from_royalty(revenue, a, b, c).value)
        for a, b, c in zip(rr, tax, k, strict=True)
    ]
    np.testing.assert_allclose(vectorised, one_by_one, rtol=1e-12, atol=1e-9)


@settings(max_examples=50)
@given(
    st.lists(
        st.tuples(
            st.floats(1, 1e4),
            st.floats(1, 1e4),
            st.floats(0.05, 20),
            st.floats(0.05, 1.5),
            st.floats(0, 0.2),
            st.floats(0, 0.2),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_option_scalar_and_array_agree(params):
    s, k, t, v, r, q = (np.array(col) for col in zip(*params, strict=True))
    arr = options.black_scholes(s, k, t, v, r, q).call
    one = [float(options.black_scholes(*p).call) for p in params]
    np.testing.assert_allclose(arr, one, rtol=1e-12, atol=1e-12)


@given(revenue_lists, royalties, taxes, rates, st.sampled_from([None, 5, 15]))
def test_zero_remaining_life_gives_zero_income_value(revenue, rr, tax, k, tab):
    assert income.relief_from_royalty(revenue, rr, tax, k, tab_years=tab, life_years=0.0).value == 0
    assert income.dcf(revenue, k, life_years=0.0, terminal_growth=0.0).value == 0


@given(st.floats(0, 40), st.integers(1, 40))
def test_life_weights_sum_to_the_life_within_the_series(life, n):
    w = life_weights(life, n)
    assert np.all((w >= 0) & (w <= 1))
    assert math.isclose(w.sum(), min(life, n), abs_tol=1e-12)


@given(st.floats(1, 1e6), rates, st.floats(-0.05, 0.0), st.integers(1, 30))
def test_terminal_value_with_unbounded_life_is_gordon_growth(cf, k, g, n):
    pv = terminal_value_pv(cf, k, g, n)
    assert math.isclose(float(pv), cf * (1 + g) / (k - g) / (1 + k) ** n, rel_tol=1e-12)


@given(st.floats(1, 1e6), st.floats(0.05, 0.5), st.integers(1, 20), st.floats(0.5, 30))
def test_terminal_value_never_counts_income_after_legal_expiry(cf, k, n, extra_life):
    bounded = terminal_value_pv(cf, k, 0.0, n, life_years=n + extra_life)
    unbounded = terminal_value_pv(cf, k, 0.0, n)
    assert 0 <= bounded <= unbounded
    assert terminal_value_pv(cf, k, 0.0, n, life_years=n) == 0


@given(taxes, rates, st.integers(1, 25))
def test_tab_factor_is_at_least_one_and_grows_with_tax(tax, k, n):
    assert tab_factor(tax, k, n) >= 1.0
    assert tab_factor(min(tax + 0.1, 0.6), k, n) >= tab_factor(tax, k, n)


@given(
    st.floats(0, 1e7),
    st.floats(0, 0.5),
    st.floats(0, 0.5),
    st.floats(0, 0.9),
    st.floats(0, 0.9),
    st.floats(0, 0.9),
    st.floats(0, 30),
    st.floats(0.01, 30),
)
def test_cost_value_never_exceeds_replacement_cost(total, dp, ei, f, t, e, used, remaining):
    r = cost.replacement_cost(
        total,
        developer_profit_rate=dp,
        entrepreneurial_incentive_rate=ei,
        functional=f,
        technological=t,
        economic=e,
        years_used=used,
        years_remaining=remaining,
    )
    assert 0 <= r.value <= r.replacement_cost + 1e-9
    assert math.isclose(r.depreciation_rate, used / (used + remaining), rel_tol=1e-12)


@given(
    st.floats(1, 1e4),
    st.floats(1, 1e4),
    st.floats(0.05, 20),
    st.floats(0.05, 1.5),
    st.floats(0, 0.2),
    st.floats(0, 0.2),
)
def test_put_call_parity(s, k, t, v, r, q):
    o = options.black_scholes(s, k, t, v, r, q)
    parity = s * math.exp(-q * t) - k * math.exp(-r * t)
    assert math.isclose(float(o.call - o.put), parity, rel_tol=1e-9, abs_tol=1e-9 * (s + k))


def test_mid_year_convention_discounts_half_a_year_less():
    end = discount_income([100.0] * 3, 0.1)
    mid = discount_income([100.0] * 3, 0.1, mid_year=True)
    assert float(mid.value) == pytest.approx(float(end.value) * 1.1**0.5, rel=1e-12)


def test_excess_earnings_subtracts_contributory_charges():
    rev = [1000.0, 1100.0]
    r = income.excess_earnings(rev, 0.3, 0.25, 0.05, 0.1)
    expected = sum(x * (0.3 * 0.75 - 0.05) / 1.1 ** (i + 1) for i, x in enumerate(rev))
    assert float(r.value) == pytest.approx(expected, rel=1e-12)


def test_profit_split_from_royalty_equals_relief_from_royalty():
    rev = np.array([500.0, 600.0, 700.0])
    split = income.split_rate_from_royalty(0.02, 0.10)
    ps = income.profit_split(rev * 0.10, split, 0.25, 0.12).value
    rfr = income.relief_from_royalty(rev, 0.02, 0.25, 0.12).value
    assert float(ps) == pytest.approx(float(rfr), rel=1e-12)


def test_multiplier_cost_formula():
    r = cost.multiplier_cost(100.0, 50.0, 200.0, 1.5, 0.2, 0.1, years_used=2, years_remaining=8)
    assert float(r.replacement_cost) == pytest.approx((150 + 1.5 * 200) / 0.8 * 1.1)
    assert float(r.value) == pytest.approx(float(r.replacement_cost) * 0.8)


@given(
    st.lists(st.floats(0.0, 1e6), min_size=1, max_size=12),
    st.lists(st.floats(0.5, 1.5), min_size=12, max_size=12),
)
def test_comparable_quantiles_are_numpys_linear_quantiles(values, factors):
    from ipvalue.valuation.market import adjust_comparables

    f = np.asarray(factors[: len(values)])
    summary = adjust_comparables(np.asarray(values), f)
    expected = np.quantile(np.asarray(values) * f, [0, 0.25, 0.5, 0.75, 1.0])
    got = [summary.low, summary.q25, summary.median, summary.q75, summary.high]
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-9)


paths_of_lives = st.lists(st.floats(0.0, 30.0), min_size=1, max_size=40)


@settings(max_examples=60)
@given(paths_of_lives, st.floats(0.0, 1.0), st.booleans(), st.integers(1, 15))
def test_income_read_off_the_cumulative_value_is_the_weighted_sum(lives, share, mid, n):
    """The value from the cumulative present value at each path's life (and, after a lost
    case, at the cut life) equals the textbook sum income x weight x factor, per path."""
    rng = np.random.default_rng(len(lives))
    life = np.array(lives)
    paths = life.size
    series = rng.uniform(50.0, 150.0, (paths, n))
    k = rng.uniform(0.05, 0.2, paths)
    scale = rng.uniform(0.01, 0.2, paths)
    lost_at = rng.uniform(0.0, 20.0, paths)
    lost_at[::3] = np.inf
    got = discount_income(
        series,
        k,
        life_years=life,
        mid_year=mid,
        terminal_growth=0.02,
        scale=scale,
        lost_case=LostCase(lost_at, share),
    )

    def textbook(life_used):
        income_ = series * scale[:, None]
        explicit = (income_ * discount_factors(k, n, mid) * life_weights(life_used, n)).sum(-1)
        return explicit + terminal_value_pv(income_[:, -1], k, 0.02, n, life_used, mid)

    expected = (1 - share) * textbook(life) + share * textbook(np.minimum(life, lost_at))
    np.testing.assert_allclose(got.value, expected, rtol=1e-12, atol=1e-9)
    # The per-year figures of the audit trail add up to the same value.
    np.testing.assert_allclose(
        got.present_values.sum(-1) + got.terminal_value, got.value_before_tab, rtol=1e-12, atol=1e-9
    )
