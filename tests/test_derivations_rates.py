"""Derived discount rates (issue 14 item 1) and a discount rate per year (item 7).

Reference values come from tests/reference/derivations_rates.json, each with its source and
what the source states; properties hold for any inputs; bad input is a 422 naming the field.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_derivations import body, with_rate

from ipvalue.models.derivations import (
    BuildUpRate,
    CapmRate,
    RiskAccumulationRate,
    WaraRate,
)
from ipvalue.models.uncertain import base_value
from ipvalue.models.valuation import ValuationRequest
from ipvalue.risk.kernel import seeds
from ipvalue.risk.montecarlo.draws import draw_from, normal_scores, sample
from ipvalue.risk.montecarlo.plan import make_plan
from ipvalue.valuation import contributory
from ipvalue.valuation.derive import derive, derived_draw

REF = json.loads(
    (Path(__file__).parent / "reference" / "derivations_rates.json").read_text(encoding="utf-8")
)


def base_draw(path: str, x: Any) -> Any:
    return base_value(x)


def rate_of(model: Any) -> float:
    """The point value of a derivation (nested ones resolved) through the mechanism."""
    return float(derived_draw(base_draw)("methods[0].discount_rate", model))


def post(client: Any, method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resp = client.post("/v1/valuations", json=body(method, **extra))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def fields_of(client: Any, method: dict[str, Any]) -> dict[str, str]:
    resp = client.post("/v1/valuations", json=body(method))
    assert resp.status_code == 422, resp.get_json()
    return {e["field"]: e["message"] for e in resp.get_json()["errors"]}


def wara_by_value(wacc: Any = 0.1628, **extra: Any) -> dict[str, Any]:
    ref = REF["wara"]
    return {
        "wara": {
            "wacc": wacc,
            "assets": [
                {"name": a["name"], "value": a["value"], "required_return": a["required_return"]}
                for a in ref["assets"]
            ],
            "subject_name": ref["subject"]["name"],
            "subject_value": ref["subject"]["value"],
            **extra,
        }
    }


WACC_PARTS = {
    "equity_weight": 0.6,
    "cost_of_equity": {"capm": {"risk_free": 0.04, "beta": 1.2, "equity_premium": 0.05}},
    "debt_weight": 0.4,
    "cost_of_debt": 0.06,
    "tax_rate": 0.25,
}
"""k_e = 0.04 + 1.2 x 0.05 = 0.10; WACC = 0.6 x 0.10 + 0.4 x 0.06 x 0.75 = 0.078."""


# --- reference values ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", REF["build_up"], ids=lambda c: c["source"][:20])
def test_build_up_reproduces_published_examples(case):
    """Sources and what they state: tests/reference/derivations_rates.json ("build_up")."""
    assert rate_of(BuildUpRate.model_validate({"build_up": case["parts"]})) == pytest.approx(
        case["rate"], abs=1e-12
    )


@pytest.mark.parametrize("case", REF["capm"], ids=lambda c: c["states"][:20])
def test_capm_reproduces_published_examples(case):
    """Sources and what they state: tests/reference/derivations_rates.json ("capm")."""
    assert rate_of(CapmRate.model_validate({"capm": case["parts"]})) == pytest.approx(
        case["rate"], abs=1e-12
    )


def test_risk_accumulation_scores_each_factor_within_its_range():
    """premium = low + (high - low) x score / 100 (hand-checkable, see the reference file)."""
    ref = REF["risk_accumulation"]
    x = RiskAccumulationRate.model_validate({"risk_accumulation": ref["parts"]})
    out = derive(x, "methods[0].discount_rate", base_draw)
    premiums = [float(r["premium"]) for r in out.figures["factors"]]
    assert premiums == pytest.approx(ref["premiums"], abs=1e-12)
    assert float(out.value) == pytest.approx(ref["rate"], abs=1e-12)


def test_wara_reproduces_mard_hitchner_hyden_exhibit_3_15(client):
    """Mard, Hitchner & Hyden, Valuation for Financial Reporting, 2nd ed. (2007), Exhibit 3.15,
    p. 99: with the stated WARA of 16.28 % as the WACC, goodwill's rate solves to the stated
    23.00 % (to the rounding of 16.28 %), and the table's weights and weighted returns are the
    exhibit's (rounded as it rounds them)."""
    ref = REF["wara"]
    out = post(client, with_rate(wara_by_value()))
    audit = out["methods"][0]["audit"]
    trail = audit["derivations"]["methods[0].discount_rate"]
    assert trail["practice"] == "wara"
    assert round(trail["rate"], 3) == ref["subject"]["required_return"]
    assert audit["discount_rate"] == pytest.approx(trail["rate"], abs=1e-15)
    rows = trail["reconciliation"]
    stated = [*ref["assets"], ref["subject"]]
    assert [r["name"] for r in rows] == [s["name"] for s in stated]
    assert [round(100 * r["weight"], 1) for r in rows] == [s["percent"] for s in stated]
    assert [round(100 * r["weighted_return"], 2) for r in rows] == [s["weighted"] for s in stated]
    assert sum(r["value"] for r in rows) == ref["total_value"]
    assert trail["wara"] == pytest.approx(ref["wara"], abs=1e-12)
    assert rows[-1]["solved"] is True


