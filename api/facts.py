"""What lists filter on: each record's facts, kept in columns beside its documents.

A list filters by the kind's own fields (``asset_name``, ``currency``, ``cover``, ...). Scanning
JSON documents for them would be slow and differ between databases, so `record_facts` takes
the facts out of a record once, when it is stored, into the ``records`` columns of `COLUMNS`
(migration 0004). `FILTERS` names, for each kind, the query parameters of its list and the
column each one reads; a column means what its kind's filter says (``status`` is a valuation's
legal status but a collateral assessment's loan verdict).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from ipvalue.models.asset import AssetKind, LegalStatus
from ipvalue.models.triggers import Severity

COLUMNS = ("asset_name", "asset_kind", "currency", "status", "category", "source_id")
"""The fact columns of ``records`` (all nullable strings)."""

_BOOLEAN = ("true", "false")


@dataclass(frozen=True)
class Filter:
    """One query parameter of a list: the column it reads and, when enumerated, its values."""

    column: str
    description: str
    choices: tuple[str, ...] = ()


_ASSET_NAME = Filter("asset_name", "the asset's name, exactly as sent")
_ASSET_KIND = Filter("asset_kind", "the asset's kind", get_args(AssetKind))
_CURRENCY = Filter("currency", "ISO 4217 code of the money figures, e.g. EUR")

FILTERS: dict[str, dict[str, Filter]] = {
    "valuation": {
        "asset_name": _ASSET_NAME,
        "asset_kind": _ASSET_KIND,
        "currency": _CURRENCY,
        "status": Filter("status", "the asset's legal status", get_args(LegalStatus)),
    },
    "collateral": {
        "currency": _CURRENCY,
        "valuation_id": Filter("source_id", "the stored valuation it started from"),
        "within_limit": Filter(
            "status",
            "whether loan_amount was within max_loan (only assessments with a loan)",
            _BOOLEAN,
        ),
    },
    "insurance_quote": {
        "cover": Filter("category", "the cover quoted", ("collateral_value", "litigation")),
        "currency": _CURRENCY,
        "collateral_id": Filter("source_id", "the stored collateral assessment it started from"),
        "asset_name": _ASSET_NAME,
    },
    "portfolio": {"currency": _CURRENCY},
    "volatility": {
        "model": Filter(
            "category", "the fitted model", ("student_t", "hierarchical", "stochastic_volatility")
        ),
        "asset_kind": _ASSET_KIND,
        "reliable": Filter("status", "whether the sampler's diagnostics passed", _BOOLEAN),
    },
    "triggers": {
        "asset_id": Filter("asset_name", "the monitored asset's id, as sent in asset_id"),
        "highest_severity": Filter(
            "category", "the most severe trigger that fired", get_args(Severity)
        ),
        "volatility_id": Filter("source_id", "the stored volatility estimate it took"),
    },
}


def _get(document: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _text(value: Any, width: int = 200) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)[:width]
    return None


def record_facts(kind: str, record: dict[str, Any]) -> dict[str, str | None]:
    """The fact columns of a record (keys of `COLUMNS`; None where a kind has no such fact).

    Parameters
    ----------
    kind : str
        The record kind.
    record : dict
        With ``request`` (as sent), ``inputs`` (as resolved) and ``result``.
    """
    request = record.get("request")
    inputs = record.get("inputs") or request
    result = record.get("result")
    facts: dict[str, Any] = dict.fromkeys(COLUMNS)
    facts["currency"] = _get(result, "currency") or _get(inputs, "currency")
    if kind == "valuation":
        facts["asset_name"] = _get(inputs, "asset", "name")
        facts["asset_kind"] = _get(inputs, "asset", "kind")
        facts["status"] = _get(inputs, "asset", "legal", "status")
    elif kind == "collateral":
        facts["source_id"] = _get(request, "valuation_id")
        facts["status"] = _get(result, "within_limit")
    elif kind == "insurance_quote":
        facts["category"] = _get(result, "cover") or _get(inputs, "cover")
        facts["source_id"] = _get(request, "collateral_id")
        facts["asset_name"] = _get(inputs, "asset", "name")
        facts["asset_kind"] = _get(inputs, "asset", "kind")
    elif kind == "volatility":
        facts["category"] = _get(result, "model")
        facts["asset_kind"] = _get(inputs, "asset_kind")
        facts["status"] = _get(result, "diagnostics", "reliable")
    elif kind == "triggers":
        facts["asset_name"] = _get(request, "asset_id")
        facts["category"] = _get(result, "highest_severity")
        facts["source_id"] = _get(request, "volatility_id")
    widths = {"currency": 3, "asset_kind": 32, "status": 32, "category": 32, "source_id": 64}
    return {name: _text(value, widths.get(name, 200)) for name, value in facts.items()}
