"""One loan's monitoring evaluation on a date: re-value, collateral, triggers.

For a loan and its pledged assets, as of the run date:

1. each asset's legal record as it now stands (:func:`~ipvalue.risk.book.legal_record.
   legal_record`); a right that is not alive counts zero;
2. each live asset's stored appraisal re-run with ``valuation_date`` = the run date and the
   legal status its events give (:func:`ipvalue.valuation.engine.point_valuation`), so the remaining
   life shrinks with time;
3. the bundle's joint value V = sum of the values, and its volatility from the rights' own
   (``appraisal.simulation.volatility``) with the loan's ``asset_correlation`` rho:
   sigma_B^2 = sum_ij w_i w_j sigma_i sigma_j rho_ij (w_i = v_i / V; rho_ii = 1), the variance of
   the value-weighted sum of the rights' returns;
   When a right has value observations, its volatility is their posterior (the API
   re-estimates it when new observations arrive): each path of the collateral takes one draw
   of the bundle's volatility (`bundle_draws`), and ``prob_volatility_rose`` is the share of
   draws above the baseline's volatility;
4. the collateral on the remaining term (:func:`ipvalue.risk.collateral.assess_collateral`),
   with the remaining life of the longest-lived right (the bundle's value ends when the last one
   ends) and a seed fixed by the loan and the date, so a re-run gives the same numbers (and
   a run in worker processes the same as one in a single process); the evaluation keeps the
   value bands (the guarantee certificate's fan chart) quarterly (`BAND_EVERY`);
5. every trigger rule (:func:`ipvalue.risk.triggers.evaluate_triggers`) on the loan's state: the
   last appraisal is the loan's baseline (its first evaluation, or one the lender gave), the
   legal events are the pledged rights' events, the expiry is the earliest end of any pledged
   right. Each trigger is tied to the asset it is about (legal events, remaining life) or to the
   loan, for :mod:`ipvalue.risk.book.alerts`.

A bundle worth nothing is shown to the rules as `WORTHLESS` (they need a positive value), so
the value-decline and LTV rules fire at their most severe.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ipvalue.models.asset import Asset
from ipvalue.models.book import Appraisal, BookEvent, LoanBody
from ipvalue.models.collateral import LENDER_PRACTICE_MAX_LTV, CollateralRequest
from ipvalue.models.errors import InputError
from ipvalue.models.triggers import TriggerState
from ipvalue.risk.book.alerts import Fired
from ipvalue.risk.book.legal_record import LegalRecord, legal_record
from ipvalue.risk.collateral import assess_collateral
from ipvalue.risk.kernel import seeds
from ipvalue.risk.triggers import evaluate_triggers
from ipvalue.valuation.engine import point_valuation
from ipvalue.valuation.signed import lender_value

DAYS_PER_YEAR = 365.25
WORTHLESS = 0.01
"""Value (money) a worthless bundle is shown to the trigger rules as."""
MONITOR_PATHS = 10_000
"""Paths of each loan's collateral simulation in a monitoring run."""
BAND_EVERY = 3
"""The stored evaluation keeps the collateral's value bands (the guarantee certificate's fan
chart) at every third monitoring date (quarterly for monthly dates) and at the horizon; every
other figure uses every date."""


@dataclass(frozen=True)
class PledgedAsset:
    """A pledged asset as the book keeps it."""

    id: str
    asset: Asset
    events: tuple[BookEvent, ...]
    appraisal: Appraisal | None
    volatility_draws: tuple[float, ...] | None = None
    """Posterior draws of the right's annual volatility, re-estimated from its observations;
    when given they stand over ``appraisal.simulation.volatility``."""


@dataclass(frozen=True)
class Baseline:
    """The loan's last full appraisal: date, bundle value and volatility."""

    date: dt.date
    value: float
    volatility: float | None = None


