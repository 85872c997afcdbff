"""Risk-adjusted NPV by development stage (issue 14 item 7) against a published worked example.

Brealey, Myers and Allen, *Principles of Corporate Finance*, 12th ed. (2017), section 10-4,
Figure 10.7 (pp. 267-268): the pharmaceutical R&D decision tree, reproduced through the API's
``stages`` on a ``dcf`` method. Inputs, what the source states and how its decisions map onto
stages: tests/reference/derivations_options_timing.json ("rnpv-bma-pharma-decision-tree").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CASE = next(
    c
    for c in json.loads(
        (Path(__file__).parent / "reference" / "derivations_options_timing.json").read_text()
    )["cases"]
    if c["id"] == "rnpv-bma-pharma-decision-tree"
)
INPUTS = CASE["inputs"]
EXPECTED = CASE["expected"]
TOLERANCE = CASE["tolerance"]


def rnpv(client: Any, stages: list[dict[str, Any]], launch_pv: float) -> dict[str, Any]:
    """The method of a ``dcf`` whose only cash flow is the launch PV once every stage is over."""
    years = int(sum(s["years"] for s in stages))
    method = {
        "method": "dcf",
        "cash_flows": [0.0] * (years - 1) + [launch_pv],
        "discount_rate": INPUTS["discount_rate"],
        "stages": stages,
    }
    resp = client.post(
        "/v1/valuations",
        json={
            "asset": {"name": "drug candidate", "kind": "patent", "legal": {"status": "granted"}},
            "valuation_date": "2026-11-27",
            "currency": "USD",
            "methods": [method],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["methods"][0]


def test_phase_3_decisions_of_figure_10_7(client):
    """Brealey, Myers & Allen (12th ed.), Figure 10.7: once phase II has succeeded and the scope
    is known, phase III (130 now, 80 %, 3 years, launch PV at its end) is worth +295 (upside,
    PV 700), +52 (most likely, PV 300), and is stopped in the downside (PV 100), where it would
    lose money."""
    phase_3 = INPUTS["phase_3"]
    for scope, launch_pv in INPUTS["launch_pv"].items():
        method = rnpv(client, [phase_3], launch_pv)
        k = INPUTS["discount_rate"]
        assert method["value"] == pytest.approx(-130 + 0.8 * launch_pv / (1 + k) ** 3, abs=1e-9)
        if scope in EXPECTED["phase_3_stopped"]:
            assert method["value"] < 0, f"{scope}: the source stops here (source: {CASE['source']})"
        else:
            expected = EXPECTED["phase_3_npv"][scope]
            assert abs(method["value"] - expected) <= TOLERANCE, (
                f"{scope}: expected {expected}, computed {method['value']:.2f} "
                f"(source: {CASE['source']})"
            )


def test_programme_npv_of_figure_10_7(client):
    """Brealey, Myers & Allen (12th ed.), section 10-4: 'the NPV works out to $19 million'.

    The whole programme as two stages (phase II cost 18 at t = 0, phase III cost 130 at t = 2
    weighted by the probability of reaching it), with the tree's downside STOP taken as given:
    phase II counts as passed when it succeeds and the scope is upside or most likely
    (0.44 x 0.75), the launch PV being their mean, (0.25 x 700 + 0.5 x 300) / 0.75.
    The same figure folds back from the phase III values: -18 + 0.44 x (0.25 x 295.36 + 0.5 x
    52.30) / 1.096^2 = 18.63.
    """
    scopes, pvs = INPUTS["scope_probability"], INPUTS["launch_pv"]
    continued = [s for s in scopes if s not in EXPECTED["phase_3_stopped"]]
    p_continue = sum(scopes[s] for s in continued)
    launch_pv = sum(scopes[s] * pvs[s] for s in continued) / p_continue
    phase_2 = INPUTS["phase_2"] | {"probability": INPUTS["phase_2"]["probability"] * p_continue}
    method = rnpv(client, [phase_2, INPUTS["phase_3"]], launch_pv)
    assert abs(method["value"] - EXPECTED["npv"]) <= TOLERANCE, (
        f"expected {EXPECTED['npv']}, computed {method['value']:.2f} (source: {CASE['source']})"
    )
    stages = method["audit"]["stages"]
    assert stages["probability_of_reaching"] == pytest.approx([1.0, 0.33])
    assert stages["ends_years"] == pytest.approx([2.0, 5.0])
    k = INPUTS["discount_rate"]
    folded = -18 + sum(
        INPUTS["phase_2"]["probability"]
        * scopes[s]
        * max(0.0, -130 + 0.8 * pvs[s] / (1 + k) ** 3)
        / (1 + k) ** 2
        for s in scopes
    )
    assert method["value"] == pytest.approx(folded, abs=1e-9)


def test_without_the_stop_the_programme_is_worth_less(client):
    """Carrying the downside through phase III (no decision) gives the plain stage-weighted NPV:
    -18 + 0.44 x (0.25 x 295.36 + 0.5 x 52.30 - 0.25 x 69.23) / 1.096^2, below the tree's
    18.63 by the value of stopping (the tree's option to abandon)."""
    scopes, pvs = INPUTS["scope_probability"], INPUTS["launch_pv"]
    mean_pv = sum(scopes[s] * pvs[s] for s in scopes)
    method = rnpv(client, [INPUTS["phase_2"], INPUTS["phase_3"]], mean_pv)
    k = INPUTS["discount_rate"]
    plain = -18 + 0.44 * (-130 + 0.8 * mean_pv / (1 + k) ** 3) / (1 + k) ** 2
    assert method["value"] == pytest.approx(plain, abs=1e-9)
    assert method["value"] < EXPECTED["npv"] - TOLERANCE
