"""The point valuation of an asset: every method, the legal life, reconciliation, audit trail."""

from __future__ import annotations

import math

import numpy as np

from ipvalue.models.methods import INCOME_METHODS
from ipvalue.models.valuation import (
    LegalLifeResult,
    MethodResult,
    Reconciliation,
    ValuationRequest,
    ValuationResult,
    Value,
    method_keys,
)
from ipvalue.valuation.life import LegalLife, remaining_legal_life
from ipvalue.valuation.methods import APPROACH, value_method
from ipvalue.valuation.reconcile import DISAGREEMENT_RATIO, disagreement, normalise_weights
from ipvalue.valuation.resolve import base_draw


def _life_result(life: LegalLife) -> LegalLifeResult:
    return LegalLifeResult(
        years=None if math.isinf(life.years) else life.years,
        expiry_date=life.expiry_date,
        alive=life.alive,
        basis=life.basis,
    )


def value_asset(request: ValuationRequest) -> ValuationResult:
    """Value an asset by every requested method and reconcile.

    Each method uses its inputs' base values. Income after the remaining legal life is not
    counted; a lapsed, expired or invalidated right is worth zero by its income and option
    methods, and the result says so.

    Parameters
    ----------
    request : ValuationRequest

    Returns
    -------
    ValuationResult
        ``value.point`` in the request's currency, each method with its audit trail.
    """
    life = remaining_legal_life(request.asset, request.valuation_date)
    keys = method_keys(request.methods)
    results: list[MethodResult] = []
    warnings: list[str] = []
    for i, (key, m) in enumerate(zip(keys, request.methods, strict=True)):
        outcome = value_method(m, i, base_draw, life.years)
        if not life.alive and (m.method in INCOME_METHODS or m.method == "real_option"):
            outcome.warnings.append(f"worth zero by this method: {life.basis}")
        elif not life.alive:
            outcome.warnings.append(
                f"{life.basis}; this {APPROACH[m.method]} value assumes a live right and is "
                "not collateral"
            )
        results.append(
            MethodResult(
                key=key,
                method=m.method,
                approach=APPROACH[m.method],  # type: ignore[arg-type]
                value=float(np.asarray(outcome.value)),
                audit=outcome.audit,
                assumptions=outcome.assumptions,
                warnings=outcome.warnings,
            )
        )
    by_method = {r.key: r.value for r in results}
    weights = normalise_weights(keys, request.weights)
    point = sum(weights[k] * v for k, v in by_method.items())
    spread = disagreement({k: v for k, v in by_method.items() if weights[k] > 0})
    if spread.warning:
        warnings.append(spread.warning)
    if not life.alive:
        warnings.append(f"the right has no remaining protection: {life.basis}")
    return ValuationResult(
        asset=request.asset,
        valuation_date=request.valuation_date,
        currency=request.currency,
        value=Value(point=point, by_method=by_method),
        methods=results,
        legal_life=_life_result(life),
        reconciliation=Reconciliation(
            weights=weights, spread_ratio=spread.ratio, disagreement_threshold=DISAGREEMENT_RATIO
        ),
        warnings=warnings,
    )
