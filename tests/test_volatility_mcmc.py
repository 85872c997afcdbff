"""MCMC tests of the Bayesian volatility estimate: small, seeded, checked against known truths.

Each fit is shared through module-scoped fixtures; the file compiles three model shapes
(Student-t, hierarchical with five series, stochastic volatility with 300 returns).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipvalue.risk.volatility import VolatilityEstimate, estimate_volatility, prob_volatility_rose

pytestmark = pytest.mark.slow

TRUE_SIGMA = 0.30
MONTHLY = 12


def _returns(n: int, sigma: float, seed: int, periods: float = MONTHLY) -> list[float]:
    """Normal log returns whose sample sd is exactly ``sigma`` a year (no sampling luck)."""
    z = np.random.default_rng(seed).standard_normal(n)
    return list((z - z.mean()) / z.std(ddof=1) * sigma / np.sqrt(periods))


def _fit(series: list[float], **kw: object) -> VolatilityEstimate:
    body = {"series": series, "kind": "returns", "periods_per_year": MONTHLY, "seed": 11}
    body.update(kw)
    return estimate_volatility(body)


def _width(est: VolatilityEstimate) -> float:
    return est.sigma_annual.hdi_high - est.sigma_annual.hdi_low


@pytest.fixture(scope="module")
def long_fit() -> VolatilityEstimate:
    return _fit(_returns(120, TRUE_SIGMA, seed=1))


@pytest.fixture(scope="module")
def short_fit() -> VolatilityEstimate:
    return _fit(_returns(12, TRUE_SIGMA, seed=1))


@pytest.fixture(scope="module")
def sp500_returns() -> pd.Series:
    sp500 = pytest.importorskip("arch.data.sp500")
    prices = sp500.load()["Adj Close"]
    return np.log(prices).diff().dropna()


def test_recovers_known_sigma(long_fit: VolatilityEstimate) -> None:
    s = long_fit.sigma_annual
    assert long_fit.model == "student_t"
    assert s.hdi_low < TRUE_SIGMA < s.hdi_high, f"true {TRUE_SIGMA} outside HDI {s}"
    assert abs(s.median - TRUE_SIGMA) < 0.06, s
    assert long_fit.diagnostics.reliable, long_fit.diagnostics
    assert long_fit.diagnostics.r_hat <= 1.01
    assert long_fit.diagnostics.ess_bulk >= 400


def test_fewer_observations_give_a_wider_interval(
    short_fit: VolatilityEstimate, long_fit: VolatilityEstimate
) -> None:
    assert _width(short_fit) > 1.5 * _width(long_fit), (_width(short_fit), _width(long_fit))


def test_posterior_draws_widen_the_simulated_value_band(
    short_fit: VolatilityEstimate, long_fit: VolatilityEstimate
) -> None:
    """Per-path volatility draws: a thinly observed asset gets a wider p05-p95 value band
    (through the collateral assessment, which gives each path its own posterior draw)."""
    from ipvalue.models.collateral import CollateralRequest
    from ipvalue.risk.collateral import assess_collateral

    def band(est: VolatilityEstimate) -> float:
        request = CollateralRequest(
            value=1.0,
            volatility=est.posterior_sigma_draws.tolist(),
            horizon_years=2.0,
            paths=20_000,
            seed=3,
        )
        result = assess_collateral(request)
        return result.range.p95 - result.range.p05

    assert band(short_fit) > band(long_fit)


def test_same_seed_same_draws(long_fit: VolatilityEstimate) -> None:
    again = _fit(_returns(120, TRUE_SIGMA, seed=1))
    np.testing.assert_array_equal(again.sigma_draws, long_fit.sigma_draws)
    assert again.to_result() == long_fit.to_result()


def test_hierarchical_pooling_shrinks_a_short_series_towards_its_peers() -> None:
    # The asset's eight returns happen to look twice as volatile as its four peers.
    rng = np.random.default_rng(5)
    short = rng.standard_normal(8)
    short = list((short - short.mean()) / short.std(ddof=1) * 0.60 / np.sqrt(MONTHLY))
    peers = [_returns(40, TRUE_SIGMA, seed=20 + k) for k in range(4)]
    alone = _fit(short, model="student_t")
    pooled = _fit(short, related_series=peers)
    assert pooled.model == "hierarchical"
    assert abs(pooled.sigma_annual.median - TRUE_SIGMA) < abs(
        alone.sigma_annual.median - TRUE_SIGMA
    )
    assert pooled.sigma_annual.median < alone.sigma_annual.median
    assert _width(pooled) < _width(alone), (_width(pooled), _width(alone))
    assert pooled.diagnostics.divergences == 0 or not pooled.diagnostics.reliable
    table = pooled.summary()
    assert {"sigma_annual", "sigma_series[0]", "sigma_series[4]", "pooling_sd"} <= set(table.index)


def test_sp500_weekly_volatility_matches_the_sample(sp500_returns: pd.Series) -> None:
    """arch's bundled S&P 500 (1999-2018): weekly log returns, about 1,040 weeks."""
    weekly = np.log(np.exp(sp500_returns.cumsum()).resample("W-FRI").last()).diff().dropna()
    sample = float(weekly.std(ddof=1) * np.sqrt(52))
    est = estimate_volatility(
        {
            "series": list(weekly.values),
            "kind": "returns",
            "periods_per_year": 52,
            "model": "student_t",
            "seed": 3,
        }
    )
    median = est.sigma_annual.median
    assert abs(median / sample - 1) < 0.10, f"expected {sample:.4f} +-10 %, got {median:.4f}"
    assert est.diagnostics.reliable


