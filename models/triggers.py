"""Re-evaluation triggers: the monitoring state of a pledged IP asset and the answer.

The body and answer of ``POST /v1/triggers/evaluate`` (docs/api.md, "Triggers"); field
names are part of the contract. Rules are evaluated by :func:`risk.triggers.evaluate_triggers`.

Dates are ISO 8601, money is in the request's currency, rates are decimals (0.10 = 10 %).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.errors import field_error
from ipvalue.models.fields import DECIMAL, IsoDate, Money, PositiveMoney, Rate, Sigma

RuleName = Literal[
    "calendar",
    "independent_valuer",
    "value_decline",
    "ltv_breach",
    "volatility_rise",
    "legal_event",
    "royalty_decline",
    "remaining_life",
    "credit_event",
]
"""Rule names of the answer (docs/api.md; fixed)."""

Severity = Literal["info", "warning", "critical"]
"""How urgent a trigger is: ``info`` < ``warning`` < ``critical``."""

SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
"""Rank of each severity, for comparing them."""

Revaluation = Literal["none", "desk_review", "full"]
"""What kind of revaluation a trigger asks for."""

REVALUATION_ORDER: dict[str, int] = {"none": 0, "desk_review": 1, "full": 2}

EventType = Literal[
    "invalidation_petition",
    "opposition",
    "infringement_suit",
    "missed_maintenance_fee",
    "ownership_change",
    "licensee_lost",
]
"""Legal event types of docs/api.md."""

EventStatus = Literal[
    "filed",
    "instituted",
    "pending",
    "decided_against_owner",
    "decided_for_owner",
    "withdrawn",
    "dismissed",
    "settled",
]
"""Where a legal proceeding stands; ``filed`` when omitted."""

_Money: TypeAlias = Money
_PositiveMoney: TypeAlias = PositiveMoney
_Volatility: TypeAlias = Sigma
_Probability: TypeAlias = Rate
_Share = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False), DECIMAL]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LastAppraisal(Strict):
    """The last full appraisal of the asset.

    Parameters
    ----------
    date : date
        Date of the appraisal.
    value : float
        Appraised value, money (> 0).
    volatility : float, optional
        Annual volatility of the value used at that appraisal (0.4 = 40 % a year).
    independent : bool
        True when that appraisal was made by an independent valuer.
    independent_date : date, optional
        Date of the latest independent valuation, when it is not this appraisal.
    """

    date: IsoDate
    value: _PositiveMoney
    volatility: _Volatility | None = None
    independent: bool = False
    independent_date: IsoDate | None = None


class Current(Strict):
    """New observations since the last appraisal (all optional).

    Parameters
    ----------
    value : float, optional
        Current value estimate (desk estimate, index-adjusted value), money (> 0).
    volatility : float, optional
        Current annual volatility estimate (e.g. ``sigma_current.mean`` of ``POST /v1/volatility``).
    prob_volatility_rose : float, optional
        Posterior probability in [0, 1] that volatility is higher than at the last appraisal.
    """

    value: _PositiveMoney | None = None
    volatility: _Volatility | None = None
    prob_volatility_rose: _Probability | None = None


class Loan(Strict):
    """The loan the asset secures.

    Parameters
    ----------
    amount : float
        Outstanding amount, money (>= 0).
    max_ltv : float
        Covenant cap on loan-to-value, decimal in (0, 1] (0.3 is common for patents in China,
        up to 0.5 in the UK; docs/domain.md).
    term_years : float
        Remaining term in years from ``as_of``, or the whole term from ``start_date`` when given.
    time_to_sell_years : float
        Years needed to sell the asset after a default. Default 0.5: a policy choice, not a rule.
    large_exposure : bool
        True when the exposure exceeds EUR 3m or 5 % of the lender's own funds, so an independent
        valuer must review the value at least every 3 years (CRR Art. 208(3)(b)). The lender
        decides, since only it knows its own funds.
    start_date : date, optional
        Start of the loan; maturity is then ``start_date + term_years``.
    """

    amount: _Money
    max_ltv: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), DECIMAL]
    term_years: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]
    time_to_sell_years: Annotated[float, Field(ge=0, le=20, allow_inf_nan=False)] = 0.5
    large_exposure: bool = False
    start_date: IsoDate | None = None


class LegalEvent(Strict):
    """A legal event affecting the asset.

    Parameters
    ----------
    type : str
        One of ``invalidation_petition``, ``opposition``, ``infringement_suit``,
        ``missed_maintenance_fee``, ``ownership_change``, ``licensee_lost``.
    date : date
        Date of the event's latest status (e.g. the institution decision for ``instituted``).
    status : str
        ``filed`` (default), ``instituted``, ``pending``, ``decided_against_owner``,
        ``decided_for_owner``, ``withdrawn``, ``dismissed`` or ``settled``.
    note : str, optional
        Free text (docket number, counterparty).
    """

    type: EventType
    date: IsoDate
    status: EventStatus = "filed"
    note: str | None = Field(default=None, max_length=2000)


class LegalState(Strict):
    """Legal data for monitoring: expiry and events."""

    expiry_date: IsoDate | None = None
    events: list[LegalEvent] = Field(default_factory=list, max_length=1000)


class Royalties(Strict):
    """Royalty income in two comparable periods, money per period (>= 0)."""

    previous: _PositiveMoney
    current: _Money


class Thresholds(Strict):
    """Configurable thresholds of the trigger rules, with documented defaults.

    Parameters
    ----------
    months_between_appraisals : int
        Months after which a full appraisal is due. Default 12: CRR Art. 208(3)(a) asks for
        monitoring at least once a year (docs/domain.md, "Lending practice").
    calendar_notice_days : int
        Days before the due date from which an ``info`` reminder is given. Default 30.
    independent_valuer_years : float
        Years between independent valuations for large exposures. Default 3: CRR Art. 208(3)(b).
    desk_review_decline : float
        Value decline since the last appraisal that calls for a desk review. Default 0.10; a
        policy choice (no regulation fixes a percentage, docs/domain.md).
    full_revaluation_decline : float
        Value decline that calls for a full revaluation. Default 0.20; a policy choice.
    ltv_warning_ratio : float
        Share of the LTV cap above which a ``warning`` is given before the cap breaches.
        Default 0.9 (LTV at 90 % of the cap).
    prob_volatility_rose : float
        Posterior probability that volatility rose above which the rule fires. Default 0.9
        (issue 6).
    volatility_increase : float
        Relative rise of the volatility estimate that fires the rule. Default 0.25 (+25 %).
    royalty_decline : float
        Relative fall in royalties that fires the rule. Default 0.20 (issue 6).
    """

    months_between_appraisals: int = Field(default=12, ge=1, le=120)
    calendar_notice_days: int = Field(default=30, ge=0, le=366)
    independent_valuer_years: float = Field(default=3.0, gt=0, le=20, allow_inf_nan=False)
    desk_review_decline: _Share = 0.10
    full_revaluation_decline: _Share = 0.20
    ltv_warning_ratio: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), DECIMAL] = 0.9
    prob_volatility_rose: _Share = 0.9
    volatility_increase: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] = 0.25
    royalty_decline: _Share = 0.20

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.full_revaluation_decline < self.desk_review_decline:
            raise field_error(
                "Thresholds",
                ("full_revaluation_decline",),
                f"must be at least desk_review_decline ({self.desk_review_decline:g}); "
                f"got {self.full_revaluation_decline:g}",
                self.full_revaluation_decline,
            )
        return self


class TriggerState(Strict):
    """The monitoring state of one asset: body of ``POST /v1/triggers/evaluate``."""

    asset_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the monitored asset; its evaluations are kept as its history",
    )
    as_of: IsoDate
    volatility_id: str | None = Field(
        default=None,
        max_length=64,
        description="a stored volatility estimate (POST /v1/volatility): gives "
        "current.prob_volatility_rose (its posterior draws above last_appraisal.volatility) "
        "and current.volatility",
    )
    last_appraisal: LastAppraisal
    current: Current = Field(default_factory=Current)
    loan: Loan | None = None
    legal: LegalState = Field(default_factory=LegalState)
    royalties: Royalties | None = None
    credit_event: bool = False
    thresholds: Thresholds = Field(default_factory=Thresholds)

    @model_validator(mode="after")
    def _dates_in_order(self) -> TriggerState:
        if self.last_appraisal.date > self.as_of:
            raise field_error(
                "TriggerState",
                ("last_appraisal", "date"),
                f"{self.last_appraisal.date} is after as_of ({self.as_of}); "
                "an appraisal cannot lie in the future",
                self.last_appraisal.date.isoformat(),
            )
        independent = self.last_appraisal.independent_date
        if independent is not None and independent > self.as_of:
            raise field_error(
                "TriggerState",
                ("last_appraisal", "independent_date"),
                f"{independent} is after as_of ({self.as_of})",
                independent.isoformat(),
            )
        for i, event in enumerate(self.legal.events):
            if event.date > self.as_of:
                raise field_error(
                    "TriggerState",
                    ("legal", "events", i, "date"),
                    f"{event.date} is after as_of ({self.as_of}); record events once they happen",
                    event.date.isoformat(),
                )
        if self.loan is not None and self.loan.start_date is not None:
            if self.loan.start_date > self.as_of:
                raise field_error(
                    "TriggerState",
                    ("loan", "start_date"),
                    f"{self.loan.start_date} is after as_of ({self.as_of})",
                    self.loan.start_date.isoformat(),
                )
        return self


class Trigger(_Strict):
    """One rule that fired.

    Parameters
    ----------
    rule : str
        Rule name (docs/api.md).
    severity : str
        ``info``, ``warning`` or ``critical``.
    reason : str
        Why, quoting the numbers.
    action : str
        What to do.
    revaluation : str
        Revaluation the trigger asks for: ``none``, ``desk_review`` or ``full``.
    figures : dict
        The numbers behind the reason, by name.
    """

    rule: RuleName
    severity: Severity
    reason: str
    action: str
    revaluation: Revaluation = "none"
    figures: dict[str, Any] = Field(default_factory=dict)


class TriggerResult(_Strict):
    """Answer of ``POST /v1/triggers/evaluate``.

    Parameters
    ----------
    triggers : list of Trigger
        Rules that fired, most severe first.
    next_revaluation_date : date
        Next full revaluation: last appraisal + ``months_between_appraisals``, brought forward to
        ``as_of`` when a trigger asks for a full revaluation, and to the independent valuer's
        due date for large exposures when that is earlier.
    revaluation_required : str
        The most demanding revaluation any trigger asks for: ``none``, ``desk_review``, ``full``.
    highest_severity : str, optional
        Severity of the most severe trigger; None when nothing fired.
    """

    triggers: list[Trigger]
    next_revaluation_date: dt.date
    revaluation_required: Revaluation = "none"
    highest_severity: Severity | None = None
