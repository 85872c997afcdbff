"""The portfolio screening report as plain data, built once from a stored screening record.

`portfolio_report` takes a stored ``POST /v1/portfolios/screen`` record and returns the
document's sections: the portfolio totals with their tail table (VaR, ES, diversification
benefit), the ranked table of assets with each value range and risk figures, the ranked value
ranges as a chart, the concentration (top shares, HHI, sectors, legal shares), the screen's
settings, its warnings and rejected upload rows, and the provenance (seed, library versions,
SHA-256 of the stored record). Nothing is recomputed: every figure is the record's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ipvalue.api.documents import charts
from ipvalue.api.documents.numbers import money, plain, share
from ipvalue.api.documents.sections import Rows, Table, data_uri, provenance
from ipvalue.api.documents.words import term, words

TABLE_ROWS = 200
"""Assets the ranked table prints; the CSV download holds them all."""
CHART_ROWS = 25
"""Assets the value-range chart draws (the highest ranked)."""
NAMES_LISTED = 10
"""Asset names a warning lists before it says how many more."""


@dataclass
class PortfolioReport:
    """A portfolio screening report, ready for the template."""

    lang: str
    words: dict[str, str]
    title: str
    totals: Rows
    tail: Table
    ranked: Table
    truncated: str | None
    ranges_png: str
    concentration: Rows
    sectors: Table
    settings: Rows
    rejected: Table | None = None
    warnings: list[str] = field(default_factory=list)
    provenance: Rows = field(default_factory=list)


def _names(assets: list[dict[str, Any]]) -> str:
    names = [str(a["name"]) for a in assets[:NAMES_LISTED]]
    more = len(assets) - len(names)
    return ", ".join(names) + (f" (+{more})" if more > 0 else "")


def _warnings(result: dict[str, Any], w: dict[str, str]) -> list[str]:
    """What a reader must not miss: rights ending or challenged within the horizon, value in
    rights no longer protected, and upload rows left out."""
    assets = result["assets"]
    found = []
    expiring = [a for a in assets if a["expires_within_horizon"]]
    if expiring:
        found.append(w["warn_expiring"].format(n=len(expiring), names=_names(expiring)))
    challenged = [a for a in assets if a["under_challenge"]]
    if challenged:
        found.append(w["warn_challenge"].format(n=len(challenged), names=_names(challenged)))
    lost = result["concentration"]["share_protection_lost"]
    if lost > 0:
        found.append(w["warn_lost"].format(share=share(lost)))
    if result.get("rejected"):
        found.append(w["warn_rejected"].format(n=len(result["rejected"])))
    return found


def portfolio_report(record: dict[str, Any], lang: str) -> PortfolioReport:
    """The screening report of a stored portfolio screening record.

    Parameters
    ----------
    record : dict
        The stored screening (`ipvalue.api.store.SqlStore.get`: envelope, ``result`` as
        `ipvalue.models.portfolio.PortfolioResult` plus ``csv``, ``sha256``).
    lang : {"en", "zh"}
    """
    w = words(lang)
    result = record["result"]
    currency = result["currency"]
    totals = result["totals"]
    settings = result["settings"]
    assets = result["assets"]
    in_currency = f" ({currency})"
    total_rows: Rows = [
        (w["n_assets"], f"{totals['n_assets']:,}"),
        (w["valuation_date"], str(settings["valuation_date"])),
        (w["screen_horizon"], plain(settings["horizon_years"], 2)),
        (w["total_value"], money(totals["total_value"], currency)),
        (w["mean"], money(totals["mean"], currency)),
        (w["se_mean"], money(totals["se_mean"], currency)),
        (w["sd"], money(totals["sd"], currency)),
        *((name, money(totals[name], currency)) for name in ("p05", "p50", "p95")),
        (w["expected_protection_losses"], plain(totals["expected_protection_losses"], 2)),
    ]
    tail = Table(
        [
            w["level"],
            w["var"] + in_currency,
            w["es"] + in_currency,
            w["standalone_var_sum"],
            w["diversification_benefit"],
        ],
        [
            [
                share(t["level"]),
                f"{plain(t['var'], 0)} \u00b1 {plain(t['se_var'], 0)}",
                f"{plain(t['es'], 0)} \u00b1 {plain(t['se_es'], 0)}",
                plain(t["standalone_var_sum"], 0),
                plain(t["diversification_benefit"], 0),
            ]
            for t in totals["tail"]
        ],
    )
    shown = assets[:TABLE_ROWS]
    ranked = Table(
        [
            w["rank"],
            w["name"],
            w["kind"],
            w["sector"],
            w["value_today"] + in_currency,
            w["weight"],
            "p05",
            "p50",
            "p95",
            w["es95"],
            w["prob_protection_loss"],
            w["risk_adjusted_value"],
        ],
        [
            [
                str(a["rank"]),
                str(a["name"]),
                term(lang, a["kind"]),
                str(a["sector"]),
                plain(a["value"], 0),
                share(a["weight"]),
                plain(a["p05"], 0),
                plain(a["p50"], 0),
                plain(a["p95"], 0),
                plain(a["es95"], 0),
                share(a["prob_protection_loss"]),
                plain(a["risk_adjusted_value"], 0),
            ]
            for a in shown
        ],
    )
    truncated = (
        w["truncated"].format(shown=len(shown), n=len(assets), id=record["id"])
        if len(shown) < len(assets)
        else None
    )
    png = charts.ranges(
        [(str(a["name"]), a["p05"], a["p50"], a["p95"], a["value"]) for a in assets[:CHART_ROWS]],
        {
            "x": w["ranges_x"].format(currency=currency),
            "range": w["range_90"],
            "median": w["median"],
            "value": w["value_today"],
        },
        lang,
    )
    c = result["concentration"]
    concentration: Rows = [
        *(
            (w["top_share"].format(n=name.removeprefix("top_")), share(value))
            for name, value in c["top_shares"].items()
        ),
        (w["hhi"], plain(c["hhi"], 4)),
        (w["effective_number"], plain(c["effective_number"], 2)),
        (w["largest_sector"], f"{c['largest_sector']} ({share(c['largest_sector_share'])})"),
        (w["sector_hhi"], plain(c["sector_hhi"], 4)),
        (w["share_expiring"], share(c["share_expiring_within_horizon"])),
        (w["share_under_challenge"], share(c["share_under_challenge"])),
        (w["share_protection_lost"], share(c["share_protection_lost"])),
    ]
    sectors = Table(
        [w["sector"], w["share"]],
        [
            [name, share(value)]
            for name, value in sorted(c["sector_shares"].items(), key=lambda kv: -kv[1])
        ],
    )
    correlation = settings["correlation"]
    report = PortfolioReport(
        lang=lang,
        words=w,
        title=f"{w['portfolio_report']}: {settings['valuation_date']}",
        totals=total_rows,
        tail=tail,
        ranked=ranked,
        truncated=truncated,
        ranges_png=data_uri(png),
        concentration=concentration,
        sectors=sectors,
        settings=[
            (w["paths"], f"{settings['paths']:,}"),
            (w["drift"], share(settings["drift"])),
            (
                w["correlation"],
                f"{plain(correlation['intra'], 2)}, {plain(correlation['inter'], 2)} "
                f"({correlation['group_by']})",
            ),
            (w["groups"], str(settings["groups"])),
            (w["es_multiple"], plain(settings["es_multiple"], 2)),
            (w["score"], str(settings["score"])),
            (w["model"], str(settings["model"])),
        ],
        warnings=_warnings(result, w),
        provenance=provenance(record, "record_id", lang),
    )
    rejected = result.get("rejected") or []
    if rejected:
        report.rejected = Table(
            [w["row"], w["line"], "id", w["field"], w["message"]],
            [
                [str(r["row"]), str(r["line"]), r.get("id") or "\u2013", e["field"], e["message"]]
                for r in rejected
                for e in r["errors"]
            ],
        )
    return report
