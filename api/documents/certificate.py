"""The guarantee certificate of a pledge loan, as plain data, built on the loan's latest
monitoring evaluation.

It states the loan, each pledged right with its legal standing, remaining protected years and
value as of the monitoring date, the joint value and its volatility, the collateral over the
remaining term (fan chart with the loan and the LTV cap; lending value, maximum loan, LTV,
breach probability, expected loss after risk sharing), the triggers with the next
revaluation date, the open alerts, and the provenance (the monitoring record's id, seed,
library versions and SHA-256), with a place for the committee's signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ipvalue.api.documents.numbers import money, plain, share
from ipvalue.api.documents.sections import (
    Rows,
    Table,
    collateral_section,
    provenance,
    trigger_table,
)
from ipvalue.api.documents.words import term, words


@dataclass
class Certificate:
    """A guarantee certificate, ready for the template."""

    lang: str
    words: dict[str, str]
    title: str
    loan: Rows
    monitored: bool
    pledged: Table | None = None
    valuation: Rows = field(default_factory=list)
    collateral: Rows | None = None
    fan_png: str | None = None
    triggers: Table | None = None
    next_revaluation: str | None = None
    alerts: Table | None = None
    warnings: list[str] = field(default_factory=list)
    provenance: Rows = field(default_factory=list)


def _years(value: Any) -> str:
    return "\u2013" if value is None else f"{float(value):.2f}"


def certificate(
    loan: dict[str, Any],
    assets: dict[str, dict[str, Any]],
    evaluation: dict[str, Any] | None,
    open_alerts: list[dict[str, Any]],
    lang: str,
) -> Certificate:
    """The certificate of ``loan``.

    Parameters
    ----------
    loan : dict
        The loan as ``GET /v1/loans/{id}`` answers it (its fields, ``id``, ``version``).
    assets : dict
        Pledged asset id -> the asset as ``GET /v1/assets/{id}`` answers it (``asset`` with
        its name and kind).
    evaluation : dict, optional
        The latest stored monitoring evaluation record (`ipvalue.api.store` document:
        ``result``, ``seed``, ``versions``, ``sha256``); None before the first run.
    open_alerts : list of dict
        The loan's alerts that are not cleared.
    lang : {"en", "zh"}
    """
    w = words(lang)
    currency = loan["currency"]
    sharing = loan.get("risk_sharing") or {}
    cert = Certificate(
        lang=lang,
        words=w,
        title=f"{w['certificate']}: {loan['borrower']}",
        loan=[
            (w["borrower"], loan["borrower"]),
            (w["loan_amount"], money(loan["amount"], currency)),
            (w["currency"], currency),
            (w["start_date"], str(loan["start_date"])),
            (w["term_years"], plain(loan["term_years"], 2)),
            (w["max_ltv"], share(loan.get("max_ltv"))),
            (w["annual_pd"], share(loan.get("annual_pd"), 2)),
            (
                w["risk_sharing"],
                f"{share(sharing.get('insurer', 0.0))}, {share(sharing.get('guarantor', 0.0))}",
            ),
        ],
        monitored=evaluation is not None,
    )
    if open_alerts:
        cert.alerts = Table(
            [w["rule"], w["severity"], w["reason"], w["raised_at"]],
            [
                [
                    str(a["rule"]).replace("_", " "),
                    term(lang, a["severity"]),
                    a["reason"],
                    str(a["raised_at"]),
                ]
                for a in open_alerts
            ],
        )
    if evaluation is None:
        return cert
    result = evaluation["result"]
    rows = []
    for item in result.get("assets") or []:
        kept = assets.get(item["asset_id"]) or {}
        asset = kept.get("asset") or {}
        legal = item.get("legal") or {}
        rows.append(
            [
                asset.get("name", item["asset_id"]),
                term(lang, asset.get("kind")),
                term(lang, legal.get("status")),
                legal.get("expiry_date") or "\u2013",
                _years(legal.get("remaining_years")),
                money(item.get("value"), currency),
            ]
        )
    cert.pledged = Table(
        [
            w["name"],
            w["kind"],
            w["status"],
            w["expiry_date"],
            w["remaining_years"],
            w["asset_value"],
        ],
        rows,
    )
    cert.valuation = [
        (w["monitoring_as_of"], str(result["as_of"])),
        (w["joint_value"], money(result.get("value"), currency)),
        (w["volatility"], share(result.get("volatility"))),
    ]
    collateral = result.get("collateral")
    if collateral and collateral.get("bands"):
        cert.collateral, cert.fan_png = collateral_section(collateral, currency, lang)
        cert.warnings += list(collateral.get("warnings") or [])
    cert.triggers = trigger_table(result.get("triggers") or [], lang)
    cert.next_revaluation = result.get("next_revaluation_date")
    cert.provenance = provenance(evaluation, "evaluation_id", lang)
    return cert
