"""Development stages (rNPV) with a rate per year: stage costs discount like the cash flows.

Each stage's cost is discounted from its start with the discount factor the cash flows use
(:func:`ipvalue.valuation.discounting.discount_factor_at`): (1 + k)^-S at one rate, the product
of each year's factor to S with a term structure. Reference: tests/reference/
stages_term_structure.json (hand-checkable; no published rNPV case with a term structure was
found) and the three-stage rNPV of tests/reference/derivations_options_timing.json (Stewart,
Allison and Johnson, Nature Biotechnology 19 (2001) 813-817) under a flat term structure.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ipvalue.valuation.discounting import TermRates, discount_factor_at, discount_factors
from ipvalue.valuation.staging import stage_weighting

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "stages_term_structure.json").read_text()
)
CASES = {
    c["id"]: c
    for c in json.loads(
        (Path(__file__).parent / "reference" / "derivations_options_timing.json").read_text()
    )["cases"]
}
NO_LEGAL_RISK = {"invalidation_hazard": 0, "lapse_hazard": 0, "litigation_loss_hazard": 0}


def body(method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "asset": {"name": "test patent", "kind": "patent", "legal": {"status": "granted"}},
        "valuation_date": "2026-11-27",
        "currency": "EUR",
        "methods": [method],
        **extra,
    }


def post(client: Any, method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resp = client.post("/v1/valuations", json=body(method, **extra))
    assert resp.status_code == 201, resp.get_json()
    out: dict[str, Any] = resp.get_json()
    return out


# The formula ------------------------------------------------------------------------------


def test_factors_at_whole_years_are_the_cash_flows_factors_exactly() -> None:
    term = TermRates(np.array([0.08, 0.10, 0.12]))
    ends = discount_factors(term, 5)
    assert [float(term.at(t)) for t in range(1, 6)][:3] == list(ends[:3])
    assert float(term.at(0.0)) == 1.0
    # after the last rate the last rate goes on
    assert float(term.at(5.0)) == pytest.approx(ends[4], rel=1e-14)


def test_factors_between_year_ends_by_hand() -> None:
    term = TermRates(np.array([0.08, 0.10, 0.12]))
    assert float(term.at(1.5)) == pytest.approx(1 / 1.08 / 1.10**0.5, rel=1e-15)
    assert float(term.at(0.25)) == pytest.approx(1.08**-0.25, rel=1e-15)
    assert float(term.at(4.5)) == pytest.approx(1 / (1.08 * 1.10 * 1.12) / 1.12**1.5, rel=1e-15)
    # mid-year cash flows are the same factors at t - 0.5
    mid = discount_factors(term, 5, mid_year=True)
    np.testing.assert_allclose(term.at(np.arange(5) + 0.5), mid, rtol=1e-15)


def test_factors_per_path_and_per_stage() -> None:
    """Rates per path ``(paths, m)`` and times per stage and path ``(stages, paths)``."""
    rates = np.array([[0.08, 0.10], [0.05, 0.06], [0.2, 0.2]])
    term = TermRates(rates)
    times = np.array([[0.0, 0.5, 1.5], [2.0, 3.0, 1.0]])
    got = term.at(times)
    assert got.shape == (2, 3)
    for s in range(2):
        for p in range(3):
            alone = TermRates(rates[p]).at(times[s, p])
            assert got[s, p] == pytest.approx(float(alone), rel=1e-15)


@pytest.mark.parametrize("times", [0.0, 1.5, 2.0, 3.25, 7.0, np.array([0.0, 1.0, 2.5, 9.0])])
def test_a_flat_term_structure_is_the_one_rate(times: Any) -> None:
    for m in (1, 3, 6):
        flat = TermRates(np.full(m, 0.11))
        np.testing.assert_allclose(
            discount_factor_at(flat, times), discount_factor_at(0.11, times), rtol=1e-13
        )


def test_stage_weighting_with_a_flat_term_structure_is_the_one_rate() -> None:
    args = ([0.6, 0.5, 0.7], [10.0, 20.0, 50.0], [1.0, 1.5, 2.0], np.arange(1.0, 11.0) - 0.5)
    one = stage_weighting(*args, 0.1)
    flat = stage_weighting(*args, TermRates(np.full(4, 0.1)))
    assert float(flat.costs_pv) == pytest.approx(float(one.costs_pv), rel=1e-13)
    np.testing.assert_array_equal(flat.weights, one.weights)


def test_stage_inputs_per_path_meet_a_rate_per_path() -> None:
    """Fixed stages with a rate that varies by path (and the other way round) broadcast."""
    times = np.arange(1.0, 6.0)
    k = np.array([0.08, 0.1, 0.12, 0.14, 0.16])
    staged = stage_weighting([0.5, 0.8, 0.9], [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], times, k)
    assert staged.costs_pv.shape == (5,) and staged.weights.shape == (5, 5)
    for i, rate in enumerate(k):
        alone = stage_weighting([0.5, 0.8, 0.9], [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], times, rate)
        assert staged.costs_pv[i] == pytest.approx(float(alone.costs_pv), rel=1e-15)
    term = TermRates(np.tile([0.08, 0.1], (5, 1)))
    years = [1.0, np.array([1.0, 1.5, 2.0, 2.5, 3.0])]
    staged = stage_weighting([0.5, 0.8], [1.0, 2.0], years, times, term)
    assert staged.costs_pv == pytest.approx(np.full(5, 1 + 0.5 * 2 / 1.08))


# Through the API --------------------------------------------------------------------------


def test_stages_with_a_term_structure_by_hand(client: Any) -> None:
    case = REFERENCE["hand_checked"]
    out = post(client, {"method": "dcf", **case["inputs"]})
    method = out["methods"][0]
    expected, tol = case["expected"], case["tolerance"]
    assert abs(method["value"] - expected["value"]) <= tol, case["source"]
    stages = method["audit"]["stages"]
    assert stages["costs_pv"] == pytest.approx(expected["costs_pv"], abs=tol)
    assert stages["cash_flow_weights"] == pytest.approx(expected["cash_flow_weights"])
    assert stages["unweighted_value"] == pytest.approx(expected["unweighted_value"], abs=tol)
    trail = method["audit"]["derivations"]["methods[0].discount_rate"]
    assert trail["practice"] == "term_structure"


@pytest.mark.parametrize("timing", ["end", "mid", "start"])
def test_the_published_three_stage_rnpv_under_a_flat_term_structure(client: Any, timing: str):
    """Stewart et al. (2001) case: a flat rate per year gives the one rate's rNPV."""
    x = copy.deepcopy(CASES["rnpv-three-stages"]["inputs"])
    one = post(client, {"method": "dcf", "timing": timing, **x})["methods"][0]["value"]
    if timing == "end":
        case = CASES["rnpv-three-stages"]
        assert abs(one - case["expected"]["value"]) <= case["tolerance"], case["source"]
    for rates in ([0.1] * 10, [0.1, 0.1], [0.1]):
        x["discount_rate"] = {"term_structure": rates}
        flat = post(client, {"method": "dcf", "timing": timing, **x})["methods"][0]["value"]
        assert flat == pytest.approx(one, rel=1e-12)


