"""The rules about value, loan, volatility, royalties, life, credit and the calendar."""

from __future__ import annotations

import datetime as dt

from ipvalue.models.triggers import Severity, Trigger, TriggerState
from ipvalue.risk.triggers.common import _EPS, DAYS_PER_YEAR, add_months, add_years, years_between
from ipvalue.risk.triggers.common import money as _money
from ipvalue.risk.triggers.common import pct as _pct
from ipvalue.risk.triggers.common import trigger as _trigger


def scheduled_revaluation(state: TriggerState) -> dt.date:
    """Next full appraisal by the calendar: last appraisal + ``months_between_appraisals``."""
    return add_months(state.last_appraisal.date, state.thresholds.months_between_appraisals)


def latest_independent_valuation(state: TriggerState) -> dt.date | None:
    """Date of the latest independent valuation on record, or None."""
    last = state.last_appraisal
    dates = [d for d in (last.date if last.independent else None, last.independent_date) if d]
    return max(dates) if dates else None


def independent_valuation_due(state: TriggerState) -> dt.date | None:
    """Due date of the next independent valuation for a large exposure, else None."""
    if state.loan is None or not state.loan.large_exposure:
        return None
    latest = latest_independent_valuation(state)
    if latest is None:
        return state.as_of
    return add_months(latest, round(12 * state.thresholds.independent_valuer_years))


def rule_calendar(state: TriggerState) -> list[Trigger]:
    """``calendar``: a full appraisal is due every ``months_between_appraisals`` (CRR 208(3)(a)).

    Overdue gives a ``warning`` (``critical`` when more than one whole period overdue) asking
    for a full revaluation; within ``calendar_notice_days`` of the due date an ``info`` reminder.
    """
    months = state.thresholds.months_between_appraisals
    last = state.last_appraisal.date
    due = scheduled_revaluation(state)
    age_months = (state.as_of - last).days / (DAYS_PER_YEAR / 12)
    figures = {"last_appraisal_date": last.isoformat(), "due_date": due.isoformat()}
    if state.as_of > due:
        late = state.as_of > add_months(due, months)
        return [
            _trigger(
                "calendar",
                "critical" if late else "warning",
                f"last full appraisal on {last} is {age_months:.1f} months old; policy requires "
                f"one every {months} months, due {due} ({(state.as_of - due).days} days overdue)",
                "commission a full revaluation now",
                "full",
                age_months=round(age_months, 2),
                days_overdue=(state.as_of - due).days,
                **figures,
            )
        ]
    days_left = (due - state.as_of).days
    if days_left <= state.thresholds.calendar_notice_days:
        return [
            _trigger(
                "calendar",
                "info",
                f"full appraisal due {due} in {days_left} days "
                f"({months} months after the last one on {last})",
                f"schedule the full revaluation before {due}",
                age_months=round(age_months, 2),
                days_left=days_left,
                **figures,
            )
        ]
    return []


def rule_independent_valuer(state: TriggerState) -> list[Trigger]:
    """``independent_valuer``: large exposures need an independent valuer at least every
    ``independent_valuer_years`` years (default 3, CRR Art. 208(3)(b)).

    Only applies when ``loan.large_exposure`` is true.
    """
    due = independent_valuation_due(state)
    if due is None:
        return []
    years = state.thresholds.independent_valuer_years
    latest = latest_independent_valuation(state)
    action = "commission a full revaluation by an independent valuer"
    if latest is None:
        return [
            _trigger(
                "independent_valuer",
                "warning",
                f"large exposure with no independent valuation on record; one is required at "
                f"least every {years:g} years",
                action,
                "full",
                years_required=years,
            )
        ]
    age = years_between(latest, state.as_of)
    figures = {
        "latest_independent_date": latest.isoformat(),
        "due_date": due.isoformat(),
        "age_years": round(age, 2),
    }
    if state.as_of > due:
        return [
            _trigger(
                "independent_valuer",
                "warning",
                f"last independent valuation on {latest} is {age:.1f} years old; large exposures "
                f"need one at least every {years:g} years (due {due})",
                action,
                "full",
                **figures,
            )
        ]
    if (due - state.as_of).days <= state.thresholds.calendar_notice_days:
        return [
            _trigger(
                "independent_valuer",
                "info",
                f"independent valuation due {due} ({years:g} years after {latest})",
                f"engage an independent valuer before {due}",
                **figures,
            )
        ]
    return []


