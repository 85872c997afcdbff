"""The valuation walk: one validation, one seed, one point value and legal life per request; the
method registry; legal-life warnings and trademark renewal through ``POST /v1/valuations``."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ipvalue.api.service as service
import ipvalue.risk.montecarlo.plan as plan_module
import ipvalue.valuation.audit as audit_module
import ipvalue.valuation.engine as engine_module
import ipvalue.valuation.market as market_module
from ipvalue.models.methods import METHOD_NAMES
from ipvalue.models.portfolio import PortfolioAsset
from ipvalue.models.valuation import ValuationRequest
from ipvalue.risk.montecarlo import simulate_valuation
from ipvalue.risk.portfolio.legal import legal_outlook
from ipvalue.valuation.engine import point_valuation
from ipvalue.valuation.methods import APPROACH, METHODS

FIVE = json.loads((Path(__file__).parents[1] / "examples" / "five_methods.json").read_text())
DAY = "2026-11-27"


def five(paths: int = 40_000, **sim: Any) -> dict[str, Any]:
    """The README-style five-method request, smaller (three value blocks, one chunk)."""
    body = copy.deepcopy(FIVE)
    body["simulation"] = {"paths": paths, **sim}
    return body


def flat_rfr(years: int = 10) -> dict[str, Any]:
    return {
        "method": "relief_from_royalty",
        "revenue": [1000.0] * years,
        "royalty_rate": 0.1,
        "tax_rate": 0.0,
        "discount_rate": 0.1,
    }


def mark(**legal: Any) -> dict[str, Any]:
    return {
        "asset": {"name": "brand", "kind": "trademark", "legal": {"status": "registered", **legal}},
        "valuation_date": DAY,
        "currency": "EUR",
        "methods": [flat_rfr()],
    }


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Count calls of ``owner.name`` (still calling through)."""
    calls: list[int] = []
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


# --- the walk -----------------------------------------------------------------------------


