"""Collateral assessment of an IP pledge loan on simulated value paths.

The value follows the kernel's lognormal process (:mod:`risk.kernel.process`, stepped by
:func:`risk.montecarlo.simulate_value_paths`; one volatility, or one posterior draw per path, so
a thinly observed asset gets a wider range), with legal events stopping it. Figures follow the
kernel's one convention (:mod:`risk.kernel.measures`: inverted-CDF quantiles, losses from the
starting value, Acerbi-Tasche ES). On those paths:

- the value range p05/p50/p95 at the horizon, VaR and ES at 95 % and 99 % as losses from the
  starting value;
- liquidation values as of the valuation date: orderly = median value after
  ``time_to_sell_years`` less ``liquidation_discount``; forced = immediate sale less
  ``forced_liquidation_discount``;
- lending value = p05 of the value at the horizon less the orderly liquidation discount: what the
  lender can count on with 95 % confidence at the end of the term;
- implied haircut = 1 - p05 / starting value;
- maximum loan = the smaller of ``max_ltv`` x starting value and the lending value;
- probability that LTV = loan / value exceeds ``max_ltv`` at any monitoring date of the term
  (``steps_per_year`` dates a year), not only at the end; the loan is ``loan_amount``, or the
  maximum loan when none is given;
- expected loss: the loan-default loss model of :mod:`risk.kernel.loan_loss` (the one insurance
  layers its cover on): the borrower defaults at an exponential time with yearly probability
  ``annual_pd`` (independent of the collateral), the IP is sold ``time_to_sell_years`` later at
  the orderly discount; loss = max(loan - recovery, 0); the lender's share after the insurer's
  and guarantor's.

Random streams, each a named child of the recorded seed (:mod:`risk.kernel.seeds`):
``volatility`` (which posterior draw each path takes, each used equally often), ``legal`` (stop,
then loss times), ``paths`` (the monitored paths), ``sale`` (the orderly sale), ``default`` and
``default_sale`` (the loan loss).
"""

from __future__ import annotations

import numpy as np

from ipvalue.models.collateral import (
    CollateralRequest,
    CollateralResult,
    LoanLoss,
    ValueRange,
)
from ipvalue.models.measures import Estimate, QuantileCI
from ipvalue.risk.kernel import hazard, loan_loss, measures, seeds
from ipvalue.risk.kernel.process import LegalStops, ValueProcess, time_grid, volatility_per_path
from ipvalue.risk.montecarlo.normals import standard_normal
from ipvalue.risk.montecarlo.stats import quantile_name
from ipvalue.valuation.signed import lender_value

BAND_QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
STREAMS = ("volatility", "legal", "paths", "sale", "default", "default_sale")
"""Named random streams of one assessment, children of its recorded seed."""


def _estimate(m: measures.Mean | measures.Proportion) -> Estimate:
    return Estimate(value=m.value, se=m.se)