def test_wara_with_the_exhibits_unrounded_total_gives_exactly_its_goodwill_rate():
    ref = REF["wara"]
    exact = sum(a["value"] * a["required_return"] for a in [*ref["assets"], ref["subject"]])
    x = WaraRate.model_validate(wara_by_value(wacc=exact / ref["total_value"]))
    assert rate_of(x) == pytest.approx(ref["subject"]["required_return"], abs=1e-12)


def test_a_term_structure_discounts_by_the_product_of_each_years_rate(client):
    """Hand-checkable: tests/reference/derivations_rates.json ("term_structure")."""
    ref = REF["term_structure"]
    dcf = {"method": "dcf", "cash_flows": ref["cash_flows"]}
    out = post(client, {**dcf, "discount_rate": {"term_structure": ref["rates"]}})
    audit = out["methods"][0]["audit"]
    assert audit["discount_factors"] == pytest.approx(ref["discount_factors"], rel=1e-12)
    assert out["methods"][0]["value"] == pytest.approx(ref["value"], rel=1e-12)
    assert audit["discount_rate"] == pytest.approx(ref["rates"])
    trail = audit["derivations"]["methods[0].discount_rate"]
    assert trail["practice"] == "term_structure" and trail["rates"] == ref["rates"]
    with_tv = {**dcf, "terminal_growth": ref["terminal_growth"]}
    out = post(client, {**with_tv, "discount_rate": {"term_structure": ref["rates"]}})
    assert out["methods"][0]["value"] == pytest.approx(ref["value_with_terminal"], rel=1e-12)


# --- properties --------------------------------------------------------------------------------


@pytest.mark.parametrize("rf,erp,size,spec", [(0.04, 0.06, 0.0, 0.0), (0.02, 0.08, 0.03, 0.05)])
def test_capm_with_beta_zero_is_the_risk_free_rate_plus_premiums(rf, erp, size, spec):
    parts = {"risk_free": rf, "beta": 0, "equity_premium": erp}
    parts |= {"size_premium": size, "specific_premium": spec}
    assert rate_of(CapmRate.model_validate({"capm": parts})) == pytest.approx(rf + size + spec)


def test_capm_with_beta_one_is_the_build_up_without_size_or_industry():
    parts = {"risk_free": 0.035, "equity_premium": 0.055, "specific_premium": 0.04}
    capm = rate_of(CapmRate.model_validate({"capm": {**parts, "beta": 1.0}}))
    assert capm == pytest.approx(rate_of(BuildUpRate.model_validate({"build_up": parts})))


@pytest.mark.parametrize(
    "part", ["risk_free", "equity_premium", "size_premium", "industry_premium", "specific_premium"]
)
def test_build_up_rises_with_each_premium(part):
    parts = {"risk_free": 0.04, "equity_premium": 0.06, "specific_premium": 0.02}
    rates = [
        rate_of(BuildUpRate.model_validate({"build_up": {**parts, part: v}}))
        for v in (0.0, 0.01, 0.02, 0.05)
    ]
    assert all(b > a for a, b in itertools.pairwise(rates))


