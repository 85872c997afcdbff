"""Estimate an asset's volatility from its series: choose a model, sample it, check it.

Sampling uses nutpie (NUTS in Rust on a numba-compiled log density). A compiled model is kept
per process, keyed by model and shape, and reused with new data and new priors through
``pm.Data``; compiling costs seconds, a warm estimate of a 40-point series well under one.
Compiled models are also kept on disk (:mod:`risk.volatility.compiled`), so the first estimate
in a new process loads machine code instead of compiling, without importing PyMC.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from ipvalue.models.errors import FieldProblem, InputError
from ipvalue.models.volatility import VolatilityRequest
from ipvalue.risk.volatility import compiled as disk_cache
from ipvalue.risk.volatility.priors import VolatilityPrior, choose_prior, prior_data_values
from ipvalue.risk.volatility.results import (
    ESS_MIN,
    R_HAT_MAX,
    Diagnostics,
    ParameterSummary,
    VolatilityEstimate,
    hdi,
)

AUTO_STOCHASTIC_VOLATILITY_FROM = 150
"""``model="auto"`` fits stochastic volatility from this many returns on."""
SV_MIN_RETURNS = 30
"""Fewest returns the stochastic-volatility model accepts when asked for explicitly."""
SV_MAX_RETURNS = 2000
"""Most returns the stochastic-volatility model takes (one latent value per return)."""
RERUN_TUNE_FACTOR = 3
"""A fit that fails its diagnostics is re-run once with this many times the tuning steps."""
TARGET_ACCEPT: dict[str, float] = {
    "student_t": 0.95,
    "hierarchical": 0.98,
    "stochastic_volatility": 0.95,
}
"""NUTS target acceptance per model. At 0.8 half of 40 seeded 40-month Student-t fits had one
or two divergences and were re-run (0.1 s became 0.5-0.8 s); at 0.9 three in 40, at 0.95 none,
for about 0.2 s each. The hierarchical model has a funnel where the pooling sd
nears zero (an 8-point series with four peers diverged 5-6 times at 0.9, none at 0.98); the
latent random walk of stochastic volatility needs small steps too (a 300-day S&P 500 fit
diverged hundreds of times at 0.8, none at 0.95)."""
RERUN_TARGET_ACCEPT = 0.99
"""Target acceptance of a re-run after divergences (smaller steps)."""
CACHE_SIZE = 32
"""Compiled models kept per process."""

_TRACKED: dict[str, tuple[str, ...]] = {
    "student_t": ("sigma_annual", "drift_annual", "nu"),
    "hierarchical": (
        "sigma_annual",
        "sigma_series",
        "sigma_population",
        "pooling_sd",
        "drift_annual",
        "nu",
    ),
    "stochastic_volatility": (
        "sigma_annual",
        "sigma_current",
        "sigma_level",
        "step_annual",
        "drift_annual",
    ),
}
"""Quantities summarised and checked per model (the reported ones and the hyperparameters)."""


def to_returns(series: list[float] | NDArray[np.float64], kind: str) -> NDArray[np.float64]:
    """Per-period log returns of a series.

    Parameters
    ----------
    series : sequence of float
        Positive levels, or log returns.
    kind : {"levels", "returns"}

    Returns
    -------
    ndarray, shape (n,)
        ``diff(log(levels))`` for levels, the series itself for returns.
    """
    x = np.asarray(series, dtype=np.float64)
    return np.diff(np.log(x)) if kind == "levels" else x.copy()


def choose_model(n_returns: int, n_related: int, requested: str = "auto") -> str:
    """Model for a series of ``n_returns`` returns with ``n_related`` peer series.

    ``auto``: peers -> ``hierarchical``; from 150 returns (up to 2,000) ->
    ``stochastic_volatility``; otherwise ``student_t``. An explicit choice is checked.

    Raises
    ------
    InputError
        When the data cannot support the requested model.
    """
    if requested == "auto":
        if n_related:
            return "hierarchical"
        if AUTO_STOCHASTIC_VOLATILITY_FROM <= n_returns <= SV_MAX_RETURNS:
            return "stochastic_volatility"
        return "student_t"
    if requested == "stochastic_volatility":
        if n_returns < SV_MIN_RETURNS:
            raise InputError.for_field(
                "series",
                f"the stochastic_volatility model needs at least {SV_MIN_RETURNS} returns;"
                f' got {n_returns}. Use "model": "student_t" for short series',
            )
        if n_returns > SV_MAX_RETURNS:
            raise InputError.for_field(
                "series",
                f"the stochastic_volatility model takes at most {SV_MAX_RETURNS} returns;"
                f" got {n_returns}. Send the most recent {SV_MAX_RETURNS}",
            )
    if requested not in _TRACKED:
        raise InputError.for_field(
            "model",
            "must be one of auto, student_t, hierarchical, stochastic_volatility;"
            f" got {requested!r}",
        )
    return requested


_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.*)$", re.DOTALL)


def _field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def parse_request(data: VolatilityRequest | Mapping[str, Any]) -> VolatilityRequest:
    """Validate a request, turning pydantic's errors into an :class:`InputError`.

    Raises
    ------
    InputError
        Naming each bad field (``series``, ``series[3]``, ``model``, ...) and how to fix it.
    """
    if isinstance(data, VolatilityRequest):
        return data
    try:
        return VolatilityRequest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            field = _field_path(tuple(err["loc"]))
            match = _FIELD_PREFIX.match(message)
            if match:
                field, message = match.group(1), match.group(2)
            problems.append(FieldProblem(field or "body", message))
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise InputError(detail, problems) from None


def sv_path_length(n_returns: int) -> int:
    """Latent path length compiled for ``n_returns`` returns (stochastic volatility).

    Lengths are rounded up to a multiple of 50 (of 250 above 500), so series of nearby
    lengths share one compiled model; the padding is masked out of the fit.
    """
    step = 50 if n_returns <= 500 else 250
    return int(-(-n_returns // step) * step)


@dataclass(frozen=True)
class _Problem:
    """Data of one fit in the shape its model factory needs."""

    model: str
    key: tuple[Any, ...]
    data: dict[str, Any]
    build: Callable[[], Any]
    prior: VolatilityPrior


def _problem(
    name: str,
    returns: NDArray[np.float64],
    peers: list[NDArray[np.float64]],
    periods_per_year: float,
    prior: VolatilityPrior,
) -> _Problem:
    def factories() -> Any:
        from ipvalue.risk.volatility import models  # imports PyMC: only when a model must be built

        return models

    data: dict[str, Any] = {"periods_per_year": float(periods_per_year)}
    data.update(prior_data_values(prior))
    if name == "hierarchical":
        flat = np.concatenate([returns, *peers])
        index = np.concatenate(
            [np.full(len(s), k, dtype=np.int64) for k, s in enumerate([returns, *peers])]
        )
        data.update(returns=flat, series_index=index)
        k = len(peers) + 1
        return _Problem(
            name,
            (name, k),
            data,
            lambda: factories().hierarchical_model(flat, index, k, periods_per_year, prior),
            prior,
        )
    data["returns"] = returns
    if name == "stochastic_volatility":
        length = sv_path_length(len(returns))
        mask = np.zeros(length)
        mask[: len(returns)] = 1.0
        data.update(
            returns=np.concatenate([returns, np.zeros(length - len(returns))]),
            observed_mask=mask,
            last_index=np.int64(len(returns) - 1),
        )
        return _Problem(
            name,
            (name, length),
            data,
            lambda: factories().stochastic_volatility_model(
                returns, periods_per_year, prior, length
            ),
            prior,
        )
    return _Problem(
        name,
        (name,),
        data,
        lambda: factories().student_t_model(returns, periods_per_year, prior),
        prior,
    )


_CACHE: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()


_MODEL_SOURCE = (Path(__file__).with_name("models.py")).read_bytes()
"""Source of the model factories: part of the key of every on-disk compiled model."""


def _load_or_compile(problem: _Problem) -> Any:
    """The compiled model of ``problem``'s shape from the disk cache, else compiled (and saved).

    The disk cache rests on numba internals (see `risk.volatility.compiled`); setting
    ``IPVALUE_NUTPIE_DISK_CACHE=0`` turns it off, and every new process compiles again.
    """
    import os

    var_names = list(_TRACKED[problem.model])
    if problem.model == "stochastic_volatility":
        var_names.append("sigma_path")
    use_disk = os.environ.get("IPVALUE_NUTPIE_DISK_CACHE", "1").strip().lower() not in {
        "0",
        "false",
        "no",
        "off",
    }
    path = disk_cache.cache_dir() / (
        disk_cache.entry_key(problem.key, var_names, _MODEL_SOURCE) + ".pkl"
    )
    compiled = disk_cache.load(path) if use_disk else None
    if compiled is None:
        import nutpie

        compiled = nutpie.compile_pymc_model(problem.build(), var_names=var_names)
        if use_disk:
            disk_cache.save(path, compiled)
    return compiled


def _compiled(problem: _Problem) -> Any:
    """The nutpie-compiled model for ``problem``'s model and shape, with its data and start.

    Compiled (or loaded from disk) at most once per process and shape; the starting points
    follow the request's prior (:class:`risk.volatility.compiled.InitialPoint`).
    """
    with _CACHE_LOCK:
        if problem.key in _CACHE:
            _CACHE.move_to_end(problem.key)
            compiled = _CACHE[problem.key]
        else:
            compiled = _load_or_compile(problem)
            _CACHE[problem.key] = compiled
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    known = compiled.shared_data
    compiled = compiled.with_data(**{k: v for k, v in problem.data.items() if k in known})
    names, sizes = disk_cache.free_variables(compiled)
    start = disk_cache.InitialPoint(disk_cache.initial_centre(names, sizes, problem.prior))
    return dataclasses.replace(compiled, initial_point_func=start)


def clear_cache() -> None:
    """Forget this process's compiled models (the on-disk compile cache stays)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def sampler_name() -> str:
    """Name and version of the sampler, as recorded in results."""
    import nutpie

    return f"nutpie {nutpie.__version__} NUTS (numba)"


