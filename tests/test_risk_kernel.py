"""The risk kernel: measures against numpy and scipy.stats, interval and ES coverage over many
seeds (statistical, not one lucky seed), hazards, seeds, the value process and the loan loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from ipvalue.risk.kernel import closed_form, hazard, loan_loss, measures, seeds
from ipvalue.risk.kernel.process import (
    LegalStops,
    ValueProcess,
    apply_stops,
    log_terms,
    lognormal_factor,
    time_grid,
)

V0, SIGMA, T = 1_000_000.0, 0.4, 2.0


# --- measures: reference values from numpy and scipy ------------------------------------------


@pytest.mark.parametrize("n", [7, 100, 1000, 20_001])
@pytest.mark.parametrize("p", [0.01, 0.05, 0.1, 0.5, 0.9, 0.95, 0.99])
def test_quantile_is_numpys_inverted_cdf(n, p):
    x = np.random.default_rng(n).lognormal(size=n)
    q = measures.quantile(x, p)
    assert q.value == np.quantile(x, p, method="inverted_cdf")


@pytest.mark.parametrize("n", [50, 400, 5000])
@pytest.mark.parametrize("p", [0.05, 0.25, 0.5, 0.95])
def test_quantile_interval_is_scipys_quantile_test(n, p):
    x = np.random.default_rng(7 + n).standard_normal(n)
    q = measures.quantile(x, p)
    ci = sps.quantile_test(x, p=p).confidence_interval(0.95)
    # where scipy's rank falls outside the sample (nan) the kernel takes the sample's end
    low = x.min() if np.isnan(ci.low) else ci.low
    high = x.max() if np.isnan(ci.high) else ci.high
    assert (q.ci_low, q.ci_high) == (low, high)


def test_one_minus_level_counts_as_written():
    # 1 - 0.95 is 0.050000000000000044 in floating point; ceil(10000 x it) would be 501
    x = np.arange(10_000, dtype=float)
    assert measures.order_index(10_000, 1 - 0.95) == 499
    assert measures.tail(x, 0.0, 0.95).var == -499.0


def test_es_is_acerbi_tasche_and_its_se_manistre_hancock():
    rng = np.random.default_rng(3)
    x = rng.lognormal(size=10_001)
    level, beta = 0.95, 0.05
    t = measures.tail(x, 5.0, level)
    s = np.sort(x)
    n = s.size
    m = math.floor(n * beta)
    at = (s[:m].sum() + (n * beta - m) * s[m]) / (n * beta)
    assert t.es == pytest.approx(5.0 - at, rel=1e-12)
    assert t.var == 5.0 - np.quantile(x, beta, method="inverted_cdf")
    # asymptotic standard error of ES (Manistre & Hancock 2005), on losses L = 5 - x
    losses = 5.0 - x
    var_l = np.quantile(losses, level, method="inverted_cdf")
    tail_l = losses[losses >= var_l]
    es_l = t.es
    mh = math.sqrt((tail_l.var() + level * (es_l - var_l) ** 2) / (n * beta))
    assert t.se_es == pytest.approx(mh, rel=0.02)
    assert measures.lower_tail_mean(s, beta) == pytest.approx(at, rel=1e-12)


def test_es_of_whole_tail_is_the_plain_mean_and_handles_atoms():
    x = np.concatenate([np.zeros(300), np.arange(1.0, 701.0)])  # 30 % atoms at 0
    t = measures.tail(x, 10.0, 0.95)
    assert t.var == 10.0 and t.es == pytest.approx(10.0)
    u = measures.upper_tail(-x, 0.95)
    assert u.es == pytest.approx(0.0) and u.var == 0.0
    rows = np.sort(np.stack([x, 2 * x]).astype(np.float32), axis=1)
    # the lowest half: 300 zeros and 1 ... 200, so (1 + ... + 200) / 500
    assert measures.lower_tail_mean(rows, 0.5).tolist() == pytest.approx([40.2, 80.4])


def test_a_float32_block_gives_each_rows_tail_and_its_standard_error():
    rng = np.random.default_rng(12)
    block = np.sort(rng.lognormal(0.0, 0.5, (4, 3001)).astype(np.float32), axis=1)
    means = measures.lower_tail_mean(block, 0.05)
    ses = measures.lower_tail_se(block, 0.05)
    for row, m, se in zip(block, means, ses, strict=True):
        t = measures.tail(row.astype(np.float64), 0.0, 0.95, presorted=True)
        q = -t.var  # losses from 0
        infl = q - np.maximum(q - row.astype(np.float64), 0.0) / 0.05
        assert -t.es == pytest.approx(m, rel=1e-6)
        assert se == pytest.approx(np.std(infl, ddof=1) / math.sqrt(row.size), rel=1e-4)


def test_upper_tail_mirrors_the_lower_tail():
    x = np.random.default_rng(11).standard_normal(9_999)
    lo = measures.tail(x, 0.0, 0.99)
    up = measures.upper_tail(-x, 0.99)
    assert up.es == pytest.approx(lo.es, rel=1e-12) and up.se_es == pytest.approx(lo.se_es)
    infl = measures.upper_tail_influence(-x, 0.99)
    assert infl.mean() == pytest.approx(up.es)


def test_mean_and_proportion_with_their_standard_errors():
    x = np.arange(10.0)
    m = measures.mean(x)
    assert (m.value, m.sd) == (4.5, pytest.approx(np.std(x, ddof=1)))
    assert m.se == pytest.approx(m.sd / math.sqrt(10))
    p = measures.proportion(x < 3)
    assert p.value == 0.3 and p.se == pytest.approx(math.sqrt(0.3 * 0.7 / 10))


# --- coverage over many seeds -----------------------------------------------------------------


def _lognormal_sample(seed: int, n: int) -> np.ndarray:
    z = np.random.default_rng(seed).standard_normal(n)
    return ValueProcess(V0, SIGMA).at(T, z)


def test_quantile_interval_covers_the_true_quantile_95_percent_of_the_time():
    seeds_n, n = 400, 400
    truth = {p: closed_form.quantile(V0, SIGMA, T, p) for p in (0.05, 0.5)}
    hits = {p: 0 for p in truth}
    for s in range(seeds_n):
        for q in measures.quantiles(_lognormal_sample(s, n), tuple(truth)):
            hits[q.p] += q.ci_low <= truth[q.p] <= q.ci_high
    for p, h in hits.items():
        # nominal >= 95 % (the binomial interval is conservative); 3 sd of 400 trials ~ 3.3 %
        assert 0.93 <= h / seeds_n <= 0.995, (p, h)


def test_es_standard_error_covers_the_closed_form_95_percent_of_the_time():
    seeds_n, n = 400, 4000
    truth = closed_form.expected_shortfall(V0, SIGMA, T, 0.95)
    hits = 0
    for s in range(seeds_n):
        t = measures.tail(_lognormal_sample(1000 + s, n), V0, 0.95)
        hits += abs(t.es - truth) <= measures.Z95 * t.se_es
    assert 0.91 <= hits / seeds_n <= 0.985, hits


# --- closed form ----------------------------------------------------------------------------


def test_closed_form_matches_scipy_lognormal():
    dist = sps.lognorm(s=SIGMA * math.sqrt(T), scale=V0 * math.exp(-0.5 * SIGMA**2 * T))
    for u in (0.01, 0.05, 0.5, 0.95):
        assert closed_form.quantile(V0, SIGMA, T, u) == pytest.approx(dist.ppf(u), rel=1e-12)
    b = 0.05
    partial = dist.expect(lambda x: x, ub=dist.ppf(b))
    assert closed_form.lower_partial_mean(V0, SIGMA, T, b) == pytest.approx(partial, rel=1e-7)
    es = closed_form.expected_shortfall(V0, SIGMA, T, 0.95)
    assert es == pytest.approx(V0 - partial / b, rel=1e-7)


def test_closed_form_with_a_stop_is_the_mixture():
    stop = 0.03
    assert closed_form.quantile(V0, SIGMA, T, 0.02, stop=stop) == 0.0
    q = closed_form.quantile(V0, SIGMA, T, 0.05, stop=stop)
    dist = sps.lognorm(s=SIGMA * math.sqrt(T), scale=V0 * math.exp(-0.5 * SIGMA**2 * T))
    assert stop + (1 - stop) * dist.cdf(q) == pytest.approx(0.05, rel=1e-10)
    assert closed_form.mean(V0, T, stop=stop) == pytest.approx((1 - stop) * V0)


# --- hazard, seeds --------------------------------------------------------------------------


def test_event_times_have_the_yearly_probability():
    rng = np.random.default_rng(5)
    t = hazard.event_times(rng, 0.1, 200_000)
    assert np.mean(t <= 1.0) == pytest.approx(0.1, abs=0.003)
    assert np.mean(t <= 3.0) == pytest.approx(hazard.prob_within(0.1, 3.0), abs=0.004)
    zero = hazard.event_times(rng, 0.0, 5)
    assert np.isinf(zero).all()
    assert hazard.intensity(0.1) == pytest.approx(-math.log(0.9))


def test_seeds_are_recorded_below_2_63_and_named_streams_repeat():
    drawn = {seeds.record_seed(None) for _ in range(50)}
    assert all(0 <= s < 2**63 for s in drawn) and len(drawn) == 50
    assert seeds.record_seed(42) == 42
    a = seeds.stream(42, "default").random(3)
    assert a.tolist() == seeds.stream(42, "default").random(3).tolist()
    assert a.tolist() != seeds.stream(42, "sale").random(3).tolist()
    assert (
        seeds.child(42, 1, 0).random()
        == np.random.default_rng(np.random.SeedSequence(42, spawn_key=(1, 0))).random()
    )


@pytest.mark.parametrize("bad", [-1, 2**63])
def test_a_seed_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="seed"):
        seeds.record_seed(bad)


# --- value process --------------------------------------------------------------------------


def test_value_at_a_date_is_a_martingale_with_legal_stops():
    n = 200_000
    rng = np.random.default_rng(9)
    stop = hazard.event_times(rng, 0.05, n)
    proc = ValueProcess(V0, SIGMA, legal=LegalStops(stop_times=stop))
    v = proc.at(T, rng.standard_normal(n))
    m = measures.mean(v)
    assert abs(m.value - closed_form.mean(V0, T, stop=hazard.prob_within(0.05, T))) < 4 * m.se
    assert np.mean(v == 0) == pytest.approx(hazard.prob_within(0.05, T), abs=0.003)


def test_values_at_two_dates_are_jointly_brownian():
    n = 100_000
    rng = np.random.default_rng(10)
    times = np.column_stack([np.full(n, 2.0), np.full(n, 0.5)])  # unsorted on purpose
    v = ValueProcess(1.0, SIGMA).at_times(times, rng.standard_normal((n, 2)))
    logs = np.log(v)
    cov = np.cov(logs[:, 0], logs[:, 1])
    assert cov[1, 0] == pytest.approx(SIGMA**2 * 0.5, rel=0.03)
    assert cov[0, 0] == pytest.approx(SIGMA**2 * 2.0, rel=0.03)


def test_stepped_paths_end_where_a_date_draw_lands():
    n = 50_000
    proc = ValueProcess(V0, SIGMA, drift=0.03)
    times = time_grid(T, 4)
    assert len(times) == 9
    *_, (t_end, last) = proc.steps(times, np.random.default_rng(1), n)
    assert t_end == T
    q = measures.quantile(last, 0.05)
    assert q.ci_low <= closed_form.quantile(V0, SIGMA, T, 0.05, drift=0.03) <= q.ci_high


@pytest.mark.parametrize(
    "legal",
    [
        LegalStops(),
        LegalStops(
            stop_times=np.random.default_rng(3).exponential(2.0, 2_000),
            loss_times=np.random.default_rng(4).exponential(1.0, 2_000),
            loss_share=0.4,
        ),
    ],
)
def test_the_grid_block_is_the_stepped_paths_bit_for_bit(legal):
    """`on_grid` (one block) and `steps` (one date at a time) draw and compute the same."""
    sigma = np.random.default_rng(5).uniform(0.2, 0.6, 2_000)  # a posterior draw per path
    proc = ValueProcess(V0, sigma, drift=0.01, legal=legal)
    times = time_grid(2.67, 12)  # unequal float steps
    stepped = np.stack([v for _, v in proc.steps(times, np.random.default_rng(6), 2_000)])
    block = proc.on_grid(times, np.random.default_rng(6).standard_normal((times.size - 1, 2_000)))
    assert block.shape == (times.size, 2_000)
    assert np.array_equal(block, stepped)


def test_interval_indices_are_cached_and_callers_cannot_change_them():
    first = measures.interval_indices(10_000, (0.05, 0.5))
    first[:] = -1
    again = measures.interval_indices(10_000, [0.05, 0.5])
    assert (again >= 0).all()
    assert np.array_equal(
        again[1], [sps.binom.ppf(0.025, 10_000, 0.5) - 1, sps.binom.isf(0.025, 10_000, 0.5)]
    )


def test_float32_blocks_use_the_same_arithmetic():
    z = np.random.default_rng(2).standard_normal((3, 1000))
    loc, scale = log_terms(np.array([0.2, 0.4, 0.6])[:, None], 0.01, 1.5)
    f64 = lognormal_factor(z, loc, scale)
    z32 = z.astype(np.float32)
    f32 = lognormal_factor(z32, loc, scale, out=z32)
    assert f32 is z32 and f32.dtype == np.float32
    np.testing.assert_allclose(f32, f64, rtol=2e-6)
    apply_stops(f32, np.eye(3, 1000, dtype=bool))
    assert f32[0, 0] == 0.0 and f32[1, 1] == 0.0 and f32[0, 1] != 0.0


# --- loan loss ------------------------------------------------------------------------------


def test_black_put_reference_value():
    # Black (1976), F = K = 100, sigma 20 %, 1 year: 100 (2 N(0.1) - 1) = 7.965567
    assert loan_loss.black_put(100.0, 100.0, 0.2, 1.0) == pytest.approx(7.965567455, rel=1e-9)
    assert loan_loss.black_put(100.0, 0.0, 0.2, 1.0) == 0.0
    assert loan_loss.black_put(100.0, 120.0, 0.0, 1.0) == 20.0


@pytest.mark.parametrize("stop_hazard", [0.0, 0.08])
def test_simulated_shortfall_matches_the_quadrature(stop_hazard):
    n = 200_000
    loan = loan_loss.Loan(
        amount=600_000.0,
        horizon_years=3.0,
        annual_pd=0.1,
        liquidation_discount=0.3,
        time_to_sell_years=0.5,
    )
    g_legal, g_default, g_sale = seeds.streams(7, "legal", "default", "sale")
    stop = hazard.event_times(g_legal, stop_hazard, n)
    proc = ValueProcess(V0, SIGMA, drift=0.02, legal=LegalStops(stop_times=stop))
    draws = loan_loss.simulate(proc, loan, n, g_default, g_sale)
    m = measures.mean(draws.shortfall)
    exact = loan_loss.expected_shortfall_exact(V0, SIGMA, loan, drift=0.02, stop_hazard=stop_hazard)
    assert abs(m.value - exact) < 4 * m.se, (m, exact)
    assert np.mean(draws.defaulted) == pytest.approx(hazard.prob_within(0.1, 3.0), abs=0.004)


def test_value_at_horizon_rides_along_with_the_loss():
    n = 100_000
    loan = loan_loss.Loan(amount=1.0, horizon_years=T, annual_pd=0.2)
    g_default, g_sale = seeds.streams(3, "default", "sale")
    draws = loan_loss.simulate(
        ValueProcess(V0, SIGMA), loan, n, g_default, g_sale, with_horizon=True
    )
    assert draws.value_at_horizon is not None
    q = measures.quantile(draws.value_at_horizon, 0.5)
    assert q.ci_low <= closed_form.quantile(V0, SIGMA, T, 0.5) <= q.ci_high
