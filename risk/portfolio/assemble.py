"""Turn simulated per-asset figures and path totals into the ranked, documented result.

Ranking score (``risk_adjusted_value``): the mean-ES criterion ``mean - k ES95`` in currency,
``mean`` the expected value at the horizon, ``ES95`` the expected loss from today's value in the
asset's own worst 5 % of outcomes and ``k = es_multiple`` (default 0.5, a convention: half a
unit of tail loss per unit of expected value). A riskless asset scores its value; the score
falls with volatility and with the chance of losing protection, and unlike p05 (or ``value -
ES95``) it does not collapse to zero for every asset whose chance of losing protection exceeds
5 %. ``rank_by: risk_adjusted_ratio`` ranks by the score per unit of value today instead
(``risk_adjusted_value / value``), so a small, safe holding can outrank a large, risky one.
Ties rank by ``id``.
"""

from __future__ import annotations

import numpy as np

from ipvalue.models.portfolio import (
    AssetRisk,
    PortfolioRequest,
    PortfolioResult,
    PortfolioTail,
    PortfolioTotals,
    ScreenSettings,
)
from ipvalue.risk.kernel import measures
from ipvalue.risk.portfolio.concentration import concentration
from ipvalue.risk.portfolio.legal import LegalOutlook
from ipvalue.risk.portfolio.screen import BLOCK_ASSETS, PartialStats, ScreenPlan
from ipvalue.valuation.discounting import FloatArray

MODEL = (
    "lognormal value with drift, Gaussian copula with one market and one factor per group, "
    "independent loss of protection (value 0) within the horizon"
)


def score_text(es_multiple: float, rank_by: str = "risk_adjusted_value") -> str:
    """How assets are ranked, in words."""
    score = f"risk_adjusted_value = mean - {es_multiple:g} x es95"
    if rank_by == "risk_adjusted_ratio":
        score = f"risk_adjusted_ratio = ({score}) / value"
    return (
        f"{score}, highest first; "
        "es95 = value - mean of the asset's worst 5 % of outcomes at the horizon; ties by id"
    )


def tail_risk(
    ordered: FloatArray, total_value: float, level: float, standalone_var_sum: float
) -> PortfolioTail:
    """VaR and ES of the portfolio at ``level``, losses from ``total_value``
    (:func:`risk.kernel.measures.tail`).

    Parameters
    ----------
    ordered : array (paths,)
        Portfolio value at the horizon on each path, sorted ascending, currency.
    total_value : float
        Portfolio value today, currency.
    level : float
        Confidence level in [0.5, 1).
    standalone_var_sum : float
        Sum of the assets' stand-alone VaRs at ``level``, currency.
    """
    t = measures.tail(ordered, total_value, level, presorted=True)
    return PortfolioTail(
        level=level,
        var=t.var,
        es=t.es,
        se_var=t.se_var,
        se_es=t.se_es,
        standalone_var_sum=standalone_var_sum,
        diversification_benefit=standalone_var_sum - t.var,
    )


def portfolio_totals(
    plan: ScreenPlan, stats: PartialStats, outlook: LegalOutlook
) -> PortfolioTotals:
    """Mean, range, VaR, ES and diversification benefit of the whole portfolio."""
    t = stats.path_totals()
    ordered = np.sort(t)
    total_value = float(plan.values.sum())
    p05, p50, p95 = measures.quantiles(ordered, (0.05, 0.5, 0.95), presorted=True)
    m = measures.mean(t)
    tails = []
    for j, level in enumerate(plan.levels):
        standalone = float(np.sum(plan.values - stats.quantiles[:, 3 + j]))
        tails.append(tail_risk(ordered, total_value, level, standalone))
    by_level = {round(r.level, 6): r for r in tails}
    r95, r99 = by_level[0.95], by_level[0.99]
    return PortfolioTotals(
        n_assets=plan.n_assets,
        total_value=total_value,
        mean=m.value,
        se_mean=m.se,
        sd=m.sd,
        p05=p05.value,
        p50=p50.value,
        p95=p95.value,
        var95=r95.var,
        es95=r95.es,
        var99=r99.var,
        es99=r99.es,
        diversification_benefit95=r95.diversification_benefit,
        diversification_benefit99=r99.diversification_benefit,
        tail=tails,
        expected_protection_losses=float(outlook.q.sum()),
    )


def asset_rows(
    request: PortfolioRequest, plan: ScreenPlan, stats: PartialStats, outlook: LegalOutlook
) -> list[AssetRisk]:
    """One row per asset, ranked by ``request.rank_by`` (highest first, ties by id)."""
    v = plan.values
    levels = [round(a, 6) for a in plan.levels]
    j95, j99 = levels.index(0.95), levels.index(0.99)
    var95 = v - stats.quantiles[:, 0]
    es95 = v - stats.tail_means[:, j95]
    var99 = v - stats.quantiles[:, 3 + j99]
    es99 = v - stats.tail_means[:, j99]
    rav = stats.mean - request.es_multiple * es95
    weight = v / v.sum()
    score = rav / v if request.rank_by == "risk_adjusted_ratio" else rav
    assets = request.assets
    order = sorted(range(len(assets)), key=lambda i: (-score[i], assets[i].id))
    rows = []
    for rank, i in enumerate(order, start=1):
        a = assets[i]
        rows.append(
            AssetRisk(
                rank=rank,
                id=a.id,
                name=a.label,
                kind=a.kind,
                sector=a.sector,
                technology=a.technology,
                value=float(v[i]),
                weight=float(weight[i]),
                mean=float(stats.mean[i]),
                se_mean=float(stats.se_mean[i]),
                p05=float(stats.quantiles[i, 0]),
                p50=float(stats.quantiles[i, 1]),
                p95=float(stats.quantiles[i, 2]),
                se_p05=float(stats.se_p05[i]),
                se_p50=float(stats.se_p50[i]),
                var95=float(var95[i]),
                es95=float(es95[i]),
                var99=float(var99[i]),
                es99=float(es99[i]),
                se_es95=float(stats.se_tail_means[i, j95]),
                prob_protection_loss=float(outlook.q[i]),
                expires_within_horizon=bool(outlook.expires[i]),
                under_challenge=a.under_challenge,
                risk_adjusted_value=float(rav[i]),
                risk_adjusted_ratio=float(rav[i] / v[i]),
            )
        )
    return rows


def assemble(
    request: PortfolioRequest, plan: ScreenPlan, stats: PartialStats, outlook: LegalOutlook
) -> PortfolioResult:
    """The full result: ranked rows, totals, concentration and the settings used."""
    assets = request.assets
    conc = concentration(
        plan.values,
        [a.sector for a in assets],
        outlook.expires,
        [a.under_challenge for a in assets],
        outlook.dead,
        request.top_n,
    )
    settings = ScreenSettings(
        paths=plan.paths,
        horizon_years=request.horizon_years,
        valuation_date=request.valuation_date,
        drift=request.drift,
        seed_entropy=plan.entropy,
        correlation=request.correlation,
        groups=plan.n_groups,
        block_assets=BLOCK_ASSETS,
        es_multiple=request.es_multiple,
        challenge_loss_probability=request.challenge_loss_probability,
        score=score_text(request.es_multiple, request.rank_by),
        model=MODEL,
    )
    return PortfolioResult(
        currency=request.currency,
        assets=asset_rows(request, plan, stats, outlook),
        totals=portfolio_totals(plan, stats, outlook),
        concentration=conc,
        settings=settings,
    )
