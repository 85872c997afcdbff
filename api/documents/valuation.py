"""The valuation report as plain data: what a template prints, built once from stored records.

`valuation_report` takes a stored valuation record and, when one was made from it, the newest
stored collateral assessment, and returns the document's sections: the asset and its legal
record; each method's inputs, assumptions and audit tables; the reconciliation; the simulated
distribution with its intervals and the sensitivity ranking; the collateral over the loan term
with lending value, maximum loan, LTV, breach probability and expected loss after risk sharing;
the triggers as of the valuation date and the next revaluation date; warnings; and the
provenance (seed, library versions, SHA-256 of the stored record).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ipvalue.api.documents import charts
from ipvalue.api.documents.numbers import cell, money, plain, share
from ipvalue.api.documents.sections import (
    Rows,
    Table,
    collateral_section,
    data_uri,
    provenance,
    trigger_table,
)
from ipvalue.api.documents.words import term, words
from ipvalue.models.triggers import TriggerState
from ipvalue.risk.book.monitor import WORTHLESS
from ipvalue.risk.triggers import evaluate_triggers


@dataclass
class MethodSection:
    """One method: its value and weight, inputs, assumptions, warnings and audit tables."""

    title: str
    figures: Rows
    inputs: Rows
    assumptions: list[str]
    warnings: list[str]
    audit_scalars: Rows
    audit_years: Table | None


@dataclass
class Report:
    """A valuation report, ready for the template."""

    lang: str
    words: dict[str, str]
    title: str
    asset: Rows
    legal: Rows
    events: Table | None
    summary: Rows
    methods: list[MethodSection]
    reconciliation: Rows
    distribution: Rows | None = None
    quantiles: Table | None = None
    histogram_png: str | None = None
    sensitivity: Table | None = None
    tornado_png: str | None = None
    collateral: Rows | None = None
    fan_png: str | None = None
    triggers: Table | None = None
    next_revaluation: str | None = None
    warnings: list[str] = field(default_factory=list)
    provenance: Rows = field(default_factory=list)


def _input_text(value: Any, currency: str | None) -> str:
    """A request input as text: plain numbers, distributions by their parameters, series."""
    if isinstance(value, dict) and "dist" in value:
        params = ", ".join(f"{k}={cell(v, currency)}" for k, v in value.items() if k != "dist")
        return f"{value['dist']}({params})"
    if isinstance(value, list):
        items = [_input_text(v, currency) for v in value[:12]]
        return ", ".join(items) + (" ..." if len(value) > 12 else "")
    return cell(value, currency)


def _flatten(prefix: str, value: Any, currency: str | None, out: Rows) -> None:
    if isinstance(value, dict) and "dist" not in value:
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, inner, currency, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for index, inner in enumerate(value):
            _flatten(f"{prefix}[{index}]", inner, currency, out)
    else:
        out.append((prefix, _input_text(value, currency)))


def _inputs(method_request: dict[str, Any], currency: str | None) -> Rows:
    out: Rows = []
    for key, value in method_request.items():
        if key in {"method", "label"}:
            continue
        _flatten(key, value, currency, out)
    return out


def _audit(
    audit: dict[str, Any], currency: str | None, year_word: str
) -> tuple[Rows, Table | None]:
    """Scalars as rows; the per-year lists (as long as ``years``) as one table."""
    scalars: Rows = []
    years = audit.get("years")
    yearly: dict[str, list[Any]] = {}
    for key, value in audit.items():
        if key == "years":
            continue
        if (
            isinstance(value, list)
            and isinstance(years, list)
            and len(value) == len(years)
            and all(isinstance(v, int | float) for v in value)
        ):
            yearly[key] = value
        elif isinstance(value, dict | list):
            scalars.append((key, _input_text(value, currency)))
        else:
            scalars.append((key, cell(value, currency)))
    table = None
    if yearly and isinstance(years, list):
        header = [year_word, *(key.replace("_", " ") for key in yearly)]
        rows = [
            [cell(year, currency), *(cell(column[i], currency) for column in yearly.values())]
            for i, year in enumerate(years)
        ]
        table = Table(header, rows)
    return scalars, table


def _years_text(value: float | None) -> str:
    return "\u2013" if value is None else f"{value:.2f}"


def _triggers(
    result: dict[str, Any], collateral: dict[str, Any] | None, lang: str
) -> tuple[Table, str]:
    """The trigger rules as of the valuation date, with the loan when a collateral exists.

    The rules need a positive value: a point value at or below zero (kept signed in the
    report's figures) is shown to them as the pledge book shows a worthless bundle.
    """
    appraised = max(float(result["value"]["point"]), WORTHLESS)
    state: dict[str, Any] = {
        "as_of": result["valuation_date"],
        "last_appraisal": {"date": result["valuation_date"], "value": appraised},
        "legal": {"expiry_date": (result.get("legal_life") or {}).get("expiry_date")},
    }
    if collateral and collateral.get("loan_amount"):
        state["loan"] = {
            "amount": collateral["loan_amount"],
            "max_ltv": collateral["max_ltv"],
            "term_years": collateral["horizon_years"],
        }
        state["current"] = {"value": max(float(collateral["value"]), WORTHLESS)}
    answer = evaluate_triggers(TriggerState.model_validate(state)).model_dump(mode="json")
    return trigger_table(answer["triggers"], lang), answer["next_revaluation_date"]


def valuation_report(
    record: dict[str, Any], collateral_record: dict[str, Any] | None, lang: str
) -> Report:
    """The valuation report of a stored valuation record.

    Parameters
    ----------
    record : dict
        The stored valuation (`ipvalue.api.store.SqlStore.get`: envelope, ``result``,
        ``sha256``).
    collateral_record : dict, optional
        The newest stored collateral assessment made from this valuation (``valuation_id``).
    lang : {"en", "zh"}
    """
    w = words(lang)
    result = record["result"]
    request = record.get("request") or {}
    currency = result.get("currency")
    asset = result["asset"]
    legal = asset.get("legal") or {}
    life = result.get("legal_life") or {}
    asset_rows: Rows = [
        (w["name"], asset["name"]),
        (w["kind"], term(lang, asset["kind"])),
        (w["jurisdiction"], asset.get("jurisdiction") or "\u2013"),
        (w["sector"], asset.get("sector") or "\u2013"),
        (w["valuation_date"], result["valuation_date"]),
        (w["currency"], currency or "\u2013"),
    ]
    legal_rows: Rows = [
        (w["status"], term(lang, legal.get("status"))),
        (w["filing_date"], legal.get("filing_date") or "\u2013"),
        (w["grant_date"], legal.get("grant_date") or "\u2013"),
        (w["expiry_date"], life.get("expiry_date") or legal.get("expiry_date") or "\u2013"),
        (w["remaining_years"], _years_text(life.get("years"))),
        (w["legal_basis"], life.get("basis") or "\u2013"),
    ]
    raw_events = legal.get("events") or []
    events = (
        Table(
            [w["valuation_date"], w["status"]],
            [[str(e.get("date")), str(e.get("type"))] for e in raw_events],
        )
        if raw_events
        else None
    )
    weights = (result.get("reconciliation") or {}).get("weights") or {}
    methods: list[MethodSection] = []
    method_requests = request.get("methods") or []
    warnings = list(result.get("warnings") or [])
    for index, method in enumerate(result.get("methods") or []):
        scalars, yearly = _audit(method.get("audit") or {}, currency, w["year"])
        key = method.get("key") or method["method"]
        label = term(lang, method["method"])
        methods.append(
            MethodSection(
                title=label if key == method["method"] else f"{label} ({key})",
                figures=[
                    (w["approach"], term(lang, method.get("approach"))),
                    (w["value"], money(method.get("value"), currency)),
                    (w["weight"], share(weights.get(key))),
                ],
                inputs=_inputs(method_requests[index], currency)
                if index < len(method_requests)
                else [],
                assumptions=list(method.get("assumptions") or []),
                warnings=list(method.get("warnings") or []),
                audit_scalars=scalars,
                audit_years=yearly,
            )
        )
        warnings += [f"{label}: {text}" for text in method.get("warnings") or []]
    reconciliation = (result.get("reconciliation") or {}).get("spread_ratio")
    summary: Rows = [(w["point_value"], money(result["value"]["point"], currency))]
    report = Report(
        lang=lang,
        words=w,
        title=f"{w['valuation_report']}: {asset['name']}",
        asset=asset_rows,
        legal=legal_rows,
        events=events,
        summary=summary,
        methods=methods,
        reconciliation=[
            *((term(lang, k), share(v)) for k, v in weights.items()),
            (w["spread_ratio"], plain(reconciliation, 2)),
        ],
    )
    distribution = result.get("distribution")
    if distribution:
        _add_distribution(report, distribution, currency, lang)
    collateral = collateral_record["result"] if collateral_record else None
    if collateral:
        report.collateral, report.fan_png = collateral_section(collateral, currency, lang)
        warnings += list(collateral.get("warnings") or [])
    report.triggers, report.next_revaluation = _triggers(result, collateral, lang)
    report.warnings = warnings
    report.provenance = provenance(record, "record_id", lang)
    return report


def _add_distribution(
    report: Report, distribution: dict[str, Any], currency: str | None, lang: str
) -> None:
    w = words(lang)
    quantiles = distribution.get("quantiles") or {}
    report.summary += [
        (name, money(distribution[name], currency)) for name in ("p05", "p50", "p95")
    ]
    report.distribution = [
        (w["paths"], f"{distribution['paths']:,}"),
        (w["mean"], money(distribution["mean"], currency)),
        (w["se_mean"], money(distribution["se_mean"], currency)),
    ]
    report.quantiles = Table(
        [w["quantile"], w["value"], w["ci"]],
        [
            [
                name,
                money(q["value"], currency),
                f"{plain(q['ci_low'])} \u2013 {plain(q['ci_high'])}",
            ]
            for name, q in quantiles.items()
        ],
    )
    histogram = distribution.get("histogram")
    if histogram:
        png = charts.histogram(
            histogram["edges"],
            histogram["counts"],
            quantiles,
            {
                "x": w["histogram_x"].format(currency=currency or ""),
                "y": w["histogram_y"],
                "p05": "p05",
                "p50": "p50",
                "p95": "p95",
            },
            lang,
        )
        report.histogram_png = data_uri(png)
    sensitivity = distribution.get("sensitivity") or []
    if sensitivity:
        rows = [(s["input"], float(s["rank_correlation"])) for s in sensitivity]
        report.sensitivity = Table(
            [w["input"], w["tornado_x"]], [[name, f"{value:+.3f}"] for name, value in rows]
        )
        report.tornado_png = data_uri(charts.tornado(rows, {"x": w["tornado_x"]}, lang))
