"""Value one method's inputs: the bridge from an input model to its formula and audit trail.

:func:`value_method` is the single place where a method's inputs meet its formula. The point value
calls it with :func:`~valuation.resolve.base_draw`; the Monte Carlo engine calls it with a draw
returning arrays of shape ``(paths,)``, and ``audit=False`` to skip the paper trail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ipvalue.models.methods import (
    INCOME_METHODS,
    DCFInputs,
    EquivalentInvestmentSplitInputs,
    ExcessEarningsInputs,
    MarketInputs,
    MultiplierCostInputs,
    ProfitSplitInputs,
    RealOptionInputs,
    ReliefFromRoyaltyInputs,
    ReplacementCostInputs,
    WithAndWithoutInputs,
)
from ipvalue.models.uncertain import base_value
from ipvalue.valuation import cost, income, market, options
from ipvalue.valuation.discounting import FloatArray, IncomeValue
from ipvalue.valuation.resolve import Draw, base_draw, resolve_series

APPROACH = {
    **dict.fromkeys(INCOME_METHODS, "income"),
    "replacement_cost": "cost",
    "multiplier_cost": "cost",
    "market": "market",
    "real_option": "option",
}


@dataclass
class MethodOutcome:
    """A method's value (float or array of paths) and, for the point value, its audit trail."""

    value: FloatArray
    audit: dict[str, Any] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _num(x: Any) -> Any:
    """Plain Python numbers for JSON: floats, lists of floats, None for non-finite."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        v = float(arr)
        return v if np.isfinite(v) else None
    return [(float(v) if np.isfinite(v) else None) for v in arr.ravel()]


def _income_audit(result: IncomeValue, life_years: float) -> dict[str, Any]:
    n = result.income.shape[-1]
    return {
        "life_used_years": _num(life_years),
        "years": list(range(1, n + 1)),
        "income": _num(result.income),
        "life_weights": _num(result.life_weights),
        "discount_factors": _num(result.discount_factors),
        "present_values": _num(result.present_values),
        "sum_present_values": _num(result.present_values.sum(axis=-1)),
        "terminal_value_pv": _num(result.terminal_value),
        "value_before_tab": _num(result.value_before_tab),
        "tab_factor": _num(result.tab_factor),
    }


def _opt(draw: Draw, path: str, x: Any) -> Any:
    return None if x is None else draw(path, x)


def _income_common(m: Any, p: str, draw: Draw, life: Any) -> dict[str, Any]:
    return {
        "life_years": life,
        "mid_year": m.mid_year,
        "terminal_growth": _opt(draw, f"{p}.terminal_growth", m.terminal_growth),
    }


def _value_income(m: Any, p: str, draw: Draw, life: Any) -> tuple[IncomeValue, dict[str, Any]]:
    """Compute an income method; returns the result and method-specific audit figures."""
    common = _income_common(m, p, draw, life)
    k = draw(f"{p}.discount_rate", m.discount_rate)
    extra: dict[str, Any] = {"discount_rate": k}
    if isinstance(m, DCFInputs):
        flows = resolve_series(m.cash_flows, f"{p}.cash_flows", draw)
        return income.dcf(flows, k, **common), extra
    if isinstance(m, ReliefFromRoyaltyInputs):
        rev = resolve_series(m.revenue, f"{p}.revenue", draw)
        rr, tax = draw(f"{p}.royalty_rate", m.royalty_rate), draw(f"{p}.tax_rate", m.tax_rate)
        extra |= {"royalty_rate": rr, "tax_rate": tax, "revenue": rev}
        return income.relief_from_royalty(rev, rr, tax, k, tab_years=m.tab_years, **common), extra
    if isinstance(m, ExcessEarningsInputs):
        rev = resolve_series(m.revenue, f"{p}.revenue", draw)
        margin = draw(f"{p}.operating_margin", m.operating_margin)
        tax = draw(f"{p}.tax_rate", m.tax_rate)
        charges = {
            c.name: draw(f"{p}.contributory_charges[{i}].rate", c.rate)
            for i, c in enumerate(m.contributory_charges)
        }
        total = sum((np.asarray(v, dtype=float) for v in charges.values()), np.float64(0.0))
        extra |= {"operating_margin": margin, "tax_rate": tax, "contributory_charges": charges}
        extra["contributory_charge_total_rate"] = total
        result = income.excess_earnings(rev, margin, tax, total, k, tab_years=m.tab_years, **common)
        return result, extra
    if isinstance(m, WithAndWithoutInputs):
        profit = resolve_series(m.incremental_profit, f"{p}.incremental_profit", draw)
        tax = draw(f"{p}.tax_rate", m.tax_rate)
        extra["tax_rate"] = tax
        return income.with_and_without(profit, tax, k, **common), extra
    if isinstance(m, ProfitSplitInputs):
        tax = draw(f"{p}.tax_rate", m.tax_rate)
        if m.profit is not None:
            profit = resolve_series(m.profit, f"{p}.profit", draw)
            split = draw(f"{p}.split_rate", m.split_rate)
            extra["split_basis"] = "given split_rate"
        else:
            rev = resolve_series(m.revenue, f"{p}.revenue", draw)
            margin = draw(f"{p}.operating_margin", m.operating_margin)
            royalty = draw(f"{p}.royalty_rate", m.royalty_rate)
            profit = rev * np.asarray(margin, dtype=float)[..., None]
            split = income.split_rate_from_royalty(royalty, margin)
            extra["split_basis"] = "royalty_rate / operating_margin"
            extra |= {"royalty_rate": royalty, "operating_margin": margin, "profit": profit}
        extra |= {"split_rate": split, "tax_rate": tax}
        return income.profit_split(profit, split, tax, k, **common), extra
    if isinstance(m, EquivalentInvestmentSplitInputs):
        split = income.equivalent_investment_split_rate(
            draw(f"{p}.ip_cost", m.ip_cost),
            draw(f"{p}.ip_cost_profit_rate", m.ip_cost_profit_rate),
            draw(f"{p}.other_investment", m.other_investment),
            draw(f"{p}.other_investment_profit_rate", m.other_investment_profit_rate),
        )
        profit = resolve_series(m.profit, f"{p}.profit", draw)
        extra |= {"split_rate": split, "split_basis": "equivalent investment"}
        return income.profit_split(profit, split, 0.0, k, **common), extra
    raise TypeError(f"not an income method: {type(m).__name__}")  # pragma: no cover


def _value_cost(m: Any, p: str, draw: Draw) -> tuple[cost.CostValue, dict[str, Any]]:
    used = _opt(draw, f"{p}.years_used", m.years_used)
    remaining = _opt(draw, f"{p}.years_remaining", m.years_remaining)
    if isinstance(m, ReplacementCostInputs):
        items = {c.name: draw(f"{p}.costs[{i}].amount", c.amount) for i, c in enumerate(m.costs)}
        total = sum((np.asarray(v, dtype=float) for v in items.values()), np.float64(0.0))
        ob = m.obsolescence
        result = cost.replacement_cost(
            total,
            developer_profit_rate=draw(f"{p}.developer_profit_rate", m.developer_profit_rate),
            entrepreneurial_incentive_rate=draw(
                f"{p}.entrepreneurial_incentive_rate", m.entrepreneurial_incentive_rate
            ),
            functional=draw(f"{p}.obsolescence.functional", ob.functional),
            technological=draw(f"{p}.obsolescence.technological", ob.technological),
            economic=draw(f"{p}.obsolescence.economic", ob.economic),
            years_used=used,
            years_remaining=remaining,
        )
        return result, {"costs": items, "total_cost": total}
    assert isinstance(m, MultiplierCostInputs)
    result = cost.multiplier_cost(
        draw(f"{p}.material_cost", m.material_cost),
        draw(f"{p}.labour_cost", m.labour_cost),
        draw(f"{p}.research_labour_cost", m.research_labour_cost),
        draw(f"{p}.research_multiplier", m.research_multiplier),
        draw(f"{p}.failure_rate", m.failure_rate),
        draw(f"{p}.profit_rate", m.profit_rate),
        years_used=used,
        years_remaining=remaining,
    )
    return result, {}


def _adjustment_product(c: Any, p: str, draw: Draw) -> Any:
    adj = c.adjustments
    pairs = adj.items() if isinstance(adj, dict) else enumerate(adj)
    product: Any = np.float64(1.0)
    for key, factor in pairs:
        sub = f"{p}.adjustments.{key}" if isinstance(adj, dict) else f"{p}.adjustments[{key}]"
        product = product * np.asarray(draw(sub, factor), dtype=float)
    return product


def _value_market(m: MarketInputs, p: str, draw: Draw, life: Any, out: MethodOutcome) -> Any:
    comps = m.comparables
    raw, factors = [], []
    for i, c in enumerate(comps):
        cp = f"{p}.comparables[{i}]"
        raw.append(
            draw(f"{cp}.price", c.price)
            if c.price is not None
            else draw(f"{cp}.royalty_rate", c.royalty_rate)
        )
        factors.append(_adjustment_product(c, cp, draw))
    shape = np.broadcast_shapes(*(np.shape(x) for x in raw + factors))
    values = np.stack([np.broadcast_to(np.asarray(x, float), shape) for x in raw], axis=-1)
    facs = np.stack([np.broadcast_to(np.asarray(x, float), shape) for x in factors], axis=-1)
    summary = market.adjust_comparables(values, facs)
    audit: dict[str, Any] = {
        "basis": "price" if comps[0].price is not None else "royalty_rate",
        "adjusted": summary.adjusted,
        "adjustment_factors": facs,
        "median": summary.median,
        "low": summary.low,
        "q25": summary.q25,
        "q75": summary.q75,
        "high": summary.high,
    }
    out.audit = audit
    if comps[0].price is not None:
        out.assumptions.append("indication = median of adjusted comparable prices")
        return summary.median
    rate: Any = summary.median
    regression = _maybe_regression(m, out)
    if regression is not None:
        rate = regression.predicted_rate
        audit["regression"] = {
            "predicted_rate": regression.predicted_rate,
            "prediction_interval_95": list(regression.interval),
            "coefficients": regression.coefficients,
            "std_errors": regression.std_errors,
            "r_squared": regression.r_squared,
            "n_observations": regression.n_observations,
        }
    audit["royalty_rate_used"] = rate
    rev = resolve_series(m.revenue, f"{p}.revenue", draw)
    tax, k = draw(f"{p}.tax_rate", m.tax_rate), draw(f"{p}.discount_rate", m.discount_rate)
    capitalised = income.relief_from_royalty(
        rev, rate, tax, k, life_years=life, mid_year=m.mid_year
    )
    audit["capitalisation"] = _income_audit(capitalised, life)
    return capitalised.value


def _maybe_regression(m: MarketInputs, out: MethodOutcome) -> market.RoyaltyRegression | None:
    """Regress base royalty rates on characteristics when comparables and subject allow it."""
    names = sorted({k for c in m.comparables for k in c.characteristics})
    if not names or not m.subject:
        return None
    if any(set(c.characteristics) != set(names) for c in m.comparables):
        out.warnings.append("regression skipped: comparables do not all give the same traits")
        return None
    rates = [
        base_value(c.royalty_rate) * _adjustment_product(c, "", base_draw)
        for c in m.comparables
        if c.royalty_rate is not None
    ]
    traits: dict[str, Any] = {n: [c.characteristics[n] for c in m.comparables] for n in names}
    try:
        fit = market.royalty_regression(rates, traits, m.subject)
    except ValueError as exc:
        out.warnings.append(f"regression skipped: {exc}; the median rate is used")
        return None
    rate, r2 = fit.predicted_rate, fit.r_squared
    if not (math.isfinite(r2) and 0 <= r2 <= 1 and math.isfinite(rate) and 0 <= rate <= 1):
        out.warnings.append(
            f"regression skipped: it predicts a royalty rate of {rate:.4g} for the subject "
            f"(r-squared {r2:.3g}), not a rate in [0, 1]; the median rate is used"
        )
        return None
    out.assumptions.append(
        "royalty rate predicted by OLS of adjusted comparable rates on "
        + ", ".join(names)
        + " (held fixed across simulated paths)"
    )
    return fit


def _value_option(m: RealOptionInputs, p: str, draw: Draw, legal_years: float) -> MethodOutcome:
    years = np.asarray(draw(f"{p}.years", m.years), dtype=float)
    out = MethodOutcome(value=np.zeros(()))
    if np.any(years > legal_years):
        out.warnings.append(
            f"option life capped at the remaining legal life ({legal_years:.2f} years)"
        )
        years = np.minimum(years, legal_years)
    if legal_years <= 0:
        out.value = np.zeros_like(years)
        return out
    result = options.black_scholes(
        draw(f"{p}.underlying_value", m.underlying_value),
        draw(f"{p}.exercise_cost", m.exercise_cost),
        years,
        draw(f"{p}.volatility", m.volatility),
        draw(f"{p}.risk_free_rate", m.risk_free_rate),
        draw(f"{p}.dividend_yield", m.dividend_yield),
    )
    out.value = result.call
    out.audit = {
        "years_used": years,
        "d1": result.d1,
        "d2": result.d2,
        "n_d1": result.n_d1,
        "n_d2": result.n_d2,
        "put_value": result.put,
    }
    out.assumptions.append("Black-Scholes-Merton call; continuous risk-free rate and yield")
    return out


def value_method(
    m: Any,
    index: int,
    draw: Draw,
    legal_years: float,
    *,
    life_years: Any = None,
    audit: bool = True,
) -> MethodOutcome:
    """Value one method.

    Parameters
    ----------
    m : one of the ``models.methods`` input models
    index : int
        Position in the request's ``methods`` list (names input paths ``methods[i].x``).
    draw : Draw
        Gives each input's number (base value) or array of paths.
    legal_years : float
        Remaining legal life, years (``inf`` when unbounded, 0 for a dead right).
    life_years : float or array (...), optional
        Life to cut income at, when it differs per path (legal events in a simulation);
        defaults to the legal life.
    audit : bool
        Build the audit trail (the point value); the simulation skips it.
    """
    p = f"methods[{index}]"
    life: Any = legal_years if life_years is None else life_years
    if isinstance(m, RealOptionInputs):
        return _finish(_value_option(m, p, draw, legal_years), audit)
    if isinstance(m, MarketInputs):
        out = MethodOutcome(value=np.zeros(()))
        out.value = np.asarray(_value_market(m, p, draw, life, out), dtype=float)
        return _finish(out, audit)
    if m.method in INCOME_METHODS:
        economic = _opt(draw, f"{p}.economic_life_years", m.economic_life_years)
        if economic is not None:
            life = np.minimum(life, economic)
        result, extra = _value_income(m, p, draw, life)
        out = MethodOutcome(value=result.value)
        if audit:
            out.audit = _income_audit(result, life) | extra
            if economic is not None:
                out.assumptions.append(
                    f"economic life {float(np.asarray(economic)):g} years, "
                    "shorter than or equal to legal life where it cuts"
                )
            if m.terminal_growth is not None:
                out.assumptions.append(
                    "terminal value by Gordon growth, ended at the remaining legal life"
                )
            if getattr(m, "tab_years", None):
                out.assumptions.append(
                    f"tax amortisation benefit over {m.tab_years} years: "
                    "factor 1 / (1 - T/n x PVA(k, n))"
                )
            out.assumptions.append(
                "cash flows mid-year (t - 0.5)" if m.mid_year else "cash flows at year ends"
            )
        return _finish(out, audit)
    result_c, extra_c = _value_cost(m, p, draw)
    out = MethodOutcome(value=result_c.value)
    if audit:
        out.audit = extra_c | {
            "replacement_cost": result_c.replacement_cost,
            "obsolescence_factor": result_c.obsolescence_factor,
            "depreciation_rate": result_c.depreciation_rate,
        }
        if isinstance(m, ReplacementCostInputs):
            out.assumptions.append(
                "replacement cost = costs x (1 + developer's profit) x (1 + entrepreneurial "
                "incentive); obsolescence (1-f)(1-t)(1-e); age-life depreciation used/(used+rem)"
            )
        else:
            out.assumptions.append("multiplier method: (C + beta1 V) / (1 - beta2) x (1 + L)")
    return _finish(out, audit)


def _finish(out: MethodOutcome, audit: bool) -> MethodOutcome:
    if audit:
        out.audit = _jsonable(out.audit)
    else:
        out.audit = {}
    return out


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray | np.floating | np.integer | float | int) and not isinstance(
        obj, bool
    ):
        return _num(obj)
    return obj