def _sample(
    compiled: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
) -> Any:
    import nutpie

    try:
        return nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=min(chains, os.cpu_count() or 1),
            seed=seed,
            save_warmup=False,
            progress_bar=False,
            target_accept=target_accept,
        )
    except RuntimeError as exc:
        if "initialization" not in str(exc).lower():
            raise
        raise InputError.for_field(
            "series",
            "the sampler could not start from these data (the log density is not finite at "
            "any starting point); check the series' units and scale, or set priors",
        ) from exc


def _parameter_rows(idata: Any, model: str, prob: float) -> tuple[ParameterSummary, ...]:
    import arviz as az

    rows = []
    for name in _TRACKED[model]:
        values = np.asarray(idata.posterior[name].values, dtype=np.float64)
        flat = values.reshape(values.shape[0], values.shape[1], -1)
        for j in range(flat.shape[2]):
            x = flat[:, :, j]
            low, high = hdi(x, prob)
            rows.append(
                ParameterSummary(
                    name=name if values.ndim == 2 else f"{name}[{j}]",
                    mean=float(x.mean()),
                    sd=float(x.std(ddof=1)),
                    median=float(np.median(x)),
                    hdi_low=low,
                    hdi_high=high,
                    r_hat=float(az.rhat(x)),
                    ess_bulk=float(az.ess(x, method="bulk")),
                    ess_tail=float(az.ess(x, method="tail")),
                )
            )
    return tuple(rows)


