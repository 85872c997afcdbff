"""Insurance quotes: collateral-value cover and IP litigation / invalidation cover (issue 6).

Both covers simulate the insured loss of many policy periods, vectorised over paths, and price it
the same way (:func:`price_losses`):

``premium = EL / (1 - expense_loading - profit_loading)
+ cost_of_capital * capital_share * (ES99 - EL) * period_years``

with EL the expected insured loss and ES99 the expected shortfall at 99 % of the period's loss.
Defensive patent insurance usually costs about 1.5-5 % of the limit a year (DOMAIN.md, "Insurance").

Randomness: each random component draws from its own child of ``SeedSequence(seed)``, so changing
one input (a limit, a volatility) keeps the other components' draws: common random numbers make
comparisons between quotes smooth.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import integrate, stats

from ipvalue.models.insurance import (
    Breakdown,
    CollateralQuoteRequest,
    Estimate,
    InsuranceQuote,
    LitigationQuoteRequest,
    Pricing,
    QuantileEstimate,
)

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

_Z95 = 1.959963984540054

FloatArray = NDArray[np.float64]


def generators(seed: int | None, count: int) -> tuple[int, list[np.random.Generator]]:
    """Independent generators for ``count`` random components, from one recorded seed.

    Parameters
    ----------
    seed : int or None
        Seed of the ``SeedSequence``; None draws fresh entropy, which is returned.
    count : int
        Number of child generators.

    Returns
    -------
    seed : int
        The seed used.
    generators : list of numpy.random.Generator
    """
    sequence = np.random.SeedSequence(seed)
    entropy = sequence.entropy
    if not isinstance(entropy, int):  # pragma: no cover - only for list seeds, which we never pass
        raise TypeError("seed must be an int")
    used = entropy
    return used, [np.random.default_rng(child) for child in sequence.spawn(count)]


# --- tail measures --------------------------------------------------------------------------


def quantile_with_ci(sorted_losses: FloatArray, level: float) -> QuantileEstimate:
    """Empirical quantile (inverted CDF) and its distribution-free 95 % interval.

    Parameters
    ----------
    sorted_losses : ndarray, shape (paths,)
        Losses in ascending order.
    level : float
        Probability in (0, 1).
    """
    n = sorted_losses.size
    k = max(math.ceil(n * level) - 1, 0)
    half = _Z95 * math.sqrt(n * level * (1 - level))
    low = max(math.floor(n * level - half) - 1, 0)
    high = min(math.ceil(n * level + half) - 1, n - 1)
    return QuantileEstimate(
        value=float(sorted_losses[k]),
        ci_low=float(sorted_losses[low]),
        ci_high=float(sorted_losses[high]),
    )


def expected_shortfall(
    losses: FloatArray, level: float = TAIL_LEVEL
) -> tuple[float, float, FloatArray]:
    """Value at risk and expected shortfall of a loss sample.

    ``ES = VaR + E[(X - VaR)+] / (1 - level)`` (Acerbi-Tasche; right for samples with atoms, such
    as many zero losses or losses capped at a limit).

    Parameters
    ----------
    losses : ndarray, shape (paths,)
        Simulated losses, money.
    level : float
        Confidence level, e.g. 0.99.

    Returns
    -------
    var : float
        The ``level`` quantile (inverted CDF).
    es : float
        Expected shortfall.
    influence : ndarray, shape (paths,)
        ``VaR + (x - VaR)+ / (1 - level)``; its mean is ES, and its standard deviation over
        ``sqrt(paths)`` the standard error of ES (the quantile's own error is second order).
    """
    var = float(np.quantile(losses, level, method="inverted_cdf"))
    influence = var + np.maximum(losses - var, 0.0) / (1 - level)
    return var, float(influence.mean()), influence


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
        ``a x + c (h - x)`` with ``h`` the ES influence values).
    breakdown : Breakdown
    """
    n = losses.size
    el = float(losses.mean())
    _, es, influence = expected_shortfall(losses)
    load = 1.0 / (1.0 - pricing.expense_loading - pricing.profit_loading)
    charge_rate = pricing.cost_of_capital * pricing.capital_share * period_years
    risk_premium = el * load
    capital = pricing.capital_share * (es - el)
    capital_charge = pricing.cost_of_capital * capital * period_years
    premium = risk_premium + capital_charge
    premium_se = _se(load * losses + charge_rate * (influence - losses))
    sorted_losses = np.sort(losses)
    claim = (losses > 0).astype(np.float64)
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
        var99=quantile_with_ci(sorted_losses, TAIL_LEVEL),
        es99=Estimate(value=es, se=_se(influence)),
        limit=limit,
        rate_on_line=premium / limit,
        annual_rate_on_line=premium / limit / period_years,
        prob_claim=Estimate(value=float(claim.mean()), se=_se(claim)),
        quantiles={k: quantile_with_ci(sorted_losses, q) for k, q in QUANTILE_LEVELS.items()},
        details={"paths": float(n), **(details or {})},
    )
    return premium, premium_se, breakdown


# --- collateral-value cover -----------------------------------------------------------------


def default_hazard(annual_pd: float) -> float:
    """Constant default intensity (per year) with ``P(default within 1 year) = annual_pd``."""
    return -math.log1p(-annual_pd)


