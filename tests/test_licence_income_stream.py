"""A licence's running royalties are an income stream: legal life, lost cases and work.

The running royalties of ``licence`` (issue 14, item 6) are cut as relief from royalty's income
is: at the right's life (per path when a simulated event stops it) and by the loss share from a
simulated lost infringement case on; the point value says when the legal expiry cuts them; and
the work estimate counts their years. With no tax, a licence's running royalty r on sales R is
relief from royalty's saving r (1 - 0) R, so the two must agree path by path, and the upfront
fee adds to every path. The legal events' closed form is that of tests/test_montecarlo.py.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np
import pytest
from conftest import authed_client, key_for
from montecarlo_helpers import NO_LEGAL_RISK, make_request, within

from ipvalue.api.limits import method_units, valuation_work
from ipvalue.models.errors import InputError
from ipvalue.risk.montecarlo import simulate_valuation
from ipvalue.valuation.income import relief_from_royalty
from ipvalue.valuation.income_value import LostCase
from ipvalue.valuation.licence import licence_terms

REVENUE = [1000.0, 1100.0, 1200.0, 1300.0, 1400.0, 1500.0, 1600.0, 1700.0, 1800.0, 1900.0]
RUNNING = {
    "method": "licence",
    "running_royalty_rate": 0.05,
    "revenue": REVENUE,
    "discount_rate": 0.10,
}
RFR = {
    "method": "relief_from_royalty",
    "revenue": REVENUE,
    "royalty_rate": 0.05,
    "tax_rate": 0.0,
    "discount_rate": 0.10,
}
LITIGATION = NO_LEGAL_RISK | {"litigation_loss_hazard": 0.1, "litigation_loss_share": 0.4}


def body(method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "asset": {"name": "test patent", "kind": "patent", "legal": {"status": "granted"}},
        "valuation_date": "2026-11-27",
        "currency": "EUR",
        "methods": [method],
        **extra,
    }


def distribution(method: dict[str, Any], legal_risk: dict[str, Any], paths: int = 20_000):
    return simulate_valuation(make_request([method], legal_risk=legal_risk, paths=paths))


# The formula: path by path ----------------------------------------------------------------


def test_a_lost_case_cuts_the_running_royalties_as_it_cuts_relief_from_royalty() -> None:
    rng = np.random.default_rng(14)
    n = 400
    sales = rng.uniform(500, 2000, (n, 8))
    k, r = rng.uniform(0.05, 0.2, n), rng.uniform(0.01, 0.1, n)
    life = np.where(rng.uniform(size=n) < 0.3, rng.uniform(0, 8, n), np.inf)
    lost = LostCase(np.where(rng.uniform(size=n) < 0.5, rng.uniform(0, 8, n), np.inf), 0.4)
    terms = licence_terms(250.0, r, sales, k, life_years=life, lost_case=lost)
    saving = relief_from_royalty(sales, r, 0.0, k, life_years=life, lost_case=lost)
    np.testing.assert_allclose(terms.value, 250.0 + saving.value, rtol=1e-12)
    uncut = licence_terms(250.0, r, sales, k, life_years=life)
    hit = np.asarray(lost.years) < life
    assert np.all(terms.value[hit] < uncut.value[hit])
    np.testing.assert_array_equal(terms.value[~hit], uncut.value[~hit])
    # the pure running rate of equal value is read off the sales cut the same way
    again = licence_terms(
        0.0, terms.equivalent_running_rate, sales, k, life_years=life, lost_case=lost
    )
    np.testing.assert_allclose(again.value, terms.value, rtol=1e-12)


def test_a_case_lost_at_once_with_share_one_leaves_the_upfront_fee() -> None:
    terms = licence_terms(300.0, 0.05, REVENUE, 0.1, lost_case=LostCase(np.zeros(3), 1.0))
    np.testing.assert_allclose(terms.value, [300.0] * 3, atol=1e-9)


# The simulation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "legal_risk",
    [
        LITIGATION,
        NO_LEGAL_RISK | {"invalidation_hazard": 0.05},
        NO_LEGAL_RISK
        | {"invalidation_hazard": 0.03, "litigation_loss_hazard": 0.2, "litigation_loss_share": 1},
    ],
    ids=["litigation", "invalidation", "both"],
)
def test_legal_events_cut_a_licence_as_they_cut_relief_from_royalty(legal_risk) -> None:
    rfr = distribution(RFR, legal_risk)
    licence = distribution(RUNNING, legal_risk)
    for stat in ("mean", "sd", "p05", "p50", "p95"):
        assert getattr(licence, stat) == pytest.approx(getattr(rfr, stat), rel=1e-12), stat
    assert licence.mean < licence.point_value - 3 * licence.se_mean
    upfront = distribution(RUNNING | {"upfront": 500.0}, legal_risk)
    assert upfront.mean == pytest.approx(licence.mean + 500.0, rel=1e-12)
    assert upfront.p05 == pytest.approx(licence.p05 + 500.0, rel=1e-12)


def test_a_lost_case_cuts_the_royalties_by_its_share_from_then_on() -> None:
    """E[value] = sum_t royalty_t v^t (1 - share (1 - E[share of year t before the case]))."""
    res = distribution(RUNNING | {"upfront": 500.0}, LITIGATION, paths=50_000)
    lam = -math.log1p(-0.1)
    t = np.arange(1, 11)
    before = np.exp(-lam * (t - 1)) * (1 - math.exp(-lam)) / lam
    royalties = 0.05 * np.array(REVENUE) * 1.1**-t
    expected = 500.0 + float((royalties * (1 - 0.4 * (1 - before))).sum())
    assert (msg := within(res.mean, expected, res.se_mean)) is None, msg


def test_the_licensees_income_method_is_cut_too() -> None:
    licence = {"method": "licence", "licensee_value": RFR, "value_basis": "maximum"}
    assert distribution(licence, LITIGATION).mean == pytest.approx(
        distribution(RFR, LITIGATION).mean, rel=1e-12
    )


# The point value ------------------------------------------------------------------------


def test_the_legal_expiry_cut_is_said(client: Any) -> None:
    req = body(RUNNING | {"upfront": 1000})
    req["asset"]["legal"] = {"status": "granted", "expiry_date": "2029-11-27"}
    resp = client.post("/v1/valuations", json=req)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert any("income after the legal expiry" in w for w in out["warnings"]), out["warnings"]
    expected = 1000 + sum(0.05 * r * 1.1**-t for t, r in enumerate(REVENUE[:3], start=1))
    assert out["methods"][0]["value"] == pytest.approx(expected, rel=1e-9)


def test_a_lapsed_right_keeps_the_upfront_fee_and_is_not_collateral(client: Any) -> None:
    req = body(RUNNING | {"upfront": 1000})
    req["asset"]["legal"] = {"status": "lapsed"}
    resp = client.post("/v1/valuations", json=req)
    assert resp.status_code == 201, resp.get_json()
    method = resp.get_json()["methods"][0]
    assert method["value"] == pytest.approx(1000)
    assert any("not collateral" in w for w in method["warnings"]), method["warnings"]
    assert not any("worth zero" in w for w in method["warnings"])


# The work estimate -----------------------------------------------------------------------


def work(method: dict[str, Any], paths: int = 10_000) -> float:
    payload = {
        **body(method),
        "simulation": {"paths": paths, "seed": 1, "legal_risk": NO_LEGAL_RISK},
    }
    return valuation_work(make_request([method], paths=paths), payload)


@pytest.mark.parametrize("years", [1, 5, 30, 200])
def test_the_work_estimate_grows_with_years_and_paths(years: int) -> None:
    method = RUNNING | {"revenue": {"base": 1000, "growth": 0.02, "years": years}}
    one = work(method, paths=10_000)
    assert one == 10_000 * years  # one method-year a path and year, nothing uncertain
    assert work(method, paths=40_000) == 4 * one
    rfr = RFR | {"revenue": method["revenue"]}
    assert one == work(rfr)  # the same stream costs what relief from royalty's does


def test_the_licensees_income_method_adds_its_years() -> None:
    licensee = RFR | {"revenue": [1000.0] * 12}
    both = RUNNING | {"licensee_value": licensee}
    assert work(both) == 10_000 * (len(REVENUE) + 12)
    request = make_request([both])
    assert method_units(request.methods[0], copy.deepcopy(both)) == len(REVENUE) + 12


def test_a_licence_without_running_royalties_counts_one_unit() -> None:
    assert work({"method": "licence", "upfront": 100, "licensee_value": 400}) == 10_000
    uncertain = {"method": "licence", "upfront": {"dist": "uniform", "low": 50, "high": 150}}
    assert work(uncertain) == 10_000 * (1 + 4)  # and 4 a path for each uncertain input


# Bad input ----------------------------------------------------------------------------------


def problems(client: Any, method: dict[str, Any], **extra: Any) -> dict[str, str]:
    resp = client.post("/v1/valuations", json=body(method, **extra))
    assert resp.status_code == 422, resp.get_json()
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    return {p["field"]: p["message"] for p in resp.get_json()["errors"]}


def test_a_term_structure_longer_than_the_royalties_is_refused(client: Any) -> None:
    method = RUNNING | {"discount_rate": {"term_structure": [0.1] * 11}}
    errors = problems(client, method)
    assert "11 rates for 10 years" in errors["methods[0].discount_rate.term_structure"]


def test_a_term_structure_discounts_the_royalties(client: Any) -> None:
    method = RUNNING | {"revenue": REVENUE[:3], "discount_rate": {"term_structure": [0.1, 0.2]}}
    resp = client.post("/v1/valuations", json=body(method))
    assert resp.status_code == 201, resp.get_json()
    d = [1 / 1.1, 1 / 1.1 / 1.2, 1 / 1.1 / 1.2 / 1.2]
    expected = sum(0.05 * r * f for r, f in zip(REVENUE[:3], d, strict=True))
    assert resp.get_json()["methods"][0]["value"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"stages": [{"name": "p", "probability": 0.5, "years": 1}]}, "methods[0].stages"),
        ({"economic_life_years": 3}, "methods[0].economic_life_years"),
    ],
)
def test_income_method_fields_a_licence_does_not_take_are_named(client, fields, field) -> None:
    assert field in problems(client, RUNNING | fields)


def test_a_loss_share_above_one_is_refused(client: Any) -> None:
    sim = {"paths": 1000, "legal_risk": LITIGATION | {"litigation_loss_share": 1.5}}
    errors = problems(client, RUNNING, simulation=sim)
    assert any("litigation_loss_share" in f for f in errors), errors


def test_the_simulation_refuses_what_the_point_refuses() -> None:
    method = RUNNING | {"discount_rate": {"term_structure": [0.1] * 11}}
    with pytest.raises(InputError) as err:
        simulate_valuation(make_request([method]))
    assert err.value.problems[0].field == "methods[0].discount_rate.term_structure"


# End to end: the budget sends a long licence to a job -----------------------------------------


def wait_for(client: Any, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").get_json()
        if state["status"] in {"succeeded", "failed"} or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def test_a_long_licence_runs_as_a_job_with_the_inline_answer(make_app: Any) -> None:
    sim = {"paths": 2000, "seed": 7, "legal_risk": LITIGATION}
    short = body(RUNNING | {"revenue": REVENUE[:5]}, simulation=sim)
    long = body(RUNNING | {"revenue": {"base": 1000, "growth": 0.01, "years": 60}}, simulation=sim)
    inline_app = make_app()
    inline = authed_client(inline_app, key_for(inline_app)).post("/v1/valuations", json=long)
    assert inline.status_code == 201, inline.get_json()
    app = make_app(SYNC_BUDGET=2000 * 20)  # 20 method-years a path inline
    client = authed_client(app, key_for(app, "licence-tenant"))
    assert client.post("/v1/valuations", json=short).status_code == 201
    accepted = client.post("/v1/valuations", json=long)
    assert accepted.status_code == 202, accepted.get_json()
    state = wait_for(client, accepted.get_json()["job_id"])
    assert state["status"] == "succeeded", state
    result = state["result"]
    assert result["distribution"] == inline.get_json()["distribution"]
    assert result["distribution"]["mean"] < result["value"]["point"]
