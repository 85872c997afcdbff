"""Portfolio screening: closed forms, dependence, legal loss, ranking, reproducibility."""

from __future__ import annotations

import datetime as dt
import math
import tracemalloc

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from ipvalue.models.portfolio import PortfolioAsset, PortfolioRequest, SectorCorrelation
from ipvalue.risk.portfolio import screen_portfolio
from ipvalue.risk.portfolio.concentration import concentration
from ipvalue.risk.portfolio.legal import legal_outlook
from ipvalue.risk.portfolio.screen import (
    BLOCK_ASSETS,
    Z95,
    factor_scores,
    merge,
    order_index,
    plan_screen,
    simulate_blocks,
)

DAY = dt.date(2026, 11, 27)
NO_LEGAL = {"invalidation_hazard": 0.0, "lapse_hazard": 0.0}


def asset(i: int, value: float = 1e6, vol: float = 0.3, sector: str = "s", **kw) -> PortfolioAsset:
    fields = {"kind": "copyright", **NO_LEGAL, **kw}
    return PortfolioAsset(id=f"A{i:04d}", sector=sector, value=value, volatility=vol, **fields)


def request(assets, **kw) -> PortfolioRequest:
    kw.setdefault("seed", 20261127)
    kw.setdefault("paths", 4000)
    return PortfolioRequest(assets=assets, valuation_date=DAY, **kw)


def independent() -> SectorCorrelation:
    return SectorCorrelation(intra=0.0, inter=0.0)


def check(name: str, computed: float, expected: float, tol: float) -> None:
    assert abs(computed - expected) <= tol, (
        f"{name}: expected {expected:.6g}, computed {computed:.6g}, tolerance {tol:.3g}"
    )


def test_zero_volatility_and_no_hazards_collapse_to_the_value():
    assets = [asset(i, value=v, vol=0.0) for i, v in enumerate([1234567.89, 10.0, 5e9])]
    result = screen_portfolio(request(assets, paths=500))
    for row in result.assets:
        for figure in (row.mean, row.p05, row.p50, row.p95):
            assert figure == row.value
        assert row.var95 == row.es95 == row.var99 == row.se_mean == 0.0
        assert row.prob_protection_loss == 0.0
        assert row.risk_adjusted_value == row.value
    t = result.totals
    check("portfolio mean", t.mean, t.total_value, 1e-9 * t.total_value)
    check("portfolio var95", t.var95, 0.0, 1e-9 * t.total_value)
    assert t.expected_protection_losses == 0.0


def test_independent_lognormal_means_add_up_within_three_standard_errors():
    rng = np.random.default_rng(5)
    values = rng.uniform(1e5, 5e6, 40)
    vols = rng.uniform(0.1, 0.8, 40)
    assets = [asset(i, value=v, vol=s) for i, (v, s) in enumerate(zip(values, vols, strict=True))]
    drift, h = 0.05, 2.0
    result = screen_portfolio(
        request(assets, correlation=independent(), drift=drift, horizon_years=h)
    )
    expected = values.sum() * math.exp(drift * h)
    t = result.totals
    check("portfolio mean", t.mean, expected, 3 * t.se_mean)
    # Independence: the portfolio sd is the root of the summed variances.
    var = np.sum(values**2 * math.exp(2 * drift * h) * (np.exp(vols**2 * h) - 1))
    check("portfolio sd", t.sd, math.sqrt(var), 0.05 * math.sqrt(var))
    rows = {r.id: r for r in result.assets}
    misses = sum(
        abs(rows[a.id].mean - a.value * math.exp(drift * h)) > 3 * rows[a.id].se_mean
        for a in assets
    )
    assert misses <= 1, f"{misses} of 40 asset means outside 3 SE"