def test_a_post_validates_once_and_computes_point_life_and_regression_once(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import authed_client, key_for

    app = make_app(SYNC_BUDGET=10**12)  # answered inline: the counts are of one request's walk
    client = authed_client(app, key_for(app))
    validations: list[int] = []
    original = ValuationRequest.model_validate.__func__  # type: ignore[attr-defined]

    def validate(cls: Any, *args: Any, **kwargs: Any) -> Any:
        validations.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(ValuationRequest, "model_validate", classmethod(validate))
    points = counting(monkeypatch, service, "point_valuation")
    lives = counting(monkeypatch, engine_module, "legal_life")
    seeds = counting(monkeypatch, plan_module.seeds, "fresh_seed")
    fits = counting(monkeypatch, market_module, "royalty_regression")
    body = five()
    body["methods"][2]["comparables"] = [
        {"royalty_rate": 0.01 + 0.004 * x, "characteristics": {"life": x}}
        for x in (2, 4, 5, 7, 9, 11, 12)
    ]
    body["methods"][2]["subject"] = {"life": 8}
    resp = client.post("/v1/valuations", json=body)
    assert resp.status_code == 201, resp.get_json()
    assert (len(validations), len(points), len(lives), len(seeds), len(fits)) == (1, 1, 1, 1, 1)
    out = resp.get_json()
    stored = client.get(f"/v1/valuations/{out['id']}").get_json()
    seed = out["distribution"]["seed"]
    assert stored["seed"] == str(seed) and stored["inputs"]["simulation"]["seed"] == seed
    assert out["distribution"]["point_value"] == out["value"]["point"]


def test_the_simulation_never_builds_an_audit_trail(monkeypatch: pytest.MonkeyPatch) -> None:
    request = ValuationRequest.model_validate(five(seed=3))
    point = point_valuation(request)
    numbers = counting(monkeypatch, audit_module, "number")
    result = simulate_valuation(request, point=point)
    assert numbers == []
    assert result.point_value == point.point
    # Each method's simulated median lies near its point value (same formulas, base inputs).
    for m in point.result.methods:
        summary = result.by_method[m.key]
        assert summary.p05 <= max(m.value, 0) * 1.5 + 1 and summary.p95 >= m.value * 0.5


def test_the_seed_given_or_drawn_is_kept_in_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    request = ValuationRequest.model_validate(five(paths=1000))
    monkeypatch.setattr(plan_module.seeds, "fresh_seed", lambda: 1234)
    plan = plan_module.make_plan(request)
    assert plan.seed == 1234 and plan.request.simulation is not None
    assert plan.request.simulation.seed == 1234
    given = ValuationRequest.model_validate(five(paths=1000, seed=7))
    assert plan_module.make_plan(given).seed == 7


def test_the_same_seed_gives_the_same_distribution_through_service() -> None:
    a = service.run_valuation(five(paths=2000, seed=11))
    b = service.run_valuation(five(paths=2000, seed=11))
    assert a["distribution"]["mean"] == b["distribution"]["mean"]


def test_every_method_name_has_one_function_and_an_approach() -> None:
    assert set(METHODS) == set(METHOD_NAMES) == set(APPROACH)
    assert len({id(f) for f in METHODS.values()}) == len(METHODS)


def test_importing_the_simulation_changes_no_environment_variable() -> None:
    code = (
        "import os; before = dict(os.environ); "
        "import ipvalue.risk.montecarlo, ipvalue.risk.portfolio, ipvalue.api.service; "
        "assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- legal life in the result -------------------------------------------------------------


def test_income_cut_by_the_legal_expiry_is_a_warning(client: Any) -> None:
    body = {
        "asset": {"name": "p", "kind": "patent", "legal": {"filing_date": "2011-11-27"}},
        "valuation_date": DAY,
        "currency": "EUR",
        "methods": [flat_rfr(), {**flat_rfr(3), "label": "short"}],
    }
    out = client.post("/v1/valuations", json=body).get_json()
    # 20 years from filing: 2031-11-27, exactly 5 years; PVA(10 %, 5) x 100 = 379.0787.
    assert out["legal_life"]["years"] == 5.0
    assert out["value"]["by_method"]["relief_from_royalty"] == pytest.approx(379.0787, abs=5e-5)
    cut = [w for w in out["warnings"] if "income after the legal expiry" in w]
    assert len(cut) == 1 and cut[0].startswith("relief_from_royalty:")
    assert "short" not in cut[0]  # three years of income end before the expiry


def test_a_patent_without_dates_is_valued_without_limit_only_with_a_warning(client: Any) -> None:
    body = mark()
    body["asset"] = {"name": "p", "kind": "patent", "legal": {"status": "granted"}}
    out = client.post("/v1/valuations", json=body).get_json()
    assert out["legal_life"]["years"] is None
    assert any("without a legal limit" in w for w in out["warnings"])


def test_a_valuation_date_before_filing_is_refused(client: Any) -> None:
    body = mark(filing_date="2027-01-01")
    resp = client.post("/v1/valuations", json=body)
    assert resp.status_code == 422
    problem = resp.get_json()
    assert [e["field"] for e in problem["errors"]] == ["valuation_date"]
    assert "filing_date" in problem["errors"][0]["message"]


def test_a_registered_mark_renews_and_pays_its_renewal_fee(client: Any) -> None:
    full = sum(100 / 1.1**t for t in range(1, 11))
    renewed = client.post("/v1/valuations", json=mark(expiry_date="2029-11-27")).get_json()
    assert renewed["value"]["point"] == pytest.approx(full)
    assert renewed["legal_life"]["renews"] is True
    assert not any("legal expiry" in w for w in renewed["warnings"])
    fee = mark(expiry_date="2029-11-27", renewal_fee=50)
    paid = client.post("/v1/valuations", json=fee).get_json()
    # One renewal within the ten years, at exactly 3 years; the next (13 years) is after them.
    assert paid["value"]["point"] == pytest.approx(full - 50 / 1.1**3)
    assert paid["methods"][0]["audit"]["renewal_fees_pv"] == pytest.approx(50 / 1.1**3)


def test_a_mark_that_is_not_renewed_stops_at_expiry_and_says_so(client: Any) -> None:
    out = client.post(
        "/v1/valuations", json=mark(expiry_date="2029-11-27", renewal=False)
    ).get_json()
    assert out["value"]["point"] == pytest.approx(sum(100 / 1.1**t for t in (1, 2, 3)))
    assert any("income after the legal expiry on 2029-11-27" in w for w in out["warnings"])


def test_renewal_fees_follow_a_terminal_value_for_ever(client: Any) -> None:
    body = mark(expiry_date="2029-11-27", renewal_fee=50)
    body["methods"][0]["terminal_growth"] = 0.0
    out = client.post("/v1/valuations", json=body).get_json()
    fees = 50 / 1.1**3 / (1 - 1.1**-10)
    assert out["methods"][0]["audit"]["renewal_fees_pv"] == pytest.approx(fees)


def test_renewal_fees_are_simulated_with_the_income() -> None:
    body = mark(expiry_date="2029-11-27", renewal_fee=50)
    body["methods"][0]["discount_rate"] = {"dist": "uniform", "low": 0.08, "high": 0.12}
    body["simulation"] = {"paths": 20_000, "seed": 5, "legal_risk": {"lapse_hazard": 0}}
    out = service.run_valuation(body)
    k = np.random.default_rng(0).uniform(0.08, 0.12, 400_000)
    t = np.arange(1, 11)
    expected = float(np.mean((100 / (1 + k[:, None]) ** t).sum(axis=1) - 50 / (1 + k) ** 3))
    dist = out["distribution"]
    # Legal events (cancellation, a lost case) only lower the mean: below the no-event mean.
    assert dist["mean"] < expected + 3 * dist["se_mean"]
    assert dist["mean"] > 0.9 * expected


def test_portfolio_screening_uses_statutory_terms_and_renewal() -> None:
    def asset(**kw: Any) -> PortfolioAsset:
        return PortfolioAsset.model_validate(
            {"id": "a", "sector": "s", "value": 1.0, "volatility": 0.2, **kw}
        )

    import datetime as dt

    day = dt.date(2026, 11, 27)
    assets = [
        asset(kind="patent", filing_date="2007-06-01"),  # 20 years: 2027-06-01
        asset(kind="patent", filing_date="2020-06-01"),
        asset(kind="trademark", status="registered", expiry_date="2027-03-01"),
        asset(kind="trademark", status="pending", expiry_date="2027-03-01"),
    ]
    outlook = legal_outlook(assets, day, 1.0, 0.5)
    assert outlook.expires.tolist() == [True, False, False, True]


def test_a_lost_case_cuts_income_but_the_renewal_fees_are_still_paid() -> None:
    from ipvalue.risk.montecarlo.chunks import run_chunk
    from ipvalue.valuation.income_value import discount_income

    body = mark(expiry_date="2029-11-27", renewal_fee=50)
    body["simulation"] = {
        "paths": 2000,
        "seed": 9,
        "legal_risk": {
            "invalidation_hazard": 0,
            "lapse_hazard": 0,
            "litigation_loss_hazard": 0.2,
            "litigation_loss_share": 0.4,
        },
    }
    plan = plan_module.make_plan(ValuationRequest.model_validate(body))
    out = run_chunk(plan, 0)
    times = out.events["litigation_loss"]
    income = np.full(10, 100.0)
    full = float(discount_income(income, 0.1).value)
    cut = discount_income(income, 0.1, life_years=times).value
    expected = 0.6 * full + 0.4 * cut - 50 / 1.1**3
    assert np.any(times < 3)  # some cases are lost before the renewal
    np.testing.assert_allclose(out.by_method["relief_from_royalty"], expected, rtol=1e-12)
