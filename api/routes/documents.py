"""Documents: the valuation report, the guarantee certificate of a loan and the portfolio
screening report (HTML or PDF, English or Chinese), and the check of the SHA-256 a document
prints (``GET /v1/records/verify``)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, request

from ipvalue.api.auth import current_tenant
from ipvalue.api.documents.certificate import certificate
from ipvalue.api.documents.portfolio import portfolio_report
from ipvalue.api.documents.render import FORMATS, MEDIA_TYPES, render
from ipvalue.api.documents.valuation import valuation_report
from ipvalue.api.documents.words import LANGUAGES
from ipvalue.api.monitor_evaluation import EVALUATION_KIND
from ipvalue.api.openapi import operation, query
from ipvalue.api.pagination import Page
from ipvalue.api.records import get_record
from ipvalue.api.routes.assets import asset_answer, book
from ipvalue.api.routes.loans import loan_answer
from ipvalue.api.schemas import RecordCheck
from ipvalue.models.errors import InputError

bp = Blueprint("documents", __name__)

_HEX64 = re.compile(r"[0-9a-f]{64}")

REPORT_PARAMETERS = query(
    format=(
        {"type": "string", "enum": list(FORMATS), "default": "html"},
        "html (a page that prints on A4) or pdf",
    ),
    lang=(
        {"type": "string", "enum": list(LANGUAGES), "default": "en"},
        "en (English) or zh (Chinese)",
    ),
)


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    if value not in choices:
        raise InputError.for_field(name, f"must be one of {', '.join(choices)}; got {value!r}")
    return value


def _refuse_unknown(allowed: tuple[str, ...]) -> None:
    for name in request.args:
        if name not in allowed:
            raise InputError.for_field(
                name, f"unknown query parameter; this endpoint takes {', '.join(allowed)}"
            )


def _report_query() -> tuple[str, str]:
    """A report's ``format`` and ``lang`` (422 naming the allowed values; other parameters
    refused)."""
    _refuse_unknown(("format", "lang"))
    return _choice("format", FORMATS, "html"), _choice("lang", LANGUAGES, "en")


def _newest_collateral(valuation_id: str) -> dict[str, Any] | None:
    store = current_app.extensions["ipvalue.store"]
    page = Page(limit=1, after=None, created_after=None, created_before=None)
    found = store.list("collateral", current_tenant(), page, {"source_id": valuation_id})
    return found["items"][0] if found["items"] else None


@bp.get("/v1/valuations/<record_id>/report")
@operation(
    tags=["documents"],
    media_type=("text/html", "application/pdf"),
    errors=[422],
    parameters=REPORT_PARAMETERS,
)
def valuation(record_id: str) -> Response:
    """The valuation report of a stored valuation, as HTML or PDF, in English or Chinese.

    It holds the asset and its legal record, each method's inputs, assumptions and audit
    tables, the reconciliation, the value distribution (histogram with p05, p50, p95 and their
    intervals) and sensitivity ranking when simulated, the newest collateral assessment made
    from this valuation (fan chart over the loan term with the loan amount and the LTV cap,
    lending value, maximum loan, LTV, breach probability, expected loss after risk sharing),
    the triggers and next revaluation date, warnings, and the seed, library versions and
    SHA-256 of the stored record (check it with `GET /v1/records/verify`).
    """
    fmt, lang = _report_query()
    record = get_record("valuation", record_id)
    report = valuation_report(record, _newest_collateral(record_id), lang)
    context = {
        "r": report,
        "title": report.title,
        "words": report.words,
        "sha256": record["sha256"],
    }
    return _document(render("valuation.html", context, fmt, lang), fmt, f"valuation-{record_id}")


@bp.get("/v1/loans/<loan_id>/report")
@operation(
    tags=["documents"],
    media_type=("text/html", "application/pdf"),
    errors=[422],
    parameters=REPORT_PARAMETERS,
)
def loan(loan_id: str) -> Response:
    """The guarantee certificate of a pledge loan, as HTML or PDF, in English or Chinese.

    Built on the loan's latest monitoring (`POST /v1/monitoring/runs`): the loan, each pledged
    right with its legal standing, remaining protected years and value, the joint value and
    its volatility, the collateral over the remaining term (fan chart with the loan and the
    LTV cap; lending value, maximum loan, LTV, breach probability, expected loss after risk
    sharing), the triggers and next revaluation date, the open alerts, the monitoring
    record's seed, library versions and SHA-256, and a place for the committee's signature.
    Before the first monitoring run it says so.
    """
    fmt, lang = _report_query()
    tenant = current_tenant()
    answer = loan_answer(book().get("loan", tenant, loan_id))
    monitoring = answer["monitoring"]
    evaluation = (
        get_record(EVALUATION_KIND, monitoring["evaluation_id"])
        if monitoring["evaluation_id"]
        else None
    )
    assets = {
        asset_id: asset_answer(book().get("asset", tenant, asset_id))
        for asset_id in answer["pledged_asset_ids"]
    }
    document = certificate(answer, assets, evaluation, monitoring["open_alerts"], lang)
    context = {
        "r": document,
        "title": document.title,
        "words": document.words,
        "sha256": evaluation["sha256"] if evaluation else "\u2013",
    }
    return _document(render("certificate.html", context, fmt, lang), fmt, f"loan-{loan_id}")


@bp.get("/v1/portfolios/<record_id>/report")
@operation(
    tags=["documents"],
    media_type=("text/html", "application/pdf"),
    errors=[422],
    parameters=REPORT_PARAMETERS,
)
def portfolio(record_id: str) -> Response:
    """The screening report of a stored portfolio screening, as HTML or PDF, in English or
    Chinese.

    It holds the portfolio totals (value today, mean, sd, p05, p50, p95 at the horizon, VaR
    and ES with their diversification benefit), the ranked value ranges as a chart (p05 to
    p95, median, value today), the ranked table of assets with each value range and risk
    figures (the first 200; `GET /v1/portfolios/{id}/csv` has them all), the concentration
    (top shares, HHI, sectors, shares expiring, challenged or lost), the screen's settings, its
    warnings and rejected upload rows, and the seed, library versions and SHA-256 of the
    stored record (check it with `GET /v1/records/verify`).
    """
    fmt, lang = _report_query()
    record = get_record("portfolio", record_id)
    report = portfolio_report(record, lang)
    context = {
        "r": report,
        "title": report.title,
        "words": report.words,
        "sha256": record["sha256"],
    }
    return _document(render("portfolio.html", context, fmt, lang), fmt, f"portfolio-{record_id}")


def _document(body: bytes, fmt: str, name: str) -> Response:
    response = Response(body, mimetype=MEDIA_TYPES[fmt].split(";")[0])
    if fmt == "pdf":
        response.headers["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


@bp.get("/v1/records/verify")
@operation(
    response=RecordCheck,
    tags=["documents"],
    errors=[422],
    parameters=[
        {
            "name": "sha256",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "description": "the SHA-256 a document prints (64 lowercase hex digits)",
        }
    ],
)
def verify() -> dict[str, Any]:
    """Whether a SHA-256 printed on a document is that of one of your stored records."""
    _refuse_unknown(("sha256",))
    digest = request.args.get("sha256", "")
    if not _HEX64.fullmatch(digest):
        raise InputError.for_field(
            "sha256", "must be the 64 lowercase hexadecimal digits a document prints"
        )
    found = current_app.extensions["ipvalue.store"].find_digest(current_tenant(), digest)
    if found is None:
        return {"match": False, "kind": None, "id": None}
    kind, record_id = found
    return {"match": True, "kind": kind, "id": record_id}