def simulate_collateral_losses(
    request: CollateralQuoteRequest, gens: list[np.random.Generator]
) -> tuple[FloatArray, FloatArray, dict[str, float]]:
    """Simulate default times and the IP's value at sale; return insured and ground-up losses.

    Default time ``tau ~ Exponential(hazard)``; on default within the horizon the IP is sold at
    ``t = tau + time_to_sell_years`` for ``(1 - d) * V_t`` with
    ``V_t = value * exp((drift - sigma^2 / 2) t + sigma sqrt(t) Z)`` (exact lognormal draw at t).

    Parameters
    ----------
    request : CollateralQuoteRequest
    gens : list of numpy.random.Generator
        Three generators: sigma assignment, default times, value shocks.

    Returns
    -------
    losses, ground_up : ndarray, shape (paths,)
        Insured loss and shortfall before retention, share and limit, money.
    details : dict
        ``prob_default`` (simulated), ``prob_default_exact``, ``prob_shortfall``.
    """
    c = request.exposure
    paths = request.simulation.paths
    g_sigma, g_default, g_value = gens
    draws = np.atleast_1d(np.asarray(c.volatility, dtype=np.float64))
    sigma = draws[g_sigma.permutation(paths) % draws.size]
    hazard = default_hazard(c.annual_pd)
    if hazard > 0:
        tau = g_default.exponential(1.0 / hazard, paths)
    else:
        g_default.exponential(1.0, paths)  # keep the stream's use independent of the input
        tau = np.full(paths, np.inf)
    defaulted = tau <= c.horizon_years
    t = np.where(defaulted, tau, 0.0) + c.time_to_sell_years
    z = g_value.standard_normal(paths)
    value_at_sale = c.value * np.exp((c.drift - 0.5 * sigma**2) * t + sigma * np.sqrt(t) * z)
    recovery = (1 - c.liquidation_discount) * value_at_sale
    ground_up = np.where(defaulted, np.maximum(c.loan_amount - recovery, 0.0), 0.0)
    layer = np.maximum(ground_up - request.retention, 0.0)
    losses = np.minimum(request.share_insured * layer, request.effective_limit)
    details = {
        "prob_default": float(defaulted.mean()),
        "prob_default_exact": 1 - (1 - c.annual_pd) ** c.horizon_years,
        "prob_shortfall": float((ground_up > 0).mean()),
    }
    return losses, ground_up, details


def black_put(forward: float, strike: float, sigma: float, t: float) -> float:
    """Undiscounted put on a lognormal forward (Black 1976): ``E[max(strike - F_t, 0)]``.

    Parameters
    ----------
    forward : float
        Expected value of the underlying at ``t``, money (> 0).
    strike : float
        Strike, money; a strike at or below zero gives 0.
    sigma : float
        Annual volatility of the log value.
    t : float
        Years to expiry.
    """
    if strike <= 0:
        return 0.0
    width = sigma * math.sqrt(t)
    if width == 0:
        return max(strike - forward, 0.0)
    d1 = (math.log(forward / strike) + 0.5 * width**2) / width
    d2 = d1 - width
    return float(strike * stats.norm.cdf(-d2) - forward * stats.norm.cdf(-d1))


def collateral_expected_loss_exact(request: CollateralQuoteRequest) -> float:
    """Expected insured loss of a collateral-value cover by quadrature over the default time.

    With ``K = loan - retention`` and recovery ``R_t = (1 - d) V_t``, the insured loss on default
    is ``s * (put(K) - put(K - limit / s))`` (a put spread on the recovery), so
    ``EL = int_0^T h e^{-h t} s [P(K, t + ts) - P(K - limit / s, t + ts)] dt`` with Black puts on
    the forward ``(1 - d) value e^{drift t}``. Posterior volatility draws are averaged.

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
    hazard = default_hazard(c.annual_pd)
    if hazard == 0:
        return 0.0
    strike = c.loan_amount - request.retention
    upper = strike - request.effective_limit / s

    def integrand(t: float, sigma: float) -> float:
        sale = t + c.time_to_sell_years
        forward = (1 - c.liquidation_discount) * c.value * math.exp(c.drift * sale)
        spread = black_put(forward, strike, sigma, sale) - black_put(forward, upper, sigma, sale)
        return hazard * math.exp(-hazard * t) * s * spread

    draws = np.atleast_1d(np.asarray(c.volatility, dtype=np.float64))
    values = [
        integrate.quad(integrand, 0.0, c.horizon_years, args=(float(sig),), limit=200)[0]
        for sig in draws
    ]
    return float(np.mean(values))


def quote_collateral_cover(request: CollateralQuoteRequest) -> InsuranceQuote:
    """Quote collateral-value cover for the loan's horizon (single premium for the term).

    Parameters
    ----------
    request : CollateralQuoteRequest

    Returns
    -------
    InsuranceQuote
        ``premium`` for the whole horizon; ``breakdown.annual_rate_on_line`` per year.
    """
    seed, gens = generators(request.simulation.seed, 3)
    losses, ground_up, details = simulate_collateral_losses(request, gens)
    return _quote(
        "collateral_value",
        request.pricing,
        losses,
        ground_up,
        limit=request.effective_limit,
        period_years=request.exposure.horizon_years,
        details=details,
        seed=seed,
    )


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
        Five generators: suit counts, suit severities, petition counts, institution, cancellation.

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
    seed, gens = generators(request.simulation.seed, 5)
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
