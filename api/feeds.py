"""Records feed each other: ids in a request body resolved to the stored records' figures.

- ``POST /v1/collateral``: ``valuation_id`` gives the starting value, the currency and (when
  ``volatility`` is omitted) the valuation's simulated volatility; ``volatility_id`` gives a
  stored estimate's posterior draws, one per path.
- ``POST /v1/insurance/quotes``: ``collateral_id`` gives the collateral-value cover its
  collateral (value, volatility, loan, horizon, default probability, sale terms, currency, and
  the insurer's share of the risk sharing when ``share_insured`` is omitted).
- ``POST /v1/triggers/evaluate``: ``volatility_id`` gives ``current.prob_volatility_rose`` (the
  share of the estimate's draws above ``last_appraisal.volatility``) and ``current.volatility``.

A record of another tenant, or none, is 404; a record without what is needed (a valuation
without a simulated volatility, an estimate without draws, an assessment without ``annual_pd``)
is 422 naming the field and what to send instead.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ipvalue.api.records import get_record
from ipvalue.models.collateral import CollateralRequest
from ipvalue.models.errors import InputError
from ipvalue.models.insurance import CollateralQuoteRequest
from ipvalue.models.triggers import TriggerState


def _currency(body_currency: str | None, stored: str | None, field: str, what: str) -> str | None:
    if body_currency is not None and stored is not None and body_currency != stored:
        raise InputError.for_field(
            "currency",
            f"the stored {what} ({field}) is in {stored}; omit currency or give {stored}",
        )
    return body_currency or stored


def _draws(volatility_id: str, field: str = "volatility_id") -> list[float]:
    record = get_record("volatility", volatility_id)
    draws = record["result"].get("posterior_sigma_draws")
    if not draws:
        raise InputError.for_field(
            field,
            f"the stored volatility estimate {volatility_id!r} carries no posterior draws "
            "(it was estimated before draws were stored); estimate again with POST "
            "/v1/volatility, or give the volatility as a number",
        )
    return [float(d) for d in draws]


SIGNED_POINT = "valuation_point_signed"
"""Key of a resolved collateral body whose stored valuation is at or below zero: its signed
point value (the assessment starts from 0 and says so)."""


def resolve_collateral(request: CollateralRequest) -> dict[str, Any]:
    """The collateral body with ``valuation_id`` and ``volatility_id`` replaced by figures.

    A stored point value at or below zero is not a starting value: it goes under
    :data:`SIGNED_POINT`, and the assessment floors it at 0 with a warning quoting it.
    """
    resolved = request.model_dump(mode="json", exclude_none=True)
    if request.valuation_id is not None:
        record = get_record("valuation", request.valuation_id)
        point = float(record["result"]["value"]["point"])
        if point > 0:
            resolved["value"] = point
            del resolved["valuation_id"]
        else:  # a lender's value is at least zero: the job starts from 0 and quotes the figure
            resolved[SIGNED_POINT] = point
        currency = _currency(
            request.currency, record["result"].get("currency"), "valuation_id", "valuation"
        )
        if currency is not None:
            resolved["currency"] = currency
        if request.volatility is None and request.volatility_id is None:
            simulated = (record["inputs"].get("simulation") or {}).get("volatility")
            if simulated is None:
                raise InputError.for_field(
                    "volatility",
                    f"the stored valuation {request.valuation_id!r} has no simulated volatility "
                    "(no simulation, or one without volatility); give volatility or volatility_id",
                )
            resolved["volatility"] = simulated
    if request.volatility_id is not None:
        resolved["volatility"] = _draws(resolved.pop("volatility_id"))
    return resolved


def resolve_insurance(request: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The quote body with ``collateral_id`` replaced by the stored assessment's collateral."""
    resolved: dict[str, Any] = request.model_dump(mode="json", exclude_none=True)
    if not isinstance(request, CollateralQuoteRequest) or request.collateral_id is None:
        return resolved
    record = get_record("collateral", resolved.pop("collateral_id"))
    inputs, result = record["inputs"], record["result"]
    if inputs.get("annual_pd") is None:
        raise InputError.for_field(
            "collateral_id",
            f"the stored collateral assessment {request.collateral_id!r} has no annual_pd, and "
            "the cover pays on default; assess it again with annual_pd, or give collateral",
        )
    if not result["value"] > 0:
        raise InputError.for_field(
            "collateral_id",
            f"the stored collateral assessment {request.collateral_id!r} starts from a value of "
            "0 (its valuation was at or below zero; see its warnings): there is no collateral "
            "value to insure",
        )
    resolved["collateral"] = {
        "value": result["value"],
        "volatility": inputs["volatility"],
        "loan_amount": result["loan_assessed"],
        "horizon_years": result["horizon_years"],
        "annual_pd": inputs["annual_pd"],
        "liquidation_discount": inputs.get("liquidation_discount", 0.0),
        "time_to_sell_years": inputs.get("time_to_sell_years", 0.0),
        "drift": inputs.get("drift", 0.0),
        "legal_risk": inputs.get("legal_risk") or {},
    }
    insurer = (inputs.get("risk_sharing") or {}).get("insurer", 0.0)
    if "share_insured" not in payload and insurer > 0:
        resolved["share_insured"] = insurer
    currency = _currency(
        request.currency, result.get("currency"), "collateral_id", "collateral assessment"
    )
    if currency is not None:
        resolved["currency"] = currency
    return resolved


def resolve_triggers(state: TriggerState, payload: dict[str, Any]) -> dict[str, Any]:
    """The trigger body with ``volatility_id`` turned into ``current`` observations."""
    if state.volatility_id is None:
        return payload
    if state.current.prob_volatility_rose is not None:
        raise InputError.for_field(
            "current.prob_volatility_rose", "give it or volatility_id, not both"
        )
    record = get_record("volatility", state.volatility_id)
    draws = _draws(state.volatility_id)
    previous = state.last_appraisal.volatility or record["result"].get("previous_sigma")
    if previous is None:
        raise InputError.for_field(
            "last_appraisal.volatility",
            "volatility_id needs the volatility at the last appraisal to say whether it rose; "
            "give last_appraisal.volatility (e.g. 0.35)",
        )
    resolved = copy.deepcopy(payload)
    current = resolved.setdefault("current", {})
    current["prob_volatility_rose"] = float(np.mean(np.asarray(draws) > float(previous)))
    if state.current.volatility is None:
        latest = record["result"].get("sigma_current") or record["result"]["sigma_annual"]
        current["volatility"] = latest["mean"]
    return resolved
