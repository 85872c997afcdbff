"""Probability that each holding loses protection within the screening horizon.

On a path where protection ends before the horizon the asset is worth nothing at the horizon,
so screening needs only the probability ``q`` of that event, not its time:

- a right already lapsed, expired or invalidated (``status``) has ``q = 1``;
- a right whose legal life ends within the horizon has ``q = 1``: ``remaining_life_years`` when
  given, else the service's one legal life (:func:`valuation.life.legal_life`): ``expiry_date``,
  or the statutory term of its kind from ``filing_date``; a registered trademark renews, so its
  ``expiry_date`` does not end it;
- otherwise ``q = 1 - S_inv(H) S_lapse(H) (1 - c [under_challenge])``, where ``S`` are the
  survival functions of the yearly invalidation and lapse hazards and ``c`` is the request's
  ``challenge_loss_probability`` (a pending challenge is assumed to be decided within the
  horizon [convention]).

Hazards given on the asset are constant yearly probabilities; missing ones take the asset
kind's defaults from :mod:`risk.montecarlo.legal` (one table for the whole service), including
the US maintenance-fee lapse schedule for patents by age since ``grant_date`` (age 0 when it is
not given). Lost infringement cases (an income cut, not a loss of protection) are not part of
screening.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np

from ipvalue.models.asset import DEAD_STATUSES, Asset, Legal
from ipvalue.models.portfolio import PortfolioAsset
from ipvalue.risk.montecarlo.legal import DEFAULTS, HazardSchedule, flat, maintenance_fee_schedule
from ipvalue.valuation.dates import years_between
from ipvalue.valuation.discounting import FloatArray
from ipvalue.valuation.life import legal_life


@dataclass(frozen=True)
class LegalOutlook:
    """Per-asset legal figures over the horizon.

    Attributes
    ----------
    q : array (assets,)
        Probability that protection ends within the horizon, decimal.
    expires : array of bool (assets,)
        Legal life ends within the horizon (or already ended by status).
    dead : array of bool (assets,)
        Status is lapsed, expired or invalidated.
    """

    q: FloatArray
    expires: np.ndarray
    dead: np.ndarray


@functools.lru_cache(maxsize=65536)
def _legal_years(
    kind: str,
    jurisdiction: str | None,
    status: str,
    dates: tuple[dt.date | None, dt.date | None, dt.date | None],
    valuation_date: dt.date,
) -> float:
    filing, grant, expiry = dates
    legal = Legal.model_construct(
        status=status,
        filing_date=filing,
        grant_date=grant,
        expiry_date=expiry,
        renewal=None,
        renewal_fee=None,
    )
    asset = Asset.model_construct(
        name=kind, kind=kind, jurisdiction=jurisdiction, sector=None, legal=legal, indicators={}
    )
    return legal_life(asset, valuation_date).years


def remaining_life(asset: PortfolioAsset, valuation_date: dt.date) -> float:
    """Remaining legal life in years: ``remaining_life_years``, else the asset's legal life.

    Returns
    -------
    float
        Years (``inf`` without a legal end, 0 for a dead right); cached, since a portfolio
        repeats few combinations of kind, status and dates.
    """
    if asset.remaining_life_years is not None:
        return asset.remaining_life_years
    dates = (asset.filing_date, asset.grant_date, asset.expiry_date)
    return _legal_years(asset.kind, asset.jurisdiction, asset.status, dates, valuation_date)


def _lapse_schedule(lapse_hazard: float | None, kind: str, age: float) -> HazardSchedule:
    if lapse_hazard is not None:
        return flat(lapse_hazard)
    default = DEFAULTS[kind].lapse
    return flat(default) if default is not None else maintenance_fee_schedule(age)


@functools.lru_cache(maxsize=4096)
def _hazard_survival(
    kind: str, invalidation: float | None, lapse: float | None, age: float, horizon_years: float
) -> float:
    """S_inv(H) S_lapse(H); cached, since a portfolio repeats few combinations."""
    p_inv = DEFAULTS[kind].invalidation if invalidation is None else invalidation
    s_inv = float(flat(p_inv).survival(horizon_years))
    return s_inv * float(_lapse_schedule(lapse, kind, age).survival(horizon_years))


def survival_probability(
    asset: PortfolioAsset, valuation_date: dt.date, horizon_years: float, challenge_loss: float
) -> float:
    """Probability that hazards and a pending challenge leave protection intact at the horizon."""
    age = 0.0
    by_age = asset.lapse_hazard is None and DEFAULTS[asset.kind].lapse is None
    if asset.grant_date is not None and by_age:
        age = max(years_between(asset.grant_date, valuation_date), 0.0)
    s = _hazard_survival(
        asset.kind, asset.invalidation_hazard, asset.lapse_hazard, age, horizon_years
    )
    return s * (1.0 - challenge_loss) if asset.under_challenge else s


def legal_outlook(
    assets: list[PortfolioAsset],
    valuation_date: dt.date,
    horizon_years: float,
    challenge_loss: float,
) -> LegalOutlook:
    """Probability of losing protection within ``horizon_years`` for each asset.

    Parameters
    ----------
    assets : list of PortfolioAsset
    valuation_date : datetime.date
        The date ``expiry_date`` and ``grant_date`` are measured from.
    horizon_years : float
        Screening horizon, years.
    challenge_loss : float
        Chance that a pending challenge ends protection within the horizon, decimal.
    """
    n = len(assets)
    q = np.empty(n)
    expires = np.zeros(n, dtype=bool)
    dead = np.zeros(n, dtype=bool)
    for i, asset in enumerate(assets):
        dead[i] = asset.status in DEAD_STATUSES
        expires[i] = dead[i] or remaining_life(asset, valuation_date) <= horizon_years
        if expires[i]:
            q[i] = 1.0
        else:
            q[i] = 1.0 - survival_probability(asset, valuation_date, horizon_years, challenge_loss)
    return LegalOutlook(q, expires, dead)
