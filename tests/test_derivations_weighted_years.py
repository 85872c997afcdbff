"""加权投资年限 (weighted investment years) as the cost approach's years used (issue 14, item 4).

Reference values come from tests/reference/derivations_cost_excess.json
(``weighted_investment_years``), each with its published source: through the public function,
the derivation and the HTTP API (the audit shows the figures the source computes). Properties
and bad input (422s naming the field and the fix) follow.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipvalue.models.cost_methods import WeightedInvestmentYears
from ipvalue.models.uncertain import base_value
from ipvalue.valuation import cost
from ipvalue.valuation.derive import derive
from ipvalue.valuation.derive.cost import weighted_years

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "derivations_cost_excess.json").read_text(
        encoding="utf-8"
    )
)
CASES = {c["id"]: c for c in REFERENCE["weighted_investment_years"]}
COST_CASES = {c["id"]: c for c in REFERENCE["cases"]}
PATH = "methods[0].years_used"
KEY = "weighted_investment_years"


def base_draw(path: str, x: Any) -> Any:
    return base_value(x)


def body(method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "asset": {"name": "machine know-how", "kind": "patent", "legal": {"status": "granted"}},
        "valuation_date": "2026-11-27",
        "currency": "CNY",
        "methods": [method],
        **extra,
    }


def post(client: Any, method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resp = client.post("/v1/valuations", json=body(method, **extra))
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def errors(client: Any, method: dict[str, Any]) -> dict[str, str]:
    resp = client.post("/v1/valuations", json=body(method))
    assert resp.status_code == 422, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    return {e["field"]: e["message"] for e in resp.get_json()["errors"]}


def check(case: dict[str, Any], figures: dict[str, float]) -> None:
    for name, expected in case["expected"].items():
        tol = case["tolerance"][name]
        assert abs(figures[name] - expected) <= tol, (
            f"{case['id']} {name}: expected {expected}, computed {figures[name]:.6f}, "
            f"tolerance {tol} (source: {case['source']})"
        )


def derived_figures(case: dict[str, Any]) -> dict[str, float]:
    x = WeightedInvestmentYears.model_validate({KEY: case["parts"]})
    out = derive(x, PATH, base_draw)
    f = out.figures
    figures = {
        "restated_total": float(f["restated_total"]),
        "weighted_total": float(f["weighted_total"]),
        "weighted_years": float(f["weighted_years"]),
        "years_used": float(out.value),
    }
    if "years_remaining" in case:
        rate = float(cost.age_life_depreciation(out.value, case["years_remaining"]))
        figures |= {"depreciation_rate": rate, "newness_rate": 1.0 - rate}
    return figures


def method_of(case: dict[str, Any]) -> dict[str, Any]:
    """A replacement cost of the restated total aged by the case's weighted years."""
    return {
        "method": "replacement_cost",
        "costs": [
            {"name": "restated investments", "amount": derived_figures(case)["restated_total"]}
        ],
        "years_used": {KEY: case["parts"]},
        "years_remaining": case["years_remaining"],
    }


# --- reference values ---------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_weighted_years_reproduce_the_published_answer(case):
    check(case, derived_figures(case))


def test_the_plain_formula_is_the_published_one():
    """145 / 45 = 3.22 years (the A, B, C unit), through the public function alone."""
    case = CASES["weighted-years-unit-abc-multiple-choice"]
    years = float(weighted_years(case["parts"]["costs"], case["parts"]["ages"]))
    assert years == pytest.approx(145 / 45, rel=1e-15)


@pytest.mark.parametrize(
    "case_id",
    [c for c in CASES if "years_remaining" in CASES[c]],
)
def test_a_valuation_with_weighted_years_shows_the_published_figures(client, case_id):
    case = CASES[case_id]
    out = post(client, method_of(case))
    (m,) = out["methods"]
    trail = m["audit"]["derivations"][PATH]
    assert trail["practice"] == KEY
    rate = m["audit"]["depreciation_rate"]
    figures = {
        "restated_total": trail["restated_total"],
        "weighted_total": trail["weighted_total"],
        "weighted_years": trail["weighted_years"],
        "years_used": trail["years_used"],
        "depreciation_rate": rate,
        "newness_rate": 1.0 - rate,
    }
    check(case, figures)
    assert len(trail["investments"]) == len(case["parts"]["costs"])
    assert "age-life depreciation used/(used+rem)" in m["assumptions"]


def test_the_zikao_machine_answer_end_to_end_with_derived_years(client):
    """The whole published answer (74.24 万元) with years used derived, not given as 2.25."""
    full = COST_CASES["cost-zikao-machine-index-newness-obsolescence"]
    years = CASES["weighted-years-zikao-machine-index-utilisation"]
    inputs = copy.deepcopy(full["inputs"]) | {"years_used": {KEY: years["parts"]}}
    out = post(client, {"method": full["method"], **inputs})
    audit = out["methods"][0]["audit"]
    got = {
        "replacement_cost": audit["replacement_cost"],
        "physical_depreciation": audit["replacement_cost"] * audit["depreciation_rate"],
        "value": out["value"]["point"],
    }
    for name in got:
        expected, tol = full["expected"][name], full["tolerance"][name]
        assert abs(got[name] - expected) <= tol, (name, got[name], expected)
    assert audit["derivations"][PATH]["years_used"] == pytest.approx(2.25, abs=0.005)