@pytest.fixture(scope="module")
def sv_fit(sp500_returns: pd.Series) -> VolatilityEstimate:
    recent = sp500_returns.values[-300:]
    return estimate_volatility(
        {"series": list(recent), "kind": "returns", "periods_per_year": 252, "seed": 7}
    )


def test_stochastic_volatility_tracks_garch(
    sp500_returns: pd.Series, sv_fit: VolatilityEstimate
) -> None:
    arch_model = pytest.importorskip("arch").arch_model
    garch = arch_model(100 * sp500_returns, vol="GARCH", p=1, q=1).fit(disp="off")
    conditional = garch.conditional_volatility.values[-300:]
    assert sv_fit.model == "stochastic_volatility"
    assert sv_fit.sigma_path is not None and sv_fit.sigma_current is not None
    corr = float(np.corrcoef(sv_fit.sigma_path, conditional)[0, 1])
    assert corr > 0.7, f"correlation with GARCH(1,1) conditional volatility {corr:.3f}"
    # both measure the same thing: GARCH's mean annualised level is near the SV path's
    garch_annual = float(np.sqrt(np.mean((conditional / 100) ** 2) * 252))
    assert abs(sv_fit.sigma_annual.median / garch_annual - 1) < 0.25


def test_regime_change_probability(sv_fit: VolatilityEstimate) -> None:
    # Late 2018: the S&P 500's volatility rose sharply from the calm of 2017.
    calm = float(np.quantile(sv_fit.sigma_path[:100], 0.5))
    assert prob_volatility_rose(sv_fit, calm) > 0.9
    assert prob_volatility_rose(sv_fit, 1.0) < 0.05


def test_regime_change_reported_in_result() -> None:
    quiet = _returns(30, 0.10, seed=8)
    loud = _returns(30, 0.40, seed=9)
    est = _fit(loud, previous_sigma=0.10)
    assert est.to_result().prob_volatility_rose is not None
    assert est.to_result().prob_volatility_rose > 0.95
    assert _fit(quiet, previous_sigma=0.40).to_result().prob_volatility_rose < 0.05


