"""One asset, four endpoints, one answer.

The same right (value, volatility, legal hazard, horizon) goes through the value paths of
``POST /v1/valuations``, ``POST /v1/collateral``, the collateral-value cover of
``POST /v1/insurance/quotes`` (its ``breakdown.collateral_value``) and a one-asset
``POST /v1/portfolios/screen``. Each reports p05, p50 and ES95 (a loss from the starting value)
of the value at the horizon with its standard error; every pair agrees within their combined
standard errors, and every one agrees with the lognormal closed form with a legal stop
(:mod:`risk.kernel.closed_form`). The stop hazard is chosen so that about 4 % of paths end at 0:
below the 5 % point, so p05 is a lognormal quantile while ES95 averages the zeros in.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from ipvalue.risk.kernel import closed_form, hazard

VALUE, SIGMA, STOP_HAZARD, HORIZON = 1_000_000.0, 0.4, 0.02, 2.0
PATHS, SEED = 40_000, 20261201
Z = 3.5
"""Agreement within Z standard errors (12 comparisons with the closed form, 18 pairs)."""

STOPPED = hazard.prob_within(STOP_HAZARD, HORIZON)
EXACT = {
    "p05": closed_form.quantile(VALUE, SIGMA, HORIZON, 0.05, stop=STOPPED),
    "p50": closed_form.quantile(VALUE, SIGMA, HORIZON, 0.50, stop=STOPPED),
    "es95": closed_form.expected_shortfall(VALUE, SIGMA, HORIZON, 0.95, stop=STOPPED),
}

Figures = dict[str, tuple[float, float]]
"""Figure name -> (estimate, standard error)."""


def _interval_se(q: dict[str, float]) -> float:
    return (q["ci_high"] - q["ci_low"]) / (2 * 1.959963984540054)


def _created(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def _valuation(client: Any) -> Figures:
    body = {
        "asset": {
            "name": "agreement",
            "kind": "patent",
            "legal": {"status": "granted", "expiry_date": "2046-11-27"},
        },
        "valuation_date": "2026-11-27",
        "currency": "EUR",
        # a cost method: the value today is VALUE exactly, and legal events do not touch it
        "methods": [
            {"method": "replacement_cost", "costs": [{"name": "rebuild", "amount": VALUE}]}
        ],
        "simulation": {
            "paths": PATHS,
            "seed": SEED,
            "horizon_years": HORIZON,
            "volatility": SIGMA,
            "steps_per_year": 4,
            "legal_risk": {
                "invalidation_hazard": STOP_HAZARD,
                "lapse_hazard": 0.0,
                "litigation_loss_hazard": 0.0,
            },
        },
    }
    out = _created(client.post("/v1/valuations", json=body))
    assert out["value"]["point"] == pytest.approx(VALUE)
    at = out["distribution"]["value_paths"]["at_horizon"]
    q = at["quantiles"]
    return {
        "p05": (q["p05"]["value"], _interval_se(q["p05"])),
        "p50": (q["p50"]["value"], _interval_se(q["p50"])),
        "es95": (at["tail"]["es95"], at["tail"]["se_es95"]),
    }


def _collateral(client: Any) -> Figures:
    body = {
        "value": VALUE,
        "volatility": SIGMA,
        "currency": "EUR",
        "horizon_years": HORIZON,
        "legal_risk": {"stop_hazard": STOP_HAZARD},
        "steps_per_year": 4,
        "paths": PATHS,
        "seed": SEED,
    }
    out = _created(client.post("/v1/collateral", json=body))
    q = out["range"]["intervals"]
    return {
        "p05": (q["p05"]["value"], _interval_se(q["p05"])),
        "p50": (q["p50"]["value"], _interval_se(q["p50"])),
        "es95": (out["es95"], out["se_es95"]),
    }


def _insurance(client: Any) -> Figures:
    body = {
        "cover": "collateral_value",
        "currency": "EUR",
        "collateral": {
            "value": VALUE,
            "volatility": SIGMA,
            "loan_amount": 0.3 * VALUE,
            "horizon_years": HORIZON,
            "annual_pd": 0.05,
            "legal_risk": {"stop_hazard": STOP_HAZARD},
        },
        "simulation": {"paths": PATHS, "seed": SEED},
    }
    out = _created(client.post("/v1/insurance/quotes", json=body))
    cv = out["breakdown"]["collateral_value"]
    q = cv["range"]["intervals"]
    return {
        "p05": (q["p05"]["value"], _interval_se(q["p05"])),
        "p50": (q["p50"]["value"], _interval_se(q["p50"])),
        "es95": (cv["es95"]["value"], cv["es95"]["se"]),
    }


def _portfolio(client: Any) -> Figures:
    body = {
        "assets": [
            {
                "id": "agreement",
                "kind": "patent",
                "sector": "any",
                "value": VALUE,
                "volatility": SIGMA,
                "invalidation_hazard": STOP_HAZARD,
                "lapse_hazard": 0.0,
            }
        ],
        "currency": "EUR",
        "valuation_date": "2026-11-27",
        "horizon_years": HORIZON,
        "paths": PATHS,
        "seed": SEED,
    }
    resp = client.post("/v1/portfolios/screen", json=body)
    assert resp.status_code in (200, 201), resp.get_json()
    row = resp.get_json()["assets"][0]
    return {
        "p05": (row["p05"], row["se_p05"]),
        "p50": (row["p50"], row["se_p50"]),
        "es95": (row["es95"], row["se_es95"]),
    }


@pytest.fixture
def figures(client: Any) -> dict[str, Figures]:
    return {
        "valuations": _valuation(client),
        "collateral": _collateral(client),
        "insurance": _insurance(client),
        "portfolio": _portfolio(client),
    }


def test_every_endpoint_agrees_with_the_lognormal_closed_form(figures: dict[str, Figures]):
    assert 0.03 < STOPPED < 0.05  # the design of the case: zeros below the 5 % point
    for endpoint, figs in figures.items():
        for name, (estimate, se) in figs.items():
            assert se > 0, (endpoint, name)
            assert abs(estimate - EXACT[name]) <= Z * se, (endpoint, name, estimate, se, EXACT)


def test_every_pair_of_endpoints_agrees_within_their_standard_errors(
    figures: dict[str, Figures],
):
    for (a, fa), (b, fb) in itertools.combinations(figures.items(), 2):
        for name in EXACT:
            (xa, sa), (xb, sb) = fa[name], fb[name]
            assert abs(xa - xb) <= Z * math.hypot(sa, sb), (name, a, xa, sa, b, xb, sb)


def test_the_standard_errors_are_those_of_one_sample_size(figures: dict[str, Figures]):
    # the same statistic on the same number of paths: the reported errors are alike
    for name in EXACT:
        ses = [f[name][1] for f in figures.values()]
        assert max(ses) < 1.5 * min(ses), (name, ses)
