"""The binomial lattice beside Black-Scholes-Merton (issue 14 item 5).

Reference values (tests/reference/derivations_options_timing.json): Damodaran's Avonex patent
(Black-Scholes $907 million, reproduced by the European lattice) and Hull's American put tree.
Properties: the European lattice converges to BSM with an error of order 1/steps; American >=
European; an American call without a yield is the European call; the value rises with
volatility; the rising cost of delay (1 / remaining life each year) gives the European value of
Black-Scholes at the schedule's mean yield. Bad input: 422s naming the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ipvalue.valuation import options

REFERENCE = {
    c["id"]: c
    for c in json.loads(
        (Path(__file__).parent / "reference" / "derivations_options_timing.json").read_text()
    )["cases"]
}
AVONEX = REFERENCE["avonex-black-scholes"]["inputs"]


def body(method: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "asset": {"name": "test patent", "kind": "patent", "legal": {"status": "granted"}},
        "valuation_date": "2026-11-27",
        "currency": "USD",
        "methods": [method],
        **extra,
    }


def option(**fields: Any) -> dict[str, Any]:
    return {"method": "real_option", **AVONEX, **fields}


def check(case_id: str, name: str, computed: float) -> None:
    case = REFERENCE[case_id]
    expected, tol = case["expected"][name], case["tolerance"]
    assert abs(computed - expected) <= tol, (
        f"{case_id}: expected {expected}, computed {computed:.6f} (source: {case['source']})"
    )


@pytest.mark.parametrize("case_id", ["avonex-black-scholes", "avonex-binomial-european"])
def test_avonex_patent_through_the_api(client, case_id):
    """Damodaran on Valuation, Illustration 12.5: $907 million, by BSM and by the lattice."""
    fields = REFERENCE[case_id]["inputs"]
    resp = client.post("/v1/valuations", json=body({"method": "real_option", **fields}))
    assert resp.status_code == 201, resp.get_json()
    method = resp.get_json()["methods"][0]
    check(case_id, "value", method["value"])
    if fields.get("model") == "binomial":
        assert method["audit"]["steps"] == 1000
        assert method["audit"]["model"] == "binomial"
        assert any("binomial lattice, 1000 steps, European" in a for a in method["assumptions"])


def test_hull_american_put_tree():
    """Hull's 5-month American put: 4.49 on five steps; 4.263, 4.272, 4.278, 4.283 on 30, 50,
    100 and 500 steps (source in the reference file)."""
    x = REFERENCE["hull-american-put-5-steps"]["inputs"]
    args = (x["spot"], x["strike"], x["years"], x["volatility"], x["rate"])
    five = options.binomial(*args, steps=5, american=True, put=True).value
    check("hull-american-put-5-steps", "value", float(five))
    finer = REFERENCE["hull-american-put-500-steps"]["inputs"]["steps_values"]
    for steps, expected in finer.items():
        value = float(options.binomial(*args, steps=int(steps), american=True, put=True).value)
        assert value == pytest.approx(expected, abs=0.0005), steps
    check(
        "hull-american-put-500-steps",
        "value",
        float(options.binomial(*args, steps=500, american=True, put=True).value),
    )


@pytest.mark.parametrize(
    "args",
    [
        (100.0, 100.0, 1.0, 0.3, 0.05, 0.02),
        (3422.0, 2875.0, 17.0, 0.47329, 0.067, 1 / 17),
        (350.0, 500.0, 17.0, 0.25, 0.04, 1 / 17),
    ],
)
def test_european_lattice_converges_to_black_scholes(args):
    """The CRR error oscillates but is of order 1/steps: steps x |error| stays bounded, and
    1000 steps are within 0.1 %."""
    bs = float(options.black_scholes(*args).call)
    spot = args[0]
    for steps in (50, 100, 200, 400, 800, 1600):
        error = float(options.binomial(*args, steps=steps).value) - bs
        assert steps * abs(error) / spot < 0.25, (steps, error)
    at_1000 = float(options.binomial(*args, steps=1000).value)
    assert abs(at_1000 - bs) / bs < 1e-3
    worst_coarse = max(
        abs(float(options.binomial(*args, steps=n).value) - bs) for n in range(40, 60)
    )
    worst_fine = max(
        abs(float(options.binomial(*args, steps=n).value) - bs) for n in range(800, 804)
    )
    assert worst_fine < worst_coarse / 5


def test_european_put_converges_and_parity_holds_on_the_lattice():
    args = (100.0, 95.0, 0.5, 0.2, 0.1, 0.05)
    put = float(options.binomial(*args, steps=1000, put=True).value)
    assert put == pytest.approx(float(options.black_scholes(*args).put), rel=1e-3)
    call = float(options.binomial(*args, steps=1000).value)
    s, k, t, _, r, q = args
    assert call - put == pytest.approx(s * np.exp(-q * t) - k * np.exp(-r * t), rel=1e-12)


def test_american_at_least_european_and_without_yield_equal():
    rng = np.random.default_rng(3)
    n = 400
    spot = rng.uniform(50, 150, n)
    strike = rng.uniform(50, 150, n)
    years = rng.uniform(0.5, 15, n)
    sigma = rng.uniform(0.1, 0.8, n)
    rate = rng.uniform(0.0, 0.08, n)
    q = rng.uniform(0.0, 0.15, n)
    euro = options.binomial(spot, strike, years, sigma, rate, q, steps=100).value
    amer = options.binomial(spot, strike, years, sigma, rate, q, steps=100, american=True).value
    assert np.all(amer >= euro - 1e-9 * spot)
    assert np.any(amer > euro * 1.01)  # the yield makes early exercise worth something
    no_yield = options.binomial(spot, strike, years, sigma, rate, 0.0, steps=100)
    no_yield_am = options.binomial(spot, strike, years, sigma, rate, 0.0, steps=100, american=True)
    np.testing.assert_allclose(no_yield_am.value, no_yield.value, rtol=1e-12, atol=1e-9)


def test_paths_at_once_equal_each_path_alone():
    """The simulation calls the lattice with arrays of paths: each path's value is its own."""
    sigma = np.array([0.2, 0.35, 0.5, 0.8])
    years = np.array([3.0, 17.0, 8.0, 1.0])
    together = options.binomial(3422, 2875, years, sigma, 0.067, 0.05, steps=60, american=True)
    for i in range(4):
        alone = options.binomial(
            3422, 2875, years[i], sigma[i], 0.067, 0.05, steps=60, american=True
        )
        assert float(together.value[i]) == pytest.approx(float(alone.value), rel=1e-13)