def _diagnose(rows: tuple[ParameterSummary, ...], idata: Any, reruns: int) -> Diagnostics:
    r_hat = max(r.r_hat for r in rows)
    ess = min(r.ess_bulk for r in rows)
    divergences = int(np.asarray(idata.sample_stats["diverging"].values).sum())
    advice = []
    if not r_hat <= R_HAT_MAX:
        advice.append(
            f"R-hat {r_hat:.3f} exceeds {R_HAT_MAX}: the chains disagree. Add observations,"
            " narrow the prior (priors.sigma_log_sd) or raise tune"
        )
    if not ess >= ESS_MIN:
        advice.append(
            f"bulk ESS {ess:.0f} is below {ESS_MIN:.0f}: raise draws (e.g. double them) or chains"
        )
    if divergences:
        advice.append(
            f"{divergences} divergent transitions: the sampler could not explore the posterior"
            " fully. Narrow the prior (priors), add observations, or try a simpler model"
            ' ("model": "student_t")'
        )
    if advice and reruns:
        advice.append("re-ran once with more tuning; treat this estimate as indicative only")
    return Diagnostics(
        r_hat=r_hat,
        ess_bulk=ess,
        divergences=divergences,
        reliable=not advice,
        advice=tuple(advice),
        reruns=reruns,
    )


def _fresh_seed() -> int:
    """A new seed from OS entropy (recorded in the result so the run can be repeated)."""
    state = np.random.SeedSequence().generate_state(1, np.uint64)[0]
    return int(state) % 2**63


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
    problem = _problem(model, returns, peers, req.periods_per_year, prior)
    seed = req.seed if req.seed is not None else _fresh_seed()
    run_seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(2, np.uint64)]

    compiled = _compiled(problem)
    draws, tune = req.draws, req.tune
    target_accept = TARGET_ACCEPT[model]
    idata = _sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=req.chains,
        seed=run_seeds[0],
        target_accept=target_accept,
    )
    rows = _parameter_rows(idata, model, 0.94)
    diagnostics = _diagnose(rows, idata, reruns=0)
    if not diagnostics.reliable:
        tune = min(tune * RERUN_TUNE_FACTOR, 20_000)
        if diagnostics.ess_bulk < ESS_MIN:
            draws = min(draws * 2, 20_000)
        idata = _sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=req.chains,
            seed=run_seeds[1],
            target_accept=RERUN_TARGET_ACCEPT if diagnostics.divergences else target_accept,
        )
        rows = _parameter_rows(idata, model, 0.94)
        diagnostics = _diagnose(rows, idata, reruns=1)

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
    _compiled(_problem(model, returns, peers, 12.0, DEFAULT_PRIOR))
