"""PyMC model factories, one per volatility model; each mirrors its maths.

Notation: ``r_t`` is the log return of period ``t``, ``P`` the periods per year. Every model is
written in annual units so its priors read as annual figures, and every prior hyperparameter
and the data are ``pm.Data`` containers: a compiled model is reused for new data and new priors
(the compile cache in :mod:`risk.volatility.model_cache` keys on the model and its shape only).

Student-t log growth (short series)::

    mu ~ Normal(0, drift_sd)                          mean log growth per year
    sigma ~ LogNormal(log(sigma_median), sigma_log_sd) annualised sd of returns
    nu = 2 + Gamma(2, 0.1)                            tail weight, variance exists
    r_t ~ StudentT(nu, mu / P, sigma / sqrt(P) * sqrt((nu - 2) / nu))

The Student-t scale is chosen so that ``sigma`` *is* the annualised standard deviation.

Hierarchical partial pooling (an asset and its peers, series ``k``)::

    sigma_pop ~ LogNormal(log(sigma_median), sigma_log_sd)
    tau ~ HalfNormal(pooling_sd)
    log sigma_k = log sigma_pop + tau * z_k,   z_k ~ Normal(0, 1)   (non-centred)
    mu_k ~ Normal(0, drift_sd);  nu as above
    r_{k,t} ~ StudentT(nu, mu_k / P, sigma_k / sqrt(P) * sqrt((nu - 2) / nu))

Series 0 is the asset; its ``sigma_k`` is reported as ``sigma_annual``.

Stochastic volatility (long series; log volatility is a random walk)::

    sigma_level ~ LogNormal(log(sigma_median), sigma_log_sd)  geometric-mean annual volatility
    s ~ HalfNormal(step_sd)                                    yearly sd of log-volatility changes
    W_t = sum_{u <= t} z_u,  z_u ~ Normal(0, 1)                a standard random walk
    log sigma_t = log sigma_level + s / sqrt(P) * (W_t - mean(W))   (mean over observed t)
    mu ~ Normal(0, drift_sd)
    r_t ~ Normal(mu / P, sigma_t / sqrt(P))

Centring the walk on its mean makes ``sigma_level`` the path's geometric mean, which the data
pin down well, instead of the start of the path, which they barely inform (a funnel for NUTS).
``sigma_annual = sqrt(mean_t sigma_t^2)`` (the window's sd of returns) and
``sigma_current = sigma_T`` (the latest).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from numpy.typing import NDArray

from ipvalue.risk.volatility.priors import VolatilityPrior, prior_data_values  # noqa: F401

NU_ALPHA = 2.0
"""Shape of the Gamma prior of ``nu - 2`` (Juarez and Steel 2010)."""
NU_BETA = 0.1
"""Rate of the Gamma prior of ``nu - 2``."""


def _prior_data(prior: VolatilityPrior) -> dict[str, pt.TensorVariable]:
    """Register the prior's hyperparameters as ``pm.Data`` so new priors need no recompile."""
    return {
        "log_sigma_median": pm.Data("prior_log_sigma_median", np.log(prior.sigma_median)),
        "sigma_log_sd": pm.Data("prior_sigma_log_sd", float(prior.sigma_log_sd)),
        "drift_sd": pm.Data("prior_drift_sd", float(prior.drift_sd)),
        "pooling_sd": pm.Data("prior_pooling_sd", float(prior.pooling_sd)),
        "step_sd": pm.Data("prior_step_sd", float(prior.step_sd)),
    }


def _tail_weight() -> pt.TensorVariable:
    nu_minus_2 = pm.Gamma("nu_minus_2", alpha=NU_ALPHA, beta=NU_BETA)
    return pm.Deterministic("nu", 2.0 + nu_minus_2)


def student_t_model(
    returns: NDArray[np.float64], periods_per_year: float, prior: VolatilityPrior
) -> pm.Model:
    """Student-t log-growth model of one short series.

    Parameters
    ----------
    returns : ndarray, shape (n,)
        Per-period log returns.
    periods_per_year : float
        Periods per year ``P``.
    prior : VolatilityPrior
        Hyperparameters (annual units).

    Returns
    -------
    pymc.Model
        Free variables ``drift_annual``, ``sigma_annual`` (annualised sd of returns),
        ``nu_minus_2``; data ``returns``, ``periods_per_year`` and ``prior_*``.
    """
    with pm.Model() as model:
        r = pm.Data("returns", np.asarray(returns, dtype=np.float64))
        p = pm.Data("periods_per_year", float(periods_per_year))
        hyper = _prior_data(prior)
        drift = pm.Normal("drift_annual", mu=0.0, sigma=hyper["drift_sd"])
        sigma = pm.LogNormal(
            "sigma_annual", mu=hyper["log_sigma_median"], sigma=hyper["sigma_log_sd"]
        )
        nu = _tail_weight()
        scale = sigma / pt.sqrt(p) * pt.sqrt((nu - 2.0) / nu)
        pm.StudentT("obs", nu=nu, mu=drift / p, sigma=scale, observed=r)
    return model