@pytest.mark.parametrize("american", [False, True])
def test_value_rises_with_volatility(american):
    sigma = np.linspace(0.05, 1.5, 30)
    value = options.binomial(3422, 2875, 17, sigma, 0.067, 1 / 17, steps=200, american=american)
    assert np.all(np.diff(value.value) > 0)


def test_rising_cost_of_delay_is_one_over_remaining_life_each_year():
    """Damodaran's schedule: 1/17 the first year, 1/16 the next, ... (Illustration 12.5)."""
    leak = options.delay_leakage(np.array([1.0, 2.0, 2.5, 17.0]), 17.0)
    expected = [1 / 17, 1 / 17 + 1 / 16, 1 / 17 + 1 / 16 + 0.5 / 15]
    expected.append(sum(1 / (17 - y) for y in range(17)))
    np.testing.assert_allclose(leak, expected, rtol=1e-12)
    assert options.rising_delay_yield(3, 17) == pytest.approx(1 / 14)


def test_rising_schedule_european_is_black_scholes_at_its_mean_yield():
    args = (3422.0, 2875.0, 17.0, 0.47329, 0.067)
    mean = options.mean_delay_yield(17.0, 17.0)
    bs = float(options.black_scholes(*args, mean).call)
    lattice = float(options.binomial(*args, steps=1700, delay_life=17.0).value)
    assert lattice == pytest.approx(bs, rel=2e-3)
    # A yield at or above 1/17 every year is worth less than the constant 1/17, both ways.
    for american in (False, True):
        rising = options.binomial(*args, steps=170, delay_life=17.0, american=american).value
        flat = options.binomial(*args, 1 / 17, steps=170, american=american).value
        assert float(rising) < float(flat)


def test_binomial_american_with_rising_delay_through_the_api(client):
    m = option(model="binomial", american=True, cost_of_delay="rising", steps=170)
    m.pop("dividend_yield")
    resp = client.post("/v1/valuations", json=body(m))
    assert resp.status_code == 201, resp.get_json()
    method = resp.get_json()["methods"][0]
    expected = options.binomial(
        3422, 2875, 17, 0.47329, 0.067, steps=170, american=True, delay_life=17
    ).value
    assert method["value"] == pytest.approx(float(expected), rel=1e-12)
    assert method["value"] > 3422 - 2875  # worth more than exercising today
    assert method["audit"]["mean_delay_yield"] == pytest.approx(
        float(options.mean_delay_yield(17, 17))
    )
    assert any("rising cost of delay" in a for a in method["assumptions"])


def test_simulation_runs_the_lattice_on_every_path(client):
    m = option(
        model="binomial",
        american=True,
        steps=50,
        volatility={"dist": "uniform", "low": 0.35, "high": 0.6},
    )
    sim = {
        "paths": 2000,
        "seed": 5,
        "legal_risk": {"invalidation_hazard": 0, "lapse_hazard": 0, "litigation_loss_hazard": 0},
    }
    resp = client.post("/v1/valuations", json=body(m, simulation=sim))
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    dist = out["distribution"]
    low = float(
        options.binomial(3422, 2875, 17, 0.35, 0.067, 0.0588235, steps=50, american=True).value
    )
    high = float(
        options.binomial(3422, 2875, 17, 0.6, 0.067, 0.0588235, steps=50, american=True).value
    )
    assert low <= dist["p05"] < dist["p95"] <= high


