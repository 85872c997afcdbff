"""Discount rates derived the way appraisers derive them.

Each function takes the derivation's parts, its request path and a draw, and returns a
:class:`~ipvalue.valuation.derive.derived.Derived` whose value is an annual decimal (a float for
the point value, an array of paths in the simulation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ipvalue.models.derivations import (
    SCORE_SCALE,
    BuildUpParts,
    CapmParts,
    RiskAccumulationParts,
    WaccParts,
    WaraParts,
)
from ipvalue.models.errors import InputError
from ipvalue.models.uncertain import UncertainNumber
from ipvalue.valuation import contributory
from ipvalue.valuation.derive.derived import Derived
from ipvalue.valuation.discounting import TermRates
from ipvalue.valuation.resolve import Draw

_BUILD_UP_PARTS = (
    "risk_free",
    "equity_premium",
    "size_premium",
    "industry_premium",
    "specific_premium",
)


def build_up(parts: BuildUpParts, path: str, draw: Draw) -> Derived:
    """Build-up discount rate: k = r_f + ERP + size + industry + specific premium.

    Parameters
    ----------
    parts : BuildUpParts
        Risk-free rate and premiums, annual decimals (each may be uncertain).
    path : str
        ``...discount_rate.build_up``; each part is drawn at ``path.<part>``.
    draw : Draw

    Returns
    -------
    Derived
        ``value`` is the rate, annual decimal.
    """
    figures: dict[str, Any] = {
        name: draw(f"{path}.{name}", getattr(parts, name)) for name in _BUILD_UP_PARTS
    }
    total: Any = np.float64(0.0)
    for name in _BUILD_UP_PARTS:
        total = total + np.asarray(figures[name], dtype=float)
    formula = "risk_free + equity_premium + size_premium + industry_premium + specific_premium"
    return Derived(value=total, practice="build_up", formula=formula, figures=figures)


def _f(x: Any) -> Any:
    return np.asarray(x, dtype=float)


def capm(parts: CapmParts, path: str, draw: Draw) -> Derived:
    """CAPM discount rate: k = r_f + beta x ERP + size premium + specific premium.

    Parameters
    ----------
    parts : CapmParts
        Risk-free rate, beta (dimensionless), equity premium and premiums (annual decimals).
    path : str
        ``...discount_rate.capm``; each part is drawn at ``path.<part>``.
    draw : Draw

    Returns
    -------
    Derived
        ``value`` is the rate, annual decimal; ``figures["beta_x_equity_premium"]`` the
        systematic premium.
    """
    names = ("risk_free", "beta", "equity_premium", "size_premium", "specific_premium")
    figures: dict[str, Any] = {n: draw(f"{path}.{n}", getattr(parts, n)) for n in names}
    systematic = _f(figures["beta"]) * _f(figures["equity_premium"])
    rate = (
        _f(figures["risk_free"])
        + systematic
        + _f(figures["size_premium"])
        + _f(figures["specific_premium"])
    )
    figures |= {"beta_x_equity_premium": systematic, "rate": rate}
    formula = "risk_free + beta x equity_premium + size_premium + specific_premium"
    return Derived(value=rate, practice="capm", formula=formula, figures=figures)


def factor_premium(low: Any, high: Any, score: Any) -> Any:
    """A scored risk factor's premium: low + (high - low) x score / 100 (annual decimal)."""
    return _f(low) + (_f(high) - _f(low)) * _f(score) / SCORE_SCALE