def test_the_cli_shows_the_weighted_years(tmp_path, capsys):
    from ipvalue.api.cli import main

    case = CASES["weighted-years-unit-abc-multiple-choice"]
    path = tmp_path / "weighted-years.json"
    path.write_text(json.dumps(body(method_of(case))), encoding="utf-8")
    assert main(["value", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    trail = out["methods"][0]["audit"]["derivations"][PATH]
    assert trail["practice"] == KEY
    assert trail["weighted_years"] == pytest.approx(145 / 45)
    assert main(["value", str(path)]) == 0
    text = capsys.readouterr().out
    assert KEY in text, text


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.01, 1e6), st.floats(0, 50)), min_size=1, max_size=8),
)
def test_weighted_years_lie_between_the_youngest_and_oldest(investments):
    costs, ages = zip(*investments, strict=True)
    years = float(weighted_years(list(costs), list(ages)))
    assert min(ages) - 1e-9 <= years <= max(ages) + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 1e6), st.floats(0, 50), st.integers(1, 6))
def test_one_age_for_all_gives_that_age(amount, age, n):
    assert float(weighted_years([amount] * n, [age] * n)) == pytest.approx(age)


def test_an_index_factor_common_to_all_leaves_the_weighted_years_unchanged():
    parts = {"costs": [100, 50, 20], "ages": [8, 3, 1]}
    plain = derived_figures({"parts": parts})["weighted_years"]
    indexed = derived_figures({"parts": parts | {"price_factors": [1.3, 1.3, 1.3]}})
    assert indexed["weighted_years"] == pytest.approx(plain, rel=1e-12)
    assert indexed["restated_total"] == pytest.approx(1.3 * 170)


def test_uncertain_ages_are_sampled(client):
    parts = {"costs": [100, 100], "ages": [{"dist": "uniform", "low": 2, "high": 6}, 2]}
    method = {
        "method": "replacement_cost",
        "costs": [{"name": "build", "amount": 200}],
        "years_used": {KEY: parts},
        "years_remaining": 7,
    }
    out = post(client, method, simulation={"paths": 4000, "seed": 5})
    # weighted years = (age + 2) / 2 in [2, 4]: newness 7 / (3 + 7) = 0.7 at the base, spread
    assert out["value"]["point"] == pytest.approx(200 * 7 / 10)
    dist = out["distribution"]
    assert 200 * 7 / 11 - 1e-6 <= dist["p05"] < dist["p95"] <= 200 * 7 / 9 + 1e-6


# --- bad input ----------------------------------------------------------------------------

BASE = {
    "method": "replacement_cost",
    "costs": [{"name": "rebuild", "amount": 1000}],
    "years_remaining": 5,
}
FIELD = f"{PATH}.{KEY}"


@pytest.mark.parametrize(
    ("parts", "field", "fix"),
    [
        ({"costs": [], "ages": []}, "costs", "at least one"),
        ({"costs": [10, -1], "ages": [1, 2]}, "costs[1]", "non-negative"),
        ({"costs": [10, 1], "ages": [1]}, "ages", "one per cost"),
        ({"costs": [10], "ages": [1], "price_factors": [1.1, 1.2]}, "price_factors", "one per"),
        (
            {"costs": [10], "ages": [1], "index_from": [100, 90], "index_to": 110},
            "index_from",
            "one per",
        ),
        ({"costs": [10], "ages": [-2]}, "ages[0]", "years"),
        ({"costs": [0, 0], "ages": [1, 2]}, "costs", "above 0"),
        ({"costs": [10], "ages": [1], "index_from": [100]}, "index_to", "together"),
        (
            {
                "costs": [10],
                "ages": [1],
                "index_from": [100],
                "index_to": 110,
                "price_factors": [1],
            },
            "index_from",
            "not both",
        ),
        ({"costs": [10], "ages": [0]}, "", "above 0"),
        ({"costs": [10], "ages": [1], "utilisation": 0}, "utilisation", "actual use"),
    ],
)
def test_bad_weighted_years_name_the_field_and_the_fix(client, parts, field, fix):
    method = BASE | {"years_used": {KEY: parts}}
    found = errors(client, method)
    name = f"{FIELD}.{field}" if field else FIELD
    assert set(found) == {name}, found
    assert fix in found[name]


def test_weighted_years_without_the_remaining_years_name_years_remaining(client):
    method = {k: v for k, v in BASE.items() if k != "years_remaining"}
    method["years_used"] = {KEY: {"costs": [10], "ages": [3]}}
    assert set(errors(client, method)) == {"methods[0].years_remaining"}


def test_a_licence_minimum_price_ages_its_cost_by_weighted_years(client):
    """The licensor's net replacement cost takes the same derivation as the cost approach."""
    case = CASES["weighted-years-unit-abc-multiple-choice"]

    def licence(years_used: Any) -> dict[str, Any]:
        return {
            "method": "licence",
            "minimum_price": {
                "replacement_cost": 1000.0,
                "years_used": years_used,
                "years_remaining": case["years_remaining"],
                "cost_share": 0.3,
            },
        }

    derived = post(client, licence({KEY: case["parts"]}))["methods"][0]
    typed = post(client, licence(145 / 45))["methods"][0]
    assert derived["value"] == pytest.approx(typed["value"], rel=1e-12)
    trail = derived["audit"]["derivations"]["methods[0].minimum_price.years_used"]
    assert trail["practice"] == KEY
    assert trail["years_used"] == pytest.approx(145 / 45)