@pytest.mark.parametrize(
    ("fields", "where", "says"),
    [
        ({"model": "binomial", "steps": 5}, "methods[0].steps", "10 to 5000"),
        ({"model": "binomial", "steps": 9000}, "methods[0].steps", "10 to 5000"),
        ({"steps": 100}, "methods[0].steps", '"model": "binomial"'),
        ({"american": True}, "methods[0].american", "early exercise"),
        ({"model": "trinomial"}, "methods[0].model", "binomial"),
        ({"cost_of_delay": "rising"}, "methods[0].dividend_yield", "drop dividend_yield"),
        (
            {"model": "binomial", "steps": 10, "volatility": 0.01, "risk_free_rate": 0.5},
            "methods[0].steps",
            "model black_scholes",
        ),
        (
            {
                "model": "binomial",
                "steps": 10,
                "volatility": 0.05,
                "risk_free_rate": 0.1,
                "years": 4,
            },
            "methods[0].steps",
            "use at least 17 steps",
        ),
    ],
)
def test_bad_lattice_input_is_a_422_naming_the_field(client, fields, where, says):
    resp = client.post("/v1/valuations", json=body(option(**fields)))
    assert resp.status_code == 422, resp.get_json()
    problems = resp.get_json()["errors"]
    assert any(p["field"] == where and says in p["message"] for p in problems), problems


def _textbook_tree(s, k, t, sigma, r, steps, leak, put=False):
    """One path, node by node, as a textbook writes the American tree (an independent check):
    node i of step j is S u^(2i - j) e^{-Q(t_j)}, exercise compared at every node."""
    dt = t / steps
    u = np.exp(sigma * np.sqrt(dt))
    p = (np.exp(r * dt) - 1 / u) / (u - 1 / u)
    disc = np.exp(-r * dt)
    sign = -1 if put else 1

    def payoff(j, i):
        return max(sign * (s * u ** (2 * i - j) * np.exp(-leak(j * dt)) - k), 0.0)

    values = [payoff(steps, i) for i in range(steps + 1)]
    for j in range(steps - 1, -1, -1):
        values = [
            max(disc * (p * values[i + 1] + (1 - p) * values[i]), payoff(j, i))
            for i in range(j + 1)
        ]
    return values[0]


@pytest.mark.parametrize("put", [False, True])
def test_lattice_equals_a_node_by_node_tree(put):
    constant = _textbook_tree(3422, 2875, 17, 0.47329, 0.067, 40, lambda t: t / 17, put)
    got = options.binomial(3422, 2875, 17, 0.47329, 0.067, 1 / 17, steps=40, american=True, put=put)
    assert float(got.value) == pytest.approx(constant, rel=1e-12)

    def rising(t):
        return float(options.delay_leakage(np.array([t]), 17.0)[0])

    expected = _textbook_tree(3422, 2875, 17, 0.47329, 0.067, 34, rising, put)
    got = options.binomial(
        3422, 2875, 17, 0.47329, 0.067, steps=34, american=True, put=put, delay_life=17.0
    )
    assert float(got.value) == pytest.approx(expected, rel=1e-12)


def test_early_exercise_is_reported_and_exercising_today_recognised(client):
    m = option(model="binomial", american=True, steps=100)
    audit = client.post("/v1/valuations", json=body(m)).get_json()["methods"][0]["audit"]
    assert audit["early_exercise_premium"] > 0
    assert audit["european_lattice_value"] == pytest.approx(
        float(options.binomial(3422, 2875, 17, 0.47329, 0.067, 0.0588235, steps=100).value)
    )
    assert audit["exercise_now"] is False
    # Half the value leaks away each year: developing today beats waiting.
    leaky = option(model="binomial", american=True, steps=100, dividend_yield=0.5, volatility=0.1)
    out = client.post("/v1/valuations", json=body(leaky)).get_json()["methods"][0]
    assert out["audit"]["exercise_now"] is True
    assert out["value"] == pytest.approx(3422 - 2875, rel=1e-12)
    assert any("exercising today is optimal" in a for a in out["assumptions"])


def test_simulation_caps_the_lattice_steps_and_says_so(client):
    m = option(model="binomial", american=True, steps=1000)
    sim = {
        "paths": 200,
        "seed": 2,
        "legal_risk": {"invalidation_hazard": 0, "lapse_hazard": 0, "litigation_loss_hazard": 0},
    }
    out = client.post("/v1/valuations", json=body(m, simulation=sim)).get_json()
    method = out["methods"][0]
    assert any("200 lattice steps" in a for a in method["assumptions"])
    at_200 = options.binomial(3422, 2875, 17, 0.47329, 0.067, 0.0588235, steps=200, american=True)
    assert out["distribution"]["mean"] == pytest.approx(float(at_200.value), rel=1e-12)
    assert method["value"] == pytest.approx(
        float(
            options.binomial(
                3422, 2875, 17, 0.47329, 0.067, 0.0588235, steps=1000, american=True
            ).value
        ),
        rel=1e-12,
    )
