"""Derived inputs: a derivation object stands where the plain number goes (issue 14).

The mechanism: the point value, the simulation and the audit trail all see a derivation
through one formula; bad parts are 422s naming the part's path.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

RFR = {
    "method": "relief_from_royalty",
    "revenue": [1000000, 1100000, 1200000, 1300000, 1400000],
    "royalty_rate": 0.05,
    "tax_rate": 0.25,
    "discount_rate": 0.12,
}
BUILD_UP_12 = {"build_up": {"risk_free": 0.04, "equity_premium": 0.06, "specific_premium": 0.02}}


def body(method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "asset": {"name": "test patent", "kind": "patent", "legal": {"status": "granted"}},
        "valuation_date": "2026-11-27",
        "currency": "EUR",
        "methods": [method],
        **extra,
    }


def with_rate(rate: Any, **fields: Any) -> dict[str, Any]:
    m = copy.deepcopy(RFR)
    m["discount_rate"] = rate
    m.update(fields)
    return m


def test_build_up_gives_the_same_value_as_its_sum(client):
    plain = client.post("/v1/valuations", json=body(RFR)).get_json()
    derived = client.post("/v1/valuations", json=body(with_rate(BUILD_UP_12)))
    assert derived.status_code == 201, derived.get_json()
    out = derived.get_json()
    assert out["value"]["point"] == pytest.approx(plain["value"]["point"], rel=1e-12)
    audit = out["methods"][0]["audit"]
    trail = audit["derivations"]["methods[0].discount_rate"]
    assert trail["practice"] == "build_up"
    assert trail["value"] == pytest.approx(0.12)
    assert trail["risk_free"] == 0.04 and trail["size_premium"] == 0.0
    assert audit["discount_rate"] == pytest.approx(0.12)


def test_uncertain_parts_are_sampled_and_can_be_correlated(client):
    """A build-up with a uniform premium is the plain rate spread the same way, path by path."""
    rate = {
        "build_up": {
            "risk_free": 0.04,
            "equity_premium": 0.06,
            "specific_premium": {"dist": "uniform", "low": 0.0, "high": 0.04},
        }
    }
    plain_rate = {"dist": "uniform", "low": 0.10, "high": 0.14}
    royalty = {"dist": "normal", "mean": 0.05, "sd": 0.005}

    def run(k: Any, first: str) -> dict[str, Any]:
        sim = {
            "paths": 20000,
            "seed": 7,
            "correlations": {
                "inputs": [first, "methods[0].royalty_rate"],
                "matrix": [[1, -0.5], [-0.5, 1]],
            },
        }
        resp = client.post(
            "/v1/valuations", json=body(with_rate(k, royalty_rate=royalty), simulation=sim)
        )
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()["distribution"]

    derived = run(rate, "methods[0].discount_rate.build_up.specific_premium")
    plain = run(plain_rate, "methods[0].discount_rate")
    for key in ("mean", "p05", "p50", "p95", "sd"):
        assert derived[key] == pytest.approx(plain[key], rel=1e-9), key
    assert derived["p95"] > derived["p05"]


def test_a_bad_part_names_its_path(client):
    rate = {"build_up": {"risk_free": 0.04, "equity_premium": "six"}}
    resp = client.post("/v1/valuations", json=body(with_rate(rate)))
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert fields == {"methods[0].discount_rate.build_up.equity_premium"}


def test_an_unknown_part_is_refused(client):
    rate = {"build_up": {"risk_free": 0.04, "equity_premium": 0.06, "beta": 1.1}}
    resp = client.post("/v1/valuations", json=body(with_rate(rate)))
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert fields == {"methods[0].discount_rate.build_up.beta"}


def test_a_derived_rate_outside_its_range_is_refused(client):
    rate = {"build_up": {"risk_free": 0.01, "equity_premium": -0.05}}
    resp = client.post("/v1/valuations", json=body(with_rate(rate)))
    assert resp.status_code == 422
    (err,) = resp.get_json()["errors"]
    assert err["field"] == "methods[0].discount_rate.build_up"
    assert "-0.04" in err["message"] and "(0, 2]" in err["message"]


def test_terminal_growth_must_stay_below_the_derived_rate(client):
    method = with_rate(BUILD_UP_12, terminal_growth=0.13)
    resp = client.post("/v1/valuations", json=body(method))
    assert resp.status_code == 422
    (err,) = resp.get_json()["errors"]
    assert err["field"] == "methods[0].terminal_growth"
    assert "0.13 >= 0.12" in err["message"]


def test_the_cli_table_shows_each_derived_input(tmp_path, capsys):
    from ipvalue.api.cli import main

    request = tmp_path / "request.json"
    request.write_text(json.dumps(body(with_rate(BUILD_UP_12))))
    assert main(["value", str(request)]) == 0
    out = capsys.readouterr().out
    assert "derived inputs:" in out
    assert "relief_from_royalty: methods[0].discount_rate = 0.12 by build_up" in out


def test_an_unknown_derivation_lists_the_allowed_ones(client):
    resp = client.post("/v1/valuations", json=body(with_rate({"five_factor": {"x": 1}})))
    assert resp.status_code == 422
    (err,) = resp.get_json()["errors"]
    assert err["field"] == "methods[0].discount_rate"
    assert "not a known derivation" in err["message"]
    assert "build_up" in err["message"] and "capm" in err["message"]