def risk_accumulation(parts: RiskAccumulationParts, path: str, draw: Draw) -> Derived:
    """Risk accumulation (风险累加法): k = r_f + sum of the factors' scored premiums.

    Each factor (technical, market, capital, management risk, ...) has a premium range
    [low, high] and a score s on the 0-100 scale; its premium is low + (high - low) x s / 100.
    No published worked case with scored factors was found to test against (see
    tests/reference/derivations_rates.json, ``risk_accumulation.searched``): the tests check a
    hand-checked example and the range ends.

    Parameters
    ----------
    parts : RiskAccumulationParts
    path : str
        ``...discount_rate.risk_accumulation``; factor i is drawn at ``path.factors[i].<field>``.
    draw : Draw

    Returns
    -------
    Derived
        ``value`` is the rate, annual decimal; ``figures["factors"]`` one row per factor.
    """
    rf = draw(f"{path}.risk_free", parts.risk_free)
    rows: list[dict[str, Any]] = []
    total: Any = np.float64(0.0)
    for i, factor in enumerate(parts.factors):
        at = f"{path}.factors[{i}]"
        low, high = draw(f"{at}.low", factor.low), draw(f"{at}.high", factor.high)
        score = draw(f"{at}.score", factor.score)
        premium = factor_premium(low, high, score)
        total = total + premium
        rows.append(
            {"name": factor.name, "score": score, "low": low, "high": high, "premium": premium}
        )
    rate = _f(rf) + total
    figures: dict[str, Any] = {
        "risk_free": rf,
        "score_scale": SCORE_SCALE,
        "factors": rows,
        "risk_premium": total,
        "rate": rate,
    }
    formula = "risk_free + sum over factors of (low + (high - low) x score / 100)"
    return Derived(value=rate, practice="risk_accumulation", formula=formula, figures=figures)


def wacc(parts: WaccParts, path: str, draw: Draw) -> Derived:
    """Weighted average cost of capital: E/V x k_e + D/V x k_d x (1 - T).

    Parameters
    ----------
    parts : WaccParts
        Capital weights (sum to 1), cost of equity (a number or a derivation), pre-tax cost of
        debt and tax rate (annual decimals).
    path : str
        ``...wacc``; the cost of equity is drawn at ``path.cost_of_equity`` (derived there when
        it is a derivation, with its own audit entry).
    draw : Draw

    Returns
    -------
    Derived
        ``value`` is the after-tax WACC, annual decimal.
    """
    ke = draw(f"{path}.cost_of_equity", parts.cost_of_equity)
    kd = draw(f"{path}.cost_of_debt", parts.cost_of_debt)
    tax = draw(f"{path}.tax_rate", parts.tax_rate)
    after_tax_debt = _f(kd) * (1.0 - _f(tax))
    rate = parts.equity_weight * _f(ke) + parts.debt_weight * after_tax_debt
    figures: dict[str, Any] = {
        "equity_weight": parts.equity_weight,
        "cost_of_equity": ke,
        "debt_weight": parts.debt_weight,
        "cost_of_debt": kd,
        "tax_rate": tax,
        "after_tax_cost_of_debt": after_tax_debt,
        "rate": rate,
    }
    formula = "equity_weight x cost_of_equity + debt_weight x cost_of_debt x (1 - tax_rate)"
    return Derived(value=rate, practice="wacc", formula=formula, figures=figures)


def _weighting(parts: WaraParts, returns: list[Any]) -> contributory.Weighting:
    """The assets' weighted returns with the subject's share (its return the unknown, last):
    the weights given, or each value over the values' total (they sum to 1 either way)."""
    if parts.subject_value is None:
        weights = [float(a.weight or 0.0) for a in parts.assets]
        return contributory.weigh_returns(
            [*returns, None], weights=[*weights, float(parts.subject_weight or 0.0)]
        )
    values = [float(a.value or 0.0) for a in parts.assets]
    return contributory.weigh_returns([*returns, None], values=[*values, parts.subject_value])


