"""Pieces the documents share: tables, the collateral section with its fan chart, the
trigger table, the provenance rows, charts as data URIs."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ipvalue.api.documents import charts
from ipvalue.api.documents.numbers import money, plain, share
from ipvalue.api.documents.words import term, words

Rows = list[tuple[str, str]]


@dataclass
class Table:
    """A table with a header row."""

    header: list[str]
    rows: list[list[str]]


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI for an ``img`` element (HTML and PDF alike)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def trigger_table(triggers: list[dict[str, Any]], lang: str) -> Table:
    """Rule, severity, reason and action of each trigger (as the API answers them)."""
    w = words(lang)
    rows = [
        [str(t["rule"]).replace("_", " "), term(lang, t["severity"]), t["reason"], t["action"]]
        for t in triggers
    ]
    return Table([w["rule"], w["severity"], w["reason"], w["action"]], rows)


def collateral_section(
    collateral: dict[str, Any], currency: str | None, lang: str
) -> tuple[Rows, str]:
    """The collateral figures (term, lending value, LTV cap, maximum loan, loan, LTV, breach
    probability, expected loss after risk sharing) and the fan chart over the term.

    Parameters
    ----------
    collateral : dict
        A collateral result as ``POST /v1/collateral`` answers it (``bands``, ``times``).
    """
    w = words(lang)
    loss = (collateral.get("loan_loss") or {}).get("expected_loss_lender")
    within = collateral.get("within_limit")
    rows: Rows = [
        (w["horizon_years"], plain(collateral["horizon_years"], 2)),
        (w["lending_value"], money(collateral["lending_value"], currency)),
        (w["max_ltv"], share(collateral["max_ltv"])),
        (w["max_loan"], money(collateral["max_loan"], currency)),
        (w["loan_amount"], money(collateral.get("loan_amount"), currency)),
        (w["ltv"], share(collateral["ltv"])),
        (
            w["prob_ltv_breach"],
            f"{share(collateral['prob_ltv_breach']['value'], 2)}"
            f" \u00b1 {share(collateral['prob_ltv_breach']['se'], 2)}",
        ),
        (
            w["expected_loss_lender"],
            "\u2013"
            if loss is None
            else f"{money(loss['value'], currency)} \u00b1 {money(loss['se'], currency)}",
        ),
    ]
    if within is not None:
        rows.append((w["within_limit"], w["yes"] if within else w["no"]))
    loan = collateral.get("loan_amount")
    cap_value = loan / collateral["max_ltv"] if loan and collateral.get("max_ltv") else None
    png = charts.fan(
        collateral["times"],
        collateral["bands"],
        loan,
        cap_value,
        {
            "x": w["fan_x"],
            "y": w["fan_y"].format(currency=currency or ""),
            "b90": w["band_90"],
            "b50": w["band_50"],
            "median": w["median"],
            "loan": w["loan_amount"],
            "cap": w["ltv_cap"],
        },
        lang,
    )
    return rows, data_uri(png)


def provenance(record: dict[str, Any], id_word: str, lang: str) -> Rows:
    """Where a document's figures come from: the stored record's id and time, its seed, the
    library versions that computed it and its SHA-256 (``GET /v1/records/verify`` checks it).

    Parameters
    ----------
    record : dict
        A stored record (`ipvalue.api.store`: ``id``, ``created_at``, ``seed``, ``versions``,
        ``sha256``).
    id_word : str
        The label of the record's id (``record_id``, ``evaluation_id``).
    """
    w = words(lang)
    versions = record.get("versions") or {}
    return [
        (w[id_word], record["id"]),
        (w["created_at"], record["created_at"]),
        (w["seed"], record.get("seed") or w["none"]),
        (w["versions"], ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))),
        (w["sha256"], record["sha256"]),
    ]