@dataclass
class LoanEvaluation:
    """What one monitoring evaluation found (``to_json`` for the stored record)."""

    loan_id: str
    as_of: dt.date
    currency: str
    value: float
    volatility: float
    assets: list[dict[str, Any]]
    collateral: dict[str, Any] | None
    triggers: dict[str, Any]
    fired: list[Fired] = field(default_factory=list)
    baseline: Baseline | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready record of the evaluation."""
        base = self.baseline
        return {
            "loan_id": self.loan_id,
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "value": self.value,
            "volatility": self.volatility,
            "assets": self.assets,
            "collateral": self.collateral,
            "triggers": self.triggers["triggers"],
            "next_revaluation_date": self.triggers["next_revaluation_date"],
            "highest_severity": self.triggers.get("highest_severity"),
            "baseline": None
            if base is None
            else {
                "date": base.date.isoformat(),
                "value": base.value,
                "volatility": base.volatility,
            },
        }


def is_open(loan: LoanBody, as_of: dt.date) -> bool:
    """A loan is open from its start date until its maturity."""
    return loan.start_date <= as_of < loan.maturity()


def run_seed(loan_id: str, as_of: dt.date) -> int:
    """The collateral seed of a loan on a date: the same run gives the same numbers."""
    return seeds.seed_of(f"{loan_id}:{as_of.isoformat()}")


def bundle_volatility(values: list[float], sigmas: list[float], rho: float) -> float:
    """Volatility of the value-weighted sum of the rights' returns, one correlation ``rho``.

    Parameters
    ----------
    values : list of float
        The rights' values, money (>= 0, sum > 0).
    sigmas : list of float
        Their annual volatilities.
    rho : float
        Correlation between any two of them, in [0, 1].
    """
    v = np.asarray(values, dtype=float)
    s = np.asarray(sigmas, dtype=float)
    w = v / v.sum()
    corr = np.full((v.size, v.size), rho)
    np.fill_diagonal(corr, 1.0)
    ws = w * s
    return float(math.sqrt(float(ws @ corr @ ws)))


def bundle_draws(values: list[float], draws: list[np.ndarray], rho: float, size: int) -> np.ndarray:
    """Draws of the bundle's volatility: draw k takes each right's k-th draw (cycled to
    ``size``) in `bundle_volatility`'s formula, so the rights' own uncertainty carries into the
    collateral's paths."""
    v = np.asarray(values, dtype=float)
    w = v / v.sum()
    corr = np.full((v.size, v.size), rho)
    np.fill_diagonal(corr, 1.0)
    stacked = np.stack([np.resize(d, size) for d in draws])  # (rights, size)
    ws = w[:, None] * stacked
    return np.sqrt(np.einsum("ik,ij,jk->k", ws, corr, ws))


def _asset_volatility(pledged: PledgedAsset) -> float:
    if pledged.volatility_draws:
        return float(np.mean(pledged.volatility_draws))
    sim = (pledged.appraisal.simulation or {}) if pledged.appraisal else {}
    vol = sim.get("volatility")
    if vol is None:
        raise InputError.for_field(
            f"assets[{pledged.id}].appraisal.simulation.volatility",
            "the collateral needs the right's annual volatility; add it to the asset's "
            "appraisal (POST /v1/assets with appraisal.simulation.volatility)",
        )
    return float(np.mean(vol)) if isinstance(vol, list) else float(vol)


def _value(pledged: PledgedAsset, record: LegalRecord, currency: str, as_of: dt.date) -> float:
    """The lender's value of a pledged right: its re-valued point value, floored at 0."""
    return lender_value(_signed_value(pledged, record, currency, as_of))[0]


def _signed_value(
    pledged: PledgedAsset, record: LegalRecord, currency: str, as_of: dt.date
) -> float:
    """A pledged right's re-valued point value as the valuation gives it (may be negative)."""
    if pledged.appraisal is None:
        raise InputError.for_field(
            f"assets[{pledged.id}].appraisal",
            "the asset has no appraisal to re-run; add one (POST /v1/assets with appraisal)",
        )
    if pledged.appraisal.currency != currency:
        raise InputError.for_field(
            f"assets[{pledged.id}].appraisal.currency",
            f"is {pledged.appraisal.currency}, the loan is in {currency}; appraise in {currency}",
        )
    if not record.life.alive:
        return 0.0
    request = pledged.appraisal.request_for(record.as_asset(pledged.asset), as_of)
    return float(point_valuation(request).result.value.point)


def _without_events(record: LegalRecord) -> dict[str, Any]:
    return {k: v for k, v in record.summary().items() if k != "events"}


def first_baseline(
    loan: LoanBody, pledged: list[PledgedAsset], as_of: dt.date, volatility: float
) -> Baseline:
    """The baseline of a loan's first evaluation: its stored appraisals as they were made
    (each at its own ``valuation_date``, with the legal record of that date), dated by the
    earliest of them (not after ``as_of``)."""
    dates = [min(p.appraisal.valuation_date, as_of) for p in pledged if p.appraisal]
    day = min(dates) if dates else as_of
    total = 0.0
    for p in pledged:
        when = min(p.appraisal.valuation_date, as_of) if p.appraisal else as_of
        total += _value(p, legal_record(p.asset, p.events, when), loan.currency, when)
    return Baseline(day, max(total, WORTHLESS), volatility)


