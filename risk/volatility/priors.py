"""Prior table for volatility: per sector, else per asset kind, else a vague default.

Every volatility here is an annualised standard deviation of log value changes (0.45 = 45 % a
year). The priors are *weakly informative*: the median sets the order of magnitude and a
log-normal spread of ``sigma_log_sd`` = 0.7 lets the 94 % prior interval run from about a quarter
to nearly four times the median, so eight or more observations dominate them. A request can
override any field (``VolatilityRequest.priors``).

Sources and reasoning (figures rounded; check the current editions before relying on one):

- Patents: Damodaran's real-option valuation of the Avonex patent (*Investment Valuation*,
  chapter on real options; *The Promise and Peril of Real Options*, 2005) uses a variance of
  0.224 for the present value of the patent's cash flows, i.e. a standard deviation of about
  0.47. Pakes (1986, *Econometrica*) finds patent values highly skewed and uncertain in the
  first years. Median 0.50.
- Utility models and designs: no separate evidence; utility models are treated as patents,
  designs a little steadier (they protect appearance, not a technology). Medians 0.50, 0.40.
- Trademarks: brands earn steadier cash flows than technologies; consumer-staples firms show
  firm-value volatilities of the order of 0.25-0.35 (Damodaran Online, "Standard deviation in
  equity and firm value by industry", US data). Median 0.30.
- Copyrights: media and entertainment firms, of the order of 0.35-0.40 (same table). Median 0.35.
- Software and trade secrets: software and technology firms, of the order of 0.40-0.50 (same
  table). Median 0.45.
- Sectors: rounded orders of magnitude from the same industry table (biotechnology highest,
  utilities and consumer staples lowest). Sector beats asset kind when both are given, because
  the value of IP moves with the market it earns in.
- Drift: the mean log growth per year gets a Normal(0, 0.5) prior: IP revenues can grow or
  shrink by tens of percent a year.
- Tail weight (Student-t models): ``nu = 2 + Gamma(2, 0.1)`` (Juarez and Steel 2010, shifted by
  2 so that the variance exists and ``sigma_annual`` is a standard deviation).
- Pooling (hierarchical): the spread of log volatility across related series gets a
  HalfNormal(0.5) prior: peers usually differ by a factor below 2.
- Stochastic volatility: the yearly change of log volatility gets a HalfNormal(1.5) prior
  (scaled by the square root of the period); estimates on daily equity data run about 1-2.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

import numpy as np

from ipvalue.models.volatility import VolatilityPriors


@dataclass(frozen=True)
class VolatilityPrior:
    """Prior of a volatility model (annual units).

    Parameters
    ----------
    sigma_median : float
        Median of the log-normal prior of ``sigma_annual``, annual decimal.
    sigma_log_sd : float
        Standard deviation of ``log(sigma_annual)`` under the prior.
    drift_sd : float
        Standard deviation of the Normal(0, .) prior of the mean log growth, per year.
    pooling_sd : float
        Scale of the HalfNormal prior of the spread of log volatility across series.
    step_sd : float
        Scale of the HalfNormal prior of the yearly random-walk step of log volatility.
    source : str
        Which table row (or override) this prior comes from.
    """

    sigma_median: float
    sigma_log_sd: float = 0.7
    drift_sd: float = 0.5
    pooling_sd: float = 0.5
    step_sd: float = 1.5
    source: str = "default"

    def as_dict(self) -> dict[str, float | str]:
        """The prior as a plain mapping (for results and JSON)."""
        return asdict(self)


DEFAULT_PRIOR = VolatilityPrior(sigma_median=0.40, sigma_log_sd=0.9, source="default")
"""Used when neither sector nor asset kind is known: vaguer than the table rows."""

ASSET_KIND_PRIORS: dict[str, VolatilityPrior] = {
    "patent": VolatilityPrior(0.50, source="asset_kind:patent"),
    "utility_model": VolatilityPrior(0.50, source="asset_kind:utility_model"),
    "design": VolatilityPrior(0.40, source="asset_kind:design"),
    "trademark": VolatilityPrior(0.30, source="asset_kind:trademark"),
    "copyright": VolatilityPrior(0.35, source="asset_kind:copyright"),
    "software": VolatilityPrior(0.45, source="asset_kind:software"),
    "trade_secret": VolatilityPrior(0.45, source="asset_kind:trade_secret"),
}
"""Prior per asset kind (``models.asset.AssetKind``)."""

SECTOR_PRIORS: dict[str, VolatilityPrior] = {
    "biotechnology": VolatilityPrior(0.65, source="sector:biotechnology"),
    "pharmaceuticals": VolatilityPrior(0.45, source="sector:pharmaceuticals"),
    "medical_devices": VolatilityPrior(0.38, source="sector:medical_devices"),
    "software": VolatilityPrior(0.45, source="sector:software"),
    "semiconductors": VolatilityPrior(0.45, source="sector:semiconductors"),
    "electronics": VolatilityPrior(0.40, source="sector:electronics"),
    "telecommunications": VolatilityPrior(0.32, source="sector:telecommunications"),
    "media": VolatilityPrior(0.38, source="sector:media"),
    "consumer_goods": VolatilityPrior(0.28, source="sector:consumer_goods"),
    "retail": VolatilityPrior(0.32, source="sector:retail"),
    "automotive": VolatilityPrior(0.38, source="sector:automotive"),
    "industrial_machinery": VolatilityPrior(0.33, source="sector:industrial_machinery"),
    "chemicals": VolatilityPrior(0.32, source="sector:chemicals"),
    "energy": VolatilityPrior(0.40, source="sector:energy"),
    "utilities": VolatilityPrior(0.20, source="sector:utilities"),
}
"""Prior per sector (names normalised by :func:`normalise_sector`)."""

SECTOR_ALIASES: dict[str, str] = {
    "biotech": "biotechnology",
    "pharma": "pharmaceuticals",
    "pharmaceutical": "pharmaceuticals",
    "drugs": "pharmaceuticals",
    "medtech": "medical_devices",
    "medical_technology": "medical_devices",
    "it": "software",
    "saas": "software",
    "semiconductor": "semiconductors",
    "chips": "semiconductors",
    "telecom": "telecommunications",
    "entertainment": "media",
    "publishing": "media",
    "consumer": "consumer_goods",
    "fmcg": "consumer_goods",
    "machinery": "industrial_machinery",
    "industrial": "industrial_machinery",
    "industrials": "industrial_machinery",
    "auto": "automotive",
    "oil_and_gas": "energy",
}
"""Other spellings of the table's sectors."""


