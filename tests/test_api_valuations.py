"""POST /v1/valuations: results, legal life, reconciliation, audit trail, and bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest

RFR = {
    "method": "relief_from_royalty",
    "revenue": [1000000, 1100000, 1200000, 1300000, 1400000],
    "royalty_rate": 0.05,
    "tax_rate": 0.25,
    "discount_rate": 0.12,
}


def body(*methods: dict[str, Any], **extra: Any) -> dict[str, Any]:
    b = {
        "asset": {"name": "test patent", "kind": "patent", "legal": {"status": "granted"}},
        "valuation_date": "2026-11-27",
        "currency": "EUR",
        "methods": list(methods) or [RFR],
    }
    b.update(extra)
    return b


def post(client, payload: Any, **kw: Any):
    return client.post("/v1/valuations", json=payload, **kw)


def test_valuation_returns_id_point_and_by_method(client):
    resp = post(client, body())
    assert resp.status_code == 201
    out = resp.get_json()
    assert out["id"]
    assert out["value"]["point"] == pytest.approx(159167.92, abs=0.05)
    assert out["value"]["by_method"] == {"relief_from_royalty": out["value"]["point"]}
    audit = out["methods"][0]["audit"]
    for key in ("discount_factors", "present_values", "tab_factor", "life_used_years"):
        assert key in audit
    assert sum(audit["present_values"]) == pytest.approx(out["value"]["point"])


def test_labels_let_two_scenarios_of_one_method_stand_side_by_side(client):
    low = {**RFR, "label": "low royalty", "royalty_rate": 0.03}
    high = {**RFR, "label": "high royalty", "royalty_rate": 0.06}
    out = post(client, body(low, high, weights={"low royalty": 1, "high royalty": 3})).get_json()
    by = out["value"]["by_method"]
    assert set(by) == {"low royalty", "high royalty"}
    assert out["value"]["point"] == pytest.approx(
        0.25 * by["low royalty"] + 0.75 * by["high royalty"]
    )


def test_wide_disagreement_between_approaches_is_warned(client):
    cost = {"method": "replacement_cost", "costs": [{"name": "R&D", "amount": 5_000_000}]}
    out = post(client, body(RFR, cost)).get_json()
    assert out["reconciliation"]["spread_ratio"] > 2
    assert any("disagree" in w for w in out["warnings"])
    assert out["value"]["point"] == pytest.approx(sum(out["value"]["by_method"].values()) / 2)


def test_income_after_legal_expiry_is_not_counted(client):
    asset = {"name": "p", "kind": "patent", "legal": {"expiry_date": "2028-11-27"}}
    out = post(client, body(asset=asset)).get_json()
    life = out["legal_life"]
    assert life["years"] == pytest.approx(2.0, abs=0.01)
    weights = out["methods"][0]["audit"]["life_weights"]
    assert weights[:2] == pytest.approx([1, 1])
    assert weights[2] == pytest.approx(0.0, abs=0.01)
    expected = sum(x * 0.05 * 0.75 / 1.12 ** (i + 1) for i, x in enumerate(RFR["revenue"][:2]))
    assert out["value"]["point"] == pytest.approx(expected, rel=1e-3)


def test_patent_term_is_derived_from_filing_date(client):
    asset = {"name": "p", "kind": "patent", "legal": {"filing_date": "2008-01-01"}}
    out = post(client, body(asset=asset)).get_json()
    assert out["legal_life"]["expiry_date"] == "2028-01-01"
    assert "20 years from filing" in out["legal_life"]["basis"]


@pytest.mark.parametrize("status", ["lapsed", "expired", "invalidated"])
def test_dead_right_is_worth_zero_by_income_methods_and_says_why(client, status):
    asset = {"name": "p", "kind": "patent", "legal": {"status": status}}
    cost = {"method": "replacement_cost", "costs": [{"name": "R&D", "amount": 100}]}
    out = post(client, body(RFR, cost, asset=asset)).get_json()
    assert out["value"]["by_method"]["relief_from_royalty"] == 0
    assert out["legal_life"]["alive"] is False
    assert any(status in w for w in out["methods"][0]["warnings"])
    assert any(status in w for w in out["warnings"])


def test_expired_by_date_is_worth_zero(client):
    asset = {"name": "p", "kind": "patent", "legal": {"expiry_date": "2020-01-01"}}
    out = post(client, body(asset=asset)).get_json()
    assert out["value"]["point"] == 0
    assert "ended" in out["legal_life"]["basis"]


def test_economic_life_shorter_than_legal_life_cuts_income(client):
    out = post(client, body({**RFR, "economic_life_years": 3})).get_json()
    assert out["methods"][0]["audit"]["life_weights"] == pytest.approx([1, 1, 1, 0, 0])


def test_trademark_has_no_legal_end_and_terminal_value_is_gordon(client):
    asset = {"name": "brand", "kind": "trademark", "legal": {"status": "registered"}}
    dcf = {"method": "dcf", "cash_flows": [100], "discount_rate": 0.1, "terminal_growth": 0.0}
    out = post(client, body(dcf, asset=asset)).get_json()
    assert out["legal_life"]["years"] is None
    assert out["value"]["point"] == pytest.approx(1000.0)


def test_uncertain_inputs_use_their_base_values(client):
    m = {
        **RFR,
        "royalty_rate": {"dist": "triangular", "low": 0.01, "mode": 0.05, "high": 0.08},
        "tax_rate": {"dist": "uniform", "low": 0.2, "high": 0.3},
        "discount_rate": {"dist": "normal", "mean": 0.12, "sd": 0.02},
        "revenue": {
            "base": {"dist": "lognormal", "median": 1000000, "sigma": 0.2},
            "growth": {"dist": "pert", "low": 0.0, "mode": 0.1, "high": 0.2},
            "years": 5,
        },
    }
    out = post(client, body(m)).get_json()
    plain = post(client, body({**RFR, "revenue": {"base": 1000000, "growth": 0.1, "years": 5}}))
    assert out["value"]["point"] == pytest.approx(plain.get_json()["value"]["point"])


ALL_METHODS = [
    {"method": "dcf", "cash_flows": [100, 90], "discount_rate": 0.1, "terminal_growth": 0.02},
    {**RFR, "tab_years": 15, "mid_year": True},
    {
        "method": "excess_earnings",
        "revenue": [1000, 1100],
        "operating_margin": 0.3,
        "tax_rate": 0.25,
        "discount_rate": 0.15,
        "tab_years": 15,
        "contributory_charges": [
            {"name": "working capital", "rate": 0.01},
            {"name": "workforce", "rate": 0.02},
        ],
    },
    {
        "method": "with_and_without",
        "incremental_profit": [300, 300],
        "tax_rate": 0.25,
        "discount_rate": 0.1,
    },
    {
        "method": "profit_split",
        "profit": [200, 220],
        "split_rate": 0.25,
        "tax_rate": 0.25,
        "discount_rate": 0.12,
    },
    {
        "method": "profit_split",
        "label": "from royalty",
        "revenue": [2000, 2200],
        "royalty_rate": 0.02,
        "operating_margin": 0.1,
        "tax_rate": 0.25,
        "discount_rate": 0.12,
    },
    {
        "method": "equivalent_investment_split",
        "ip_cost": 100,
        "ip_cost_profit_rate": 5,
        "other_investment": 8000,
        "other_investment_profit_rate": 0.125,
        "profit": [1000, 1000],
        "discount_rate": 0.1,
    },
    {
        "method": "replacement_cost",
        "costs": [{"name": "a", "amount": 1000}],
        "developer_profit_rate": 0.1,
        "entrepreneurial_incentive_rate": 0.05,
        "obsolescence": {"functional": 0.1, "technological": 0.2, "economic": 0.05},
        "years_used": 2,
        "years_remaining": 6,
    },
    {
        "method": "multiplier_cost",
        "material_cost": 100,
        "labour_cost": 50,
        "research_labour_cost": 200,
        "research_multiplier": 1.5,
        "failure_rate": 0.2,
        "profit_rate": 0.1,
    },
    {
        "method": "market",
        "comparables": [
            {"price": 900, "adjustments": {"time": 1.05}},
            {"price": 1100, "adjustments": [0.9, 1.1]},
            {"price": 1000},
        ],
    },
    {
        "method": "real_option",
        "underlying_value": 3422,
        "exercise_cost": 2875,
        "years": 17,
        "volatility": 0.47329,
        "risk_free_rate": 0.067,
        "dividend_yield": 0.0588235,
    },
]


def test_every_method_values_through_the_api(client):
    asset = {"name": "brand", "kind": "trademark"}
    resp = post(client, body(*ALL_METHODS, asset=asset))
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert len(out["methods"]) == len(ALL_METHODS)
    assert all(m["value"] > 0 for m in out["methods"])
    splits = {m["key"]: m["audit"].get("split_rate") for m in out["methods"]}
    assert splits["from royalty"] == pytest.approx(0.2)
    assert splits["equivalent_investment_split"] == pytest.approx(0.0625)
    rc = next(m for m in out["methods"] if m["key"] == "replacement_cost")
    assert rc["audit"]["obsolescence_factor"] == pytest.approx(0.9 * 0.8 * 0.95)
    assert rc["value"] == pytest.approx(1000 * 1.1 * 1.05 * 0.9 * 0.8 * 0.95 * 0.75)
    market = next(m for m in out["methods"] if m["key"] == "market")
    assert market["value"] == pytest.approx(1000.0)  # median of 945, 1089, 1000
    assert market["audit"]["adjusted"] == pytest.approx([945.0, 1089.0, 1000.0])


def test_market_royalty_regression_with_enough_comparables(client):
    comps = [
        {"royalty_rate": 0.01 + 0.004 * life, "characteristics": {"remaining_life": life}}
        for life in [2, 4, 5, 7, 9, 11, 12]
    ]
    m = {
        "method": "market",
        "comparables": comps,
        "revenue": [1000] * 5,
        "tax_rate": 0.25,
        "discount_rate": 0.12,
        "subject": {"remaining_life": 8},
    }
    out = post(client, body(m)).get_json()
    reg = out["methods"][0]["audit"]["regression"]
    assert reg["predicted_rate"] == pytest.approx(0.042, abs=1e-9)
    assert reg["coefficients"]["remaining_life"] == pytest.approx(0.004, abs=1e-9)
    assert out["methods"][0]["audit"]["royalty_rate_used"] == pytest.approx(0.042)


def test_market_with_too_few_comparables_for_regression_falls_back_to_median(client):
    comps = [
        {"royalty_rate": r, "characteristics": {"life": i}}
        for i, r in enumerate([0.03, 0.05, 0.04])
    ]
    m = {
        "method": "market",
        "comparables": comps,
        "revenue": [1000],
        "tax_rate": 0.25,
        "discount_rate": 0.12,
        "subject": {"life": 1},
    }
    out = post(client, body(m)).get_json()
    assert out["methods"][0]["audit"]["royalty_rate_used"] == pytest.approx(0.04)
    assert any("regression skipped" in w for w in out["methods"][0]["warnings"])


# --- bad input: every case is a 4xx problem+json naming the field -------------------------


def with_method(**changes: Any) -> dict[str, Any]:
    m = copy.deepcopy(RFR)
    m.update(changes)
    return body(m)


BAD = [
    ("negative amount", with_method(revenue=[-5, 10]), "methods[0].revenue[0]"),
    (
        "non-finite amount",
        '{"asset": {"name": "x", "kind": "patent"}, "valuation_date": '
        '"2026-01-01", "currency": "EUR", "methods": [{"method": "dcf", "cash_flows": [NaN], '
        '"discount_rate": 0.1}]}',
        "methods[0].cash_flows[0]",
    ),
    (
        "infinite amount",
        '{"asset": {"name": "x", "kind": "patent"}, "valuation_date": '
        '"2026-01-01", "currency": "EUR", "methods": [{"method": "dcf", "cash_flows": [Infinity], '
        '"discount_rate": 0.1}]}',
        "methods[0].cash_flows[0]",
    ),
    ("royalty above 1", with_method(royalty_rate=1.5), "methods[0].royalty_rate"),
    ("negative discount", with_method(discount_rate=-0.1), "methods[0].discount_rate"),
    ("growth at rate", with_method(terminal_growth=0.12), "methods[0].terminal_growth"),
    ("growth above rate", with_method(terminal_growth=0.2), "methods[0].terminal_growth"),
    ("unknown method", body({"method": "black_magic"}), "methods[0].method"),
    ("missing method", body({"royalty_rate": 0.1}), "methods[0].method"),
    (
        "unknown distribution",
        with_method(royalty_rate={"dist": "gamma", "k": 2}),
        "methods[0].royalty_rate.dist",
    ),
    (
        "triangular low above high",
        with_method(royalty_rate={"dist": "triangular", "low": 0.08, "mode": 0.05, "high": 0.01}),
        "methods[0].royalty_rate",
    ),
    (
        "distribution outside range",
        with_method(royalty_rate={"dist": "uniform", "low": 0.5, "high": 1.5}),
        "methods[0].royalty_rate",
    ),
    ("empty series", with_method(revenue=[]), "methods[0].revenue"),
    ("string for number", with_method(tax_rate="25%"), "methods[0].tax_rate"),
    ("bool for number", with_method(tax_rate=True), "methods[0].tax_rate"),
    ("string for series", with_method(revenue="lots"), "methods[0].revenue"),
    ("unknown field", with_method(royalty=0.1), "methods[0].royalty"),
    (
        "missing field",
        body({"method": "relief_from_royalty", "revenue": [1]}),
        "methods[0].royalty_rate",
    ),
    ("no methods", body(methods=[]), "methods"),
    ("bad currency", body(currency="euro"), "currency"),
    ("bad date", body(valuation_date="27/11/2026"), "valuation_date"),
    (
        "expiry before filing",
        body(
            asset={
                "name": "p",
                "kind": "patent",
                "legal": {"filing_date": "2020-01-01", "expiry_date": "2019-01-01"},
            }
        ),
        "asset.legal.expiry_date",
    ),
    ("unknown kind", body(asset={"name": "p", "kind": "recipe"}), "asset.kind"),
    (
        "unknown status",
        body(asset={"name": "p", "kind": "patent", "legal": {"status": "dead"}}),
        "asset.legal.status",
    ),
    ("weights for unknown key", body(weights={"dcf": 1}), "weights"),
    ("negative weight", body(weights=[-1]), "weights[0]"),
    ("duplicate keys", body(RFR, RFR), "methods"),
    (
        "split without inputs",
        body({"method": "profit_split", "tax_rate": 0.2, "discount_rate": 0.1}),
        "methods[0].split_rate",
    ),
    (
        "age-life half given",
        body(
            {"method": "replacement_cost", "costs": [{"name": "a", "amount": 1}], "years_used": 3}
        ),
        "methods[0].years_remaining",
    ),
    (
        "failure rate of 1",
        body(
            {
                "method": "multiplier_cost",
                "material_cost": 1,
                "labour_cost": 1,
                "research_labour_cost": 1,
                "research_multiplier": 1,
                "failure_rate": 1,
                "profit_rate": 0.1,
            }
        ),
        "methods[0].failure_rate",
    ),
    (
        "royalty comparables without revenue",
        body({"method": "market", "comparables": [{"royalty_rate": 0.03}]}),
        "methods[0].revenue",
    ),
    (
        "mixed comparables",
        body(
            {
                "method": "market",
                "comparables": [{"royalty_rate": 0.03}, {"price": 100}],
                "revenue": [1],
                "tax_rate": 0.2,
                "discount_rate": 0.1,
            }
        ),
        "methods[0].comparables",
    ),
    (
        "zero volatility option",
        body(
            {
                "method": "real_option",
                "underlying_value": 1,
                "exercise_cost": 1,
                "years": 1,
                "volatility": 0,
                "risk_free_rate": 0.05,
            }
        ),
        "methods[0].volatility",
    ),
]


@pytest.mark.parametrize(("case", "payload", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_problem_naming_the_field(client, case, payload, field):
    if isinstance(payload, str):
        resp = client.post("/v1/valuations", data=payload, content_type="application/json")
    else:
        resp = post(client, payload)
    assert resp.status_code in (400, 422), (case, resp.status_code, resp.get_data(as_text=True))
    assert resp.content_type == "application/problem+json"
    problem = resp.get_json()
    assert {"type", "title", "status", "detail"} <= set(problem)
    fields = [e["field"] for e in problem.get("errors", [])]
    assert field in fields, (case, problem)
    assert all(e["message"] for e in problem["errors"])


@pytest.mark.parametrize(
    "raw",
    ["not json", "[1, 2]", "", '{"asset": ', "null", "42"],
)
def test_body_that_is_not_a_json_object_is_400(client, raw):
    resp = client.post("/v1/valuations", data=raw, content_type="application/json")
    assert resp.status_code == 400
    assert resp.content_type == "application/problem+json"
    assert "JSON object" in resp.get_json()["detail"]


def test_unknown_route_and_method_are_problem_json(client):
    resp = client.get("/v1/nothing-here")
    assert resp.status_code == 404
    assert resp.content_type == "application/problem+json"
    resp = client.delete("/healthz")
    assert resp.status_code == 405
    assert resp.content_type == "application/problem+json"


def test_messages_say_how_to_fix(client):
    problem = post(client, with_method(royalty_rate=1.5)).get_json()
    message = problem["errors"][0]["message"]
    assert "[0, 1]" in message and "1.5" in message and "0.05 means 5 %" in message