def test_single_asset_quantiles_match_the_lognormal_closed_form():
    v, sigma, mu, h = 2.5e6, 0.4, 0.03, 1.5
    result = screen_portfolio(request([asset(0, value=v, vol=sigma)], drift=mu, horizon_years=h))
    row = result.assets[0]
    loc, scale = (mu - 0.5 * sigma**2) * h, sigma * math.sqrt(h)
    p05 = v * math.exp(loc + scale * stats.norm.ppf(0.05))
    check("p05", row.p05, p05, 3 * row.se_p05)
    assert row.se_p05 > 0
    check("p50", row.p50, v * math.exp(loc), 0.03 * v)
    check("var95", row.var95, v - p05, 3 * row.se_p05)
    # ES95 of a lognormal: V - E[X | X <= p05] = V - V e^{mu h} Phi(z05 - scale) / 0.05.
    es = v - v * math.exp(mu * h) * stats.norm.cdf(stats.norm.ppf(0.05) - scale) / 0.05
    check("es95", row.es95, es, 0.02 * v)
    # The portfolio of one asset is that asset.
    check("portfolio var95", result.totals.var95, row.var95, 1e-6 * v)


def test_perfect_correlation_gives_no_diversification_benefit():
    assets = [
        asset(i, value=1e6 * (i + 1), vol=0.2 + 0.05 * i, sector=f"s{i % 3}") for i in range(8)
    ]
    comonotone = SectorCorrelation(intra=1.0, inter=1.0)
    result = screen_portfolio(request(assets, correlation=comonotone))
    for tail in result.totals.tail:
        check(
            f"benefit at {tail.level}",
            tail.diversification_benefit,
            0.0,
            1e-6 * result.totals.total_value,
        )
    indep = screen_portfolio(request(assets, correlation=independent()))
    assert indep.totals.diversification_benefit95 > 0.1 * indep.totals.var95
    assert indep.totals.diversification_benefit99 > 0


def test_correlation_within_sector_raises_tail_risk():
    assets = [asset(i, sector=f"s{i % 2}") for i in range(20)]
    low = screen_portfolio(request(assets, correlation=SectorCorrelation(intra=0.1, inter=0.0)))
    high = screen_portfolio(request(assets, correlation=SectorCorrelation(intra=0.9, inter=0.0)))
    assert high.totals.var99 > low.totals.var99
    assert high.totals.diversification_benefit95 < low.totals.diversification_benefit95


def test_loss_of_protection_probability_and_mean():
    h, p = 2.0, 0.1
    assets = [
        asset(0, invalidation_hazard=p),
        asset(1, remaining_life_years=1.5),
        asset(2, expiry_date=dt.date(2027, 6, 30)),
        asset(3, under_challenge=True),
        asset(4, status="lapsed"),
        asset(5, expiry_date=dt.date(2035, 1, 1)),
    ]
    req = request(assets, horizon_years=h, challenge_loss_probability=0.5, paths=20000)
    result = screen_portfolio(req)
    rows = {r.id: r for r in result.assets}
    q0 = 1 - (1 - p) ** h
    check("q invalidation", rows["A0000"].prob_protection_loss, q0, 1e-12)
    check("mean with loss", rows["A0000"].mean, 1e6 * (1 - q0), 3 * rows["A0000"].se_mean)
    for expired in ("A0001", "A0002", "A0004"):
        r = rows[expired]
        assert r.prob_protection_loss == 1.0 and r.expires_within_horizon
        assert r.mean == r.p95 == 0.0 and r.var95 == r.es95 == r.value
    assert rows["A0003"].prob_protection_loss == 0.5 and rows["A0003"].p50 <= rows["A0003"].value
    assert not rows["A0005"].expires_within_horizon
    assert rows["A0005"].prob_protection_loss == 0.0
    check("expected losses", result.totals.expected_protection_losses, q0 + 3 + 0.5, 1e-12)
    c = result.concentration
    check("share expiring", c.share_expiring_within_horizon, 3 / 6, 1e-12)
    check("share challenged", c.share_under_challenge, 1 / 6, 1e-12)
    check("share lost", c.share_protection_lost, 1 / 6, 1e-12)


def test_default_hazards_by_kind_apply_when_not_given():
    patent = PortfolioAsset(id="p", kind="patent", sector="s", value=1.0, volatility=0.1)
    mark = PortfolioAsset(id="t", kind="trademark", sector="s", value=1.0, volatility=0.1)
    soft = PortfolioAsset(id="w", kind="software", sector="s", value=1.0, volatility=0.1)
    q = legal_outlook([patent, mark, soft], DAY, 1.0, 0.5).q
    inv = 0.02 * 0.71 * 0.74
    check("patent q", q[0], 1 - (1 - inv) * 0.84**0.25, 1e-12)
    check("trademark q", q[1], 1 - 0.995 * 0.99, 1e-12)
    assert q[2] == 0.0


