"""The book's totals and concentrations (``GET /v1/book``) and one row per loan (the export).

Per currency (money of different currencies is never added): the number of loans, the
exposure (sum of loan amounts), the collateral value and expected loss before and after risk
sharing from each loan's latest evaluation, and the exposure's concentration by the pledged
rights' sector, kind and jurisdiction. A loan's exposure is split over its pledged rights by
their share of the bundle's value at the latest evaluation (equally before the first one, or
when the bundle is worth nothing); each concentration lists shares of the exposure, largest
first, with its Herfindahl-Hirschman index (sum of squared shares: 1 = all in one).

Pure functions on JSON-ready documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

UNKNOWN = "unknown"


@dataclass(frozen=True)
class BookLoan:
    """A loan as the totals read it: its body, its latest evaluation (or None) and its pledged
    assets' ``asset`` objects by id."""

    id: str
    loan: Mapping[str, Any]
    evaluation: Mapping[str, Any] | None
    assets: Mapping[str, Mapping[str, Any]]


def _loss(evaluation: Mapping[str, Any] | None, key: str) -> float | None:
    collateral = (evaluation or {}).get("collateral") or {}
    loss = collateral.get("loan_loss") or {}
    figure = loss.get(key)
    return None if figure is None else float(figure["value"])


def _shares(item: BookLoan) -> dict[str, float]:
    ids = list(item.loan["pledged_asset_ids"])
    values = {a["asset_id"]: float(a["value"]) for a in (item.evaluation or {}).get("assets", [])}
    total = sum(values.get(i, 0.0) for i in ids)
    if total <= 0:
        return {i: 1 / len(ids) for i in ids}
    return {i: values.get(i, 0.0) / total for i in ids}


def _concentration(weights: dict[str, float], exposure: float) -> dict[str, Any]:
    if exposure <= 0:
        return {"shares": [], "hhi": None}
    shares = sorted(((k, w / exposure) for k, w in weights.items()), key=lambda kv: -kv[1])
    return {
        "shares": [{"name": k, "share": s, "exposure": weights[k]} for k, s in shares],
        "hhi": sum(s * s for _, s in shares),
    }


def book_totals(items: Iterable[BookLoan]) -> dict[str, Any]:
    """Totals and concentrations of the book, per currency (see the module docstring)."""
    by_currency: dict[str, dict[str, Any]] = {}
    for item in items:
        currency = str(item.loan["currency"])
        amount = float(item.loan["amount"])
        t = by_currency.setdefault(
            currency,
            {
                "loans": 0,
                "monitored": 0,
                "exposure": 0.0,
                "collateral_value": 0.0,
                "expected_loss": 0.0,
                "expected_loss_after_risk_sharing": 0.0,
                "_by": {"sector": {}, "kind": {}, "jurisdiction": {}},
            },
        )
        t["loans"] += 1
        t["exposure"] += amount
        if item.evaluation is not None:
            t["monitored"] += 1
            t["collateral_value"] += float(item.evaluation.get("value") or 0.0)
            t["expected_loss"] += _loss(item.evaluation, "expected_loss") or 0.0
            t["expected_loss_after_risk_sharing"] += (
                _loss(item.evaluation, "expected_loss_lender") or 0.0
            )
        for asset_id, share in _shares(item).items():
            asset = item.assets.get(asset_id, {})
            for facet, field in (
                ("sector", "sector"),
                ("kind", "kind"),
                ("jurisdiction", "jurisdiction"),
            ):
                name = str(asset.get(field) or UNKNOWN)
                bucket = t["_by"][facet]
                bucket[name] = bucket.get(name, 0.0) + amount * share
    out = {}
    for currency, t in sorted(by_currency.items()):
        by = t.pop("_by")
        t["concentration"] = {facet: _concentration(w, t["exposure"]) for facet, w in by.items()}
        out[currency] = t
    return {"currencies": out}


EXPORT_COLUMNS = (
    "loan_id",
    "borrower",
    "currency",
    "amount",
    "start_date",
    "term_years",
    "pledged_assets",
    "as_of",
    "collateral_value",
    "p05",
    "p50",
    "p95",
    "ltv",
    "prob_ltv_breach",
    "expected_loss",
    "expected_loss_after_risk_sharing",
    "highest_severity",
    "next_revaluation_date",
    "open_alerts",
)
"""Columns of ``GET /v1/loans/export``."""


def export_row(item: BookLoan, open_alerts: int) -> dict[str, Any]:
    """One loan as a row of the export (`EXPORT_COLUMNS`; blanks before the first run)."""
    e = item.evaluation or {}
    collateral = e.get("collateral") or {}
    rng = collateral.get("range") or {}
    breach = collateral.get("prob_ltv_breach") or {}
    return {
        "loan_id": item.id,
        "borrower": item.loan["borrower"],
        "currency": item.loan["currency"],
        "amount": item.loan["amount"],
        "start_date": item.loan["start_date"],
        "term_years": item.loan["term_years"],
        "pledged_assets": len(item.loan["pledged_asset_ids"]),
        "as_of": e.get("as_of"),
        "collateral_value": e.get("value"),
        "p05": rng.get("p05"),
        "p50": rng.get("p50"),
        "p95": rng.get("p95"),
        "ltv": collateral.get("ltv"),
        "prob_ltv_breach": breach.get("value"),
        "expected_loss": _loss(e, "expected_loss"),
        "expected_loss_after_risk_sharing": _loss(e, "expected_loss_lender"),
        "highest_severity": e.get("highest_severity"),
        "next_revaluation_date": e.get("next_revaluation_date"),
        "open_alerts": open_alerts,
    }