def value_decline(state: TriggerState) -> float | None:
    """Relative fall of the current value below the last appraisal (negative when it rose)."""
    if state.current.value is None:
        return None
    last = state.last_appraisal.value
    return (last - state.current.value) / last


def rule_value_decline(state: TriggerState) -> list[Trigger]:
    """``value_decline``: a decline of ``desk_review_decline`` (10 %) asks for a desk review
    (``warning``), of ``full_revaluation_decline`` (20 %) for a full revaluation (``critical``).
    """
    decline = value_decline(state)
    if decline is None:
        return []
    th = state.thresholds
    last, cur = state.last_appraisal.value, state.current.value
    reason = (
        f"value fell {_pct(decline)} from {_money(last)} at the appraisal on "
        f"{state.last_appraisal.date} to {_money(cur or 0.0)}"
    )
    figures = {"decline": decline, "appraised_value": last, "current_value": cur}
    if decline >= th.full_revaluation_decline - _EPS:
        return [
            _trigger(
                "value_decline",
                "critical",
                f"{reason}; at or above the {_pct(th.full_revaluation_decline)} threshold",
                "commission a full revaluation now and recompute the lending value",
                "full",
                **figures,
            )
        ]
    if decline >= th.desk_review_decline - _EPS:
        return [
            _trigger(
                "value_decline",
                "warning",
                f"{reason}; at or above the {_pct(th.desk_review_decline)} desk-review threshold",
                "carry out a desk review of the value and its inputs",
                "desk_review",
                **figures,
            )
        ]
    return []


def rule_ltv_breach(state: TriggerState) -> list[Trigger]:
    """``ltv_breach``: loan / value above the covenant cap ``loan.max_ltv`` (``critical``);
    above ``ltv_warning_ratio`` of the cap a ``warning``.

    The value is ``current.value`` when given, else the last appraised value.
    """
    loan = state.loan
    if loan is None or loan.amount == 0:
        return []
    source = "current value" if state.current.value is not None else "appraised value"
    value = state.current.value or state.last_appraisal.value
    ltv = loan.amount / value
    cap = loan.max_ltv
    figures = {"ltv": ltv, "max_ltv": cap, "loan_amount": loan.amount, "value": value}
    if ltv > cap + _EPS:
        paydown = loan.amount - cap * value
        more_security = loan.amount / cap - value
        return [
            _trigger(
                "ltv_breach",
                "critical",
                f"LTV {_pct(ltv)} (loan {_money(loan.amount)} / {source} {_money(value)}) is above "
                f"the covenant cap of {_pct(cap)}",
                f"restore the cap: pay down {_money(paydown)}, or top up collateral / pledge more "
                f"security worth {_money(more_security)}; otherwise treat as a covenant breach",
                paydown_needed=paydown,
                extra_security_needed=more_security,
                **figures,
            )
        ]
    if ltv >= state.thresholds.ltv_warning_ratio * cap - _EPS:
        return [
            _trigger(
                "ltv_breach",
                "warning",
                f"LTV {_pct(ltv)} (loan {_money(loan.amount)} / {source} {_money(value)}) is "
                f"within {_pct(1 - ltv / cap)} of the {_pct(cap)} cap",
                "monitor the value more often and agree a cure plan (paydown or more security) "
                "before the cap breaches",
                **figures,
            )
        ]
    return []