def test_concentration_by_hand():
    c = concentration(
        [50.0, 30.0, 10.0, 10.0],
        ["A", "B", "A", "B"],
        [False, True, False, False],
        [False, False, True, True],
        [False, False, False, False],
        [1, 2, 10],
    )
    assert c.top_shares == pytest.approx({"top_1": 0.5, "top_2": 0.8, "top_10": 1.0})
    check("hhi", c.hhi, 0.25 + 0.09 + 0.01 + 0.01, 1e-12)
    check("effective number", c.effective_number, 1 / 0.36, 1e-12)
    assert c.largest_sector == "A"
    check("largest sector", c.largest_sector_share, 0.6, 1e-12)
    check("sector hhi", c.sector_hhi, 0.36 + 0.16, 1e-12)
    check("expiring", c.share_expiring_within_horizon, 0.3, 1e-12)
    check("challenged", c.share_under_challenge, 0.2, 1e-12)
    assert c.share_protection_lost == 0.0


def test_ranking_follows_the_documented_score():
    assets = [
        asset(0, value=1e6, vol=0.0),
        asset(1, value=1e6, vol=0.6),
        asset(2, value=1e6, vol=0.3),
        asset(3, value=3e6, vol=0.3, invalidation_hazard=0.3),
        asset(4, value=1e6, vol=0.3),
    ]
    req = request(assets, es_multiple=0.7)
    result = screen_portfolio(req)
    scores = [r.risk_adjusted_value for r in result.assets]
    assert scores == sorted(scores, reverse=True)
    assert [r.rank for r in result.assets] == [1, 2, 3, 4, 5]
    for r in result.assets:
        check(f"score of {r.id}", r.risk_adjusted_value, r.mean - 0.7 * r.es95, 1e-6)
        check(f"ratio of {r.id}", r.risk_adjusted_ratio, r.risk_adjusted_value / r.value, 1e-12)
    order = [r.id for r in result.assets]
    assert order.index("A0000") < order.index("A0002") < order.index("A0001")
    assert "mean - 0.7 x es95" in result.settings.score
    weights = sum(r.weight for r in result.assets)
    check("weights", weights, 1.0, 1e-12)


def test_ties_rank_by_id():
    assets = [asset(i, vol=0.0) for i in (3, 1, 2)]
    result = screen_portfolio(request(assets, paths=300))
    assert [r.id for r in result.assets] == ["A0001", "A0002", "A0003"]


def test_reproducible_with_a_seed_and_entropy_recorded():
    assets = [asset(i, sector=f"s{i % 3}", invalidation_hazard=0.05) for i in range(30)]
    a = screen_portfolio(request(assets, seed=11))
    b = screen_portfolio(request(assets, seed=11))
    assert a.model_dump() == b.model_dump()
    c = screen_portfolio(request(assets, seed=12))
    assert c.totals.mean != a.totals.mean
    fresh = screen_portfolio(request(assets, seed=None))
    again = screen_portfolio(request(assets, seed=fresh.settings.seed_entropy))
    assert fresh.model_dump() == again.model_dump()


def test_blocks_give_the_same_bits_whatever_the_grouping():
    n = 2 * BLOCK_ASSETS + 17
    assets = [asset(i, sector=f"s{i % 4}", vol=0.1 + (i % 7) / 10) for i in range(n)]
    plan = plan_screen(request(assets, paths=300))
    factors = factor_scores(plan)
    whole = simulate_blocks(plan, factors, range(plan.n_blocks))
    parts = merge(
        [simulate_blocks(plan, factors, range(2, 3)), simulate_blocks(plan, factors, range(2))]
    )
    assert np.array_equal(whole.path_totals(), parts.path_totals())
    assert np.array_equal(whole.quantiles, parts.quantiles)
    assert np.array_equal(whole.mean, parts.mean)