def evaluate_loan(
    loan_id: str,
    loan: LoanBody,
    pledged: list[PledgedAsset],
    as_of: dt.date,
    baseline: Baseline | None = None,
    paths: int = MONITOR_PATHS,
) -> LoanEvaluation:
    """Evaluate one open loan on ``as_of`` (see the module docstring).

    Parameters
    ----------
    loan_id : str
    loan : LoanBody
    pledged : list of PledgedAsset
        The loan's pledged assets, in ``pledged_asset_ids`` order.
    as_of : datetime.date
        The run date (on or after the loan's start, before its maturity).
    baseline : Baseline, optional
        The last full appraisal; None for the loan's first evaluation (this one becomes it).
    paths : int
        Paths of the collateral simulation.

    Raises
    ------
    InputError
        Naming what is missing: an appraisal, its volatility, a currency that differs.
    """
    records = [legal_record(p.asset, p.events, as_of) for p in pledged]
    signed = [
        _signed_value(p, r, loan.currency, as_of) for p, r in zip(pledged, records, strict=True)
    ]
    floored = [
        lender_value(v, f"asset {p.id}'s re-valued point value", loan.currency)
        for p, v in zip(pledged, signed, strict=True)
    ]
    values = [v for v, _ in floored]
    sigmas = [_asset_volatility(p) for p in pledged]
    total = float(sum(values))
    sigma = bundle_volatility(values, sigmas, loan.asset_correlation) if total > 0 else max(sigmas)
    remaining_term = (loan.maturity() - as_of).days / DAYS_PER_YEAR
    cap = loan.max_ltv or LENDER_PRACTICE_MAX_LTV.get(loan.lender_practice or "cn", 0.30)
    draws = None
    if total > 0 and any(p.volatility_draws for p in pledged):
        size = max(len(p.volatility_draws or ()) for p in pledged)
        per_right = [
            np.asarray(p.volatility_draws if p.volatility_draws else [s], dtype=float)
            for p, s in zip(pledged, sigmas, strict=True)
        ]
        draws = bundle_draws(values, per_right, loan.asset_correlation, size)
        sigma = float(draws.mean())
    base = baseline or first_baseline(loan, pledged, as_of, sigma)
    collateral = None
    if total > 0:
        lives = [r.life.years for r in records if r.life.alive]
        longest = max(lives) if lives else 0.0
        request = CollateralRequest.model_validate(
            {
                "value": total,
                "volatility": sigma if draws is None else [float(d) for d in draws],
                "currency": loan.currency,
                "horizon_years": max(remaining_term, 1 / 365),
                "loan_amount": loan.amount,
                "max_ltv": cap,
                "annual_pd": loan.annual_pd,
                "risk_sharing": loan.risk_sharing.model_dump(),
                "legal_risk": {"remaining_life_years": None if math.isinf(longest) else longest},
                "paths": paths,
                "seed": run_seed(loan_id, as_of),
            }
        )
        collateral = assess_collateral(request, band_every=BAND_EVERY).model_dump(mode="json")
    events: list[tuple[str, Any]] = []
    for p, r in zip(pledged, records, strict=True):
        events += [(p.id, e) for e in r.trigger_events()]
    ends = [(r.ended_on or r.life.expiry_date, p.id) for p, r in zip(pledged, records, strict=True)]
    known_ends = [(d, i) for d, i in ends if d is not None]
    earliest = min(known_ends) if known_ends else None
    state = TriggerState.model_validate(
        {
            "as_of": as_of,
            "last_appraisal": {
                "date": base.date,
                "value": base.value,
                "volatility": base.volatility,
            },
            "current": {
                "value": max(total, WORTHLESS),
                "volatility": sigma,
                "prob_volatility_rose": None
                if draws is None or base.volatility is None
                else float(np.mean(draws > base.volatility)),
            },
            "loan": {
                "amount": loan.amount,
                "max_ltv": cap,
                "term_years": loan.term_years,
                "start_date": loan.start_date,
                "large_exposure": loan.large_exposure,
            },
            "legal": {
                "expiry_date": None if earliest is None else earliest[0],
                "events": [e for _, e in events],
            },
        }
    )
    result = evaluate_triggers(state)
    fired = []
    for t in result.triggers:
        asset_id = None
        if t.rule == "legal_event":
            asset_id = events[int(t.figures["event_index"])][0]
        elif t.rule == "remaining_life" and earliest is not None:
            asset_id = earliest[1]
        fired.append(Fired(t.rule, asset_id, t.severity, t.reason, t.action))
    return LoanEvaluation(
        loan_id=loan_id,
        as_of=as_of,
        currency=loan.currency,
        value=total,
        volatility=sigma,
        assets=[
            {"asset_id": p.id, "value": v, "volatility": s, "legal": _without_events(r)}
            | ({} if w is None else {"signed_value": sv, "warnings": [w]})
            for p, r, (v, w), sv, s in zip(pledged, records, floored, signed, sigmas, strict=True)
        ],
        collateral=collateral,
        triggers=result.model_dump(mode="json"),
        fired=fired,
        baseline=base,
    )
