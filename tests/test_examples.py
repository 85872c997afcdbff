"""Every body in examples/ works against the app as the README shows it, and the README shows
every one of them.

Bodies that start from a stored record carry a placeholder (``VALUATION_ID``,
``COLLATERAL_ID``) that the README's curl lines fill with ``sed``; the test fills it with the id
of the record its source example created, in the same order.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_api_risk import wait_for

from ipvalue.api.openapi_examples import FILES
from ipvalue.api.reference import document
from ipvalue.models.volatility import VolatilityRequest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
README = (ROOT / "README.md").read_text(encoding="utf-8")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: example -> what its answer must show (its endpoint is the one the OpenAPI document
#: shows it for: ipvalue.api.openapi_examples.FILES)
SHOWS: dict[str, str] = {
    "patent.json": "income and cost methods reconciled",
    "valuation-income.json": "every income method",
    "valuation-cost.json": "both cost methods",
    "valuation-excess-earnings.json": "charges by value, attrition, WARA",
    "valuation-cost-restated.json": "price index, newness, obsolescence",
    "valuation-market.json": "comparable prices and royalties",
    "valuation-option.json": "a real option",
    "valuation-pharma.json": "rNPV by stage and an American lattice option",
    "valuation-rates.json": "derived discount rates",
    "valuation-royalty.json": "derived royalty rates, splits and a licence",
    "valuation-simulation.json": "a distribution and value paths",
    "five_methods.json": "five methods simulated together, as a job",
    "collateral.json": "range, max loan, loan loss",
    "collateral-from-valuation.json": "a stored valuation's volatility",
    "insurance-collateral.json": "collateral-value cover",
    "insurance-from-collateral.json": "a stored assessment",
    "insurance-litigation.json": "litigation cover",
    "triggers.json": "rules that fire",
    "portfolio.json": "a ranked portfolio",
    "portfolio.csv": "a ranked CSV upload",
    "volatility.json": "a job",
}
ENDPOINTS: dict[str, str] = {
    name: path for (_, path), media in FILES.items() for names in media.values() for name in names
}
#: example -> (endpoint, what the answer must show)
POSTS: dict[str, tuple[str, str]] = {
    name: (ENDPOINTS[name], shows) for name, shows in SHOWS.items()
}


#: placeholder -> the example whose record fills it
SOURCES = {
    "VALUATION_ID": "valuation-simulation.json",
    "COLLATERAL_ID": "collateral.json",
}


def body(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / name).read_text(encoding="utf-8")))


def created(client: Any, name: str) -> dict[str, Any]:
    """POST an example (placeholders filled from their sources) and return the 201 answer."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    for placeholder, source in SOURCES.items():
        if placeholder in text:
            text = text.replace(placeholder, created(client, source)["id"])
    resp = client.post(POSTS[name][0], data=text, content_type="application/json")
    assert resp.status_code == 201, (name, resp.get_json())
    return dict(resp.get_json())


def approaches(answer: dict[str, Any]) -> set[str]:
    return {m["approach"] for m in answer["methods"]}


def test_every_example_is_run_here_and_shown_in_the_readme() -> None:
    files = sorted(p.name for p in EXAMPLES.iterdir() if p.is_file())
    assert files == sorted(SHOWS), "add the new example to SHOWS (and to the README)"
    assert sorted(ENDPOINTS) == files, "list the new example in ipvalue.api.openapi_examples"
    for name, (path, _) in POSTS.items():
        curl = [
            line
            for line in README.splitlines()
            if f"@examples/{name}" in line or f"examples/{name} |" in line
        ]
        assert any(f"8000{path}" in line for line in curl), f"the README shows no curl of {name}"


def test_valuation_examples_cover_every_method_family(client: Any) -> None:
    income = created(client, "valuation-income.json")
    assert approaches(income) == {"income"}
    assert {m["method"] for m in income["methods"]} == {
        "dcf",
        "excess_earnings",
        "with_and_without",
        "profit_split",
        "equivalent_investment_split",
    }
    cost = created(client, "valuation-cost.json")
    assert {m["method"] for m in cost["methods"]} == {"replacement_cost", "multiplier_cost"}
    market = created(client, "valuation-market.json")
    assert approaches(market) == {"market"} and set(market["value"]["by_method"]) == {
        "brand sales",
        "licences",
    }
    option = created(client, "valuation-option.json")
    assert approaches(option) == {"option"}
    patent = created(client, "patent.json")
    assert approaches(patent) == {"income", "cost"}
    for answer in (income, cost, market, option, patent):
        assert answer["value"]["point"] > 0, answer["asset"]["name"]
        assert client.get(f"/v1/valuations/{answer['id']}").status_code == 200