def assess_collateral(
    request: CollateralRequest,
    value: float | None = None,
    signed_value: float | None = None,
    *,
    band_every: int | None = None,
) -> CollateralResult:
    """Assess an IP asset as loan collateral.

    Parameters
    ----------
    request : CollateralRequest
    value : float, optional
        Starting value, money, when the request names a stored ``valuation_id`` (the caller
        looks it up); otherwise ``request.value``.
    signed_value : float, optional
        The stored valuation's point value when it is at or below zero: the assessment starts
        from the lender's value, 0 (:func:`ipvalue.valuation.signed.lender_value`), and warns
        quoting it; every value figure is then 0 and nothing can be lent.
    band_every : int, optional
        Keep the value bands (``bands``, ``times``) at every ``band_every``-th monitoring date
        and the horizon; default every date. Every other figure is the same either way.

    Returns
    -------
    CollateralResult
    """
    floor_warning = None
    if signed_value is not None:
        value, floor_warning = lender_value(
            signed_value, "the stored valuation's point value", request.currency
        )
        if floor_warning is None:
            floor_warning = (
                f"the stored valuation's point value is {signed_value:g}: nothing to lend on"
            )
    start = request.value if value is None else value
    if start is None or start < 0 or (start == 0 and signed_value is None):
        raise ValueError("the starting value must be above 0")
    if request.volatility is None:
        raise ValueError("volatility: give it, or look up volatility_id or valuation_id first")
    v0 = float(start)
    n = request.paths
    seed = seeds.record_seed(request.seed)
    g_sigma, g_legal, g_paths, g_sale, g_default, g_default_sale = seeds.streams(seed, *STREAMS)
    draws = np.atleast_1d(np.asarray(request.volatility, dtype=float))
    sigma = volatility_per_path(g_sigma, draws, n)
    legal = request.legal_risk
    stop = hazard.event_times(g_legal, legal.stop_hazard, n)
    if legal.remaining_life_years is not None:
        stop = np.minimum(stop, legal.remaining_life_years)
    loss_times = hazard.event_times(g_legal, legal.loss_hazard, n)
    process = ValueProcess(v0, sigma, request.drift, LegalStops(stop, loss_times, legal.loss_share))
    times = time_grid(request.horizon_years, request.steps_per_year)
    # (dates, paths), the monitored paths; the compiled sampler draws numpy's own numbers
    grid = process.on_grid(times, standard_normal(g_paths, (times.size - 1, n)))
    low = grid.min(axis=0)  # each path's lowest value over the monitoring dates
    terminal = grid[-1]
    if band_every is None:
        band_rows = np.arange(times.size)
    else:
        band_rows = np.unique(np.r_[np.arange(0, times.size, band_every), times.size - 1])
    ordered_rows = np.sort(grid[band_rows], axis=1)  # one sort per band date serves its bands
    ordered = ordered_rows[-1]  # the horizon is the last band date
    del grid
    bands = {
        quantile_name(p): [float(x) for x in ordered_rows[:, measures.order_index(n, p)]]
        for p in BAND_QUANTILES
    }
    q05, q50, q95 = measures.quantiles(ordered, (0.05, 0.50, 0.95), presorted=True)
    tail95, tail99 = (measures.tail(ordered, v0, a, presorted=True) for a in (0.95, 0.99))
    ts = request.time_to_sell_years
    d = request.liquidation_discount

    sold_now = process.at(ts, g_sale.standard_normal(n))
    orderly = measures.quantile(sold_now, 0.5).value * (1 - d)
    forced = v0 * (1 - request.forced_liquidation_discount)
    lending_value = q05.value * (1 - d)
    cap = request.cap
    max_loan = min(cap * v0, lending_value)

    loan = request.loan_amount if request.loan_amount is not None else max_loan
    within = None if request.loan_amount is None else request.loan_amount <= max_loan
    warnings = [] if floor_warning is None else [floor_warning]
    warnings += (
        []
        if within is not False
        else [
            f"loan_amount {loan:,.2f} is above max_loan {max_loan:,.2f} (the smaller of max_ltv x "
            "value and the lending value): lend at most max_loan, or add security"
        ]
    )
    # LTV = loan / value above the cap at some date <=> the path's lowest value is below
    # loan / cap (cap x value is monotone in the value, so this is exact, not a bound)
    breach = _estimate(measures.proportion(loan > cap * low))
    breach_end = _estimate(measures.proportion(loan > cap * terminal))
    loss: LoanLoss | None = None
    if request.annual_pd is not None:
        loss = _loan_loss(request, process, g_default, g_default_sale, loan)

    assumptions = [
        f"lognormal value, drift {request.drift:g} a year, "
        + (
            f"volatility {draws[0]:g}"
            if draws.size == 1
            else f"{draws.size} posterior volatility draws, one per path"
        ),
        f"LTV cap {cap:g} ({_cap_basis(request)})",
        f"orderly sale after {ts:g} years at a {d:.0%} discount; forced sale at "
        f"{request.forced_liquidation_discount:.0%}",
        "lending value = p05 at the horizon less the orderly discount; max loan = the smaller "
        "of cap x value and the lending value",
        f"LTV monitored {request.steps_per_year} times a year",
        "loan assessed: "
        + (
            f"the given loan_amount {loan:,.2f}"
            if request.loan_amount is not None
            else f"the maximum loan {loan:,.2f} (no loan_amount given)"
        ),
    ]
    if request.annual_pd is not None:
        assumptions.append(
            "default independent of the collateral's value; the IP is sold time_to_sell_years "
            "after the default, at its value then"
        )
    return CollateralResult(
        currency=request.currency,
        value=v0,
        horizon_years=request.horizon_years,
        range=ValueRange(
            p05=q05.value,
            p50=q50.value,
            p95=q95.value,
            intervals={
                name: QuantileCI(value=q.value, ci_low=q.ci_low, ci_high=q.ci_high)
                for name, q in (("p05", q05), ("p50", q50), ("p95", q95))
            },
        ),
        mean_at_horizon=_estimate(measures.mean(terminal)),
        var95=tail95.var,
        es95=tail95.es,
        var99=tail99.var,
        es99=tail99.es,
        se_var95=tail95.se_var,
        se_es95=tail95.se_es,
        se_var99=tail99.se_var,
        se_es99=tail99.se_es,
        orderly_liquidation_value=orderly,
        forced_liquidation_value=forced,
        lending_value=lending_value,
        implied_haircut=1 - q05.value / v0 if v0 > 0 else 1.0,
        max_ltv=cap,
        max_loan=max_loan,
        loan_amount=request.loan_amount,
        loan_assessed=loan,
        ltv=loan / v0 if v0 > 0 else (0.0 if loan == 0 else None),
        within_limit=within,
        prob_ltv_breach=breach,
        prob_ltv_breach_at_horizon=breach_end,
        loan_loss=loss,
        bands=bands,
        times=[float(t) for t in times[band_rows]],
        assumptions=assumptions,
        warnings=warnings,
        seed=seed,
        paths=n,
    )


def _cap_basis(request: CollateralRequest) -> str:
    if request.max_ltv is not None:
        return "given"
    if request.lender_practice == "uk":
        return "UK practice: up to 50 % of estimated IP value"
    return "Chinese practice: about 30 % of appraised patent value"


def _loan_loss(
    request: CollateralRequest,
    process: ValueProcess,
    g_default: np.random.Generator,
    g_sale: np.random.Generator,
    loan: float,
) -> LoanLoss:
    """Expected loss on the loan (:mod:`risk.kernel.loan_loss`), then risk sharing."""
    assert request.annual_pd is not None
    draws = loan_loss.simulate(
        process,
        loan_loss.Loan(
            amount=loan,
            horizon_years=request.horizon_years,
            annual_pd=request.annual_pd,
            liquidation_discount=request.liquidation_discount,
            time_to_sell_years=request.time_to_sell_years,
        ),
        request.paths,
        g_default,
        g_sale,
    )
    expected = _estimate(measures.mean(draws.shortfall))
    pd = measures.proportion(draws.defaulted).value
    share = 1 - request.risk_sharing.insurer - request.risk_sharing.guarantor
    return LoanLoss(
        prob_default=pd,
        expected_loss=expected,
        loss_given_default=expected.value / (pd * loan) if pd > 0 and loan > 0 else 0.0,
        expected_loss_lender=Estimate(value=expected.value * share, se=expected.se * share),
        lender_share=share,
    )