def test_progress_reaches_total():
    n = BLOCK_ASSETS + 5
    calls: list[tuple[int, int]] = []
    screen_portfolio(
        request([asset(i) for i in range(n)], paths=200),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[0] == (0, n) and calls[-1] == (n, n)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(calls) == 3


def test_order_statistic_index():
    assert order_index(10000, 0.05) == 499
    assert order_index(10000, 0.01) == 99
    assert order_index(3, 0.05) == 0
    assert order_index(200, 0.5) == 99


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"horizon_years": 0}, "horizon_years"),
        ({"horizon_years": 31}, "horizon_years"),
        ({"paths": 10}, "paths"),
        ({"seed": -1}, "seed"),
        ({"confidence_levels": [1.0]}, "confidence_levels"),
        ({"challenge_loss_probability": 1.5}, "challenge_loss_probability"),
        ({"top_n": [0]}, "top_n"),
        ({"correlation": {"intra": 0.2, "inter": 0.5}}, "correlation"),
        ({"correlation": {"intra": 1.2}}, "correlation"),
        ({"drift": 3}, "drift"),
    ],
)
def test_settings_out_of_range_are_refused(change, field):
    body = {"assets": [asset(0).model_dump()], **change}
    with pytest.raises(ValidationError) as info:
        PortfolioRequest.model_validate(body)
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"value": 0}, "value"),
        ({"value": -5}, "value"),
        ({"volatility": -0.1}, "volatility"),
        ({"volatility": 6}, "volatility"),
        ({"invalidation_hazard": 1.0}, "invalidation_hazard"),
        ({"lapse_hazard": -0.1}, "lapse_hazard"),
        ({"kind": "recipe"}, "kind"),
        ({"expiry_date": "2030-01-01", "remaining_life_years": 3}, "remaining_life_years"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_asset_fields_out_of_range_are_refused(change, field):
    body = {"id": "x", "kind": "patent", "sector": "s", "value": 1, "volatility": 0.2, **change}
    with pytest.raises(ValidationError) as info:
        PortfolioAsset.model_validate(body)
    assert field in str(info.value)


def test_duplicate_ids_are_refused():
    with pytest.raises(ValidationError, match="repeats the id"):
        PortfolioRequest(assets=[asset(1), asset(1)])


def test_levels_always_include_95_and_99():
    req = request([asset(0)], confidence_levels=[0.9])
    assert req.confidence_levels == [0.9, 0.95, 0.99]
    result = screen_portfolio(req)
    assert [t.level for t in result.totals.tail] == [0.9, 0.95, 0.99]
    assert result.totals.tail[0].var <= result.totals.var95 <= result.totals.var99


def test_group_by_technology_falls_back_to_sector():
    assets = [asset(0, sector="a", technology="x"), asset(1, sector="b"), asset(2, sector="c")]
    plan = plan_screen(
        request(assets, correlation=SectorCorrelation(group_by="technology", intra=0.5))
    )
    assert plan.n_groups == 3
    assert plan_screen(request([asset(0, sector="a"), asset(1, sector="a")])).n_groups == 1


def test_p05_intervals_cover_the_closed_form_about_95_percent_of_the_time():
    n = 300
    vols = np.linspace(0.1, 0.9, n)
    assets = [asset(i, vol=s) for i, s in enumerate(vols)]
    result = screen_portfolio(request(assets, correlation=independent(), paths=2000))
    rows = {r.id: r for r in result.assets}
    z05 = stats.norm.ppf(0.05)
    inside = 0
    for a in assets:
        exact = a.value * math.exp(-0.5 * a.volatility**2 + a.volatility * z05)
        inside += abs(rows[a.id].p05 - exact) <= Z95 * rows[a.id].se_p05
    assert 0.90 <= inside / n <= 0.995, f"coverage {inside / n:.3f} of the 95 % intervals"
    assert all(t.se_var > 0 and t.se_es > 0 for t in result.totals.tail)


def test_assets_are_processed_in_chunks_without_the_full_matrix():
    n, paths = 5000, 4000
    assets = [asset(i, sector=f"s{i % 9}", invalidation_hazard=0.02) for i in range(n)]
    req = request(assets, paths=paths)
    tracemalloc.start()
    try:
        screen_portfolio(req)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    full = n * paths * 4  # one float32 assets x paths matrix
    assert peak < 0.5 * full, f"peak {peak / 1e6:.1f} MB vs a full matrix of {full / 1e6:.0f} MB"
