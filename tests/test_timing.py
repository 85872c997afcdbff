"""Cash-flow timing, exit-multiple terminal value and risk-adjusted NPV (issue 14 item 7).

Reference values (tests/reference/derivations_options_timing.json): an annuity at year ends,
mid-year and at the start of each year; an exit multiple; a three-stage rNPV built on Stewart,
Allison and Johnson (2001). Properties: start timing = end timing x (1 + k) for the explicit
years and a Gordon terminal value; mid_year true is timing mid; rNPV with every probability 1 and
no costs is the plain NPV; the initial cash flow adds undiscounted. Bad input: 422s naming the
field.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ipvalue.valuation import discounting, income

REFERENCE = {
    c["id"]: c
    for c in json.loads(
        (Path(__file__).parent / "reference" / "derivations_options_timing.json").read_text()
    )["cases"]
}
NO_LEGAL_RISK = {"invalidation_hazard": 0, "lapse_hazard": 0, "litigation_loss_hazard": 0}
DCF = {"method": "dcf", "cash_flows": [100, 100, 100], "discount_rate": 0.10}
RFR = {
    "method": "relief_from_royalty",
    "revenue": {"base": 1_000_000, "growth": 0.04, "years": 8},
    "royalty_rate": 0.05,
    "tax_rate": 0.25,
    "discount_rate": 0.12,
    "terminal_growth": 0.02,
}
WITH_WITHOUT = {
    "method": "with_and_without",
    "incremental_profit": [50_000, 60_000, 65_000, 70_000],
    "tax_rate": 0.3,
    "discount_rate": 0.11,
}
PROFIT_SPLIT = {
    "method": "profit_split",
    "revenue": [1e6, 1.1e6, 1.2e6],
    "royalty_rate": 0.03,
    "operating_margin": 0.15,
    "tax_rate": 0.25,
    "discount_rate": 0.14,
}


def body(method: dict[str, Any], asset: dict[str, Any] | None = None, **extra: Any):
    return {
        "asset": asset or {"name": "test patent", "kind": "patent", "legal": {"status": "granted"}},
        "valuation_date": "2026-11-27",
        "currency": "EUR",
        "methods": [method],
        **extra,
    }


def value_of(client, method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resp = client.post("/v1/valuations", json=body(method, **extra))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["methods"][0]


def check(case_id: str, name: str, computed: float) -> None:
    case = REFERENCE[case_id]
    expected, tol = case["expected"][name], case["tolerance"]
    assert abs(computed - expected) <= tol, (
        f"{case_id}: expected {expected}, computed {computed:.8f} (source: {case['source']})"
    )


def test_annuity_at_year_ends_mid_year_and_start(client):
    for timing in ("end", "mid", "start"):
        check("annuity-due-3-years", timing, value_of(client, DCF | {"timing": timing})["value"])
    assert value_of(client, DCF | {"mid_year": True})["value"] == pytest.approx(
        value_of(client, DCF | {"timing": "mid"})["value"], rel=1e-15
    )
    start = value_of(client, DCF | {"timing": "start"})
    assert start["audit"]["discount_factors"][0] == 1.0
    assert any("annuity due" in a for a in start["assumptions"])


@pytest.mark.parametrize("method", [DCF, RFR, WITH_WITHOUT, PROFIT_SPLIT])
def test_start_timing_is_end_timing_times_one_plus_k(client, method):
    end = value_of(client, method)["value"]
    start = value_of(client, method | {"timing": "start"})["value"]
    assert start == pytest.approx(end * (1 + method["discount_rate"]), rel=1e-12)


def test_start_timing_in_the_formulas_with_a_gordon_terminal_value():
    k = np.array([0.08, 0.1, 0.15])
    flows = np.array([10.0, 12.0, 13.0, 15.0])
    end = income.dcf(flows, k, terminal_growth=0.02)
    start = income.dcf(flows, k, terminal_growth=0.02, timing="start")
    np.testing.assert_allclose(start.value, end.value * (1 + k), rtol=1e-12)
    np.testing.assert_allclose(start.terminal_value, end.terminal_value * (1 + k), rtol=1e-12)
    np.testing.assert_allclose(
        discounting.discount_factors(k, 4, timing="start")[..., 0], np.ones(3), rtol=0
    )


def test_initial_cash_flow_is_added_undiscounted(client):
    plain = value_of(client, DCF)
    upfront = value_of(client, DCF | {"initial_cash_flow": -40})
    assert upfront["value"] == pytest.approx(plain["value"] - 40, rel=1e-15)
    assert upfront["audit"]["initial_cash_flow"] == -40


def test_exit_multiple_terminal_value(client):
    x = REFERENCE["exit-multiple-3-years"]["inputs"]
    method = value_of(client, {"method": "dcf", **x})
    check("exit-multiple-3-years", "value", method["value"])
    check("exit-multiple-3-years", "terminal_value_pv", method["audit"]["terminal_value_pv"])
    # An exit value is a price at the end of year n, discounted from n whatever the timing.
    mid = value_of(client, {"method": "dcf", **x, "timing": "mid"})
    assert mid["audit"]["terminal_value_pv"] == pytest.approx(
        method["audit"]["terminal_value_pv"], rel=1e-15
    )


def test_exit_multiple_needs_life_beyond_the_explicit_years(client):
    """A patent expiring within the explicit years leaves nothing to sell at their end."""
    short = {
        "name": "old patent",
        "kind": "patent",
        "legal": {"status": "granted", "filing_date": "2008-06-01"},
    }
    method = {"method": "dcf", "cash_flows": [100] * 5, "discount_rate": 0.1}
    resp = client.post("/v1/valuations", json=body(method | {"terminal_multiple": 6}, asset=short))
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()["methods"][0]
    assert out["audit"]["terminal_value_pv"] == 0.0
    assert any("terminal_multiple" in w and "not counted" in w for w in out["warnings"])
    # Per path as well: with the life cut, the exit value vanishes.
    life = np.array([3.0, 5.0, 5.5, np.inf])
    pv = discounting.exit_value_pv(100.0, 0.1, 6.0, 5, life)
    np.testing.assert_allclose(pv, [0.0, 0.0, 600 / 1.1**5, 600 / 1.1**5])


def test_rnpv_reference_case(client):
    x = copy.deepcopy(REFERENCE["rnpv-three-stages"]["inputs"])
    method = value_of(client, {"method": "dcf", **x})
    check("rnpv-three-stages", "value", method["value"])
    stages = method["audit"]["stages"]
    assert stages["cumulative_probability"] == pytest.approx(0.21)
    assert stages["probability_of_reaching"] == pytest.approx([1.0, 0.6, 0.3])
    assert stages["ends_years"] == pytest.approx([1.0, 3.0, 5.0])
    for stage in x["stages"]:
        stage["probability"] = 1
    check("rnpv-three-stages", "npv_all_success", value_of(client, {"method": "dcf", **x})["value"])


@pytest.mark.parametrize("method", [DCF, RFR, WITH_WITHOUT])
def test_rnpv_with_every_probability_one_and_no_cost_is_the_plain_npv(client, method):
    plain = value_of(client, method)["value"]
    stages = [
        {"name": "phase 1", "probability": 1, "years": 1},
        {"name": "phase 2", "probability": 1, "years": 0.5},
    ]
    assert value_of(client, method | {"stages": stages})["value"] == pytest.approx(plain, rel=1e-14)


def test_rnpv_weights_by_the_time_of_each_cash_flow(client):
    """A stage ending at 1.5 years: the year-1 flow (at t = 1) comes before its outcome is
    known, the year-2 flow after; mid-year, the year-2 flow at t = 1.5 is after it too."""
    stages = [{"name": "trial", "probability": 0.5, "cost": 0, "years": 1.5}]
    method = {"method": "dcf", "cash_flows": [100, 100], "discount_rate": 0.1, "stages": stages}
    end = value_of(client, method)
    assert end["audit"]["stages"]["cash_flow_weights"] == [1.0, 0.5]
    assert end["value"] == pytest.approx(100 / 1.1 + 50 / 1.1**2)
    mid = value_of(client, method | {"timing": "mid"})
    assert mid["audit"]["stages"]["cash_flow_weights"] == [1.0, 0.5]
    start = value_of(client, method | {"timing": "start"})
    assert start["audit"]["stages"]["cash_flow_weights"] == [1.0, 1.0]


def test_uncertain_probability_is_sampled(client):
    stages = [
        {"name": "phase 3", "probability": {"dist": "uniform", "low": 0.4, "high": 0.8}, "years": 1}
    ]
    method = {
        "method": "dcf",
        "cash_flows": [0, 100, 100, 100],
        "discount_rate": 0.1,
        "stages": stages,
    }
    sim = {"paths": 4000, "seed": 3, "legal_risk": NO_LEGAL_RISK}
    resp = client.post("/v1/valuations", json=body(method, simulation=sim))
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    full = sum(100 / 1.1**t for t in (2, 3, 4))
    dist = out["distribution"]
    assert 0.4 * full <= dist["p05"] < dist["p95"] <= 0.8 * full
    assert out["value"]["point"] == pytest.approx(0.6 * full)


def test_simulation_uses_the_same_timing_terminal_and_stages(client):
    """Deterministic inputs: every path is the point value."""
    method = DCF | {
        "timing": "start",
        "terminal_multiple": 4,
        "initial_cash_flow": 25,
        "stages": [{"name": "launch", "probability": 0.9, "cost": 10, "years": 1}],
    }
    sim = {"paths": 200, "seed": 1, "legal_risk": NO_LEGAL_RISK}
    resp = client.post("/v1/valuations", json=body(method, simulation=sim))
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert out["distribution"]["mean"] == pytest.approx(out["value"]["point"], rel=1e-12)


@pytest.mark.parametrize(
    ("fields", "where", "says"),
    [
        ({"timing": "start", "mid_year": True}, "methods[0].timing", "contradicts mid_year"),
        ({"timing": "mid", "mid_year": False}, "methods[0].timing", "contradicts mid_year"),
        ({"timing": "quarterly"}, "methods[0].timing", "end"),
        (
            {"terminal_growth": 0.02, "terminal_multiple": 5},
            "methods[0].terminal_multiple",
            "not both",
        ),
        ({"terminal_multiple": 0}, "methods[0].terminal_multiple", "multiple"),
        (
            {"stages": [{"name": "p", "probability": 0, "years": 1}]},
            "methods[0].stages[0].probability",
            "(0, 1]",
        ),
        (
            {"stages": [{"name": "p", "probability": 1.2, "years": 1}]},
            "methods[0].stages[0].probability",
            "(0, 1]",
        ),
        (
            {"stages": [{"name": "p", "probability": 0.5, "years": 0}]},
            "methods[0].stages[0].years",
            "years",
        ),
        (
            {"stages": [{"name": "p", "probability": 0.5, "years": 4}]},
            "methods[0].stages",
            "the stages last 4 years but the income covers 3",
        ),
        ({"stages": []}, "methods[0].stages", ""),
    ],
)
def test_bad_timing_input_is_a_422_naming_the_field(client, fields, where, says):
    resp = client.post("/v1/valuations", json=body(DCF | fields))
    assert resp.status_code == 422, resp.get_json()
    problems = resp.get_json()["errors"]
    assert any(p["field"] == where and says in p["message"] for p in problems), problems


def test_pharma_example_gives_the_readme_figures(client):
    """README's worked example (examples/valuation-pharma.json) states these numbers."""
    example = json.loads(
        (Path(__file__).parents[1] / "examples" / "valuation-pharma.json").read_text()
    )
    resp = client.post("/v1/valuations", json=example)
    assert resp.status_code == 201, resp.get_json()
    by_method = resp.get_json()["value"]["by_method"]
    assert by_method["rNPV"] == pytest.approx(38_837_813, abs=1)
    assert by_method["option to launch"] == pytest.approx(131_957_879, abs=1)
    methods = {m["key"]: m for m in resp.get_json()["methods"]}
    stages = methods["rNPV"]["audit"]["stages"]
    assert stages["cash_flow_weights"][:6] == pytest.approx([1, 1, 0.4, 0.4, 0.24, 0.216])
    assert stages["costs_pv"] == pytest.approx(69_748_354, abs=1)
    assert stages["unweighted_value"] == pytest.approx(499_934_894, abs=1)
    assert methods["option to launch"]["audit"]["black_scholes_value"] == pytest.approx(
        1_823_218, abs=1
    )


def test_a_rate_per_year_takes_every_timing() -> None:
    """A flat rate per year discounts as the one rate does, at year ends, mid-year and starts."""
    from ipvalue.valuation.discounting import TermRates, discount_factors, terminal_value_pv

    flat = TermRates(np.full(4, 0.1))
    for timing in ("end", "mid", "start"):
        assert discount_factors(flat, 6, timing=timing) == pytest.approx(
            discount_factors(0.1, 6, timing=timing), rel=1e-12
        )
        assert terminal_value_pv(100.0, flat, 0.02, 6, timing=timing) == pytest.approx(
            terminal_value_pv(100.0, 0.1, 0.02, 6, timing=timing), rel=1e-12
        )
