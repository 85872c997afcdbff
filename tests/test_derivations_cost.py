"""Cost approach done properly (issue 14, item 4): price-index restatement, the newness rate
(成新率) beside age-life, obsolescence from excess operating cost and an income shortfall.

Reference values come from tests/reference/derivations_cost_excess.json, each with its
published source; properties and bad input follow.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipvalue.valuation import cost
from ipvalue.valuation.discounting import annuity_factor

CASES = {
    c["id"]: c
    for c in json.loads(
        (Path(__file__).parent / "reference" / "derivations_cost_excess.json").read_text()
    )["cases"]
}


def body(method: dict[str, Any]) -> dict[str, Any]:
    return {
        "asset": {"name": "machine know-how", "kind": "patent", "legal": {"status": "granted"}},
        "valuation_date": "2026-11-27",
        "currency": "CNY",
        "methods": [method],
    }


def check(case: dict[str, Any], name: str, computed: float) -> None:
    expected, tol = case["expected"][name], case["tolerance"][name]
    assert abs(computed - expected) <= tol, (
        f"{case['id']} {name}: expected {expected}, computed {computed:.6f}, tolerance {tol} "
        f"(source: {case['source']})"
    )


def post(client: Any, method: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/v1/valuations", json=body(method))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.mark.parametrize(
    "case_id",
    ["cost-zikao-machine-index-newness-obsolescence", "cost-index-three-items-functional"],
)
def test_published_cost_cases_through_the_api(client, case_id):
    case = CASES[case_id]
    out = post(client, {"method": case["method"], **case["inputs"]})
    audit = out["methods"][0]["audit"]
    figures = {
        "replacement_cost": audit["replacement_cost"],
        "functional_obsolescence_amount": audit.get("functional_obsolescence_amount"),
        "economic_obsolescence_rate": audit.get("economic_obsolescence_rate"),
        "physical_depreciation": audit["replacement_cost"] * audit["depreciation_rate"],
        "value": out["value"]["point"],
    }
    for name in case["expected"]:
        check(case, name, figures[name])


def test_zikao_case_through_the_library():
    """The same published case with the pure functions: each step as the source computes it."""
    case = CASES["cost-zikao-machine-index-newness-obsolescence"]
    rc = cost.restate_by_index(100, 105, 120) + cost.restate_by_index(10, 115, 120)
    functional = cost.after_tax_annuity(1.2, 0.25, 0.10, 6)
    economic = cost.capacity_obsolescence_rate(0.8, 1.0, 0.7)
    r = cost.replacement_cost(
        rc,
        years_used=2.25,
        years_remaining=6,
        functional_amount=functional,
        economic=economic,
    )
    check(case, "replacement_cost", float(rc))
    check(case, "functional_obsolescence_amount", float(functional))
    check(case, "economic_obsolescence_rate", float(economic))
    check(case, "value", float(r.value))


def test_existing_fraction_obsolescence_still_works(client):
    """The fraction form: 1,000,000 x (1 - 0.1)(1 - 0.2)(1 - 0.05) x (1 - 5/8)."""
    out = post(
        client,
        {
            "method": "replacement_cost",
            "costs": [{"name": "rebuild", "amount": 1_000_000}],
            "obsolescence": {"functional": 0.1, "technological": 0.2, "economic": 0.05},
            "years_used": 5,
            "years_remaining": 3,
        },
    )
    assert out["value"]["point"] == pytest.approx(1_000_000 * 0.9 * 0.8 * 0.95 * 0.375)


def test_newness_rate_alone_and_weighted_with_age_life(client):
    base = {"method": "replacement_cost", "costs": [{"name": "rebuild", "amount": 1000}]}
    alone = post(client, base | {"newness_rate": 0.7})
    assert alone["value"]["point"] == pytest.approx(700)
    both = post(
        client,
        base
        | {
            "newness_rate": 0.7,
            "years_used": 5,
            "years_remaining": 5,
            "newness_weights": {"age_life": 0.4, "observed": 0.6},
        },
    )
    # 0.4 x 0.5 + 0.6 x 0.7 = 0.62
    assert both["value"]["point"] == pytest.approx(620)
    audit = both["methods"][0]["audit"]
    assert audit["newness_age_life"] == pytest.approx(0.5)
    assert audit["newness_observed"] == pytest.approx(0.7)
    assert any("0.4 x age-life + 0.6 x observed" in a for a in both["methods"][0]["assumptions"])


def test_multiplier_cost_takes_newness_and_obsolescence(client):
    m = {
        "method": "multiplier_cost",
        "material_cost": 100,
        "labour_cost": 50,
        "research_labour_cost": 50,
        "research_multiplier": 2,
        "failure_rate": 0.2,
        "profit_rate": 0.1,
    }
    plain = post(client, m)["value"]["point"]
    assert plain == pytest.approx((150 + 100) / 0.8 * 1.1)
    worn = post(client, m | {"newness_rate": 0.5, "obsolescence": {"economic": 0.1}})
    assert worn["value"]["point"] == pytest.approx(plain * 0.5 * 0.9)


def test_economic_obsolescence_from_lost_income(client):
    """Lost income 10 a year before tax, 25 % tax, 10 %, 4 years: 10 x 0.75 x PVA(10 %, 4)."""
    out = post(
        client,
        {
            "method": "replacement_cost",
            "costs": [{"name": "rebuild", "amount": 1000}],
            "years_used": 6,
            "years_remaining": 4,
            "obsolescence": {
                "economic_shortfall": {
                    "annual_income_loss": 10,
                    "tax_rate": 0.25,
                    "discount_rate": 0.10,
                }
            },
        },
    )
    loss = 10 * 0.75 * float(annuity_factor(0.10, 4))
    assert out["methods"][0]["audit"]["economic_obsolescence_amount"] == pytest.approx(loss)
    assert out["value"]["point"] == pytest.approx(1000 * 0.4 - loss)


def test_uncertain_index_is_sampled(client):
    m = {
        "method": "replacement_cost",
        "costs": [
            {
                "name": "build",
                "amount": 100,
                "index_from": 100,
                "index_to": {"dist": "uniform", "low": 110, "high": 130},
            }
        ],
    }
    b = body(m) | {"simulation": {"paths": 2000, "seed": 3}}
    out = client.post("/v1/valuations", json=b).get_json()
    assert out["value"]["point"] == pytest.approx(120)
    assert 110 <= out["distribution"]["p05"] < out["distribution"]["p95"] <= 130


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1e6), st.floats(0.01, 1e3))
def test_index_one_leaves_cost_unchanged(amount, index):
    assert float(cost.restate_by_index(amount, index, index)) == pytest.approx(amount)


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 1e6), st.floats(0, 0.9), st.floats(0, 0.9))
def test_newness_one_means_no_depreciation(total, f, t):
    new = cost.replacement_cost(total, functional=f, technological=t, observed_newness=1.0)
    plain = cost.replacement_cost(total, functional=f, technological=t)
    assert float(new.depreciation_rate) == 0.0
    assert float(new.value) == pytest.approx(float(plain.value))


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 30), st.floats(0.01, 30))
def test_combined_newness_lies_between_its_parts(observed, w, used, remaining):
    combined = 1 - float(cost.depreciation_rate(used, remaining, observed, (w, 1 - w)))
    age = remaining / (used + remaining)
    assert min(age, observed) - 1e-12 <= combined <= max(age, observed) + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1e5), st.floats(0, 0.5), st.floats(0.01, 0.5), st.integers(1, 40))
def test_after_tax_annuity_is_the_discounted_sum(amount, tax, rate, years):
    closed = float(cost.after_tax_annuity(amount, tax, rate, years))
    summed = amount * (1 - tax) * float(annuity_factor(rate, years))
    assert closed == pytest.approx(summed, rel=1e-10, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1), st.floats(0.01, 1))
def test_capacity_obsolescence_is_a_share(used, x):
    rate = float(cost.capacity_obsolescence_rate(used, 1.0, x))
    assert 0.0 <= rate <= 1.0
    assert float(cost.capacity_obsolescence_rate(1.0, 1.0, x)) == 0.0


def test_more_obsolescence_never_raises_the_value():
    values = [
        float(
            cost.replacement_cost(1000, years_used=2, years_remaining=8, functional_amount=f).value
        )
        for f in np.linspace(0, 500, 11)
    ]
    assert all(b <= a for a, b in itertools.pairwise(values))


# --- bad input ------------------------------------------------------------------------------

BASE = {"method": "replacement_cost", "costs": [{"name": "rebuild", "amount": 1000}]}


@pytest.mark.parametrize(
    ("change", "field", "fix"),
    [
        ({"newness_rate": 1.2}, "methods[0].newness_rate", ""),
        (
            {"newness_rate": 0.7, "years_used": 2, "years_remaining": 8},
            "methods[0].newness_weights",
            "age_life",
        ),
        (
            {
                "newness_rate": 0.7,
                "years_used": 2,
                "years_remaining": 8,
                "newness_weights": {"age_life": 0.5, "observed": 0.6},
            },
            "methods[0].newness_weights.observed",
            "= 1",
        ),
        ({"years_used": -1, "years_remaining": 3}, "methods[0].years_used", ""),
        ({"costs": [{"name": "a", "amount": 1, "year": 2019}]}, "methods[0].price_index", ""),
        (
            {
                "costs": [{"name": "a", "amount": 1, "year": 2019}],
                "price_index": {"by_year": {"2020": 100}, "valuation_year": 2020},
            },
            "methods[0].price_index",
            "2019",
        ),
        (
            {"costs": [{"name": "a", "amount": 1, "index_from": 100}]},
            "methods[0].costs[0].index_to",
            "together",
        ),
        (
            {
                "obsolescence": {
                    "functional": 0.1,
                    "functional_excess_cost": {
                        "annual_excess_cost": 1,
                        "tax_rate": 0.25,
                        "discount_rate": 0.1,
                        "remaining_years": 3,
                    },
                }
            },
            "methods[0].obsolescence.functional_excess_cost",
            "twice",
        ),
        (
            {
                "obsolescence": {
                    "economic_shortfall": {
                        "capacity_used": 1.2,
                        "capacity": 1,
                        "scale_exponent": 0.7,
                    }
                }
            },
            "methods[0].obsolescence.economic_shortfall.capacity_used",
            "above capacity",
        ),
        (
            {
                "obsolescence": {
                    "economic_shortfall": {
                        "capacity_used": 0.8,
                        "capacity": 1,
                        "annual_income_loss": 5,
                    }
                }
            },
            "methods[0].obsolescence.economic_shortfall.annual_income_loss",
            "not both",
        ),
        (
            {
                "obsolescence": {
                    "functional_excess_cost": {
                        "annual_excess_cost": 1,
                        "tax_rate": 0.25,
                        "discount_rate": 0.1,
                    }
                }
            },
            "methods[0].obsolescence.functional_excess_cost.remaining_years",
            "years_remaining",
        ),
    ],
)
def test_bad_cost_input_is_a_422_naming_the_field(client, change, field, fix):
    m = copy.deepcopy(BASE) | change
    resp = client.post("/v1/valuations", json=body(m))
    assert resp.status_code == 422, resp.get_json()
    assert resp.content_type == "application/problem+json"
    errors = {e["field"]: e["message"] for e in resp.get_json()["errors"]}
    assert field in errors, errors
    assert fix in errors[field]
