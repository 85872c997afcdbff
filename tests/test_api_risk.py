"""The risk endpoints through HTTP: collateral, triggers, insurance and volatility."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from tests.conftest import load_cases

CASE = next(c for c in load_cases() if c["id"] == "lognormal-collateral-1y")
VALUATION = {
    "asset": {"name": "p", "kind": "patent", "legal": {"expiry_date": "2036-01-01"}},
    "valuation_date": "2026-11-27",
    "currency": "EUR",
    "methods": [{"method": "dcf", "cash_flows": [100.0] * 5, "discount_rate": 0.1}],
}


def wait_for(client: Any, job_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(f"/v1/jobs/{job_id}").get_json()
        if state["status"] in {"succeeded", "failed"} or time.monotonic() > deadline:
            return dict(state)
        time.sleep(0.2)


def test_collateral_reproduces_the_lognormal_reference_case(client):
    x = CASE["inputs"]
    body = {k: x[k] for k in ("value", "volatility", "horizon_years", "drift")}
    resp = client.post("/v1/collateral", json=body | {"paths": 100_000, "seed": 11})
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    for name in ("p05", "p50", "p95"):
        ci = out["range"]["intervals"][name]
        expected = CASE["expected"][name]
        assert ci["ci_low"] <= expected <= ci["ci_high"], (name, expected, ci, CASE["source"])
    assert out["var95"] == pytest.approx(CASE["expected"]["var95_loss_from_value"], abs=0.03)
    assert out["es95"] == pytest.approx(CASE["expected"]["es95_loss_from_value"], abs=0.03)
    for key in ("lending_value", "max_loan", "prob_ltv_breach", "ltv"):
        assert key in out
    again = client.get(f"/v1/collateral/{out['id']}").get_json()
    assert again["range"] == out["range"]


def test_collateral_from_a_stored_valuation(client, other_client):
    valuation = client.post("/v1/valuations", json=VALUATION).get_json()
    body = {
        "valuation_id": valuation["id"],
        "volatility": 0.3,
        "horizon_years": 2,
        "loan_amount": 100,
        "seed": 1,
        "paths": 5_000,
    }
    out = client.post("/v1/collateral", json=body).get_json()
    assert out["value"] == pytest.approx(valuation["value"]["point"])
    assert out["ltv"] == pytest.approx(100 / valuation["value"]["point"])
    assert other_client.post("/v1/collateral", json=body).status_code == 404


def test_collateral_seed_is_recorded_and_repeats_bit_for_bit(client):
    body = {
        "value": 10,
        "volatility": 0.4,
        "horizon_years": 1,
        "paths": 5_000,
        "loan_amount": 3,
        "annual_pd": 0.05,
    }
    first = client.post("/v1/collateral", json=body).get_json()
    again = client.post("/v1/collateral", json=body | {"seed": first["seed"]}).get_json()
    first.pop("id"), again.pop("id")
    assert first == again


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": 10, "horizon_years": 1}, "volatility"),
        ({"value": 10, "volatility": 0.4, "horizon_years": 1, "max_ltv": 1.5}, "max_ltv"),
        ({"value": 10, "volatility": 0.4, "horizon_years": -1}, "horizon_years"),
        ({"value": 10, "volatility": 0.4, "horizon_years": 1, "annual_pd": 2}, "annual_pd"),
        ({"value": 10, "volatility": 0.4, "horizon_years": 1, "loan_amount": -5}, "loan_amount"),
    ],
)
def test_collateral_bad_input_names_the_field(client, body, field):
    resp = client.post("/v1/collateral", json=body)
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    assert field in [e["field"] for e in resp.get_json()["errors"]]


def test_unknown_valuation_id_is_404(client):
    body = {"valuation_id": "nope", "volatility": 0.3, "horizon_years": 1}
    assert client.post("/v1/collateral", json=body).status_code == 404


def test_triggers_through_the_api(client):
    body = {
        "as_of": "2026-11-27",
        "last_appraisal": {"date": "2025-06-30", "value": 1_000_000},
        "current": {"value": 750_000},
        "loan": {"amount": 300_000, "max_ltv": 0.3, "term_years": 3},
        "legal": {
            "expiry_date": "2028-06-30",
            "events": [{"type": "invalidation_petition", "date": "2026-10-01"}],
        },
    }
    resp = client.post("/v1/triggers/evaluate", json=body)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    rules = {t["rule"] for t in out["triggers"]}
    assert {"calendar", "value_decline", "ltv_breach", "legal_event", "remaining_life"} <= rules
    assert all(t["severity"] and t["reason"] and t["action"] for t in out["triggers"])
    assert out["next_revaluation_date"] == "2026-11-27"


def test_triggers_bad_event_type_is_422(client):
    body = {
        "as_of": "2026-11-27",
        "last_appraisal": {"date": "2026-01-01", "value": 1},
        "legal": {"events": [{"type": "alien_abduction", "date": "2026-10-01"}]},
    }
    resp = client.post("/v1/triggers/evaluate", json=body)
    assert resp.status_code == 422
    assert "legal.events[0].type" in [e["field"] for e in resp.get_json()["errors"]]


def test_insurance_quote_through_the_api(client):
    body = {
        "cover": "collateral_value",
        "collateral": {
            "value": 10,
            "volatility": 0.4,
            "loan_amount": 6,
            "horizon_years": 2,
            "annual_pd": 0.1,
        },
        "simulation": {"paths": 20_000, "seed": 2},
    }
    resp = client.post("/v1/insurance/quotes", json=body)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert out["premium"] > out["expected_loss"] > 0
    assert "breakdown" in out
    lit = {
        "cover": "litigation",
        "limit": 5_000_000,
        "suits": {"frequency": 0.02},
        "simulation": {"paths": 20_000, "seed": 2},
    }
    assert client.post("/v1/insurance/quotes", json=lit).status_code == 201


def test_insurance_bad_input_names_the_field_without_the_cover_tag(client):
    body = {
        "cover": "collateral_value",
        "collateral": {
            "value": 10,
            "volatility": 0.4,
            "loan_amount": -6,
            "horizon_years": 2,
            "annual_pd": 0.1,
        },
    }
    resp = client.post("/v1/insurance/quotes", json=body)
    assert resp.status_code == 422
    assert "collateral.loan_amount" in [e["field"] for e in resp.get_json()["errors"]]
    resp = client.post("/v1/insurance/quotes", json={"cover": "weather"})
    assert resp.status_code == 422


def test_volatility_bad_input_is_refused_before_any_job(client):
    resp = client.post(
        "/v1/volatility", json={"series": [1, 2, 3], "kind": "levels", "periods_per_year": 4}
    )
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"].startswith("series")


@pytest.mark.slow
def test_volatility_runs_as_a_job_and_reports_diagnostics(client):
    rng = np.random.default_rng(5)
    returns = (0.3 / 2 * rng.standard_normal(24)).tolist()
    body = {
        "series": returns,
        "kind": "returns",
        "periods_per_year": 4,
        "seed": 3,
        "draws": 500,
        "tune": 500,
    }
    resp = client.post("/v1/volatility", json=body)
    assert resp.status_code == 202, resp.get_json()
    state = wait_for(client, resp.get_json()["job_id"])
    assert state["status"] == "succeeded", state
    result = state["result"]
    sigma = result["sigma_annual"]
    assert sigma["hdi_low"] < sigma["median"] < sigma["hdi_high"]
    assert {"r_hat", "ess_bulk", "divergences"} <= set(result["diagnostics"])


def test_monitored_asset_keeps_its_history(client, other_client):
    state = {
        "asset_id": "EP1234567",
        "as_of": "2026-06-30",
        "last_appraisal": {"date": "2026-01-31", "value": 1_000_000},
        "current": {"value": 950_000},
    }
    first = client.post("/v1/triggers/evaluate", json=state).get_json()
    later = state | {"as_of": "2026-11-27", "current": {"value": 700_000}}
    second = client.post("/v1/triggers/evaluate", json=later).get_json()
    client.post("/v1/triggers/evaluate", json=later | {"asset_id": "another"})
    history = client.get("/v1/triggers/history/EP1234567").get_json()
    assert [e["id"] for e in history["evaluations"]] == [first["id"], second["id"]]
    assert history["evaluations"][1]["observations"]["current"]["value"] == 700_000
    assert "value_decline" in {t["rule"] for t in history["evaluations"][1]["result"]["triggers"]}
    assert other_client.get("/v1/triggers/history/EP1234567").status_code == 404
