"""Legal-event risk: yearly hazards of invalidation, lapse and a lost infringement case.

On a simulated path, invalidation or lapse at time T stops the right's income from T on; losing an
infringement case at time T cuts income by ``litigation_loss_share`` from T on. Times are
continuous: a yearly probability p is the constant intensity ``lambda = -ln(1 - p)``, so the
chance of surviving t years is ``(1 - p)^t``.

Defaults per asset kind (a request overrides any of them; all zero means no legal risk). Figures
from docs/domain.md ("Legal risk on simulated paths"); the yearly *frequency* of a challenge or a
suit is a convention of this module, marked so below, because no source gives it for a valued right:

- patent invalidation: 2 % a year chance of a post-grant (PTAB) challenge [convention: valuable,
  pledged or licensed patents are challenged far more often than the average in-force patent] x
  71 % of petitions instituted (FY2024: 68-74 %) x 74 % of instituted claims cancelled = 1.05 %.
- patent lapse: US maintenance fees are paid by about 84 %, 63 % and 49 % of patents at 4, 8 and
  12 years, so by age since grant the yearly lapse probability is 1 - 0.84^(1/4) = 4.27 % in years
  0-4, 1 - (0.63/0.84)^(1/4) = 6.94 % in 4-8, 1 - (0.49/0.63)^(1/4) = 6.09 % in 8-12, and 0 after
  the last fee. Age counts from ``grant_date`` (0 when it is not given).
- patent litigation loss: 2 % a year chance of an infringement case [convention] x 67 % lost by
  the holder (holders win about 33 %, PwC studies) = 1.34 %; a lost case cuts income by 50 %
  [convention: exclusivity in the main market goes, licences elsewhere stay].
- utility models and designs: the patent figures, with invalidation doubled for unexamined utility
  models [convention] and halved for designs [convention]; lapse at the 12-year average of the
  US fee figures, 1 - 0.49^(1/12) = 5.77 % a year [convention for rights with renewal fees].
- trademarks: cancellation 0.5 %, missed renewal 1 %, lost case 0.67 % cutting income 30 %
  [conventions]. Copyright and software: only a lost case, 0.67 % cutting income 30 %
  [convention]. Trade secrets: loss of secrecy 2 % a year [convention], lost case 0.67 % cutting
  50 %.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.models.asset import Asset
from ipvalue.models.valuation import LegalRisk
from ipvalue.risk.kernel import hazard
from ipvalue.valuation.dates import years_between
from ipvalue.valuation.discounting import FloatArray

EVENTS = ("invalidation", "lapse", "litigation_loss")


@dataclass(frozen=True)
class HazardSchedule:
    """Piecewise-constant yearly probability of an event.

    Attributes
    ----------
    starts : tuple of float
        Years from the valuation date at which each piece starts; the first is 0.
    probabilities : tuple of float
        Yearly probability in each piece, decimal in [0, 1).
    """

    starts: tuple[float, ...]
    probabilities: tuple[float, ...]

    @property
    def intensities(self) -> FloatArray:
        """Constant intensities per piece, per year: -ln(1 - p) (kernel.hazard.intensity)."""
        return hazard.intensity(self.probabilities)

    def is_zero(self) -> bool:
        return all(p == 0 for p in self.probabilities)

    def cumulative(self, t: ArrayLike) -> FloatArray:
        """Cumulative intensity H(t) at times ``t`` (years); survival is exp(-H)."""
        knots, values = self._knots()
        t = np.asarray(t, dtype=float)
        last = self.intensities[-1]
        inside = np.interp(t, knots, values)
        return np.where(t > knots[-1], values[-1] + last * (t - knots[-1]), inside)

    def survival(self, t: ArrayLike) -> FloatArray:
        """Probability that the event has not happened by ``t`` years."""
        return np.exp(-self.cumulative(t))

    def _knots(self) -> tuple[FloatArray, FloatArray]:
        starts = np.asarray(self.starts, dtype=float)
        widths = np.diff(starts)
        values = np.concatenate([[0.0], np.cumsum(self.intensities[:-1] * widths)])
        return starts, values

    def event_times(self, u: FloatArray) -> FloatArray:
        """Event times (years) from uniforms ``u`` by inverting the survival function.

        Parameters
        ----------
        u : array (paths,)
            Uniforms on (0, 1); the event happens when survival falls to ``u``.

        Returns
        -------
        array (paths,)
            Years from the valuation date; ``inf`` where the event never happens.
        """
        target = -np.log(u)
        knots, values = self._knots()
        last = self.intensities[-1]
        if len(knots) == 1:  # one constant intensity: T = -ln(u) / lambda
            if last > 0:
                target /= last
                return target
            return np.where(target > 0, np.inf, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            tail = knots[-1] + (target - values[-1]) / last if last > 0 else np.inf
        inside = np.interp(target, values, knots) if len(knots) > 1 else knots[-1]
        return np.where(target > values[-1], tail, inside)


def flat(p: float) -> HazardSchedule:
    """A constant yearly probability ``p``."""
    return HazardSchedule((0.0,), (float(p),))


def flat_event_times(u: FloatArray, p: ArrayLike) -> FloatArray:
    """Event times for constant yearly probabilities ``p`` (float or array (paths,)), years
    (:func:`risk.kernel.hazard.times_from_uniforms`)."""
    return hazard.times_from_uniforms(u, p)


US_FEE_SCHEDULE_AGES = (0.0, 4.0, 8.0, 12.0)
US_FEE_SCHEDULE_PROBABILITIES = (
    1 - 0.84**0.25,
    1 - (0.63 / 0.84) ** 0.25,
    1 - (0.49 / 0.63) ** 0.25,
    0.0,
)
RENEWAL_AVERAGE = 1 - 0.49 ** (1 / 12)


def maintenance_fee_schedule(age_years: float) -> HazardSchedule:
    """US maintenance-fee lapse schedule seen from a patent aged ``age_years`` since grant."""
    starts, probs = [0.0], []
    ages = US_FEE_SCHEDULE_AGES
    for i, start in enumerate(ages):
        end = ages[i + 1] if i + 1 < len(ages) else math.inf
        if end <= age_years:
            continue
        if start > age_years:
            starts.append(start - age_years)
        probs.append(US_FEE_SCHEDULE_PROBABILITIES[i])
    return HazardSchedule(tuple(starts), tuple(probs))


@dataclass(frozen=True)
class KindDefaults:
    """Default yearly probabilities for one asset kind (see the module docstring)."""

    invalidation: float
    lapse: float | None  # None: the US maintenance-fee schedule by age
    litigation_loss: float
    loss_share: float
    basis: str


DEFAULTS: dict[str, KindDefaults] = {
    "patent": KindDefaults(
        0.02 * 0.71 * 0.74,
        None,
        0.02 * 0.67,
        0.5,
        "patent: 2 %/yr PTAB challenge [convention] x 71 % instituted x 74 % cancelled; "
        "lapse by US maintenance-fee payment 84/63/49 % at 4/8/12 years; 2 %/yr suit "
        "[convention] x 67 % lost (holders win 33 %), lost case cuts income 50 % [convention]",
    ),
    "utility_model": KindDefaults(
        2 * 0.02 * 0.71 * 0.74,
        RENEWAL_AVERAGE,
        0.02 * 0.67,
        0.5,
        "utility model: patent figures, invalidation doubled for an unexamined right and lapse "
        "at the 12-year average of US fee payment (5.77 %/yr) [conventions]",
    ),
    "design": KindDefaults(
        0.5 * 0.02 * 0.71 * 0.74,
        RENEWAL_AVERAGE,
        0.01 * 0.67,
        0.5,
        "design: patent invalidation halved, lapse 5.77 %/yr, 1 %/yr suit x 67 % lost "
        "[conventions]",
    ),
    "trademark": KindDefaults(
        0.005,
        0.01,
        0.01 * 0.67,
        0.3,
        "trademark: cancellation 0.5 %/yr, missed renewal 1 %/yr, 1 %/yr suit x 67 % lost "
        "cutting income 30 % [conventions]",
    ),
    "copyright": KindDefaults(
        0.0, 0.0, 0.01 * 0.67, 0.3, "copyright: only a lost case, 0.67 %/yr cutting 30 %"
    ),
    "software": KindDefaults(
        0.0, 0.0, 0.01 * 0.67, 0.3, "software: only a lost case, 0.67 %/yr cutting 30 %"
    ),
    "trade_secret": KindDefaults(
        0.02,
        0.0,
        0.01 * 0.67,
        0.5,
        "trade secret: loss of secrecy 2 %/yr [convention], lost case 0.67 %/yr cutting 50 %",
    ),
}


@dataclass(frozen=True)
class LegalPlan:
    """The legal hazards a simulation uses.

    Attributes
    ----------
    schedules : dict
        Event name -> :class:`HazardSchedule` for the hazards given as numbers or defaults.
    uncertain : dict
        Event name -> request path of a hazard given as a distribution (sampled per path).
    loss_share : float
        Share of income lost from a lost case on, decimal.
    sources : dict
        Event name -> ``"request"`` or the default's basis.
    """

    schedules: dict[str, HazardSchedule]
    uncertain: dict[str, str] = field(default_factory=dict)
    loss_share: float = 0.0
    sources: dict[str, str] = field(default_factory=dict)

    def is_none(self) -> bool:
        """True when no event can happen."""
        if self.uncertain:
            return False
        stops = all(self.schedules[e].is_zero() for e in ("invalidation", "lapse"))
        return stops and (self.schedules["litigation_loss"].is_zero() or self.loss_share == 0)

    def has_litigation(self) -> bool:
        lit = "litigation_loss" in self.uncertain or not self.schedules["litigation_loss"].is_zero()
        return lit and self.loss_share > 0


def _age_since_grant(asset: Asset, valuation_date: dt.date) -> float:
    grant = asset.legal.grant_date
    if grant is None:
        return 0.0
    return max(years_between(grant, valuation_date), 0.0)


def plan_legal_risk(asset: Asset, valuation_date: dt.date, risk: LegalRisk | None) -> LegalPlan:
    """Resolve each hazard: the request's value, or the asset kind's default.

    A hazard given as a distribution is left to the sampler (``uncertain``); its path is
    ``simulation.legal_risk.<event>_hazard``.
    """
    defaults = DEFAULTS[asset.kind]
    risk = risk or LegalRisk()
    schedules: dict[str, HazardSchedule] = {}
    uncertain: dict[str, str] = {}
    sources: dict[str, str] = {}
    for event in EVENTS:
        given = getattr(risk, f"{event}_hazard")
        if given is None:
            if event == "lapse" and defaults.lapse is None:
                schedules[event] = maintenance_fee_schedule(_age_since_grant(asset, valuation_date))
            else:
                schedules[event] = flat(getattr(defaults, event))
            sources[event] = f"default for a {asset.kind.replace('_', ' ')}"
        elif isinstance(given, int | float):
            schedules[event] = flat(float(given))
            sources[event] = "request"
        elif given.dist == "fixed":
            schedules[event] = flat(given.base)
            sources[event] = "request"
        else:
            schedules[event] = flat(given.base)
            uncertain[event] = f"simulation.legal_risk.{event}_hazard"
            sources[event] = "request (uncertain, sampled per path)"
    share = risk.litigation_loss_share
    if share is None:
        share = defaults.loss_share
        sources["litigation_loss_share"] = f"default for a {asset.kind.replace('_', ' ')}"
    else:
        sources["litigation_loss_share"] = "request"
    if any(v.startswith("default") for v in sources.values()):
        sources["defaults_basis"] = defaults.basis
    return LegalPlan(schedules, uncertain, float(share), sources)


def event_times(
    plan: LegalPlan, u: FloatArray, hazards: dict[str, FloatArray]
) -> dict[str, FloatArray]:
    """Time of each event on each path.

    Parameters
    ----------
    plan : LegalPlan
    u : array (3, paths)
        Uniforms on (0, 1), one row per event in :data:`EVENTS` order (each row contiguous).
    hazards : dict
        Sampled yearly probabilities (arrays (paths,)) for the hazards in ``plan.uncertain``.

    Returns
    -------
    dict
        Event name -> array (paths,) of years from the valuation date (``inf``: never).
    """
    times: dict[str, FloatArray] = {}
    for j, event in enumerate(EVENTS):
        if event in hazards:
            times[event] = flat_event_times(u[j], hazards[event])
        else:
            times[event] = plan.schedules[event].event_times(u[j])
    return times
