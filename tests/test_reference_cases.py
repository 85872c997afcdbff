"""Published worked examples, through the library and through POST /v1/valuations.

Each case names its source in tests/reference/cases.json (or tests/reference/extra_cases.json);
a failure prints expected, computed and tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ipvalue.valuation import cost, income, options
from tests.conftest import load_cases

CASES = {c["id"]: c for c in load_cases()}
EXTRA = {
    c["id"]: c
    for c in json.loads((Path(__file__).parent / "reference" / "extra_cases.json").read_text())[
        "cases"
    ]
}
ASSET = {"name": "reference case", "kind": "patent"}


def check(case: dict[str, Any], name: str, computed: float) -> None:
    expected = case["expected"][name]
    tol = case["tolerance"]
    assert abs(computed - expected) <= tol, (
        f"{case['id']} {name}: expected {expected}, computed {computed:.6f}, tolerance {tol} "
        f"(source: {case['source']})"
    )


def library_value(case: dict[str, Any]) -> dict[str, float]:
    """Value a case with the pure functions in valuation/."""
    x = case["inputs"]
    method = case["method"]
    if method == "relief_from_royalty":
        r = income.relief_from_royalty(
            x["revenue"],
            x["royalty_rate"],
            x["tax_rate"],
            x["discount_rate"],
            tab_years=x["tab_years"],
        )
        return {
            "value": float(r.value),
            "value_before_tab": float(r.value_before_tab),
            "tab_factor": float(r.tab_factor),
        }
    if method == "with_and_without":
        r = income.with_and_without(x["incremental_profit"], x["tax_rate"], x["discount_rate"])
        return {"value": float(r.value)}
    if method == "dcf":
        return {"value": float(income.dcf(x["cash_flows"], x["discount_rate"]).value)}
    if method == "replacement_cost":
        total = sum(c["amount"] for c in x["costs"])
        r = cost.replacement_cost(
            total, years_used=x["years_used"], years_remaining=x["years_remaining"]
        )
        return {"value": float(r.value)}
    if method == "real_option":
        o = options.black_scholes(
            x["underlying_value"],
            x["exercise_cost"],
            x["years"],
            x["volatility"],
            x["risk_free_rate"],
            x["dividend_yield"],
        )
        return {"value": float(o.call)}
    if method == "black_scholes":
        o = options.black_scholes(
            x["spot"],
            x["strike"],
            x["years"],
            x["volatility"],
            x["rate"],
            x.get("dividend_yield", 0.0),
        )
        return {"call": float(o.call), "put": float(o.put), "d1": float(o.d1), "d2": float(o.d2)}
    if method == "equivalent_investment_split_rate":
        return {"split_rate": float(income.equivalent_investment_split_rate(**x))}
    if method == "split_rate_from_royalty":
        return {"split_rate": float(income.split_rate_from_royalty(**x))}
    raise KeyError(method)


VALUATION_CASES = [cid for cid, c in CASES.items() if c["method"] not in {"collateral"}]


@pytest.mark.parametrize("case_id", VALUATION_CASES)
def test_library_reproduces_published_case(case_id: str) -> None:
    case = CASES[case_id]
    computed = library_value(case)
    for name in case["expected"]:
        check(case, name, computed[name])


@pytest.mark.parametrize("case_id", sorted(EXTRA))
def test_library_reproduces_further_published_case(case_id: str) -> None:
    case = EXTRA[case_id]
    computed = library_value(case)
    for name in case["expected"]:
        check(case, name, computed[name])


def api_method(case: dict[str, Any]) -> dict[str, Any]:
    """The case as one entry of ``methods`` in POST /v1/valuations."""
    x = {k: v for k, v in case["inputs"].items() if k != "note"}
    if case["method"] == "black_scholes":
        return {
            "method": "real_option",
            "underlying_value": x["spot"],
            "exercise_cost": x["strike"],
            "years": x["years"],
            "volatility": x["volatility"],
            "risk_free_rate": x["rate"],
            "dividend_yield": x.get("dividend_yield", 0.0),
        }
    return {"method": case["method"], **x}


@pytest.mark.parametrize("case_id", VALUATION_CASES)
def test_api_reproduces_published_case(client, case_id: str) -> None:
    case = CASES[case_id]
    body = {
        "asset": ASSET,
        "valuation_date": "2026-11-27",
        "currency": "USD",
        "methods": [api_method(case)],
    }
    resp = client.post("/v1/valuations", json=body)
    assert resp.status_code == 201, resp.get_json()
    result = resp.get_json()
    method = result["methods"][0]
    for name in case["expected"]:
        if name in {"value", "call"}:
            computed = result["value"]["point"]
        elif name == "put":
            computed = method["audit"]["put_value"]
        else:
            computed = method["audit"][name]
        check(case, name, computed)