def test_rates_example_derives_each_methods_discount_rate(client: Any) -> None:
    answer = created(client, "valuation-rates.json")
    practices = [
        m["audit"]["derivations"][f"methods[{i}].discount_rate"]["practice"]
        for i, m in enumerate(answer["methods"])
    ]
    assert practices == ["wara", "risk_accumulation", "term_structure"]
    wara = answer["methods"][0]["audit"]["derivations"]["methods[0].discount_rate"]
    assert wara["rate"] == pytest.approx(0.1650375, abs=1e-9)  # as the README works it out
    assert wara["wara"] == pytest.approx(wara["wacc"], abs=1e-12)
    assert answer["distribution"]["p05"] < answer["distribution"]["p95"]


def test_simulation_example_gives_a_distribution_and_feeds_collateral(client: Any) -> None:
    simulated = created(client, "valuation-simulation.json")
    dist = simulated["distribution"]
    assert dist["p05"] < dist["p50"] < dist["p95"]
    assert dist["value_paths"]["horizon_years"] == 3 and dist["prob_below"]
    collateral = created(client, "collateral-from-valuation.json")
    assert collateral["value"] == pytest.approx(simulated["value"]["point"])
    assert collateral["currency"] == "EUR"
    assert collateral["max_loan"] > 0 and "within_limit" in collateral


def test_five_methods_example_runs_as_a_job(client: Any) -> None:
    resp = client.post("/v1/valuations", json=body("five_methods.json"))
    assert resp.status_code == 202, resp.get_json()
    state = wait_for(client, resp.get_json()["job_id"])
    assert state["status"] == "succeeded", state
    result = state["result"]
    assert len(result["methods"]) == 5 and result["distribution"]["paths"] == 100_000


def test_collateral_and_insurance_examples(client: Any) -> None:
    collateral = created(client, "collateral.json")
    assert collateral["range"]["p05"] < collateral["range"]["p95"]
    assert collateral["max_loan"] <= 0.3 * 1_000_000 + 1e-6
    assert collateral["loan_loss"]["expected_loss_lender"]["value"] >= 0
    direct = created(client, "insurance-collateral.json")
    fed = created(client, "insurance-from-collateral.json")
    litigation = created(client, "insurance-litigation.json")
    for quote in (direct, fed, litigation):
        assert quote["premium"] >= quote["expected_loss"] >= 0
    assert (direct["cover"], fed["cover"], litigation["cover"]) == (
        "collateral_value",
        "collateral_value",
        "litigation",
    )
    assert fed["currency"] == "EUR"


def test_triggers_example_fires_and_joins_the_history(client: Any) -> None:
    answer = created(client, "triggers.json")
    fired = {t["rule"] for t in answer["triggers"]}
    assert {"value_decline", "legal_event", "royalty_decline"} <= fired
    history = client.get("/v1/triggers/history/EP1234567").get_json()
    assert [e["id"] for e in history["evaluations"]] == [answer["id"]]


def test_portfolio_examples_json_and_csv(client: Any) -> None:
    answer = created(client, "portfolio.json")
    ratios = [a["risk_adjusted_ratio"] for a in answer["assets"]]
    assert ratios == sorted(ratios, reverse=True) and len(ratios) == 5
    resp = client.post(
        "/v1/portfolios/screen?paths=2000&seed=1&valuation_date=2026-11-27",
        data=(EXAMPLES / "portfolio.csv").read_bytes(),
        content_type="text/csv",
        headers={"Accept": "text/csv"},
    )
    assert resp.status_code == 201 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(resp.get_data(as_text=True).splitlines()))
    with (EXAMPLES / "portfolio.csv").open(encoding="utf-8-sig") as f:
        assert len(rows) == sum(1 for _ in csv.DictReader(f))
    assert {"rank", "volatility", "jurisdiction", "status", "expiry_date"} <= set(rows[0])
    record = resp.headers["Location"].rsplit("/", 1)[1]
    excel = client.get(f"/v1/portfolios/{record}/xlsx")
    assert excel.status_code == 200 and excel.mimetype == XLSX


def test_volatility_example_is_a_valid_request() -> None:
    request = VolatilityRequest.model_validate(body("volatility.json"))
    assert len(request.series) >= 6 and request.previous_sigma == 0.3


@pytest.mark.slow
def test_volatility_example_runs_as_a_job(client: Any) -> None:
    resp = client.post("/v1/volatility", json=body("volatility.json"))
    assert resp.status_code == 202, resp.get_json()
    state = wait_for(client, resp.get_json()["job_id"])
    assert state["status"] == "succeeded", state
    sigma = state["result"]["sigma_annual"]
    assert sigma["hdi_low"] < sigma["median"] < sigma["hdi_high"]
    assert 0 <= state["result"]["prob_volatility_rose"] <= 1


def test_readme_curl_lines_name_real_endpoints() -> None:
    templates = [
        re.compile(re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(path)) + "$")
        for path in document()["paths"]
    ]
    called = re.findall(r"http://127\.0\.0\.1:8000(/v1/[A-Za-z0-9_/$-]*)", README)
    assert len(called) >= len(POSTS)
    for path in called:
        concrete = re.sub(r"\$[A-Z_]+", "X", path)
        assert any(t.match(concrete) for t in templates), f"the README calls {path}"