def rule_volatility_rise(state: TriggerState) -> list[Trigger]:
    """``volatility_rise``: posterior probability that volatility rose above
    ``prob_volatility_rose`` (0.9), or the estimate up ``volatility_increase`` (25 %).

    CRR Art. 208(3)(a) asks for more frequent monitoring where markets move significantly.
    """
    th = state.thresholds
    cur, last = state.current, state.last_appraisal
    reasons: list[str] = []
    figures: dict[str, object] = {}
    if cur.prob_volatility_rose is not None:
        figures["prob_volatility_rose"] = cur.prob_volatility_rose
        if cur.prob_volatility_rose > th.prob_volatility_rose:
            reasons.append(
                f"posterior probability that volatility rose is {cur.prob_volatility_rose:.3f}, "
                f"above {th.prob_volatility_rose:g}"
            )
    if cur.volatility is not None and last.volatility is not None:
        rise = cur.volatility / last.volatility - 1
        figures.update(
            volatility_at_appraisal=last.volatility, volatility_now=cur.volatility, rise=rise
        )
        if rise >= th.volatility_increase - _EPS:
            reasons.append(
                f"volatility estimate rose {_pct(rise)} from {_pct(last.volatility)} to "
                f"{_pct(cur.volatility)} a year (threshold {_pct(th.volatility_increase)})"
            )
    if not reasons:
        return []
    return [
        _trigger(
            "volatility_rise",
            "warning",
            "; ".join(reasons),
            "desk review: rerun the collateral simulation with the new volatility, check the "
            "probability of an LTV breach, and monitor more often than yearly",
            "desk_review",
            **figures,
        )
    ]


def rule_royalty_decline(state: TriggerState) -> list[Trigger]:
    """``royalty_decline``: royalties down ``royalty_decline`` (20 %) or more: ``warning``,
    full revaluation of the income approach; ``critical`` when royalties stopped.
    """
    royalties = state.royalties
    if royalties is None:
        return []
    decline = (royalties.previous - royalties.current) / royalties.previous
    threshold = state.thresholds.royalty_decline
    if decline < threshold - _EPS:
        return []
    return [
        _trigger(
            "royalty_decline",
            "critical" if royalties.current == 0 else "warning",
            f"royalties fell {_pct(decline)} from {_money(royalties.previous)} to "
            f"{_money(royalties.current)} (threshold {_pct(threshold)})",
            "commission a full revaluation of the income approach with the new royalty base "
            "and check the licensees' standing",
            "full",
            decline=decline,
            previous=royalties.previous,
            current=royalties.current,
        )
    ]


def rule_remaining_life(state: TriggerState) -> list[Trigger]:
    """``remaining_life``: legal expiry before the loan matures plus the time to sell.

    Maturity is ``loan.start_date + term_years`` or, without a start date, ``as_of + term_years``.
    Expiry before maturity: ``critical``; within the time to sell after maturity: ``warning``.
    """
    loan, expiry = state.loan, state.legal.expiry_date
    if loan is None or expiry is None:
        return []
    maturity = add_years(loan.start_date or state.as_of, loan.term_years)
    needed_until = add_years(maturity, loan.time_to_sell_years)
    remaining = years_between(state.as_of, expiry)
    needed = years_between(state.as_of, needed_until)
    figures = {
        "expiry_date": expiry.isoformat(),
        "maturity_date": maturity.isoformat(),
        "remaining_life_years": round(remaining, 3),
        "needed_years": round(needed, 3),
        "time_to_sell_years": loan.time_to_sell_years,
    }
    if expiry <= state.as_of:
        return [
            _trigger(
                "remaining_life",
                "critical",
                f"the right expired on {expiry}, before as_of {state.as_of}",
                "treat the collateral as worthless: revalue, and ask for other security or "
                "repayment",
                "full",
                **figures,
            )
        ]
    if expiry >= needed_until:
        return []
    severity: Severity = "critical" if expiry < maturity else "warning"
    latest_maturity = add_years(expiry, -loan.time_to_sell_years)
    return [
        _trigger(
            "remaining_life",
            severity,
            f"remaining legal life {remaining:.2f} years (expiry {expiry}) is shorter than the "
            f"loan's remaining term plus time to sell, {needed:.2f} years (maturity {maturity} "
            f"+ {loan.time_to_sell_years:g} years)",
            f"shorten or amortise the loan so it is repaid by {latest_maturity}, or take "
            "additional security",
            **figures,
        )
    ]


def rule_credit_event(state: TriggerState) -> list[Trigger]:
    """``credit_event``: a credit event on the borrower (``critical``, full revaluation)."""
    if not state.credit_event:
        return []
    return [
        _trigger(
            "credit_event",
            "critical",
            "a credit event was reported on the borrower",
            "revalue now on a liquidation (forced-sale) basis, start the workout, and notify the "
            "insurer and guarantor of a possible claim",
            "full",
        )
    ]