def test_the_simulation_values_stages_with_a_term_structure_as_the_point(client: Any) -> None:
    """Fixed inputs: every path is the point value (the same formula, on arrays)."""
    case = REFERENCE["hand_checked"]
    sim = {"paths": 200, "seed": 3, "legal_risk": NO_LEGAL_RISK}
    out = post(client, {"method": "dcf", **case["inputs"]}, simulation=sim)
    assert out["value"]["point"] == pytest.approx(case["expected"]["value"], abs=1e-9)
    assert out["distribution"]["mean"] == pytest.approx(out["value"]["point"], rel=1e-12)


def test_uncertain_rates_and_stage_years_are_simulated(client: Any) -> None:
    inputs = copy.deepcopy(REFERENCE["hand_checked"]["inputs"])
    inputs["discount_rate"] = {
        "term_structure": [{"dist": "normal", "mean": 0.08, "sd": 0.01}, 0.10, 0.12]
    }
    sim = {"paths": 4000, "seed": 5, "legal_risk": NO_LEGAL_RISK}
    out = post(client, {"method": "dcf", **inputs}, simulation=sim)
    dist = out["distribution"]
    assert dist["p05"] < dist["mean"] < dist["p95"]
    assert dist["mean"] == pytest.approx(out["value"]["point"], rel=0.01)  # nearly linear in k_1
    # a stage that may end after year 3 delays the year-3 weight: the paths spread wider
    inputs["stages"][1]["years"] = {"dist": "triangular", "low": 1.0, "mode": 1.5, "high": 2.0}
    wider = post(client, {"method": "dcf", **inputs}, simulation=sim)["distribution"]
    assert wider["p95"] - wider["p05"] > dist["p95"] - dist["p05"]
    # an uncertain one rate with fixed stages: one rate per path meets the stages' numbers
    inputs["discount_rate"] = {"dist": "normal", "mean": 0.10, "sd": 0.01}
    inputs["stages"][1]["years"] = 1.5
    out = post(client, {"method": "dcf", **inputs}, simulation=sim)
    assert out["distribution"]["p05"] < out["distribution"]["p95"]