def wara(parts: WaraParts, path: str, draw: Draw) -> Derived:
    """The subject's rate solved so the weighted returns on assets reconcile to the WACC.

    k_subject = (WACC - sum_i w_i k_i) / w_subject, with the weights w the assets' shares of the
    WACC's capital (they sum to 1 with the subject's), so sum_i w_i k_i + w_subject k_subject
    = WACC exactly. The weighting is :func:`~ipvalue.valuation.contributory.weigh_returns`, the
    one the excess earnings' WARA check uses.

    Parameters
    ----------
    parts : WaraParts
    path : str
        ``...discount_rate.wara``; the WACC is drawn at ``path.wacc`` and asset i's required
        return at ``path.assets[i].required_return``.
    draw : Draw

    Returns
    -------
    Derived
        ``value`` is the subject's rate, annual decimal; ``figures["reconciliation"]`` the table
        (one row per asset and the subject: weight, required return, weighted return), and the
        deal IRR beside the WACC when given, with a warning when they differ by more than
        ``irr_tolerance``.
    """
    k_wacc = _f(draw(f"{path}.wacc", parts.wacc))
    returns = [
        _f(draw(f"{path}.assets[{i}].required_return", asset.required_return))
        for i, asset in enumerate(parts.assets)
    ]
    weighting = _weighting(parts, returns)
    others = weighting.total
    subject_weight = weighting.weights[-1]
    rows: list[dict[str, Any]] = []
    for asset, w, k, weighted in zip(
        parts.assets, weighting.weights[:-1], returns, weighting.weighted[:-1], strict=True
    ):
        row = {"name": asset.name, "weight": w, "required_return": k, "weighted_return": weighted}
        if asset.value is not None:
            row["value"] = asset.value
        rows.append(row)
    rate = (k_wacc - others) / subject_weight
    subject: dict[str, Any] = {
        "name": parts.subject_name,
        "weight": subject_weight,
        "required_return": rate,
        "weighted_return": subject_weight * rate,
        "solved": True,
    }
    if parts.subject_value is not None:
        subject["value"] = parts.subject_value
    rows.append(subject)
    figures: dict[str, Any] = {
        "wacc": k_wacc,
        "reconciliation": rows,
        "weights_total": sum(weighting.weights),
        "wara": others + subject_weight * rate,
        "rate": rate,
    }
    warnings: list[str] = []
    if parts.deal_irr is not None:
        gap = parts.deal_irr - k_wacc
        figures |= {"deal_irr": parts.deal_irr, "deal_irr_minus_wacc": gap}
        if np.ndim(gap) == 0 and abs(float(gap)) > parts.irr_tolerance:
            warnings.append(
                f"{path}: the deal's IRR {parts.deal_irr:.2%} differs from the WACC "
                f"{float(k_wacc):.2%} by {abs(float(gap)):.2%}, more than the tolerance "
                f"{parts.irr_tolerance:.2%}: the price paid implies another return than the "
                "WACC (synergies, a bargain or overpayment, or optimistic forecasts); review "
                "both before relying on the subject's rate"
            )
    formula = "(wacc - sum of asset weight x required_return) / subject weight"
    return Derived(value=rate, practice="wara", formula=formula, figures=figures, warnings=warnings)


TERM_CONVENTION = (
    "one-year (forward) rates: year t discounts by the product of (1 + k_s) for s <= t; "
    "after the last rate given (and for the terminal value) the last rate holds"
)


def term_structure(parts: list[UncertainNumber], path: str, draw: Draw) -> Derived:
    """A discount rate per year: the rates k_1..k_m as :class:`TermRates`.

    Parameters
    ----------
    parts : list
        k_1..k_m, annual decimals (each may be uncertain).
    path : str
        ``...discount_rate.term_structure``; rate i is drawn at ``path[i]``.
    draw : Draw

    Returns
    -------
    Derived
        ``value`` is a :class:`TermRates` of shape ``(..., m)``.
    """
    drawn = [_f(draw(f"{path}[{i}]", k)) for i, k in enumerate(parts)]
    rates = np.stack(np.broadcast_arrays(*drawn), axis=-1)
    figures: dict[str, Any] = {"years": list(range(1, len(parts) + 1)), "rates": rates}
    return Derived(
        value=TermRates(rates), practice="term_structure", formula=TERM_CONVENTION, figures=figures
    )


def last_rate(rate: Any) -> Any:
    """The rate the terminal value uses: the rate itself, or a term structure's last rate."""
    return rate.year(rate.years) if isinstance(rate, TermRates) else rate


def check_term_years(rate: Any, n_years: int, path: str) -> None:
    """Refuse a term structure with more rates than the method has years of income.

    Parameters
    ----------
    rate : float, array or TermRates
        The discount rate a method used (only a :class:`TermRates` is checked).
    n_years : int
        The method's explicit years.
    path : str
        The method's ``discount_rate`` path.
    """
    if isinstance(rate, TermRates) and rate.years > n_years:
        raise InputError.for_field(
            f"{path}.term_structure",
            f"gives {rate.years} rates for {n_years} years of income; give at most one rate per "
            "year (years after the last rate keep it)",
        )
