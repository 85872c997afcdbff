"""The results object of a volatility estimate: posterior draws, summary table, diagnostics.

Importing this module does not import PyMC or ArviZ, so the Monte Carlo engine can take an
estimate's :attr:`VolatilityEstimate.posterior_sigma_draws` cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ipvalue.models.errors import InputError
from ipvalue.models.volatility import SigmaSummary, VolatilityDiagnostics, VolatilityResult
from ipvalue.risk.volatility.priors import VolatilityPrior

R_HAT_MAX = 1.01
"""Largest acceptable rank-normalised split R-hat (Vehtari et al. 2021)."""
ESS_MIN = 400.0
"""Smallest acceptable bulk effective sample size (Vehtari et al. 2021)."""
HDI_PROB = 0.94
"""Probability mass of the reported highest-density intervals (ArviZ's default)."""


def hdi(draws: NDArray[np.float64], prob: float = HDI_PROB) -> tuple[float, float]:
    """Narrowest interval holding ``prob`` of the draws (highest-density interval).

    Parameters
    ----------
    draws : ndarray
        Posterior draws of one scalar (any shape; flattened).
    prob : float
        Probability mass in (0, 1).

    Returns
    -------
    (low, high) : tuple of float
    """
    x = np.sort(np.ravel(draws))
    n = x.size
    width = max(1, min(n - 1, int(np.floor(prob * n))))
    spans = x[width:] - x[: n - width]
    i = int(np.argmin(spans))
    return float(x[i]), float(x[i + width])


def summarise_sigma(draws: NDArray[np.float64], prob: float = HDI_PROB) -> SigmaSummary:
    """Mean, median and HDI of volatility draws (annual decimals)."""
    low, high = hdi(draws, prob)
    return SigmaSummary(
        mean=float(np.mean(draws)), median=float(np.median(draws)), hdi_low=low, hdi_high=high
    )


@dataclass(frozen=True)
class Diagnostics:
    """Sampler diagnostics of a fit.

    Parameters
    ----------
    r_hat : float
        Largest rank-normalised split R-hat over the checked quantities.
    ess_bulk : float
        Smallest bulk effective sample size over the checked quantities.
    divergences : int
        Divergent transitions after tuning, all chains.
    reliable : bool
        ``r_hat <= 1.01``, ``ess_bulk >= 400`` and no divergences.
    advice : tuple of str
        What to change when the fit is not reliable.
    reruns : int
        Re-runs with more tuning before this result (0 or 1).
    """

    r_hat: float
    ess_bulk: float
    divergences: int
    reliable: bool
    advice: tuple[str, ...] = ()
    reruns: int = 0

    def to_model(self) -> VolatilityDiagnostics:
        """The pydantic form used in API responses."""
        return VolatilityDiagnostics(
            r_hat=self.r_hat,
            ess_bulk=self.ess_bulk,
            divergences=self.divergences,
            reliable=self.reliable,
            advice=list(self.advice),
            reruns=self.reruns,
        )


@dataclass(frozen=True)
class ParameterSummary:
    """One row of :meth:`VolatilityEstimate.summary` (units as the parameter's)."""

    name: str
    mean: float
    sd: float
    median: float
    hdi_low: float
    hdi_high: float
    r_hat: float
    ess_bulk: float
    ess_tail: float


def _frozen(array: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
    if array is None:
        return None
    out = np.array(array, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class VolatilityEstimate:
    """A fitted volatility model, in the style of an arch/statsmodels results object.

    Parameters
    ----------
    model : str
        ``student_t``, ``hierarchical`` or ``stochastic_volatility``.
    sigma_draws : ndarray, shape (chains, draws)
        Posterior draws of the annualised sd of log returns over the window (decimal a year).
    sigma_current_draws : ndarray, shape (chains, draws), optional
        Draws of the latest annualised volatility (stochastic volatility only).
    sigma_path : ndarray, shape (n,), optional
        Posterior median of the annualised volatility in each period (stochastic volatility).
    parameters : tuple of ParameterSummary
        Rows of the summary table.
    diagnostics : Diagnostics
    prior : VolatilityPrior
    n_observations : int
        Returns of the asset's series used.
    periods_per_year : float
    seed : int
        Seed that reproduces this estimate.
    sampler, draws, tune, chains
        How the posterior was sampled (``tune`` is the setting of the last run).
    previous_sigma : float, optional
        Annual volatility at the last appraisal, if the request gave one.
    hdi_prob : float
    inference_data : arviz.InferenceData, optional
        The full posterior, for library users; not part of the API answer.
    """

    model: str
    sigma_draws: NDArray[np.float64]
    sigma_current_draws: NDArray[np.float64] | None
    sigma_path: NDArray[np.float64] | None
    parameters: tuple[ParameterSummary, ...]
    diagnostics: Diagnostics
    prior: VolatilityPrior
    n_observations: int
    periods_per_year: float
    seed: int
    sampler: str
    draws: int
    tune: int
    chains: int
    previous_sigma: float | None = None
    hdi_prob: float = HDI_PROB
    inference_data: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("sigma_draws", "sigma_current_draws", "sigma_path"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def posterior_sigma_draws(self) -> NDArray[np.float64]:
        """Flat array of annualised volatility draws, shape (chains * draws,).

        For the Monte Carlo engine: give each path its own draw (resample with the engine's
        own generator when it needs more or fewer paths). Uses the current volatility where
        the model has one, since value paths start from today.
        """
        current = self.sigma_current_draws
        return np.array(self.sigma_draws if current is None else current).ravel()

    @property
    def posterior_sigma_annual_draws(self) -> NDArray[np.float64]:
        """Flat array of the window's annualised volatility draws, shape (chains * draws,)."""
        return np.array(self.sigma_draws).ravel()

    @property
    def sigma_annual(self) -> SigmaSummary:
        """Posterior summary of the window's annualised volatility."""
        return summarise_sigma(self.sigma_draws, self.hdi_prob)

    @property
    def sigma_current(self) -> SigmaSummary | None:
        """Posterior summary of the latest annualised volatility (time-varying models)."""
        if self.sigma_current_draws is None:
            return None
        return summarise_sigma(self.sigma_current_draws, self.hdi_prob)

    @property
    def prob_volatility_rose(self) -> float | None:
        """P(current volatility > ``previous_sigma``), when the request gave one."""
        if self.previous_sigma is None:
            return None
        return prob_volatility_rose(self, self.previous_sigma)

    def summary(self) -> pd.DataFrame:
        """Parameter table: mean, sd, median, HDI bounds, R-hat, bulk and tail ESS.

        ``DataFrame.attrs`` carries the model, sampler, seed, observations and diagnostics.
        """
        table = pd.DataFrame(
            [
                {
                    "mean": p.mean,
                    "sd": p.sd,
                    "median": p.median,
                    "hdi_low": p.hdi_low,
                    "hdi_high": p.hdi_high,
                    "r_hat": p.r_hat,
                    "ess_bulk": p.ess_bulk,
                    "ess_tail": p.ess_tail,
                }
                for p in self.parameters
            ],
            index=pd.Index([p.name for p in self.parameters], name="parameter"),
        )
        table.attrs.update(
            model=self.model,
            sampler=self.sampler,
            seed=self.seed,
            n_observations=self.n_observations,
            periods_per_year=self.periods_per_year,
            hdi_prob=self.hdi_prob,
            reliable=self.diagnostics.reliable,
            divergences=self.diagnostics.divergences,
        )
        return table

    def __str__(self) -> str:
        d = self.diagnostics
        head = [
            f"Bayesian volatility: {self.model}",
            f"observations: {self.n_observations}   periods/year: {self.periods_per_year:g}",
            f"sampler: {self.sampler}   chains: {self.chains}   draws: {self.draws}"
            f"   seed: {self.seed}",
            f"max R-hat: {d.r_hat:.3f}   min ESS bulk: {d.ess_bulk:.0f}"
            f"   divergences: {d.divergences}   reliable: {d.reliable}",
            f"prior: {self.prior.source}   HDI: {self.hdi_prob:.0%}",
        ]
        lines = [*head, "", self.summary().to_string(float_format=lambda v: f"{v:.4f}")]
        lines += [f"advice: {a}" for a in d.advice]
        return "\n".join(lines)

    def to_result(self) -> VolatilityResult:
        """The pydantic answer of ``POST /v1/volatility``."""
        return VolatilityResult(
            sigma_annual=self.sigma_annual,
            sigma_current=self.sigma_current,
            model=self.model,  # type: ignore[arg-type]
            diagnostics=self.diagnostics.to_model(),
            prob_volatility_rose=self.prob_volatility_rose,
            previous_sigma=self.previous_sigma,
            n_observations=self.n_observations,
            periods_per_year=self.periods_per_year,
            hdi_prob=self.hdi_prob,
            sampler=self.sampler,
            seed=self.seed,
            draws=self.draws,
            tune=self.tune,
            chains=self.chains,
            priors=self.prior.as_dict(),
        )


def prob_volatility_rose(estimate: VolatilityEstimate, previous_sigma: float) -> float:
    """Posterior probability that the current volatility exceeds an earlier one.

    Parameters
    ----------
    estimate : VolatilityEstimate
        Uses the latest volatility for time-varying models, else the window's volatility.
    previous_sigma : float
        Annualised volatility at the last appraisal (decimal, > 0).

    Returns
    -------
    float
        Share of posterior draws above ``previous_sigma``, in [0, 1].
    """
    if not np.isfinite(previous_sigma) or previous_sigma <= 0:
        raise InputError.for_field(
            "previous_sigma", f"must be a positive annual volatility; got {previous_sigma}"
        )
    return float(np.mean(estimate.posterior_sigma_draws > previous_sigma))
