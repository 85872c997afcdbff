"""Fast tests of the volatility request, prior table, model choice and results object (no MCMC)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ipvalue.models.errors import InputError
from ipvalue.models.volatility import VolatilityPriors, VolatilityRequest, VolatilityResult
from ipvalue.risk.volatility import (
    Diagnostics,
    VolatilityEstimate,
    choose_model,
    choose_prior,
    estimate_volatility,
    parse_request,
    prob_volatility_rose,
    to_returns,
)
from ipvalue.risk.volatility.priors import ASSET_KIND_PRIORS, DEFAULT_PRIOR, SECTOR_PRIORS
from ipvalue.risk.volatility.results import ParameterSummary, hdi

GOOD = [100.0, 104.0, 101.0, 108.0, 107.0, 112.0, 110.0, 115.0]


def _body(**kw: object) -> dict[str, object]:
    body: dict[str, object] = {"series": GOOD, "kind": "levels", "periods_per_year": 4}
    body.update(kw)
    return body


def _fields(exc: InputError) -> set[str]:
    return {p.field for p in exc.problems}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"series": [1.0, 1.1, 1.2, 1.1]}, "series", "need at least 7 observations"),
        ({"series": [0.1, -0.2, 0.1, 0.0], "kind": "returns"}, "series", "got 4"),
        ({"series": [*GOOD[:3], float("nan"), *GOOD[4:]]}, "series[3]", "finite"),
        ({"series": [*GOOD[:2], float("inf"), *GOOD[3:]]}, "series[2]", "finite"),
        ({"series": [*GOOD[:5], -3.0, *GOOD[6:]]}, "series[5]", "levels must be positive"),
        ({"series": [*GOOD[:5], 0.0, *GOOD[6:]]}, "series[5]", '"kind": "returns"'),
        ({"series": [5.0] * 8}, "series", "no volatility"),
        ({"model": "garch"}, "model", "stochastic_volatility"),
        ({"kind": "prices"}, "kind", "levels"),
        ({"periods_per_year": 0}, "periods_per_year", "greater than or equal to 0.1"),
        ({"periods_per_year": 1e-300}, "periods_per_year", "greater than or equal to 0.1"),
        (
            {"series": [0.1, -0.2, 0.1, 40.0, 0.0, 0.1, 0.05], "kind": "returns"},
            "series[3]",
            "log return of 40",
        ),
        ({"series": [*GOOD[:3], GOOD[3] * 1e9, *GOOD[4:]]}, "series[3]", "log return"),
        ({"model": "hierarchical"}, "related_series", "at least one peer"),
        ({"related_series": [[1.0, 2.0]]}, "related_series[0]", "need at least"),
        ({"previous_sigma": -0.1}, "previous_sigma", "greater than 0"),
        ({"chains": 1}, "chains", "greater than or equal to 2"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        ({"priors": {"sigma_median": 0}}, "priors.sigma_median", "greater than 0"),
    ],
)
def test_bad_input_raises_input_error_naming_the_field(
    change: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        estimate_volatility(_body(**change))
    assert field in _fields(caught.value), caught.value.problems
    assert words in str(caught.value), str(caught.value)


def test_pydantic_model_rejects_short_series_with_a_message_that_says_how_to_fix() -> None:
    with pytest.raises(ValidationError, match="need at least 6 observations"):
        VolatilityRequest(series=[0.1, 0.2, 0.0, 0.1], kind="returns", periods_per_year=12)


def test_explicit_stochastic_volatility_needs_a_long_series() -> None:
    with pytest.raises(InputError) as caught:
        estimate_volatility(_body(model="stochastic_volatility"))
    assert _fields(caught.value) == {"series"}
    assert "student_t" in str(caught.value)


def test_request_defaults_and_round_trip() -> None:
    req = parse_request(_body())
    assert (req.model, req.draws, req.tune, req.chains) == ("auto", 1000, 1000, 4)
    assert parse_request(req) is req
    assert VolatilityRequest.model_validate(req.model_dump()) == req


@pytest.mark.parametrize(
    ("n", "peers", "requested", "expected"),
    [
        (6, 0, "auto", "student_t"),
        (149, 0, "auto", "student_t"),
        (150, 0, "auto", "stochastic_volatility"),
        (2000, 0, "auto", "stochastic_volatility"),
        (2001, 0, "auto", "student_t"),
        (8, 3, "auto", "hierarchical"),
        (500, 3, "auto", "hierarchical"),
        (500, 0, "student_t", "student_t"),
        (40, 0, "stochastic_volatility", "stochastic_volatility"),
    ],
)
def test_model_choice(n: int, peers: int, requested: str, expected: str) -> None:
    assert choose_model(n, peers, requested) == expected


def test_levels_become_log_returns() -> None:
    np.testing.assert_allclose(to_returns([100.0, 110.0, 99.0], "levels"), np.log([1.1, 0.9]))
    np.testing.assert_array_equal(to_returns([0.1, -0.2], "returns"), [0.1, -0.2])


def test_prior_table_precedence_and_override() -> None:
    assert choose_prior() == DEFAULT_PRIOR
    assert choose_prior("trademark") == ASSET_KIND_PRIORS["trademark"]
    assert choose_prior("trademark", "Biotech") == SECTOR_PRIORS["biotechnology"]
    assert choose_prior("patent", "an unknown sector") == ASSET_KIND_PRIORS["patent"]
    over = choose_prior("patent", None, VolatilityPriors(sigma_median=0.2, step_sd=0.5))
    assert (over.sigma_median, over.step_sd) == (0.2, 0.5)
    assert over.sigma_log_sd == ASSET_KIND_PRIORS["patent"].sigma_log_sd
    assert over.source == "asset_kind:patent+override"


def test_prior_table_is_plausible() -> None:
    for prior in [DEFAULT_PRIOR, *ASSET_KIND_PRIORS.values(), *SECTOR_PRIORS.values()]:
        assert 0.1 <= prior.sigma_median <= 1.0, prior
        assert prior.sigma_log_sd >= 0.5, "priors must stay weakly informative"


def test_hdi_of_a_known_distribution() -> None:
    x = np.random.default_rng(0).standard_normal(200_000)
    low, high = hdi(x, 0.94)
    assert low == pytest.approx(-1.881, abs=0.02)
    assert high == pytest.approx(1.881, abs=0.02)


@given(st.lists(st.floats(0.01, 5.0), min_size=2, max_size=300))
def test_hdi_lies_within_the_draws(values: list[float]) -> None:
    low, high = hdi(np.array(values), 0.94)
    assert min(values) <= low <= high <= max(values)


def _estimate(
    sigma: np.ndarray, current: np.ndarray | None = None, **kw: object
) -> VolatilityEstimate:
    row = ParameterSummary("sigma_annual", 0.3, 0.01, 0.3, 0.28, 0.32, 1.0, 4000.0, 3000.0)
    fields: dict[str, object] = {
        "model": "student_t" if current is None else "stochastic_volatility",
        "sigma_draws": sigma,
        "sigma_current_draws": current,
        "sigma_path": None,
        "parameters": (row,),
        "diagnostics": Diagnostics(1.0, 4000.0, 0, True),
        "prior": DEFAULT_PRIOR,
        "n_observations": 40,
        "periods_per_year": 12.0,
        "seed": 1,
        "sampler": "test",
        "draws": 500,
        "tune": 500,
        "chains": 2,
    }
    fields.update(kw)
    return VolatilityEstimate(**fields)  # type: ignore[arg-type]


def test_results_object_draws_summary_and_result() -> None:
    sigma = np.linspace(0.2, 0.4, 1000).reshape(2, 500)
    est = _estimate(sigma, previous_sigma=0.35)
    flat = est.posterior_sigma_draws
    assert flat.shape == (1000,)
    assert flat.mean() == pytest.approx(0.3)
    flat[0] = 99.0  # a copy: the estimate stays frozen
    assert est.sigma_draws[0, 0] == pytest.approx(0.2)
    with pytest.raises(ValueError):
        est.sigma_draws[0, 0] = 1.0
    assert prob_volatility_rose(est, 0.35) == pytest.approx(0.25, abs=0.002)
    result = est.to_result()
    assert isinstance(result, VolatilityResult)
    assert result.sigma_annual.median == pytest.approx(0.3)
    assert result.sigma_current is None
    assert result.prob_volatility_rose == pytest.approx(0.25, abs=0.002)
    assert result.diagnostics.reliable
    table = est.summary()
    assert list(table.columns[:5]) == ["mean", "sd", "median", "hdi_low", "hdi_high"]
    assert table.attrs["model"] == "student_t"
    assert "sigma_annual" in str(est)
    assert set(VolatilityResult.model_json_schema()["properties"]) >= {
        "sigma_annual",
        "sigma_current",
        "diagnostics",
        "model",
    }


def test_current_volatility_drives_regime_change_and_path_draws() -> None:
    window = np.full((2, 500), 0.2)
    current = np.full((2, 500), 0.5)
    est = _estimate(window, current)
    assert prob_volatility_rose(est, 0.3) == 1.0
    assert est.posterior_sigma_draws.mean() == pytest.approx(0.5)
    assert est.posterior_sigma_annual_draws.mean() == pytest.approx(0.2)
    assert est.to_result().sigma_current is not None


@pytest.mark.parametrize("bad", [0.0, -0.2, math.nan])
def test_regime_change_needs_a_positive_previous_sigma(bad: float) -> None:
    est = _estimate(np.full((2, 10), 0.2))
    with pytest.raises(InputError) as caught:
        prob_volatility_rose(est, bad)
    assert _fields(caught.value) == {"previous_sigma"}


def test_compile_cache_folder_follows_ipvalue_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ipvalue.risk.volatility import compiled

    monkeypatch.setenv("IPVALUE_CACHE_DIR", str(tmp_path / "c"))
    assert compiled.cache_dir() == tmp_path / "c" / "nutpie"
    assert not (tmp_path / "c").exists()  # created on demand, when an entry is written
    monkeypatch.delenv("IPVALUE_CACHE_DIR")
    assert compiled.cache_dir() == Path.home() / ".cache" / "ipvalue" / "nutpie"


def test_missing_or_garbled_compile_cache_entry_is_ignored(tmp_path: Path) -> None:
    from ipvalue.risk.volatility import compiled

    assert compiled.load(tmp_path / "absent.pkl") is None
    (tmp_path / "garbled.pkl").write_bytes(b"not a pickle")
    assert compiled.load(tmp_path / "garbled.pkl") is None


def test_starting_points_follow_the_prior_and_the_chain_seed() -> None:
    from ipvalue.risk.volatility.starting import InitialPoint, initial_centre

    names = ["drift_annual", "sigma_annual_log__", "nu_minus_2_log__", "z"]
    centre = initial_centre(names, [1, 1, 1, 2], DEFAULT_PRIOR)
    assert centre.tolist() == pytest.approx(
        [0.0, math.log(DEFAULT_PRIOR.sigma_median), math.log(20.0), 0.0, 0.0]
    )
    start = InitialPoint(centre)
    np.testing.assert_array_equal(start(7), start(7))
    assert not np.array_equal(start(7), start(8))
    assert np.all(np.abs(start(7) - centre) <= 1.0)
