"""The requests the Monte Carlo benchmarks time: every method's inputs, the five-method request
and the README's correlated relief-from-royalty case."""

from __future__ import annotations

from typing import Any

from ipvalue.models.valuation import ValuationRequest

INPUTS = [
    "methods[0].revenue.base",
    "methods[0].revenue.growth",
    "methods[0].royalty_rate",
    "methods[0].discount_rate",
]
MATRIX = [
    [1.0, 0.4, 0.3, -0.2],
    [0.4, 1.0, 0.2, -0.1],
    [0.3, 0.2, 1.0, 0.0],
    [-0.2, -0.1, 0.0, 1.0],
]
NO_LEGAL_RISK = {"invalidation_hazard": 0, "lapse_hazard": 0, "litigation_loss_hazard": 0}
LEGAL_RISK = {
    "invalidation_hazard": 0.02,
    "lapse_hazard": 0.03,
    "litigation_loss_hazard": 0.01,
    "litigation_loss_share": 0.5,
}
ASSET = {"name": "bench", "kind": "software"}
PATENT = {
    "name": "EP-bench",
    "kind": "patent",
    "legal": {"status": "granted", "filing_date": "2018-01-01"},
}
GOALS = {"core": 2.5, "full": 3.0, "rfr": 1.5, "paths": 3.0, "api": 5.0}


def tri(low: float, mode: float, high: float) -> dict[str, Any]:
    return {"dist": "triangular", "low": low, "mode": mode, "high": high}


def uni(low: float, high: float) -> dict[str, Any]:
    return {"dist": "uniform", "low": low, "high": high}


def norm(mean: float, sd: float) -> dict[str, Any]:
    return {"dist": "normal", "mean": mean, "sd": sd}


def revenue(base: float = 1e6) -> dict[str, Any]:
    return {"base": norm(base, 0.2 * base), "growth": norm(0.05, 0.03), "years": 10}


RFR = {
    "method": "relief_from_royalty",
    "revenue": revenue(),
    "royalty_rate": tri(0.03, 0.05, 0.08),
    "tax_rate": 0.25,
    "discount_rate": uni(0.10, 0.20),
}
EXCESS_EARNINGS = {
    "method": "excess_earnings",
    "revenue": revenue(),
    "operating_margin": tri(0.15, 0.25, 0.30),
    "tax_rate": 0.25,
    "contributory_charges": [{"name": "working capital", "rate": uni(0.01, 0.03)}],
    "discount_rate": 0.15,
    "tab_years": 15,
}
MARKET_ROYALTIES = {
    "method": "market",
    "comparables": [
        {"royalty_rate": uni(0.02, 0.04), "adjustments": {"time": tri(0.9, 1.0, 1.1)}},
        {"royalty_rate": 0.03, "adjustments": [1.1]},
        {"royalty_rate": tri(0.025, 0.035, 0.05)},
    ],
    "revenue": {"base": 1e6, "growth": 0.04, "years": 10},
    "tax_rate": 0.25,
    "discount_rate": 0.12,
}
REPLACEMENT_COST = {
    "method": "replacement_cost",
    "costs": [
        {"name": "R&D staff", "amount": norm(900_000, 90_000)},
        {"name": "prototypes", "amount": tri(200_000, 250_000, 350_000)},
        {"name": "filing", "amount": 80_000},
    ],
    "developer_profit_rate": 0.10,
    "entrepreneurial_incentive_rate": 0.05,
    "obsolescence": {"technological": uni(0.10, 0.20)},
}
REAL_OPTION = {
    "method": "real_option",
    "underlying_value": {"dist": "lognormal", "median": 3_400_000, "sigma": 0.3},
    "exercise_cost": 2_900_000,
    "years": 5,
    "volatility": tri(0.35, 0.45, 0.60),
    "risk_free_rate": 0.03,
    "dividend_yield": 0.02,
}
EVERY_METHOD: dict[str, dict[str, Any]] = {
    "dcf": {
        "method": "dcf",
        "cash_flows": {"base": norm(2e5, 4e4), "growth": norm(0.03, 0.02), "years": 10},
        "discount_rate": uni(0.10, 0.16),
        "terminal_growth": 0.01,
    },
    "relief_from_royalty": RFR,
    "excess_earnings": EXCESS_EARNINGS,
    "with_and_without": {
        "method": "with_and_without",
        "incremental_profit": {"base": tri(1e5, 1.5e5, 2.2e5), "growth": 0.03, "years": 10},
        "tax_rate": uni(0.20, 0.30),
        "discount_rate": uni(0.10, 0.16),
    },
    "profit_split": {
        "method": "profit_split",
        "profit": {"base": norm(3e5, 5e4), "growth": 0.04, "years": 10},
        "split_rate": tri(0.2, 0.25, 0.33),
        "tax_rate": 0.25,
        "discount_rate": uni(0.10, 0.16),
    },
    "equivalent_investment_split": {
        "method": "equivalent_investment_split",
        "ip_cost": tri(8e5, 1e6, 1.3e6),
        "ip_cost_profit_rate": 0.15,
        "other_investment": uni(3e6, 5e6),
        "other_investment_profit_rate": 0.10,
        "profit": {"base": norm(5e5, 1e5), "growth": 0.03, "years": 10},
        "discount_rate": 0.12,
    },
    "replacement_cost": REPLACEMENT_COST,
    "multiplier_cost": {
        "method": "multiplier_cost",
        "material_cost": tri(1e5, 1.2e5, 1.6e5),
        "labour_cost": 2e5,
        "research_labour_cost": norm(5e5, 5e4),
        "research_multiplier": 1.5,
        "failure_rate": uni(0.1, 0.3),
        "profit_rate": 0.1,
        "years_used": 2,
        "years_remaining": 8,
    },
    "market": MARKET_ROYALTIES,
    "real_option": REAL_OPTION,
    "licence": {
        "method": "licence",
        "upfront": 5e5,
        "running_royalty_rate": tri(0.02, 0.025, 0.035),
        "revenue": {"base": norm(4e6, 6e5), "growth": norm(0.04, 0.02), "years": 10},
        "discount_rate": uni(0.10, 0.14),
        "minimum_price": {
            "replacement_cost": tri(1.8e6, 2.2e6, 2.6e6),
            "years_used": 3,
            "years_remaining": 9,
            "cost_share": 0.4,
            "lost_income": 1.5e5,
            "added_cost": 5e4,
        },
        "licensee_value": RFR,
    },
}
FIVE_METHODS = [RFR, EXCESS_EARNINGS, MARKET_ROYALTIES, REPLACEMENT_COST, REAL_OPTION]


def valuation_body(
    methods: list[dict[str, Any]], simulation: dict[str, Any], asset: dict[str, Any] = ASSET
) -> dict[str, Any]:
    return {
        "asset": asset,
        "valuation_date": "2026-01-01",
        "currency": "EUR",
        "methods": methods,
        "simulation": simulation,
    }


def request(paths: int, correlated: bool = True, seed: int = 1) -> ValuationRequest:
    """10-year relief from royalty; revenue base, growth, royalty and discount rate uncertain."""
    sim: dict[str, Any] = {"paths": paths, "seed": seed, "legal_risk": NO_LEGAL_RISK}
    if correlated:
        sim["correlations"] = {"inputs": INPUTS, "matrix": MATRIX}
    return ValuationRequest.model_validate(valuation_body([RFR], sim))
