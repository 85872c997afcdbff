"""The point valuation of an asset: every method, the legal life, reconciliation, audit trail.

:func:`point_valuation` is the one walk of a request's point value: the legal life once, each
method's fixed steps once (the market regression), each method once with its audit trail. The
simulation takes the :class:`PointValuation` it returns and reuses all of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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
from ipvalue.valuation import signed
from ipvalue.valuation.audit import audit_trail
from ipvalue.valuation.derive import derived_draw
from ipvalue.valuation.derive.derived import Derived
from ipvalue.valuation.life import LegalLife, legal_life
from ipvalue.valuation.methods import APPROACH, MethodCall, prepare_method, value_method
from ipvalue.valuation.reconcile import DISAGREEMENT_RATIO, disagreement, normalise_weights
from ipvalue.valuation.resolve import base_draw


@dataclass(frozen=True)
class PointValuation:
    """A request's point value with what the simulation reuses.

    Attributes
    ----------
    result : ValuationResult
        The deterministic answer (``value.point``, methods with audit trails, warnings).
    life : LegalLife
        The remaining legal life at the valuation date.
    fixed : list
        Per method, what it holds fixed across paths (see ``valuation.methods.PREPARE``).
    """

    result: ValuationResult
    life: LegalLife
    fixed: list[Any]

    @property
    def point(self) -> float:
        """The reconciled point value, currency."""
        return self.result.value.point


def _life_result(life: LegalLife) -> LegalLifeResult:
    return LegalLifeResult(
        years=None if math.isinf(life.years) else life.years,
        expiry_date=life.expiry_date,
        alive=life.alive,
        basis=life.basis,
        renews=life.renews,
        renewal_fee=life.renewal.fee if life.renewal is not None else None,
    )


def point_valuation(request: ValuationRequest) -> PointValuation:
    """Value an asset by every requested method and reconcile.

    Each method uses its inputs' base values. Income after the remaining legal life is not
    counted (and the result says so for each method it cuts); a lapsed, expired or invalidated
    right is worth zero by its income and option methods, and the result says so.

    Parameters
    ----------
    request : ValuationRequest

    Returns
    -------
    PointValuation
        ``result.value.point`` in the request's currency, each method with its audit trail.
    """
    life = legal_life(request.asset, request.valuation_date)
    keys = method_keys(request.methods)
    fixed = [prepare_method(m) for m in request.methods]
    results: list[MethodResult] = []
    warnings: list[str] = list(life.warnings)
    cut: list[str] = []
    for i, (key, m) in enumerate(zip(keys, request.methods, strict=True)):
        derivations: dict[str, Derived] = {}
        draw = derived_draw(base_draw, record=derivations)
        call = MethodCall(f"methods[{i}]", draw, life, life.years, fixed[i], point=True)
        outcome = value_method(m, call)
        if derivations:
            outcome.figures["derivations"] = derivations
            outcome.warnings.extend(
                f"{path}: {w}" for path, d in derivations.items() for w in d.warnings
            )
        if not life.alive and (m.method in INCOME_METHODS or m.method == "real_option"):
            outcome.warnings.append(f"worth zero by this method: {life.basis}")
        elif not life.alive:
            outcome.warnings.append(
                f"{life.basis}; this {APPROACH[m.method]} value assumes a live right and is "
                "not collateral"
            )
        if outcome.cut_by_expiry:
            cut.append(key)
        signed_value = float(np.asarray(outcome.value))
        if signed_value < 0:
            outcome.warnings.append(signed.method_warning(key, signed_value, request.currency))
        results.append(
            MethodResult(
                key=key,
                method=m.method,
                approach=APPROACH[m.method],  # type: ignore[arg-type]
                value=float(np.asarray(outcome.value)),
                audit=audit_trail(outcome),
                assumptions=outcome.assumptions,
                warnings=outcome.warnings,
            )
        )
    if cut:
        warnings.append(life.cut_warning(", ".join(cut)))
    by_method = {r.key: r.value for r in results}
    weights = normalise_weights(keys, request.weights)
    point = sum(weights[k] * v for k, v in by_method.items())
    spread = disagreement({k: v for k, v in by_method.items() if weights[k] > 0})
    if spread.warning:
        warnings.append(spread.warning)
    if not life.alive:
        warnings.append(f"the right has no remaining protection: {life.basis}")
    if point < 0:
        warnings.append(signed.point_warning(point, request.currency))
    result = ValuationResult(
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
    return PointValuation(result, life, fixed)
