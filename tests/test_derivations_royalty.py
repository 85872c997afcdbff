"""Royalty rates, profit splits and licence prices as derivations (issue 14, items 2, 6, 7).

Reference values come from tests/reference/derivations_royalty.json, each with its published
source; properties (conversions round trip, a scored rate stays in its range and rises with the
score, upfront + running equals the pure running rate of equal present value) and bad input
(422s naming the field) follow.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ipvalue.valuation.derive import royalties
from ipvalue.valuation.licence import licence_terms, minimum_transfer_price, net_replacement_cost

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "derivations_royalty.json").read_text(encoding="utf-8")
)
REVENUE = [1000000, 1100000, 1200000, 1300000, 1400000]
RFR = {
    "method": "relief_from_royalty",
    "revenue": REVENUE,
    "royalty_rate": 0.05,
    "tax_rate": 0.25,
    "discount_rate": 0.12,
}
SPLIT = {
    "method": "profit_split",
    "profit": [200000, 220000, 240000, 260000, 280000],
    "split_rate": 0.25,
    "tax_rate": 0.25,
    "discount_rate": 0.12,
}
NO_LEGAL_RISK = {"invalidation_hazard": 0, "lapse_hazard": 0, "litigation_loss_hazard": 0}
SCORING = {
    "low": 0.0,
    "high": 0.33,
    "factors": [
        {"name": "legal", "weight": 0.3, "score": 80},
        {"name": "technical", "weight": 0.5, "score": 60},
        {"name": "economic", "weight": 0.2, "score": 50},
    ],
}


def body(*methods: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "asset": {"name": "test patent", "kind": "patent", "legal": {"status": "granted"}},
        "valuation_date": "2026-11-27",
        "currency": "CNY",
        "methods": list(methods),
        **extra,
    }


def method(base: dict[str, Any], **fields: Any) -> dict[str, Any]:
    m = copy.deepcopy(base)
    m.update(fields)
    return {k: v for k, v in m.items() if v is not None}


def value(client: Any, *methods: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resp = client.post("/v1/valuations", json=body(*methods, **extra))
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def errors(client: Any, *methods: dict[str, Any]) -> dict[str, str]:
    resp = client.post("/v1/valuations", json=body(*methods))
    assert resp.status_code == 422, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    return {e["field"]: e["message"] for e in resp.get_json()["errors"]}


# --- reference values ---------------------------------------------------------------------


def licence_min(case: dict[str, Any]) -> dict[str, Any]:
    x = case["inputs"]
    lost = x.get("lost_income")
    if lost is None:  # an annuity of lost income, as the source states it
        k, n = x["lost_income_rate"], x["lost_income_years"]
        lost = x["lost_income_per_year"] * (1 - (1 + k) ** -n) / k
    return {
        "method": "licence",
        "minimum_price": {
            "replacement_cost": x["replacement_cost"],
            "years_used": x["years_used"],
            "years_remaining": x["years_remaining"],
            "cost_share": {
                "capacity": {
                    "licensee_capacity": x["licensee_capacity"],
                    "total_capacity": x["total_capacity"],
                }
            },
            "lost_income": lost,
            "added_cost": x["added_cost"],
        },
    }


@pytest.mark.parametrize("case", REFERENCE["minimum_price"], ids=lambda c: c["id"])
def test_minimum_transfer_price_reproduces_the_published_answer(client, case):
    out = value(client, licence_min(case))
    expected, tol = case["expected"], case["tolerance"]
    (m,) = out["methods"]
    assert m["approach"] == "income" and m["method"] == "licence"
    assert m["value"] == pytest.approx(expected["minimum_price"], abs=tol)
    audit = m["audit"]
    assert audit["value_basis"] == "minimum"
    for key in ("replacement_cost_net", "cost_share", "opportunity_cost"):
        if key in expected:
            assert audit["minimum_price"][key] == pytest.approx(expected[key], abs=tol), key
    share = audit["derivations"]["methods[0].minimum_price.cost_share"]
    assert share["practice"] == "capacity"
    assert share["cost_share"] == pytest.approx(expected["cost_share"])


def test_three_and_four_factor_splits_are_a_third_and_a_quarter(client):
    (case,) = REFERENCE["factor_split"]
    for practice, split in case["expected"].items():
        derived = value(client, method(SPLIT, split_rate={practice: {}}))
        plain = value(client, method(SPLIT, split_rate=split))
        assert derived["value"]["point"] == pytest.approx(plain["value"]["point"], rel=1e-12)
        trail = derived["methods"][0]["audit"]["derivations"]["methods[0].split_rate"]
        assert trail["practice"] == practice
        assert trail["split_rate"] == pytest.approx(split, abs=case["tolerance"])


def test_a_subject_share_of_the_technology_factor_scales_the_split(client):
    half = value(client, method(SPLIT, split_rate={"four_factor": {"subject_share": 0.5}}))
    plain = value(client, method(SPLIT, split_rate=0.125))
    assert half["value"]["point"] == pytest.approx(plain["value"]["point"], rel=1e-12)


def test_brand_strength_royalty_reproduces_brand_finance(client):
    (case,) = REFERENCE["brand_strength"]
    rate = case["expected"]["royalty_rate"]
    out = value(client, method(RFR, royalty_rate={"brand_strength": case["inputs"]}))
    trail = out["methods"][0]["audit"]["derivations"]["methods[0].royalty_rate"]
    assert trail["royalty_rate"] == pytest.approx(rate, abs=case["tolerance"])
    plain = value(client, method(RFR, royalty_rate=rate))
    assert out["value"]["point"] == pytest.approx(plain["value"]["point"], rel=1e-12)


def test_the_25_percent_rule_always_carries_its_warning(client):
    (case,) = REFERENCE["twenty_five_percent_rule"]
    rule = {"twenty_five_percent_rule": case["inputs"]}
    out = value(client, method(RFR, royalty_rate=rule))
    (m,) = out["methods"]
    trail = m["audit"]["derivations"]["methods[0].royalty_rate"]
    assert trail["royalty_rate"] == pytest.approx(case["expected"]["royalty_rate"])
    assert "Uniloc" in " ".join(trail["warnings"])
    warned = [w for w in m["warnings"] if w.startswith("methods[0].royalty_rate: ")]
    assert len(warned) == 1 and "Uniloc USA, Inc. v. Microsoft Corp." in warned[0]
    plain = value(client, method(RFR, royalty_rate=0.05))
    assert not any("Uniloc" in w for w in plain["methods"][0]["warnings"])


# --- properties -----------------------------------------------------------------------------


def test_split_and_sales_royalty_convert_both_ways():
    rng = np.random.default_rng(1)
    split, margin = rng.uniform(0, 1, 1000), rng.uniform(0.01, 1, 1000)
    sales = royalties.royalty_from_profit_split(split, margin)
    assert np.allclose(royalties.split_from_sales_royalty(sales, margin), split, rtol=1e-12)


def test_conversions_in_a_request_match_the_plain_rates(client):
    plain = value(client, RFR)["value"]["point"]
    via_split = {"from_profit_split": {"split": 0.25, "margin": 0.2}}
    assert value(client, method(RFR, royalty_rate=via_split))["value"]["point"] == pytest.approx(
        plain, rel=1e-12
    )
    # A four-factor split (25 %) at a 20 % margin is the same 5 % of sales.
    nested = {"from_profit_split": {"split": {"four_factor": {}}, "margin": 0.2}}
    out = value(client, method(RFR, royalty_rate=nested))
    assert out["value"]["point"] == pytest.approx(plain, rel=1e-12)
    inner = out["methods"][0]["audit"]["derivations"]
    assert set(inner) == {
        "methods[0].royalty_rate",
        "methods[0].royalty_rate.from_profit_split.split",
    }
    # 5 % of sales at a 20 % margin is a 25 % split of the profit 20 % of sales.
    profit = [0.2 * r for r in REVENUE]
    split = {"from_sales_royalty": {"royalty_rate": 0.05, "margin": 0.2}}
    ps = value(client, method(SPLIT, profit=profit, split_rate=split))
    assert ps["value"]["point"] == pytest.approx(plain, rel=1e-12)


def test_scored_rate_stays_in_its_range_and_rises_with_the_score():
    scores = np.linspace(0, 100, 101)
    rate = royalties.scored_rate(0.01, 0.05, scores / 100)
    assert np.all((rate >= 0.01 - 1e-15) & (rate <= 0.05 + 1e-15))
    assert np.all(np.diff(rate) > 0)
    assert rate[0] == pytest.approx(0.01) and rate[-1] == pytest.approx(0.05)


def test_scoring_in_a_request_is_its_weighted_score(client):
    adjustment = (0.3 * 80 + 0.5 * 60 + 0.2 * 50) / 100
    expected = 0.0 + (0.33 - 0.0) * adjustment
    out = value(client, method(SPLIT, split_rate={"scoring": SCORING}))
    trail = out["methods"][0]["audit"]["derivations"]["methods[0].split_rate"]
    assert trail["adjustment"] == pytest.approx(adjustment)
    assert trail["rate"] == pytest.approx(expected)
    assert [f["name"] for f in trail["factors"]] == ["legal", "technical", "economic"]
    plain = value(client, method(SPLIT, split_rate=expected))
    assert out["value"]["point"] == pytest.approx(plain["value"]["point"], rel=1e-12)
    higher = copy.deepcopy(SCORING)
    higher["factors"][1]["score"] = 90
    up = value(client, method(SPLIT, split_rate={"scoring": higher}))
    assert up["value"]["point"] > out["value"]["point"]


def test_scores_are_sampled_in_the_simulation(client):
    scoring = copy.deepcopy(SCORING)
    scoring["factors"][1]["score"] = {"dist": "triangular", "low": 40, "mode": 60, "high": 80}
    sim = {
        "paths": 4000,
        "seed": 3,
        "legal_risk": NO_LEGAL_RISK,
        "correlations": {
            "inputs": ["methods[0].split_rate.scoring.factors[1].score", "methods[0].tax_rate"],
            "matrix": [[1, 0.3], [0.3, 1]],
        },
    }
    tax = {"dist": "uniform", "low": 0.2, "high": 0.3}
    out = value(
        client, method(SPLIT, split_rate={"scoring": scoring}, tax_rate=tax), simulation=sim
    )
    dist = out["distribution"]
    low = value(client, method(SPLIT, split_rate=0.33 * (0.24 + 0.2 + 0.1), tax_rate=0.3))
    high = value(client, method(SPLIT, split_rate=0.33 * (0.24 + 0.4 + 0.1), tax_rate=0.2))
    assert low["value"]["point"] <= dist["p05"] < dist["p95"] <= high["value"]["point"]


def test_a_margin_by_year_splits_year_by_year(client):
    """Revenue + royalty + a margin per year: royalty / margin_t of revenue x margin_t is the
    royalty on revenue each year, so the value is the relief-from-royalty value."""
    margins = [0.10, 0.12, 0.15, 0.20, 0.25]
    ps = method(
        SPLIT,
        profit=None,
        split_rate=None,
        revenue=REVENUE,
        royalty_rate=0.05,
        operating_margin=margins,
    )
    out = value(client, ps)
    rfr = value(client, RFR)
    assert out["value"]["point"] == pytest.approx(rfr["value"]["point"], rel=1e-12)
    audit = out["methods"][0]["audit"]
    assert audit["split_rate"] == pytest.approx([0.05 / m for m in margins])


def test_profit_with_royalty_and_margin_applies_the_split_to_the_profit(client):
    profit = [150000, 160000, 170000, 180000, 190000]
    out = value(
        client,
        method(SPLIT, profit=profit, split_rate=None, royalty_rate=0.03, operating_margin=0.12),
    )
    plain = value(client, method(SPLIT, profit=profit, split_rate=0.25))
    assert out["value"]["point"] == pytest.approx(plain["value"]["point"], rel=1e-12)
    assert out["methods"][0]["audit"]["split_basis"].endswith("applied to the given profit")


def test_upfront_plus_running_equals_its_pure_equivalents(client):
    terms = {
        "method": "licence",
        "upfront": 200000,
        "running_royalty_rate": 0.03,
        "revenue": REVENUE,
        "discount_rate": 0.12,
    }
    out = value(client, terms)
    audit = out["methods"][0]["audit"]
    pv = out["methods"][0]["value"]
    factors = [1.12**-t for t in range(1, 6)]
    running = sum(0.03 * r * f for r, f in zip(REVENUE, factors, strict=True))
    assert pv == pytest.approx(200000 + running, rel=1e-12)
    rate = audit["equivalent_running_rate"]
    pure_running = value(client, method(terms, upfront=0, running_royalty_rate=rate))
    assert pure_running["methods"][0]["value"] == pytest.approx(pv, rel=1e-12)
    assert audit["equivalent_lump_sum"] == pytest.approx(pv, rel=1e-12)
    lump = value(client, method(terms, upfront=pv, running_royalty_rate=None))
    assert lump["methods"][0]["value"] == pytest.approx(pv, rel=1e-12)


def test_pv_equivalence_holds_path_by_path():
    rng = np.random.default_rng(5)
    rev = rng.uniform(1e5, 1e6, (500, 6))
    k, r = rng.uniform(0.05, 0.2, 500), rng.uniform(0.0, 0.1, 500)
    t = licence_terms(1e5, r, rev, k)
    again = licence_terms(0.0, t.equivalent_running_rate, rev, k)
    assert np.allclose(again.value, t.value, rtol=1e-12)


def test_negotiation_range_and_a_deal_outside_it(client):
    case = REFERENCE["minimum_price"][1]
    m = licence_min(case)
    m |= {
        "upfront": 50,
        "running_royalty_rate": 0.01,
        "revenue": [1000, 1000, 1000],
        "discount_rate": 0.1,
        "licensee_value": 400,
    }
    out = value(client, m)
    audit = out["methods"][0]["audit"]
    assert audit["negotiation_range"] == pytest.approx([172, 400])
    pv = 50 + sum(10 * 1.1**-t for t in (1, 2, 3))
    assert out["methods"][0]["value"] == pytest.approx(pv)
    assert any(
        "below the licensor's minimum price 172.00" in w for w in out["methods"][0]["warnings"]
    )
    mid = value(client, m | {"value_basis": "midpoint"})
    assert mid["methods"][0]["value"] == pytest.approx(286)
    none = value(client, m | {"licensee_value": 100, "value_basis": "maximum"})
    assert none["methods"][0]["value"] == pytest.approx(100)
    assert any("no bargaining range" in w for w in none["methods"][0]["warnings"])


def test_running_royalties_stop_at_the_legal_expiry(client):
    m = {
        "method": "licence",
        "upfront": 1000,
        "running_royalty_rate": 0.05,
        "revenue": [10000] * 10,
        "discount_rate": 0.1,
    }
    req = body(m)
    req["asset"]["legal"] = {"status": "granted", "expiry_date": "2029-11-27"}
    resp = client.post("/v1/valuations", json=req)
    assert resp.status_code == 201, resp.get_json()
    got = resp.get_json()["methods"][0]["value"]
    assert got == pytest.approx(1000 + sum(500 * 1.1**-t for t in (1, 2, 3)), rel=1e-9)


def test_licence_is_simulated(client):
    m = licence_min(REFERENCE["minimum_price"][0])
    m["minimum_price"]["lost_income"] = {"dist": "uniform", "low": 80, "high": 100}
    out = value(client, m, simulation={"paths": 2000, "seed": 1, "legal_risk": NO_LEGAL_RISK})
    dist = out["distribution"]
    assert 182.48 <= dist["p05"] < dist["p95"] <= 202.48


def test_formulas_match_the_first_reference_case_directly():
    x = REFERENCE["minimum_price"][0]["inputs"]
    net = net_replacement_cost(x["replacement_cost"], x["years_used"], x["years_remaining"])
    assert float(net) == pytest.approx(291.6)
    price = minimum_transfer_price(net, 0.3, x["lost_income"], x["added_cost"])
    assert float(price) == pytest.approx(192.48)


# --- bad input ------------------------------------------------------------------------------


def test_weights_must_sum_to_one(client):
    bad = copy.deepcopy(SCORING)
    bad["factors"][0]["weight"] = 0.2
    errs = errors(client, method(SPLIT, split_rate={"scoring": bad}))
    assert set(errs) == {"methods[0].split_rate.scoring.factors"}
    msg = errs["methods[0].split_rate.scoring.factors"]
    assert "sum to 0.9" in msg and "must sum to 1" in msg


def test_a_score_outside_its_range_is_refused(client):
    bad = copy.deepcopy(SCORING)
    bad["factors"][2]["score"] = 120
    errs = errors(client, method(SPLIT, split_rate={"scoring": bad}))
    assert set(errs) == {"methods[0].split_rate.scoring.factors[2].score"}
    assert "[0, 100]" in errs["methods[0].split_rate.scoring.factors[2].score"]
    bsi = {"brand_strength": {"score": -5, "low": 0.0, "high": 0.05}}
    assert set(errors(client, method(RFR, royalty_rate=bsi))) == {
        "methods[0].royalty_rate.brand_strength.score"
    }


def test_a_split_above_one_is_refused(client):
    errs = errors(client, method(SPLIT, split_rate=1.2))
    assert set(errs) == {"methods[0].split_rate"}
    derived = {"from_sales_royalty": {"royalty_rate": 0.3, "margin": 0.2}}
    errs = errors(client, method(SPLIT, split_rate=derived))
    assert set(errs) == {"methods[0].split_rate.from_sales_royalty"}
    msg = errs["methods[0].split_rate.from_sales_royalty"]
    assert "1.5" in msg and "[0, 1]" in msg and "margin" in msg


def test_a_derived_royalty_above_the_margin_is_refused(client):
    rate = {"brand_strength": {"score": 100, "low": 0.0, "high": 0.3}}
    ps = method(
        SPLIT,
        profit=None,
        split_rate=None,
        revenue=REVENUE,
        royalty_rate=rate,
        operating_margin=0.2,
    )
    errs = errors(client, ps)
    assert set(errs) == {"methods[0].royalty_rate"}
    assert "above 100 %" in errs["methods[0].royalty_rate"]


def test_margins_by_year_must_match_the_years(client):
    ps = method(
        SPLIT,
        profit=None,
        split_rate=None,
        revenue=REVENUE,
        royalty_rate=0.05,
        operating_margin=[0.1, 0.2],
    )
    errs = errors(client, ps)
    assert set(errs) == {"methods[0].operating_margin"}
    assert "2 years" in errs["methods[0].operating_margin"]
    low = method(ps, operating_margin=[0.1, 0.2, 0.04, 0.2, 0.2])
    errs = errors(client, low)
    assert set(errs) == {"methods[0].royalty_rate"}
    assert "operating_margin[2]" in errs["methods[0].royalty_rate"]


def test_split_rate_and_royalty_rate_together_are_refused(client):
    errs = errors(client, method(SPLIT, royalty_rate=0.05, operating_margin=0.2))
    assert set(errs) == {"methods[0].split_rate"}
    assert "not both" in errs["methods[0].split_rate"]


def test_bad_licences_name_the_field(client):
    errs = errors(client, {"method": "licence", "running_royalty_rate": 0.03, "discount_rate": 0.1})
    assert set(errs) == {"methods[0].revenue"}
    case = licence_min(REFERENCE["minimum_price"][0])
    case["minimum_price"]["cost_share"]["capacity"]["total_capacity"] = 100
    errs = errors(client, case)
    assert set(errs) == {"methods[0].minimum_price.cost_share.capacity.total_capacity"}
    mid = licence_min(REFERENCE["minimum_price"][0]) | {"value_basis": "midpoint"}
    errs = errors(client, mid)
    assert set(errs) == {"methods[0].licensee_value"}
    assert "midpoint" in errs["methods[0].licensee_value"]
    errs = errors(client, {"method": "licence"})
    assert set(errs) == {"methods[0].minimum_price"}


def test_the_licensees_maximum_may_be_an_income_method(client):
    """The licensee's value by relief from royalty on its own sales is that method's value."""
    licensee = method(
        RFR, royalty_rate={"brand_strength": {"score": 60, "low": 0.02, "high": 0.07}}
    )
    m = licence_min(REFERENCE["minimum_price"][0]) | {
        "licensee_value": licensee,
        "value_basis": "maximum",
    }
    out = value(client, m)
    alone = value(client, licensee)
    (lic,) = out["methods"]
    assert lic["value"] == pytest.approx(alone["value"]["point"], rel=1e-12)
    audit = lic["audit"]
    assert audit["licensee_valuation"]["method"] == "relief_from_royalty"
    assert audit["negotiation_range"][1] == pytest.approx(lic["value"])
    assert "methods[0].licensee_value.royalty_rate" in audit["derivations"]
    sim = {"paths": 2000, "seed": 2, "legal_risk": NO_LEGAL_RISK}
    uncertain = method(licensee, tax_rate={"dist": "uniform", "low": 0.2, "high": 0.3})
    simulated = value(client, m | {"licensee_value": uncertain}, simulation=sim)
    sens = {s["input"] for s in simulated["distribution"]["sensitivity"]}
    assert sens == {"methods[0].licensee_value.tax_rate"}
    bad = method(licensee, royalty_rate=1.5)
    assert set(errors(client, m | {"licensee_value": bad})) == {
        "methods[0].licensee_value.royalty_rate"
    }
