"""Excess earnings done properly (issue 14, items 3, 7 and 8): contributory charges as return
on and return of each asset's value, survivor curves, the WARA check, negative values said.

Reference values from tests/reference/derivations_cost_excess.json (with their sources);
hand-worked figures are labelled as such; properties and bad input follow.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipvalue.valuation import attrition, contributory, income
from ipvalue.valuation.signed import lender_value

CASES = {
    c["id"]: c
    for c in json.loads(
        (Path(__file__).parent / "reference" / "derivations_cost_excess.json").read_text()
    )["cases"]
}
MPEEM: dict[str, Any] = {
    "method": "excess_earnings",
    "revenue": [1000, 1000, 1000],
    "operating_margin": 0.2,
    "tax_rate": 0.25,
    "discount_rate": 0.12,
}


def body(method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "asset": {"name": "customer list", "kind": "trade_secret"},
        "valuation_date": "2026-11-27",
        "currency": "EUR",
        "methods": [method],
        **extra,
    }


def post(client: Any, method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resp = client.post("/v1/valuations", json=body(method, **extra))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def mpeem(**fields: Any) -> dict[str, Any]:
    return copy.deepcopy(MPEEM) | fields


def test_published_return_on_charges(client):
    """OPAG FAQ: 2m x 3 % = 60,000; 5m x 8 % = 400,000; 10m x 10 % = 1m (return on)."""
    case = CASES["cac-return-on-opag"]
    out = post(client, {"method": case["method"], **case["inputs"]})
    charges = out["methods"][0]["audit"]["contributory_charges"]
    for name, expected in case["expected"]["return_on"].items():
        computed = charges[name]["return_on"][0]
        assert abs(computed - expected) <= case["tolerance"]["return_on"], (
            f"{name}: expected {expected}, computed {computed} (source: {case['source']})"
        )
        assert charges[name]["return_of_after_tax"] == [0.0]


def test_return_on_and_return_of_hand_worked(client):
    """Hand-worked: revenue 1000 a year, margin 20 %, tax 25 %, 12 %, three years.

    Working capital 500 at 5 %: 25 a year (return on only). Fixed assets 300 at 8 % with a
    5-year life: 24 + 60 x (1 - 0.25) = 69. Brand charged at 1 % of revenue: 10.
    EE = 1000 x 0.2 x 0.75 - 10 - 25 - 69 = 46 a year; V = 46 x PVA(12 %, 3) = 110.48.
    """
    out = post(
        client,
        mpeem(
            contributory_charges=[
                {"name": "wc", "kind": "working_capital", "value": 500, "required_return": 0.05},
                {
                    "name": "fa",
                    "kind": "fixed_assets",
                    "value": 300,
                    "required_return": 0.08,
                    "life_years": 5,
                },
                {"name": "brand", "rate": 0.01},
            ]
        ),
    )
    pva = sum(1.12**-t for t in (1, 2, 3))
    assert out["value"]["point"] == pytest.approx(46 * pva)
    audit = out["methods"][0]["audit"]
    assert audit["income"] == pytest.approx([46, 46, 46])
    assert audit["contributory_charges"]["fa"]["charge"] == pytest.approx([69, 69, 69])
    assert audit["contributory_charges"]["brand"] == pytest.approx(0.01)
    shares = audit["contributory_charge_shares_of_revenue"]
    assert shares["wc"] == pytest.approx([0.025] * 3)
    assert shares["fa"] == pytest.approx([0.069] * 3)
    assert audit["contributory_charge_total_share"] == pytest.approx([0.104] * 3)


def test_value_form_equals_rate_form_when_they_charge_the_same(client):
    """A charge of value x return equal to rate x revenue each year gives the same value."""
    by_rate = post(client, mpeem(contributory_charges=[{"name": "fa", "rate": 0.05}]))
    by_value = post(
        client,
        mpeem(
            contributory_charges=[{"name": "fa", "values": [500, 500, 500], "required_return": 0.1}]
        ),
    )
    assert by_value["value"]["point"] == pytest.approx(by_rate["value"]["point"])


def test_value_per_year_and_return_of_amount(client):
    out = post(
        client,
        mpeem(
            contributory_charges=[
                {
                    "name": "software",
                    "kind": "intangible",
                    "values": [300, 200, 100],
                    "required_return": 0.1,
                    "return_of": 100,
                }
            ]
        ),
    )
    # 150 - (30 + 75), 150 - (20 + 75), 150 - (10 + 75)
    assert out["methods"][0]["audit"]["income"] == pytest.approx([45, 55, 65])


def test_attrition_applies_survival_to_revenue_and_charges(client):
    plain = post(
        client, mpeem(contributory_charges=[{"name": "wc", "value": 500, "required_return": 0.05}])
    )
    kept = post(
        client,
        mpeem(
            contributory_charges=[{"name": "wc", "value": 500, "required_return": 0.05}],
            attrition={"curve": "exponential", "attrition_rate": 0.1},
        ),
    )
    base = np.asarray(plain["methods"][0]["audit"]["income"])
    audit = kept["methods"][0]["audit"]
    assert audit["survival"] == pytest.approx([0.9, 0.81, 0.729])
    assert audit["income"] == pytest.approx(list(base * [0.9, 0.81, 0.729]))
    mid = post(client, mpeem(mid_year=True, attrition={"curve": "weibull", "shape": 2, "scale": 4}))
    assert mid["methods"][0]["audit"]["survival"] == pytest.approx(
        [math.exp(-(((t - 0.5) / 4) ** 2)) for t in (1, 2, 3)]
    )


def test_attrition_parameters_are_sampled(client):
    out = post(
        client,
        mpeem(
            attrition={
                "curve": "exponential",
                "attrition_rate": {"dist": "uniform", "low": 0.05, "high": 0.3},
            }
        ),
        simulation={"paths": 2000, "seed": 5},
    )
    drivers = [d["input"] for d in out["distribution"]["sensitivity"]]
    assert "methods[0].attrition.attrition_rate" in drivers


def test_wara_reconciles_or_warns(client):
    charges = [
        {"name": "wc", "kind": "working_capital", "value": 100, "required_return": 0.04},
        {
            "name": "fa",
            "kind": "fixed_assets",
            "value": 100,
            "required_return": 0.07,
            "life_years": 10,
        },
    ]
    out = post(client, mpeem(contributory_charges=charges, wacc=0.09))
    method = out["methods"][0]
    w = method["audit"]["wara"]
    subject = out["value"]["point"]
    expected = (100 * 0.04 + 100 * 0.07 + subject * 0.12) / (200 + subject)
    assert w["wara"] == pytest.approx(expected)
    assert w["gap"] == pytest.approx(expected - 0.09)
    assert w["subject_weight"] == pytest.approx(subject / (200 + subject))
    reconciles = abs(expected - 0.09) <= 0.01
    assert reconciles == (not any("do not reconcile" in x for x in method["warnings"]))
    off = post(client, mpeem(contributory_charges=charges, wacc=0.2))
    text = " ".join(off["methods"][0]["warnings"])
    assert "do not reconcile" in text and "0.2000" in text


def test_a_contributory_return_above_the_subject_rate_is_flagged(client):
    out = post(
        client,
        mpeem(contributory_charges=[{"name": "tech", "value": 10, "required_return": 0.3}]),
    )
    assert any("'tech'" in w and "riskiest" in w for w in out["methods"][0]["warnings"])


# --- negative values (item 8) ---------------------------------------------------------------

NEGATIVE = mpeem(
    contributory_charges=[
        {"name": "fixed assets", "kind": "fixed_assets", "value": 2000, "required_return": 0.1}
    ]
)


def test_negative_excess_earnings_keep_their_sign_with_warnings(client):
    out = post(client, NEGATIVE)
    value = out["value"]["by_method"]["excess_earnings"]
    assert value < 0 and out["value"]["point"] == pytest.approx(value)
    method = out["methods"][0]
    assert method["value"] == pytest.approx(value)
    figure = f"{value:,.2f}"
    assert any(figure in w and "negative" in w for w in method["warnings"])
    assert any("below the contributory charges" in w for w in method["warnings"])
    assert any(figure in w and "point value is negative" in w for w in out["warnings"])


def test_collateral_from_a_negative_valuation_is_zero_with_the_figure_quoted(client):
    valuation = post(client, NEGATIVE)
    point = valuation["value"]["point"]
    resp = client.post(
        "/v1/collateral",
        json={
            "valuation_id": valuation["id"],
            "volatility": 0.3,
            "horizon_years": 1,
            "loan_amount": 100,
            "annual_pd": 0.02,
            "paths": 2000,
            "seed": 1,
        },
    )
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert out["value"] == 0.0
    assert out["lending_value"] == 0.0 and out["max_loan"] == 0.0
    assert out["range"]["p95"] == 0.0
    assert out["ltv"] is None and out["within_limit"] is False
    assert any(f"{point:,.2f}" in w and "taken as 0" in w for w in out["warnings"])
    stored = client.get(f"/v1/collateral/{out['id']}").get_json()
    assert stored["value"] == 0.0
    quote = client.post(
        "/v1/insurance/quotes",
        json={"collateral_id": out["id"], "cover": "collateral_value", "limit": 10},
    )
    assert quote.status_code == 422, quote.get_json()
    errors = {e["field"]: e["message"] for e in quote.get_json()["errors"]}
    assert "no collateral value to insure" in errors["collateral_id"]
    assert out["loan_loss"]["loss_given_default"] == pytest.approx(1.0)  # nothing recovered


def test_simulated_negative_values_stay_signed_and_value_paths_start_at_zero(client):
    m = copy.deepcopy(NEGATIVE)
    m["operating_margin"] = {"dist": "uniform", "low": 0.05, "high": 0.9}
    out = post(
        client,
        m,
        simulation={"paths": 4000, "seed": 2, "horizon_years": 1, "volatility": 0.3},
    )
    dist = out["distribution"]
    assert dist["p05"] < 0 < dist["p95"]
    assert any("below zero" in w for w in dist["warnings"])
    assert min(dist["value_paths"]["bands"]["p05"]) >= 0.0


def test_lender_value_floors_and_quotes():
    assert lender_value(12.5) == (12.5, None)
    value, warning = lender_value(-1234.5, "the point value", "EUR")
    assert value == 0.0 and warning is not None and "-1,234.50 EUR" in warning


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 0.3), st.floats(0, 0.3), st.floats(0, 5000))
def test_higher_charges_never_raise_the_value(r1, r2, asset_value):
    low, high = sorted((r1, r2))
    values = []
    for r in (low, high):
        c = contributory.value_charge(np.full(5, asset_value), r, 0.25, life_years=8)
        values.append(
            float(
                income.excess_earnings(
                    [1000] * 5, 0.3, 0.25, 0.0, 0.15, contributory_charges=c.charge
                ).value
            )
        )
    assert values[1] <= values[0] + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 0.99), st.floats(0.05, 10), st.floats(0.5, 40), st.booleans())
def test_survival_shares_are_in_unit_interval_and_fall(rate, shape, scale, mid):
    t = attrition.survival_times(30, 0.5 if mid else 0.0)
    for s in (attrition.exponential_survival(rate, t), attrition.weibull_survival(shape, scale, t)):
        assert np.all((s >= 0) & (s <= 1))
        assert np.all(np.diff(s) <= 1e-15)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.5, 50))
def test_weibull_of_shape_one_is_exponential(scale):
    t = attrition.survival_times(20)
    keep = math.exp(-1 / scale)
    assert attrition.weibull_survival(1.0, scale, t) == pytest.approx(
        attrition.exponential_survival(1 - keep, t)
    )


def test_survival_vectorises_over_paths():
    t = attrition.survival_times(4)
    s = attrition.exponential_survival(np.array([0.1, 0.2]), t)
    assert s.shape == (2, 4)
    assert s[1] == pytest.approx(0.8**t)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("charge", "field", "fix"),
    [
        (
            {"name": "x", "rate": 0.01, "value": 10, "required_return": 0.1},
            "methods[0].contributory_charges[0].rate",
            "not both",
        ),
        ({"name": "x"}, "methods[0].contributory_charges[0].rate", "required_return"),
        ({"name": "x", "value": 10}, "methods[0].contributory_charges[0].required_return", "e.g."),
        (
            {"name": "x", "rate": 0.01, "life_years": 5},
            "methods[0].contributory_charges[0].life_years",
            "drop it",
        ),
        (
            {
                "name": "wc",
                "kind": "working_capital",
                "value": 10,
                "required_return": 0.05,
                "life_years": 3,
            },
            "methods[0].contributory_charges[0].life_years",
            "return on only",
        ),
        (
            {"name": "x", "value": 10, "required_return": 0.1, "life_years": -2},
            "methods[0].contributory_charges[0].life_years",
            "",
        ),
        (
            {"name": "x", "value": 10, "required_return": 0.1, "return_of": 1, "life_years": 2},
            "methods[0].contributory_charges[0].life_years",
            "not both",
        ),
        (
            {"name": "x", "values": [1, 2], "required_return": 0.1},
            "methods[0].contributory_charges[0].values",
            "one value per revenue year",
        ),
    ],
)
def test_bad_charge_is_a_422_naming_the_field(client, charge, field, fix):
    resp = client.post("/v1/valuations", json=body(mpeem(contributory_charges=[charge])))
    assert resp.status_code == 422, resp.get_json()
    errors = {e["field"]: e["message"] for e in resp.get_json()["errors"]}
    assert field in errors, errors
    assert fix in errors[field]


@pytest.mark.parametrize(
    ("extra", "field", "fix"),
    [
        ({"attrition": {"curve": "exponential"}}, "methods[0].attrition.attrition_rate", "needs"),
        (
            {"attrition": {"curve": "weibull", "shape": 1, "scale": 3, "attrition_rate": 0.1}},
            "methods[0].attrition.attrition_rate",
            "drop it",
        ),
        ({"attrition": {"curve": "iowa"}}, "methods[0].attrition.curve", ""),
        (
            {"attrition": {"curve": "exponential", "attrition_rate": 1}},
            "methods[0].attrition.attrition_rate",
            "",
        ),
        ({"wacc_tolerance": 0.5}, "methods[0].wacc_tolerance", ""),
    ],
)
def test_bad_attrition_or_wacc_is_a_422(client, extra, field, fix):
    resp = client.post("/v1/valuations", json=body(mpeem(**extra)))
    assert resp.status_code == 422, resp.get_json()
    errors = {e["field"]: e["message"] for e in resp.get_json()["errors"]}
    assert field in errors, errors
    assert fix in errors[field]


def test_the_readme_examples_give_the_figures_it_quotes(client):
    """README, 'The appraiser's inputs': the two example files and the figures quoted there."""
    root = Path(__file__).resolve().parents[1] / "examples"
    excess = json.loads((root / "valuation-excess-earnings.json").read_text())
    out = post(client, excess["methods"][0], simulation=excess["simulation"])
    assert out["value"]["point"] == pytest.approx(5_456_370.80, abs=0.01)
    audit = out["methods"][0]["audit"]
    assert audit["wara"]["wara"] == pytest.approx(0.1073, abs=5e-5)
    assert audit["contributory_charges"]["fixed assets"]["charge"][0] == pytest.approx(506_250)
    assert not out["methods"][0]["warnings"]
    cost = json.loads((root / "valuation-cost-restated.json").read_text())
    resp = client.post("/v1/valuations", json=cost)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["value"]["point"] == pytest.approx(2_004_232.73, abs=0.01)


