"""Insurance quotes: collateral-value cover and IP litigation / invalidation cover (issue 6).

Both covers simulate the insured loss of many policy periods, vectorised over paths, and price it
the same way (:func:`price_losses`):

``premium = EL / (1 - expense_loading - profit_loading)
+ cost_of_capital * capital_share * (ES99 - EL) * period_years``

with EL the expected insured loss and ES99 the expected shortfall at 99 % of the period's loss.
Defensive patent insurance usually costs about 1.5-5 % of the limit a year (DOMAIN.md, "Insurance").

Randomness: each random component draws from its own named child stream of the recorded seed
(:mod:`risk.kernel.seeds`), so changing one input (a limit, a volatility) keeps the other
components' draws: common random numbers make comparisons between quotes smooth. The collateral
cover is the loan-default loss model of :mod:`risk.kernel.loan_loss` (the one ``POST
/v1/collateral`` uses) with the cover layered on; tail measures are :mod:`risk.kernel.measures`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ipvalue.models.insurance import (
    Breakdown,
    CollateralQuoteRequest,
    CollateralValue,
    Estimate,
    InsuranceQuote,
    LitigationQuoteRequest,
    Pricing,
    QuantileEstimate,
    ValueRange,
)
from ipvalue.risk.kernel import hazard, loan_loss, measures, seeds
from ipvalue.risk.kernel.process import LegalStops, ValueProcess, volatility_per_path

TAIL_LEVEL = 0.99
"""Confidence level of VaR and ES for the capital charge."""

QUANTILE_LEVELS: dict[str, float] = {
    "p50": 0.50,
    "p75": 0.75,
    "p90": 0.90,
    "p95": 0.95,
    "p99": 0.99,
    "p995": 0.995,
}
"""Quantiles of the insured loss reported in the breakdown."""

COLLATERAL_STREAMS = ("volatility", "legal", "default", "sale")
"""Named random streams of a collateral-value quote (children of its recorded seed)."""
LITIGATION_STREAMS = ("suits", "severity", "petitions", "instituted", "cancelled")
"""Named random streams of a litigation quote."""

FloatArray = NDArray[np.float64]


def generators(seed: int | None, names: tuple[str, ...]) -> tuple[int, list[np.random.Generator]]:
    """The recorded seed and one named stream per random component (:mod:`risk.kernel.seeds`).

    Parameters
    ----------
    seed : int or None
        The request's seed; None draws fresh entropy below 2**63, which is returned.
    names : tuple of str
        The components' stream names.
    """
    used = seeds.record_seed(seed)
    return used, list(seeds.streams(used, *names))


def _quantile(sorted_losses: FloatArray, level: float) -> QuantileEstimate:
    q = measures.quantile(sorted_losses, level, presorted=True)
    return QuantileEstimate(value=q.value, ci_low=q.ci_low, ci_high=q.ci_high)


def _se(sample: FloatArray) -> float:
    return float(sample.std(ddof=1) / math.sqrt(sample.size))


def price_losses(
    losses: FloatArray,
    ground_up: FloatArray,
    *,
    limit: float,
    pricing: Pricing,
    period_years: float,
    details: dict[str, float] | None = None,
) -> tuple[float, float, Breakdown]:
    """Premium and breakdown from simulated insured losses of one policy period.

    Parameters
    ----------
    losses : ndarray, shape (paths,)
        Insured loss (what the insurer pays) per path, money.
    ground_up : ndarray, shape (paths,)
        Loss before retention, share and limit per path, money.
    limit : float
        The cover's limit, money; the rate on line is premium / limit.
    pricing : Pricing
        Loadings and cost of capital.
    period_years : float
        Length of the policy period in years; capital is held (and charged) for this long.
    details : dict, optional
        Cover-specific figures added to the breakdown.

    Returns
    -------
    premium : float
    premium_se : float
        Standard error of the premium (delta method: premium is the mean of
        ``a x + c (h - x)`` with ``h`` the ES influence values,
        :func:`risk.kernel.measures.upper_tail_influence`).
    breakdown : Breakdown
    """
    n = losses.size
    el = float(losses.mean())
    sorted_losses = np.sort(losses)
    es99 = measures.upper_tail(sorted_losses, TAIL_LEVEL, presorted=True)
    es = es99.es
    influence = measures.upper_tail_influence(losses, TAIL_LEVEL)
    load = 1.0 / (1.0 - pricing.expense_loading - pricing.profit_loading)
    charge_rate = pricing.cost_of_capital * pricing.capital_share * period_years
    risk_premium = el * load
    capital = pricing.capital_share * (es - el)
    capital_charge = pricing.cost_of_capital * capital * period_years
    premium = risk_premium + capital_charge
    premium_se = _se(load * losses + charge_rate * (influence - losses))
    claim = measures.proportion(losses > 0)
    breakdown = Breakdown(
        expected_loss=Estimate(value=el, se=_se(losses)),
        ground_up_expected_loss=Estimate(value=float(ground_up.mean()), se=_se(ground_up)),
        expense_loading=pricing.expense_loading,
        profit_loading=pricing.profit_loading,
        risk_premium=risk_premium,
        expense_amount=risk_premium * pricing.expense_loading,
        profit_amount=risk_premium * pricing.profit_loading,
        cost_of_capital=pricing.cost_of_capital,
        capital_share=pricing.capital_share,
        capital=capital,
        capital_charge=capital_charge,
        period_years=period_years,
        var99=_quantile(sorted_losses, TAIL_LEVEL),
        es99=Estimate(value=es, se=es99.se_es),
        limit=limit,
        rate_on_line=premium / limit,
        annual_rate_on_line=premium / limit / period_years,
        prob_claim=Estimate(value=claim.value, se=claim.se),
        quantiles={k: _quantile(sorted_losses, q) for k, q in QUANTILE_LEVELS.items()},
        details={"paths": float(n), **(details or {})},
    )
    return premium, premium_se, breakdown


# --- collateral-value cover -----------------------------------------------------------------


def default_hazard(annual_pd: float) -> float:
    """Constant default intensity (per year) with ``P(default within 1 year) = annual_pd``."""
    return float(hazard.intensity(annual_pd))


def _loan(request: CollateralQuoteRequest) -> loan_loss.Loan:
    c = request.exposure
    return loan_loss.Loan(
        amount=c.loan_amount,
        horizon_years=c.horizon_years,
        annual_pd=c.annual_pd,
        liquidation_discount=c.liquidation_discount,
        time_to_sell_years=c.time_to_sell_years,
    )


def simulate_collateral_losses(
    request: CollateralQuoteRequest, gens: list[np.random.Generator]
) -> tuple[FloatArray, FloatArray, dict[str, float], FloatArray]:
    """The loan-default loss model of :mod:`risk.kernel.loan_loss`, with the cover layered on.

    Default time ``tau`` exponential with yearly probability ``annual_pd``; on default within the
    horizon the IP is sold at ``tau + time_to_sell_years`` for ``(1 - d) V`` with ``V`` the
    kernel's lognormal value with legal stops at that date (exact draw). The ground-up loss is
    the shortfall ``max(loan - recovery, 0)``; the insurer pays
    ``min(share_insured x max(shortfall - retention, 0), limit)``.

    Parameters
    ----------
    request : CollateralQuoteRequest
    gens : list of numpy.random.Generator
        The streams of :data:`COLLATERAL_STREAMS`: sigma assignment, legal event times, default
        times, value shocks.

    Returns
    -------
    losses, ground_up : ndarray, shape (paths,)
        Insured loss and shortfall before retention, share and limit, money.
    details : dict
        ``prob_default`` (simulated), ``prob_default_exact``, ``prob_shortfall``.
    value_at_horizon : ndarray, shape (paths,)
        The right's value at the horizon on the same paths, money.
    """
    c = request.exposure
    paths = request.simulation.paths
    g_sigma, g_legal, g_default, g_value = gens
    sigma = volatility_per_path(g_sigma, c.volatility, paths)
    legal = c.legal_risk
    stop = hazard.event_times(g_legal, legal.stop_hazard, paths)
    if legal.remaining_life_years is not None:
        stop = np.minimum(stop, legal.remaining_life_years)
    loss_times = hazard.event_times(g_legal, legal.loss_hazard, paths)
    process = ValueProcess(c.value, sigma, c.drift, LegalStops(stop, loss_times, legal.loss_share))
    draws = loan_loss.simulate(
        process, _loan(request), paths, g_default, g_value, with_horizon=True
    )
    ground_up = draws.shortfall
    layer = np.maximum(ground_up - request.retention, 0.0)
    losses = np.minimum(request.share_insured * layer, request.effective_limit)
    details = {
        "prob_default": measures.proportion(draws.defaulted).value,
        "prob_default_exact": hazard.prob_within(c.annual_pd, c.horizon_years),
        "prob_shortfall": measures.proportion(ground_up > 0).value,
    }
    assert draws.value_at_horizon is not None
    return losses, ground_up, details, draws.value_at_horizon


def collateral_expected_loss_exact(request: CollateralQuoteRequest) -> float:
    """Expected insured loss of a collateral-value cover by quadrature over the default time.

    With ``K = loan - retention`` the insured loss on default is ``s (max(K - R, 0) -
    max(K - limit / s - R, 0))``, a put spread on the recovery ``R``
    (:func:`risk.kernel.loan_loss.expected_shortfall_exact` with Black puts). Posterior
    volatility draws are averaged. A ``remaining_life_years`` and ``loss_hazard`` are not in the
    closed form (the stop hazard is).

    Parameters
    ----------
    request : CollateralQuoteRequest

    Returns
    -------
    float
        Expected insured loss, money.
    """
    c = request.exposure
    s = request.share_insured
    strike = c.loan_amount - request.retention
    draws = np.atleast_1d(np.asarray(c.volatility, dtype=np.float64))
    values = [
        loan_loss.expected_shortfall_exact(
            c.value,
            float(sig),
            _loan(request),
            drift=c.drift,
            stop_hazard=c.legal_risk.stop_hazard,
            attachment=strike,
            exhaustion=strike - request.effective_limit / s,
            share=s,
        )
        for sig in draws
    ]
    return float(np.mean(values))


def _collateral_value(request: CollateralQuoteRequest, at_horizon: FloatArray) -> CollateralValue:
    c = request.exposure
    ordered = np.sort(at_horizon)
    qs = measures.quantiles(ordered, (0.05, 0.5, 0.95), presorted=True)
    tail = measures.tail(ordered, c.value, 0.95, presorted=True)
    m = measures.mean(at_horizon)
    return CollateralValue(
        value=c.value,
        horizon_years=c.horizon_years,
        range=ValueRange(
            p05=qs[0].value,
            p50=qs[1].value,
            p95=qs[2].value,
            intervals={
                name: QuantileEstimate(value=q.value, ci_low=q.ci_low, ci_high=q.ci_high)
                for name, q in zip(("p05", "p50", "p95"), qs, strict=True)
            },
        ),
        mean=Estimate(value=m.value, se=m.se),
        var95=tail.var,
        es95=Estimate(value=tail.es, se=tail.se_es),
    )


def quote_collateral_cover(request: CollateralQuoteRequest) -> InsuranceQuote:
    """Quote collateral-value cover for the loan's horizon (single premium for the term).

    Parameters
    ----------
    request : CollateralQuoteRequest

    Returns
    -------
    InsuranceQuote
        ``premium`` for the whole horizon; ``breakdown.annual_rate_on_line`` per year;
        ``breakdown.collateral_value`` the right's value at the horizon on the same paths.
    """
    seed, gens = generators(request.simulation.seed, COLLATERAL_STREAMS)
    losses, ground_up, details, at_horizon = simulate_collateral_losses(request, gens)
    quote = _quote(
        "collateral_value",
        request.pricing,
        losses,
        ground_up,
        limit=request.effective_limit,
        period_years=request.exposure.horizon_years,
        details=details,
        seed=seed,
    )
    breakdown = quote.breakdown.model_copy(
        update={"collateral_value": _collateral_value(request, at_horizon)}
    )
    return quote.model_copy(update={"breakdown": breakdown})


# --- litigation / invalidation cover --------------------------------------------------------


def simulate_litigation_losses(
    request: LitigationQuoteRequest, gens: list[np.random.Generator]
) -> tuple[FloatArray, FloatArray, dict[str, float]]:
    """Simulate one policy year of suits and invalidation petitions per path.

    Suits: ``N ~ Poisson(frequency)``, loss ``median * exp(sigma * Z)``. Petitions:
    ``M ~ Poisson(frequency)``, each instituted with ``institution_rate`` (loss
    ``defence_cost``) and then cancelled with ``cancellation_rate`` (plus ``loss_if_cancelled``).
    Each claim pays ``min(max(loss - retention, 0), limit_per_claim)``; the year pays
    ``min(share * max(sum - aggregate_retention, 0), limit)``.

    Parameters
    ----------
    request : LitigationQuoteRequest
    gens : list of numpy.random.Generator
        The streams of :data:`LITIGATION_STREAMS`: suit counts, suit severities, petition counts,
        institution, cancellation.

    Returns
    -------
    losses, ground_up : ndarray, shape (paths,)
        Insured annual loss and the sum of claims before retentions and limits, money.
    details : dict
        ``expected_claims`` a year, ``prob_cancelled_per_petition``.
    """
    paths = request.simulation.paths
    g_suits, g_severity, g_petitions, g_instituted, g_cancelled = gens
    owners: list[NDArray[np.intp]] = []
    amounts: list[FloatArray] = []
    if request.suits is not None:
        s = request.suits
        counts = g_suits.poisson(s.frequency, paths)
        owners.append(np.repeat(np.arange(paths), counts))
        amounts.append(
            s.severity_median * np.exp(s.severity_sigma * g_severity.standard_normal(counts.sum()))
        )
    details = {"expected_claims": request.expected_claims}
    if request.invalidation is not None:
        v = request.invalidation
        counts = g_petitions.poisson(v.frequency, paths)
        total = int(counts.sum())
        instituted = g_instituted.random(total) < v.institution_rate
        cancelled = instituted & (g_cancelled.random(total) < v.cancellation_rate)
        owners.append(np.repeat(np.arange(paths), counts))
        amounts.append(instituted * v.defence_cost + cancelled * v.loss_if_cancelled)
        details["prob_cancelled_per_petition"] = v.institution_rate * v.cancellation_rate
    owner = np.concatenate(owners)
    claim = np.concatenate(amounts).astype(np.float64)
    per_claim = np.minimum(
        np.maximum(claim - request.effective_retention, 0.0), request.effective_limit_per_claim
    )
    annual = np.bincount(owner, weights=per_claim, minlength=paths).astype(np.float64)
    ground_up = np.bincount(owner, weights=claim, minlength=paths).astype(np.float64)
    layer = np.maximum(annual - request.aggregate_retention, 0.0)
    losses = np.minimum(request.share_insured * layer, request.limit)
    details["retention_per_claim"] = request.effective_retention
    return losses, ground_up, details


def quote_litigation_cover(request: LitigationQuoteRequest) -> InsuranceQuote:
    """Quote IP litigation / invalidation cover for one policy year.

    Parameters
    ----------
    request : LitigationQuoteRequest

    Returns
    -------
    InsuranceQuote
        Annual premium; ``breakdown.rate_on_line`` = premium / aggregate limit.
    """
    seed, gens = generators(request.simulation.seed, LITIGATION_STREAMS)
    losses, ground_up, details = simulate_litigation_losses(request, gens)
    return _quote(
        "litigation",
        request.pricing,
        losses,
        ground_up,
        limit=request.limit,
        period_years=1.0,
        details=details,
        seed=seed,
    )


def quote_insurance(request: CollateralQuoteRequest | LitigationQuoteRequest) -> InsuranceQuote:
    """Quote either cover of ``POST /v1/insurance/quotes`` (dispatch on ``request.cover``); the
    quote carries the request's ``currency``."""
    if isinstance(request, CollateralQuoteRequest):
        quote = quote_collateral_cover(request)
    else:
        quote = quote_litigation_cover(request)
    return quote.model_copy(update={"currency": request.currency})


def _quote(
    cover: str,
    pricing: Pricing,
    losses: FloatArray,
    ground_up: FloatArray,
    *,
    limit: float,
    period_years: float,
    details: dict[str, float],
    seed: int,
) -> InsuranceQuote:
    premium, premium_se, breakdown = price_losses(
        losses, ground_up, limit=limit, pricing=pricing, period_years=period_years, details=details
    )
    return InsuranceQuote.model_validate(
        {
            "cover": cover,
            "expected_loss": breakdown.expected_loss.value,
            "expected_loss_se": breakdown.expected_loss.se,
            "premium": premium,
            "premium_se": premium_se,
            "breakdown": breakdown,
            "seed": seed,
            "paths": losses.size,
        }
    )
