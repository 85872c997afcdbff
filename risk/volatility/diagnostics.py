"""What a fit reports per quantity, and whether it can be trusted (R-hat, ESS, divergences)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ipvalue.risk.volatility.results import (
    ESS_MIN,
    R_HAT_MAX,
    Diagnostics,
    ParameterSummary,
    hdi,
)

TRACKED: dict[str, tuple[str, ...]] = {
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


def parameter_rows(idata: Any, model: str, prob: float) -> tuple[ParameterSummary, ...]:
    import arviz as az

    rows = []
    for name in TRACKED[model]:
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


def diagnose(rows: tuple[ParameterSummary, ...], idata: Any, reruns: int) -> Diagnostics:
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