def test_the_pledge_book_takes_a_negative_right_at_zero_and_says_so():
    """risk/book/monitor.py: a right re-valued below zero counts 0 in the bundle, its entry keeps
    the signed figure and a warning quoting it."""
    import datetime as dt

    from ipvalue.models.asset import Asset
    from ipvalue.models.book import Appraisal, LoanBody
    from ipvalue.risk.book.monitor import PledgedAsset, evaluate_loan

    def right(id_: str, method: dict[str, Any]) -> PledgedAsset:
        asset = Asset.model_validate({"name": id_, "kind": "trade_secret"})
        appraisal = Appraisal.model_validate(
            {
                "valuation_date": "2026-01-01",
                "currency": "EUR",
                "methods": [method],
                "simulation": {"volatility": 0.4},
            }
        )
        return PledgedAsset(id_, asset, (), appraisal)

    loan = LoanBody.model_validate(
        {
            "borrower": "B",
            "amount": 10,
            "currency": "EUR",
            "start_date": "2026-01-01",
            "term_years": 2,
            "pledged_asset_ids": ["good", "bad"],
        }
    )
    good = right("good", mpeem())
    bad = right("bad", NEGATIVE)
    out = evaluate_loan("L", loan, [good, bad], dt.date(2026, 6, 1), paths=1000)
    entries = {a["asset_id"]: a for a in out.assets}
    assert entries["bad"]["value"] == 0.0 and entries["bad"]["signed_value"] < 0
    signed = f"{entries['bad']['signed_value']:,.2f}"
    assert any(signed in w for w in entries["bad"]["warnings"])
    assert "warnings" not in entries["good"]
    assert out.value == pytest.approx(entries["good"]["value"])


def test_the_report_of_a_negative_valuation_with_its_collateral(client):
    """The valuation report renders a negative value and a collateral assessment started at 0."""
    valuation = post(client, NEGATIVE)
    resp = client.post(
        "/v1/collateral",
        json={
            "valuation_id": valuation["id"],
            "volatility": 0.3,
            "horizon_years": 1,
            "loan_amount": 100,
            "paths": 1000,
            "seed": 1,
        },
    )
    assert resp.status_code == 201, resp.get_json()
    report = client.get(f"/v1/valuations/{valuation['id']}/report")
    assert report.status_code == 200, report.data[:500]
    text = report.get_data(as_text=True)
    assert f"{valuation['value']['point']:,.2f}".lstrip("-") in text


def test_survival_is_read_when_the_cash_flow_falls(client):
    """Cash flows at the start of each year (timing start) read S at t - 1: year 1 is whole."""
    out = post(
        client, mpeem(timing="start", attrition={"curve": "exponential", "attrition_rate": 0.1})
    )
    assert out["methods"][0]["audit"]["survival"] == pytest.approx([1.0, 0.9, 0.81])
