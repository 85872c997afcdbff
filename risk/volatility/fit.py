"""Estimate an asset's volatility from its series: choose a model, sample it, check it.

The steps live in their own modules: :mod:`~risk.volatility.request` (validation),
:mod:`~risk.volatility.choice` (model and returns), :mod:`~risk.volatility.problem` (the data in
the model's shape), :mod:`~risk.volatility.model_cache` (compiled models, in the process and on
disk), :mod:`~risk.volatility.sampling` (nutpie) and :mod:`~risk.volatility.diagnostics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ipvalue.models.volatility import VolatilityRequest
from ipvalue.risk.kernel import seeds
from ipvalue.risk.volatility.choice import SV_MIN_RETURNS, choose_model, to_returns
from ipvalue.risk.volatility.diagnostics import diagnose, parameter_rows
from ipvalue.risk.volatility.model_cache import compiled_for
from ipvalue.risk.volatility.priors import choose_prior
from ipvalue.risk.volatility.problem import make_problem
from ipvalue.risk.volatility.request import parse_request
from ipvalue.risk.volatility.results import ESS_MIN, VolatilityEstimate
from ipvalue.risk.volatility.sampling import (
    RERUN_TARGET_ACCEPT,
    RERUN_TUNE_FACTOR,
    TARGET_ACCEPT,
    sample,
    sampler_name,
)


def estimate_volatility(request: VolatilityRequest | Mapping[str, Any]) -> VolatilityEstimate:
    """Bayesian estimate of the annualised volatility of a series.

    Parameters
    ----------
    request : VolatilityRequest or mapping
        The series and settings (a mapping is validated first).

    Returns
    -------
    VolatilityEstimate
        Posterior draws, summary table and diagnostics; ``.to_result()`` gives the API answer.
        A fit failing R-hat <= 1.01, bulk ESS >= 400 or with divergences is re-run once with
        three times the tuning (and twice the draws when ESS is short, a target acceptance of
        0.99 when it diverged); if it still fails, ``diagnostics.reliable`` is false and
        ``diagnostics.advice`` says what to change.

    Raises
    ------
    InputError
        For input that cannot be estimated, naming the field.
    """
    req = parse_request(request)
    returns = to_returns(req.series, req.kind)
    peers = [to_returns(s, req.kind) for s in req.related_series or []]
    model = choose_model(len(returns), len(peers), req.model)
    prior = choose_prior(req.asset_kind, req.sector, req.priors)
    problem = make_problem(model, returns, peers, req.periods_per_year, prior)
    seed = seeds.record_seed(req.seed)
    run_seeds = seeds.integer_seeds(seed, 2)  # the first fit's, and a re-run's

    compiled = compiled_for(problem)
    draws, tune = req.draws, req.tune
    target_accept = TARGET_ACCEPT[model]
    idata = sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=req.chains,
        seed=run_seeds[0],
        target_accept=target_accept,
    )
    rows = parameter_rows(idata, model, 0.94)
    diagnostics = diagnose(rows, idata, reruns=0)
    if not diagnostics.reliable:
        tune = min(tune * RERUN_TUNE_FACTOR, 20_000)
        if diagnostics.ess_bulk < ESS_MIN:
            draws = min(draws * 2, 20_000)
        idata = sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=req.chains,
            seed=run_seeds[1],
            target_accept=RERUN_TARGET_ACCEPT if diagnostics.divergences else target_accept,
        )
        rows = parameter_rows(idata, model, 0.94)
        diagnostics = diagnose(rows, idata, reruns=1)

    post = idata.posterior
    sigma_path = None
    current = None
    if model == "stochastic_volatility":
        path = np.asarray(post["sigma_path"].values)[..., : len(returns)]
        sigma_path = np.median(path.reshape(-1, path.shape[-1]), axis=0)
        current = np.asarray(post["sigma_current"].values)
    return VolatilityEstimate(
        model=model,
        sigma_draws=np.asarray(post["sigma_annual"].values),
        sigma_current_draws=current,
        sigma_path=sigma_path,
        parameters=rows,
        diagnostics=diagnostics,
        prior=prior,
        n_observations=len(returns),
        periods_per_year=req.periods_per_year,
        seed=seed,
        sampler=sampler_name(),
        draws=draws,
        tune=tune,
        chains=req.chains,
        previous_sigma=req.previous_sigma,
        inference_data=idata,
    )


def warm_up(model: str = "student_t", n_returns: int = 40, n_series: int = 2) -> None:
    """Compile a model shape ahead of the first request (e.g. when a worker starts).

    Parameters
    ----------
    model : str
        ``student_t``, ``hierarchical`` (with ``n_series`` series) or ``stochastic_volatility``
        (with ``n_returns`` returns; its shape depends on the length).
    """
    from ipvalue.risk.volatility.priors import DEFAULT_PRIOR

    n = max(n_returns, SV_MIN_RETURNS if model == "stochastic_volatility" else 6)
    returns = np.sin(np.arange(n, dtype=np.float64)) * 0.05
    peers = (
        [returns[::-1].copy() for _ in range(max(n_series - 1, 1))]
        if model == "hierarchical"
        else []
    )
    compiled_for(make_problem(model, returns, peers, 12.0, DEFAULT_PRIOR))
