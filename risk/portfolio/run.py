"""Screen a portfolio end to end: legal outlook, plan, blocks of simulation, ranked result."""

from __future__ import annotations

from ipvalue.models.portfolio import PortfolioRequest, PortfolioResult
from ipvalue.risk.portfolio.assemble import assemble
from ipvalue.risk.portfolio.legal import legal_outlook
from ipvalue.risk.portfolio.screen import Progress, factor_scores, plan_screen, simulate_blocks


def screen_portfolio(
    request: PortfolioRequest, progress: Progress | None = None
) -> PortfolioResult:
    """Screen a portfolio: value range and risk per asset, totals with dependence, ranking.

    Parameters
    ----------
    request : PortfolioRequest
        Assets and settings; ``seed`` None draws fresh entropy, recorded in the result.
    progress : callable, optional
        Called as ``progress(done, total)`` with counts of assets after each block; the last
        call has ``done == total``.

    Returns
    -------
    PortfolioResult
        Assets ranked by ``risk_adjusted_value``, portfolio totals, concentration, settings.
    """
    outlook = legal_outlook(
        request.assets,
        request.valuation_date,
        request.horizon_years,
        request.challenge_loss_probability,
    )
    plan = plan_screen(request, outlook)
    factors = factor_scores(plan)
    if progress is not None:
        progress(0, plan.n_assets)
    stats = simulate_blocks(plan, factors, range(plan.n_blocks), progress)
    return assemble(request, plan, stats, outlook)