def hierarchical_model(
    returns: NDArray[np.float64],
    series_index: NDArray[np.int64],
    n_series: int,
    periods_per_year: float,
    prior: VolatilityPrior,
) -> pm.Model:
    """Hierarchical Student-t model: partial pooling of log volatility across series.

    Parameters
    ----------
    returns : ndarray, shape (m,)
        Log returns of all series, concatenated.
    series_index : ndarray of int, shape (m,)
        Series of each return; 0 is the asset, 1.. its peers.
    n_series : int
        Number of series ``K`` (at least 2).
    periods_per_year : float
        Periods per year ``P`` (shared by all series).
    prior : VolatilityPrior
        Hyperparameters (annual units).

    Returns
    -------
    pymc.Model
        Deterministics ``sigma_series`` (shape (K,)) and ``sigma_annual`` (= series 0).
    """
    with pm.Model(coords={"series": np.arange(n_series)}) as model:
        r = pm.Data("returns", np.asarray(returns, dtype=np.float64))
        idx = pm.Data("series_index", np.asarray(series_index, dtype=np.int64))
        p = pm.Data("periods_per_year", float(periods_per_year))
        hyper = _prior_data(prior)
        sigma_pop = pm.LogNormal(
            "sigma_population", mu=hyper["log_sigma_median"], sigma=hyper["sigma_log_sd"]
        )
        tau = pm.HalfNormal("pooling_sd", sigma=hyper["pooling_sd"])
        z = pm.Normal("z", mu=0.0, sigma=1.0, dims="series")
        sigma = pm.Deterministic("sigma_series", pt.exp(pt.log(sigma_pop) + tau * z), dims="series")
        drift = pm.Normal("drift_annual", mu=0.0, sigma=hyper["drift_sd"], dims="series")
        nu = _tail_weight()
        pm.Deterministic("sigma_annual", sigma[0])
        scale = sigma[idx] / pt.sqrt(p) * pt.sqrt((nu - 2.0) / nu)
        pm.StudentT("obs", nu=nu, mu=drift[idx] / p, sigma=scale, observed=r)
    return model


def stochastic_volatility_model(
    returns: NDArray[np.float64],
    periods_per_year: float,
    prior: VolatilityPrior,
    length: int | None = None,
) -> pm.Model:
    """Stochastic-volatility model: log volatility follows a Gaussian random walk.

    Parameters
    ----------
    returns : ndarray, shape (n,)
        Per-period log returns.
    periods_per_year : float
        Periods per year ``P``.
    prior : VolatilityPrior
        Hyperparameters (annual units).
    length : int, optional
        Length ``L >= n`` of the latent path. The returns are padded to ``L`` and masked
        (``observed_mask``, ``last_index``), so one compiled model serves every series of up
        to ``L`` returns; the padded tail of the walk follows its prior and does not touch
        the fit. Defaults to ``n``.

    Returns
    -------
    pymc.Model
        Deterministics ``sigma_path`` (annual volatility per period, shape (L,); the first
        ``n`` are the observed window), ``sigma_annual`` (root mean square of the observed
        path) and ``sigma_current`` (the path at the last observation).
    """
    n = len(returns)
    size = n if length is None else int(length)
    if size < n:
        raise ValueError(f"length must be at least the number of returns ({n}); got {size}")
    padded = np.zeros(size)
    padded[:n] = returns
    mask = np.zeros(size)
    mask[:n] = 1.0
    with pm.Model(coords={"time": np.arange(size)}) as model:
        r = pm.Data("returns", padded)
        w = pm.Data("observed_mask", mask)
        last = pm.Data("last_index", np.int64(n - 1))
        p = pm.Data("periods_per_year", float(periods_per_year))
        hyper = _prior_data(prior)
        drift = pm.Normal("drift_annual", mu=0.0, sigma=hyper["drift_sd"])
        sigma_level = pm.LogNormal(
            "sigma_level", mu=hyper["log_sigma_median"], sigma=hyper["sigma_log_sd"]
        )
        step = pm.HalfNormal("step_annual", sigma=hyper["step_sd"])
        z = pm.Normal("innovations", mu=0.0, sigma=1.0, dims="time")
        weight = w / pt.sum(w)
        walk = pt.cumsum(z)
        centred = walk - pt.sum(weight * walk)
        sigma_t = pm.Deterministic(
            "sigma_path", sigma_level * pt.exp(step / pt.sqrt(p) * centred), dims="time"
        )
        pm.Deterministic("sigma_annual", pt.sqrt(pt.sum(weight * pt.square(sigma_t))))
        pm.Deterministic("sigma_current", sigma_t[last])
        per_period = pm.Normal.dist(mu=drift / p, sigma=sigma_t / pt.sqrt(p))
        pm.Potential("obs", pt.sum(w * pm.logp(per_period, r)))
    return model
