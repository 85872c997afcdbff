"""What a valuation costs decides inline or job: every driver counts, path steps are capped."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import authed_client, key_for

from ipvalue.api.limits import valuation_work
from ipvalue.models.valuation import ValuationRequest

EXAMPLE = json.loads((Path(__file__).parents[1] / "examples" / "patent.json").read_text())
TRIANGULAR = {"dist": "triangular", "low": 3e6, "mode": 4e6, "high": 5e6}


def body(paths: int = 10_000, **simulation: Any) -> dict[str, Any]:
    document = copy.deepcopy(EXAMPLE)
    document["simulation"] = {"paths": paths, "seed": 1, **simulation}
    return document


def many_methods(paths: int, methods: int, years: int) -> dict[str, Any]:
    """``methods`` relief-from-royalty methods over ``years`` uncertain revenues each."""
    document = body(paths)
    rfr = copy.deepcopy(document["methods"][0])
    rfr["revenue"] = [TRIANGULAR for _ in range(years)]
    document["methods"] = [{**rfr, "label": f"m{i}"} for i in range(methods)]
    document.pop("weights")
    return document


def work(document: dict[str, Any]) -> float:
    return valuation_work(ValuationRequest.model_validate(document), document)


def test_the_example_costs_its_method_years_and_its_uncertain_input() -> None:
    # relief from royalty: 10 revenue years; replacement cost: 1; one uncertain royalty rate
    # (weight 4): 10,000 x (10 + 1 + 4 x 1)
    assert work(body()) == 10_000 * 15
    assert work(EXAMPLE) == 0  # no simulation: instant


def test_every_driver_adds_work() -> None:
    base = work(body(horizon_years=2, volatility=0.3))
    assert work(body(horizon_years=2, volatility=0.3, steps_per_year=365)) > base
    assert work(body(horizon_years=4, volatility=0.3)) > base
    assert work(body(paths=20_000, horizon_years=2, volatility=0.3)) == 2 * base
    assert work(many_methods(1000, 4, 10)) > work(many_methods(1000, 2, 10))
    assert work(many_methods(1000, 2, 20)) > work(many_methods(1000, 2, 10))
    fixed = many_methods(1000, 2, 10)
    for method in fixed["methods"]:
        method["revenue"] = [4e6] * 10
    assert work(fixed) < work(many_methods(1000, 2, 10))  # certain inputs are not drawn


def test_todays_typical_request_stays_inline(client: Any) -> None:
    answer = client.post("/v1/valuations", json=body())
    assert answer.status_code == 201, answer.get_json()


def test_many_uncertain_method_years_go_to_a_job(client: Any) -> None:
    answer = client.post("/v1/valuations", json=many_methods(20_000, 20, 100))
    assert answer.status_code == 202, answer.get_json()


@pytest.mark.parametrize("paths, steps", [(1_000_000, 365), (100_000, 365)])
def test_path_steps_over_the_limit_are_refused_naming_it(
    make_app: Any, paths: int, steps: int
) -> None:
    app = make_app()
    client = authed_client(app, key_for(app))
    sent = body(paths, horizon_years=2, volatility=0.3, steps_per_year=steps)
    answer = client.post("/v1/valuations", json=sent)
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["limit"] == "max_path_steps"
    assert f"{paths * 2 * steps}" in problem["detail"] and "50000000" in problem["detail"]


def test_path_steps_under_the_limit_are_a_job(client: Any) -> None:
    sent = body(20_000, horizon_years=2, volatility=0.3, steps_per_year=365)
    assert client.post("/v1/valuations", json=sent).status_code == 202


def test_a_binomial_option_costs_its_lattice_nodes() -> None:
    """A lattice of s steps values s(s+1)/2 nodes a path (the simulation caps s at 200)."""
    option = {
        "method": "real_option",
        "underlying_value": 1e6,
        "exercise_cost": 8e5,
        "years": 5,
        "volatility": 0.4,
        "risk_free_rate": 0.03,
    }
    document = body(paths=1000)
    document["methods"] = [option]
    document.pop("weights")
    black_scholes = work(document)
    document["methods"] = [{**option, "model": "binomial", "steps": 100, "american": True}]
    lattice_100 = work(document)
    document["methods"][0]["steps"] = 200
    lattice_200 = work(document)
    document["methods"][0]["steps"] = 2000
    assert lattice_100 > 50 * black_scholes
    assert lattice_200 > 3.5 * lattice_100
    assert work(document) == lattice_200  # the simulation runs 200 steps at most