def test_risk_accumulation_score_0_and_100_give_the_range_ends():
    factor = {"name": "technical", "low": 0.01, "high": 0.06}
    for score, premium in ((0, 0.01), (100, 0.06), (50, 0.035)):
        x = RiskAccumulationRate.model_validate(
            {"risk_accumulation": {"risk_free": 0.03, "factors": [{**factor, "score": score}]}}
        )
        assert rate_of(x) == pytest.approx(0.03 + premium, abs=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_wara_weighted_returns_reconcile_to_the_wacc(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    values = rng.uniform(1, 100, n + 1)
    assets = [
        {"name": f"a{i}", "value": float(v), "required_return": float(rng.uniform(0.02, 0.2))}
        for i, v in enumerate(values[:-1])
    ]
    wacc = float(rng.uniform(0.08, 0.15))
    x = WaraRate.model_validate(
        {"wara": {"wacc": wacc, "assets": assets, "subject_value": float(values[-1])}}
    )
    out = derive(x, "methods[0].discount_rate", base_draw)
    rows = out.figures["reconciliation"]
    assert sum(r["weight"] for r in rows) == pytest.approx(1.0, abs=1e-12)
    assert sum(float(r["weighted_return"]) for r in rows) == pytest.approx(wacc, abs=1e-12)
    assert float(out.figures["wara"]) == pytest.approx(wacc, abs=1e-12)


def test_wacc_is_a_discount_rate_and_the_wara_takes_it(client):
    out = post(client, with_rate({"wacc": WACC_PARTS}))
    trails = out["methods"][0]["audit"]["derivations"]
    assert trails["methods[0].discount_rate"]["rate"] == pytest.approx(0.078, abs=1e-12)
    capm = trails["methods[0].discount_rate.wacc.cost_of_equity"]
    assert capm["practice"] == "capm" and capm["rate"] == pytest.approx(0.10, abs=1e-12)
    wara = {
        "wara": {
            "wacc": {"wacc": WACC_PARTS},
            "assets": [{"name": "working capital", "weight": 0.2, "required_return": 0.04}],
            "subject_weight": 0.8,
        }
    }
    out = post(client, with_rate(wara))
    trails = out["methods"][0]["audit"]["derivations"]
    assert trails["methods[0].discount_rate.wara.wacc"]["rate"] == pytest.approx(0.078)
    assert trails["methods[0].discount_rate"]["rate"] == pytest.approx((0.078 - 0.008) / 0.8)


def test_the_deal_irr_stands_beside_the_wacc_with_a_warning_when_far(client):
    near = post(client, with_rate(wara_by_value(deal_irr=0.165)))
    trail = near["methods"][0]["audit"]["derivations"]["methods[0].discount_rate"]
    assert trail["deal_irr"] == 0.165
    assert trail["deal_irr_minus_wacc"] == pytest.approx(0.165 - 0.1628)
    assert not any("IRR" in w for w in near["methods"][0]["warnings"])
    far = post(client, with_rate(wara_by_value(deal_irr=0.19)))
    (warning,) = [w for w in far["methods"][0]["warnings"] if "IRR" in w]
    assert "19.00%" in warning and "16.28%" in warning and "2.72%" in warning


def _derived_paths(rate: Any, paths: int = 40000, seed: int = 3) -> tuple[Any, dict[str, int]]:
    """The derived rate on each simulated path: the engine's sampler and derived draw."""
    request = ValuationRequest.model_validate(
        body(with_rate(rate), simulation={"paths": paths, "seed": seed})
    )
    plan = make_plan(request)
    z = normal_scores(plan, seeds.child(plan.seed, seeds.VALUATION_INPUTS, 0), paths)
    samples, _ = sample(plan, z)
    clipped: dict[str, int] = {}
    draw = derived_draw(draw_from(samples), None, clipped)
    return np.asarray(draw("methods[0].discount_rate", request.methods[0].discount_rate)), clipped


@pytest.mark.parametrize(
    "rate",
    [
        {
            "capm": {
                "risk_free": {"dist": "normal", "mean": 0.04, "sd": 0.005},
                "beta": {"dist": "triangular", "low": 0.9, "mode": 1.2, "high": 1.5},
                "equity_premium": {"dist": "uniform", "low": 0.04, "high": 0.06},
            }
        },
        {
            "risk_accumulation": {
                "risk_free": 0.03,
                "factors": [
                    {
                        "name": "technical",
                        "score": {"dist": "uniform", "low": 40, "high": 80},
                        "low": 0.0,
                        "high": 0.05,
                    },
                    {
                        "name": "market",
                        "score": 50,
                        "low": {"dist": "pert", "low": 0.0, "mode": 0.01, "high": 0.02},
                        "high": 0.04,
                    },
                ],
            }
        },
        wara_by_value(wacc={"dist": "normal", "mean": 0.1628, "sd": 0.005}),
    ],
    ids=["capm", "risk_accumulation", "wara"],
)
def test_simulated_mean_of_a_derived_rate_is_its_base_within_se(rate):
    """Symmetric uncertain parts (independent, entering linearly or as a product of
    independent parts) leave the derived rate's mean at its base value."""
    values, clipped = _derived_paths(rate)
    assert values.shape == (40000,) and not clipped
    model = ValuationRequest.model_validate(body(with_rate(rate))).methods[0].discount_rate
    base = rate_of(model)
    se = values.std() / math.sqrt(values.size)
    assert abs(values.mean() - base) < 4 * se
    assert values.std() > 0


def test_a_derived_rate_leaving_its_range_on_some_paths_is_clipped_and_reported(client):
    rate = {
        "build_up": {
            "risk_free": 0.03,
            "equity_premium": 0.03,
            "specific_premium": {"dist": "normal", "mean": 0.02, "sd": 0.05},
        }
    }
    values, clipped = _derived_paths(rate, paths=20000)
    below = clipped["methods[0].discount_rate.build_up"]
    assert 0.05 < below / 20000 < 0.2  # P(0.08 + N(0, 0.05) <= 0) = 5.5 %
    assert values.min() > 0 and np.isfinite(values).all()
    out = post(client, with_rate(rate), simulation={"paths": 20000, "seed": 3})
    dist = out["distribution"]
    assert dist["clipped"]["methods[0].discount_rate.build_up"] == below
    assert any("methods[0].discount_rate.build_up" in w for w in dist["warnings"])
    assert all(math.isfinite(dist[k]) for k in ("mean", "p05", "p95"))


def test_a_term_structure_with_uncertain_rates_is_sampled_year_by_year(client):
    rates = [0.10, {"dist": "uniform", "low": 0.10, "high": 0.12}, 0.12]
    dcf = {"method": "dcf", "cash_flows": [100, 100, 100]}
    sim = {"paths": 4000, "seed": 5}
    out = post(client, {**dcf, "discount_rate": {"term_structure": rates}}, simulation=sim)
    dist = out["distribution"]
    ref = REF["term_structure"]
    assert out["value"]["point"] == pytest.approx(ref["value"], rel=1e-12)
    assert dist["p05"] < ref["value"] < dist["p95"]
    drivers = {d["input"] for d in dist["sensitivity"]}
    assert "methods[0].discount_rate.term_structure[1]" in drivers


def test_a_short_term_structure_keeps_its_last_rate_and_a_renewal_fee_follows_it():
    from ipvalue.valuation.discounting import TermRates, discount_factors, periodic_cost_pv

    term = TermRates(np.array([0.10, 0.12]))
    flat = discount_factors(0.12, 4)
    factors = discount_factors(term, 4)
    assert factors[:2] == pytest.approx([1 / 1.1, 1 / (1.1 * 1.12)])
    assert factors[2:] == pytest.approx(flat[2:] * 1.12**2 / (1.1 * 1.12))
    mid = discount_factors(term, 3, mid_year=True)
    assert mid == pytest.approx([1.1**-0.5, 1 / (1.1 * 1.12**0.5), 1 / (1.1 * 1.12**1.5)])
    # fees of 10 at 1.5, 3.5, 5.5, ... for ever: the first two by hand, the rest at 12 %
    fees = periodic_cost_pv(10.0, term, 1.5, 2.0)
    by_hand = 10 / (1.1 * 1.12**0.5) + 10 / (1.1 * 1.12**2.5) / (1 - 1.12**-2)
    assert float(fees) == pytest.approx(by_hand, rel=1e-12)
    assert float(periodic_cost_pv(10.0, TermRates(np.array([0.12])), 1.5, 2.0)) == (
        pytest.approx(float(periodic_cost_pv(10.0, 0.12, 1.5, 2.0)), rel=1e-12)
    )


# --- bad input -----------------------------------------------------------------------------------


def test_wara_weights_that_miss_one_name_the_subject_weight_and_the_fix(client):
    wara = {
        "wara": {
            "wacc": 0.11,
            "assets": [
                {"name": "working capital", "weight": 0.1, "required_return": 0.04},
                {"name": "fixed assets", "weight": 0.25, "required_return": 0.07},
            ],
            "subject_weight": 0.6,
        }
    }
    errors = fields_of(client, with_rate(wara))
    message = errors["methods[0].discount_rate.wara.subject_weight"]
    assert "sum to 0.95" in message and "subject_weight = 0.65" in message


def test_wara_mixing_weights_and_values_names_the_asset(client):
    wara = wara_by_value()
    wara["wara"]["assets"][1] = {"name": "x", "weight": 0.1, "required_return": 0.07}
    errors = fields_of(client, with_rate(wara))
    assert set(errors) == {"methods[0].discount_rate.wara.assets[1].weight"}
    assert "value" in errors["methods[0].discount_rate.wara.assets[1].weight"]


def test_wara_values_that_do_not_add_up_to_the_capital_name_it(client):
    errors = fields_of(client, with_rate(wara_by_value(capital=200000)))
    assert "184,000.00" in errors["methods[0].discount_rate.wara.capital"]


def test_a_wara_residual_below_zero_names_the_wara(client):
    errors = fields_of(client, with_rate(wara_by_value(wacc=0.05)))
    message = errors["methods[0].discount_rate.wara"]
    assert "(0, 2]" in message


def test_wacc_weights_that_miss_one_name_the_debt_weight(client):
    parts = {**WACC_PARTS, "debt_weight": 0.3}
    errors = fields_of(client, with_rate({"wacc": parts}))
    assert "debt_weight = 0.4" in errors["methods[0].discount_rate.wacc.debt_weight"]


def test_a_bad_part_deep_in_a_wara_names_its_whole_path(client):
    parts = copy.deepcopy(WACC_PARTS)
    parts["cost_of_equity"]["capm"]["beta"] = "high"
    wara = wara_by_value(wacc={"wacc": parts})
    errors = fields_of(client, with_rate(wara))
    assert set(errors) == {"methods[0].discount_rate.wara.wacc.wacc.cost_of_equity.capm.beta"}


@pytest.mark.parametrize("score", [120, -5])
def test_a_score_outside_0_100_names_the_factor_score(client, score):
    factors = copy.deepcopy(REF["risk_accumulation"]["parts"]["factors"])
    factors[1]["score"] = score
    rate = {"risk_accumulation": {"risk_free": 0.03, "factors": factors}}
    errors = fields_of(client, with_rate(rate))
    assert set(errors) == {"methods[0].discount_rate.risk_accumulation.factors[1].score"}
    assert "[0, 100]" in errors["methods[0].discount_rate.risk_accumulation.factors[1].score"]


def test_a_factor_range_upside_down_names_high(client):
    factor = {"name": "market", "score": 50, "low": 0.05, "high": 0.01}
    rate = {"risk_accumulation": {"risk_free": 0.03, "factors": [factor]}}
    errors = fields_of(client, with_rate(rate))
    assert set(errors) == {"methods[0].discount_rate.risk_accumulation.factors[0].high"}


def test_capm_beta_that_is_not_a_number_is_named(client):
    rate = {"capm": {"risk_free": 0.04, "beta": "1.2", "equity_premium": 0.05}}
    assert set(fields_of(client, with_rate(rate))) == {"methods[0].discount_rate.capm.beta"}


def test_a_term_structure_longer_than_the_income_is_refused(client):
    rate = {"term_structure": [0.1] * 6}
    errors = fields_of(client, with_rate(rate))
    assert "6 rates for 5 years" in errors["methods[0].discount_rate.term_structure"]


def test_a_term_structure_rate_out_of_range_names_its_year(client):
    rate = {"term_structure": [0.1, -0.02, 0.1]}
    assert set(fields_of(client, with_rate(rate))) == {"methods[0].discount_rate.term_structure[1]"}


def test_terminal_growth_at_the_last_rate_of_a_term_structure_is_refused(client):
    method = with_rate({"term_structure": [0.15, 0.12]}, terminal_growth=0.12)
    errors = fields_of(client, method)
    assert "0.12 >= 0.12" in errors["methods[0].terminal_growth"]


TRADEMARK = {
    "name": "test mark",
    "kind": "trademark",
    "legal": {"status": "registered", "filing_date": "2019-03-01", "renewal_fee": 20000},
}


@pytest.mark.parametrize(
    "fields",
    [
        {"tab_years": 15},
        {"mid_year": True, "terminal_growth": 0.02},
        {"terminal_growth": 0.0, "tab_years": 10, "mid_year": True},
    ],
)
def test_a_flat_term_structure_is_the_plain_rate_everywhere(client, fields):
    """Terminal value, TAB, mid-year and a trademark's renewal fees: one rate a year for every
    year gives the plain rate's value."""
    values = []
    for rate in (0.12, {"term_structure": [0.12] * 5}, {"term_structure": [0.12, 0.12]}):
        req = body(with_rate(rate, **fields)) | {"asset": TRADEMARK}
        resp = client.post("/v1/valuations", json=req)
        assert resp.status_code == 201, resp.get_json()
        out = resp.get_json()
        assert out["methods"][0]["audit"].get("renewal_fees_pv", 0) > 0
        values.append(out["methods"][0]["value"])
    assert values[1] == pytest.approx(values[0], rel=1e-12)
    assert values[2] == pytest.approx(values[0], rel=1e-12)


def test_the_cli_values_a_body_with_derived_rates(capsys):
    from ipvalue.api.cli import main

    example = Path(__file__).resolve().parents[1] / "examples" / "valuation-rates.json"
    assert main(["value", str(example), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    trail = out["methods"][1]["audit"]["derivations"]["methods[1].discount_rate"]
    assert trail["practice"] == "risk_accumulation"
    assert [f["premium"] for f in trail["factors"]] == pytest.approx([0.03, 0.02, 0.015, 0.02])


def test_the_wara_derivation_and_the_excess_earnings_check_weigh_returns_alike():
    """One weighting (valuation.contributory.weigh_returns) for both jobs: the subject's rate the
    ``wara`` derivation solves for Exhibit 3.15's assets, weighed back by the excess earnings'
    WARA check at the same values, gives the WACC it was solved for."""
    ref = REF["wara"]
    x = WaraRate.model_validate(wara_by_value(wacc=0.1628))
    solved = rate_of(x)
    values = {a["name"]: float(a["value"]) for a in ref["assets"]}
    returns = {a["name"]: float(a["required_return"]) for a in ref["assets"]}
    check = contributory.weighted_return(
        values, returns, float(ref["subject"]["value"]), solved, 0.1628
    )
    assert check.wara == pytest.approx(0.1628, abs=1e-12)
    assert check.gap == pytest.approx(0.0, abs=1e-12)
    assert check.subject_weight == pytest.approx(ref["subject"]["value"] / ref["total_value"])
    by_weights = contributory.weigh_returns(
        [*returns.values(), solved], weights=[*check.weights.values(), check.subject_weight]
    )
    assert float(by_weights.total) == pytest.approx(0.1628, abs=1e-12)
    unknown = contributory.weigh_returns([0.05, None], values=[1.0, 3.0])
    assert unknown.weights == [0.25, 0.75] and unknown.weighted[1] is None
    assert float(unknown.total) == pytest.approx(0.0125)