def normalise_sector(sector: str) -> str:
    """Lower-case ``sector`` and join its words with underscores, then resolve aliases."""
    key = re.sub(r"[^a-z0-9]+", "_", sector.lower()).strip("_")
    return SECTOR_ALIASES.get(key, key)


def choose_prior(
    asset_kind: str | None = None,
    sector: str | None = None,
    override: VolatilityPriors | None = None,
) -> VolatilityPrior:
    """Pick the prior: the sector's row, else the asset kind's, else the default; then override.

    Parameters
    ----------
    asset_kind : str, optional
        One of ``models.asset.AssetKind``.
    sector : str, optional
        Free text; matched after :func:`normalise_sector`. Unknown sectors fall back to the
        asset kind (the result's ``priors.source`` shows which row was used).
    override : VolatilityPriors, optional
        Fields set here replace the row's.

    Returns
    -------
    VolatilityPrior
    """
    prior = DEFAULT_PRIOR
    if sector is not None and normalise_sector(sector) in SECTOR_PRIORS:
        prior = SECTOR_PRIORS[normalise_sector(sector)]
    elif asset_kind is not None and asset_kind in ASSET_KIND_PRIORS:
        prior = ASSET_KIND_PRIORS[asset_kind]
    if override is not None:
        changes = override.model_dump(exclude_none=True)
        if changes:
            prior = replace(prior, **changes, source=f"{prior.source}+override")
    return prior


def prior_data_values(prior: VolatilityPrior) -> dict[str, float]:
    """Values of the prior's ``pm.Data`` containers in :mod:`risk.volatility.models`.

    Kept here, away from PyMC, so that a process sampling a model loaded from the compile cache
    never imports PyMC.
    """
    return {
        "prior_log_sigma_median": float(np.log(prior.sigma_median)),
        "prior_sigma_log_sd": float(prior.sigma_log_sd),
        "prior_drift_sd": float(prior.drift_sd),
        "prior_pooling_sd": float(prior.pooling_sd),
        "prior_step_sd": float(prior.step_sd),
    }