def test_unreliable_fit_is_flagged_with_advice() -> None:
    est = _fit(_returns(20, TRUE_SIGMA, seed=4), draws=50, tune=50, chains=2)
    d = est.diagnostics
    assert not d.reliable
    assert d.reruns == 1
    assert d.ess_bulk < 400
    assert any("ESS" in a for a in d.advice)
    assert est.to_result().diagnostics.reliable is False


def test_compiled_model_is_reused_for_new_data_and_priors(long_fit: VolatilityEstimate) -> None:
    from ipvalue.risk.volatility import model_cache, warm_up

    warm_up("student_t")
    compiled = model_cache.CACHE[("student_t",)]
    other = _fit(_returns(25, 0.5, seed=12), asset_kind="trademark", periods_per_year=4)
    assert model_cache.CACHE[("student_t",)] is compiled
    assert other.prior.source == "asset_kind:trademark"
    assert other.n_observations == 25


def test_stochastic_volatility_shares_a_compiled_shape_across_nearby_lengths(
    sp500_returns: pd.Series, sv_fit: VolatilityEstimate
) -> None:
    from ipvalue.risk.volatility import model_cache

    compiled = model_cache.CACHE[("stochastic_volatility", 300)]
    shorter = estimate_volatility(
        {
            "series": list(sp500_returns.values[-262:]),
            "kind": "returns",
            "periods_per_year": 252,
            "seed": 7,
        }
    )
    assert model_cache.CACHE[("stochastic_volatility", 300)] is compiled
    assert shorter.sigma_path is not None and shorter.sigma_path.shape == (262,)
    # the same recent days, fitted on a shorter window, agree on today's volatility
    assert abs(shorter.sigma_current.median / sv_fit.sigma_current.median - 1) < 0.2


_COLD = """
import hashlib, json, sys
import numpy as np
from ipvalue.risk.volatility import estimate_volatility
z = np.random.default_rng(1).standard_normal(40)
est = estimate_volatility({"series": list(z * 0.3 / np.sqrt(12)), "kind": "returns",
                           "periods_per_year": 12, "seed": 5})
print(json.dumps({"draws": hashlib.sha256(est.sigma_draws.tobytes()).hexdigest(),
                  "pymc": "pymc" in sys.modules}))
"""


def test_first_estimate_in_a_new_process_loads_the_compiled_model_from_disk(
    tmp_path: Path,
) -> None:
    """Compiled once, then loaded (no PyMC import) with the same draws as a warm process; an
    entry that no longer reproduces its log density is discarded and compiled again."""
    from ipvalue.risk.volatility import compiled

    env = {
        **os.environ,
        "IPVALUE_CACHE_DIR": str(tmp_path),
        "IPVALUE_CACHE_KEY_FILE": str(tmp_path / "key" / "cache-key"),
        # share the (slow to fill) PyTensor cache; only the nutpie entries start empty
        "PYTENSOR_FLAGS": f"base_compiledir={compiled.cache_root() / 'pytensor'}",
    }

    def cold() -> dict[str, object]:
        out = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", _COLD],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    first = cold()
    entries = list((tmp_path / "nutpie").glob("*.pkl"))
    assert first["pymc"] is True and len(entries) == 1
    second = cold()
    assert second == {"draws": first["draws"], "pymc": False}

    z = np.random.default_rng(1).standard_normal(40)
    warm = estimate_volatility(
        {
            "series": list(z * 0.3 / np.sqrt(12)),
            "kind": "returns",
            "periods_per_year": 12,
            "seed": 5,
        }
    )
    assert hashlib.sha256(warm.sigma_draws.tobytes()).hexdigest() == first["draws"]

    from ipvalue.risk.volatility import signed_files

    key = signed_files.load_key(tmp_path / "key" / "cache-key")
    entry = pickle.loads(signed_files.read_signed(entries[0], key) or b"")
    entry["fingerprint"][0][1][0] += 1.0  # a log density the stored code does not give
    signed_files.write_signed(entries[0], key, pickle.dumps(entry))  # signed, yet wrong
    third = cold()
    assert third == {"draws": first["draws"], "pymc": True}
