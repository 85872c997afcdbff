"""The pledge book's loans: ``/v1/loans`` (versioned), each with its latest monitoring; the
export (``GET /v1/loans/export``) and the book's totals (``GET /v1/book``)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, request

from ipvalue.api.auth import current_tenant
from ipvalue.api.body import json_body
from ipvalue.api.book import parse_risk_cursor
from ipvalue.api.monitor_evaluation import EVALUATION_KIND
from ipvalue.api.openapi import operation, query
from ipvalue.api.pagination import parse_page
from ipvalue.api.records import common_parameters
from ipvalue.api.routes.assets import book
from ipvalue.api.xlsx import xlsx_bytes
from ipvalue.models.book import LoanBody
from ipvalue.models.errors import InputError, NotFoundError
from ipvalue.risk.book.totals import EXPORT_COLUMNS, BookLoan, book_totals, export_row

bp = Blueprint("loans", __name__, url_prefix="/v1")

LOAN_FILTERS = {"borrower": "label", "currency": "currency"}


def loan_facts(body: LoanBody) -> dict[str, Any]:
    """The head columns of a loan."""
    return {"label": body.borrower[:200], "currency": body.currency, "status": "active"}


def check_pledges(tenant: str, body: LoanBody) -> None:
    """Every pledged asset must be this tenant's and not archived (404 otherwise)."""
    store = book()
    for i, asset_id in enumerate(body.pledged_asset_ids):
        try:
            entry = store.get("asset", tenant, asset_id)
        except NotFoundError as exc:
            raise NotFoundError(f"pledged_asset_ids[{i}]: {exc.detail}") from exc
        if entry["archived_at"] is not None:
            raise InputError.for_field(
                f"pledged_asset_ids[{i}]",
                f"asset {asset_id!r} is archived; pledge a kept asset",
            )


def loan_answer(entry: dict[str, Any], with_alerts: bool = True) -> dict[str, Any]:
    """A loan entry as the API shows it, with its latest monitoring."""
    return loan_answers([entry], with_alerts)[0]


def loan_answers(entries: list[dict[str, Any]], with_alerts: bool = True) -> list[dict[str, Any]]:
    """Loan entries as the API shows them, each with its latest monitoring: two queries for
    any number of loans (their latest evaluations, their alerts not cleared)."""
    tenant = current_tenant()
    store = book()
    ids = [e["id"] for e in entries]
    evaluations = store.records.latest_many(EVALUATION_KIND, tenant, ids) if ids else {}
    alerts = store.open_alerts(tenant, ids) if with_alerts and ids else {}
    return [_answer(e, evaluations.get(e["id"]), alerts.get(e["id"], [])) for e in entries]


def _answer(
    entry: dict[str, Any], record: dict[str, Any] | None, open_alerts: list[dict[str, Any]]
) -> dict[str, Any]:
    evaluation = None if record is None else {"id": record["id"], **record["result"]}
    monitoring: dict[str, Any] = {
        "evaluation_id": None,
        "as_of": None,
        "collateral": None,
        "triggers": [],
        "next_revaluation_date": None,
        "open_alerts": open_alerts,
    }
    if evaluation is not None:
        collateral = evaluation.get("collateral") or {}
        monitoring.update(
            evaluation_id=evaluation["id"],
            as_of=evaluation["as_of"],
            value=evaluation["value"],
            collateral={
                "range": collateral.get("range"),
                "ltv": collateral.get("ltv"),
                "prob_ltv_breach": collateral.get("prob_ltv_breach"),
                "lending_value": collateral.get("lending_value"),
                "max_loan": collateral.get("max_loan"),
                "loan_loss": collateral.get("loan_loss"),
            }
            if collateral
            else None,
            triggers=evaluation["triggers"],
            next_revaluation_date=evaluation["next_revaluation_date"],
        )
    return {
        "id": entry["id"],
        "kind": "loan",
        "version": entry["version"],
        "latest_version": entry["latest_version"],
        "created_at": entry["created_at"],
        "updated_at": entry["updated_at"],
        "archived_at": entry["archived_at"],
        "versions": entry["versions"],
        **entry["document"],
        "risk": entry["risk"],
        "monitoring": monitoring,
    }


@bp.post("/loans")
@operation(request=LoanBody, status=201, tags=["book"], record=False, errors=[404])
def create_loan() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Keep a loan secured by one or more of this tenant's assets (version 1)."""
    body = LoanBody.model_validate(json_body())
    tenant = current_tenant()
    check_pledges(tenant, body)
    document = body.model_dump(mode="json", exclude_none=True)
    entry = book().create("loan", tenant, document, loan_facts(body))
    return loan_answer(entry), 201, {"Location": f"/v1/loans/{entry['id']}"}


@bp.put("/loans/<loan_id>")
@operation(request=LoanBody, tags=["book"], record=False, errors=[404])
def change_loan(loan_id: str) -> dict[str, Any]:
    """Change a loan: the body replaces it as a new version (the old stays readable)."""
    tenant = current_tenant()
    entry = book().get("loan", tenant, loan_id)
    body = LoanBody.model_validate(json_body())
    check_pledges(tenant, body)
    document = body.model_dump(mode="json", exclude_none=True)
    updated = book().add_version(
        "loan", tenant, loan_id, entry["version"], document, loan_facts(body)
    )
    return loan_answer(updated)


@bp.get("/loans/<loan_id>")
@operation(
    tags=["book"],
    record=False,
    parameters=query(version=({"type": "integer", "minimum": 1}, "an older version (1, 2, ...)")),
)
def read_loan(loan_id: str) -> dict[str, Any]:
    """A loan with its latest monitoring (collateral, triggers, next revaluation date, open
    alerts); ``?version=N`` an older version."""
    unknown = sorted(set(request.args) - {"version"})
    if unknown:
        raise InputError.for_field(unknown[0], "is not a parameter here; use version")
    raw = request.args.get("version")
    if raw is not None and (not raw.isdigit() or int(raw) < 1):
        raise InputError.for_field("version", f"must be a whole number from 1; got {raw!r}")
    entry = book().get("loan", current_tenant(), loan_id, None if raw is None else int(raw))
    return loan_answer(entry)


@bp.delete("/loans/<loan_id>")
@operation(tags=["book"], record=False)
def archive_loan(loan_id: str) -> dict[str, Any]:
    """Archive a loan: monitoring stops, every version stays readable."""
    return loan_answer(book().archive("loan", current_tenant(), loan_id))


@bp.get("/loans")
@operation(
    tags=["book"],
    record=False,
    errors=[422],
    parameters=[
        *common_parameters(),
        *query(
            sort=(
                {"type": "string", "enum": ["newest", "risk"], "default": "newest"},
                "risk: highest probability of an LTV breach first",
            ),
            borrower=({"type": "string"}, "the borrower's name"),
            currency=({"type": "string", "pattern": "^[A-Z]{3}$"}, "the loan's currency"),
            archived=(
                {"type": "string", "enum": ["true", "false"], "default": "false"},
                "true includes archived ones",
            ),
        ),
    ],
)
def list_loans() -> dict[str, Any]:
    """The book's loans, newest first, or ``sort=risk`` (highest probability of an LTV breach
    first, loans not yet monitored last); ``borrower``, ``currency``, ``archived=true``."""
    args = request.args.to_dict()
    sort = args.pop("sort", "newest")
    if sort not in ("newest", "risk"):
        raise InputError.for_field("sort", f"must be newest or risk; got {sort!r}")
    risk_after = None
    if sort == "risk" and "cursor" in args:
        risk_after = parse_risk_cursor(args.pop("cursor"))
    page = parse_page(args, allowed=(*LOAN_FILTERS, "archived"))
    archived = args.get("archived", "false")
    if archived not in ("true", "false"):
        raise InputError.for_field("archived", f"must be true or false; got {archived!r}")
    facts = {col: args[name] for name, col in LOAN_FILTERS.items() if name in args}
    answer = book().list(
        "loan",
        current_tenant(),
        page,
        facts,
        archived=archived == "true",
        by_risk=sort == "risk",
        risk_after=risk_after,
    )
    return {
        "items": loan_answers(answer["items"]),
        "next_cursor": answer["next_cursor"],
    }


def _book_items(tenant: str) -> list[tuple[BookLoan, int]]:
    """Every loan of the book with its latest evaluation and open alerts, in four queries."""
    store = book()
    assets = {e["id"]: e["document"]["asset"] for e in store.all_current("asset", tenant)}
    evaluations = store.records.latest_many(EVALUATION_KIND, tenant)
    alerts = store.open_alerts(tenant)
    out = []
    for entry in store.all_current("loan", tenant):
        doc = entry["document"]
        record = evaluations.get(entry["id"])
        evaluation = None if record is None else {"id": record["id"], **record["result"]}
        pledged = {i: assets.get(i, {}) for i in doc["pledged_asset_ids"]}
        count = len(alerts.get(entry["id"], []))
        out.append((BookLoan(entry["id"], doc, evaluation, pledged), count))
    return out


@bp.get("/loans/export")
@operation(
    tags=["book"],
    record=False,
    errors=[422],
    media_type=("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    parameters=query(
        format=({"type": "string", "enum": ["csv", "xlsx"], "default": "csv"}, "csv or xlsx")
    ),
)
def export_loans() -> Response:
    """Every loan of the book with its latest monitoring, one row each: ``?format=csv``
    (default) or ``xlsx``."""
    unknown = sorted(set(request.args) - {"format"})
    if unknown:
        raise InputError.for_field(unknown[0], "is not a parameter here; use format")
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise InputError.for_field("format", f"must be csv or xlsx; got {fmt!r}")
    rows = [export_row(item, n) for item, n in _book_items(current_tenant())]
    if fmt == "xlsx":
        body = xlsx_bytes(list(EXPORT_COLUMNS), [[r[c] for c in EXPORT_COLUMNS] for r in rows])
        return Response(
            body,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": "attachment; filename=loans.xlsx"},
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=loans.csv"},
    )


@bp.get("/book")
@operation(tags=["book"], record=False)
def book_summary() -> dict[str, Any]:
    """The book's totals per currency: loans, exposure, collateral value, expected loss before
    and after risk sharing, and concentration by sector, kind and jurisdiction."""
    items = _book_items(current_tenant())
    return {**book_totals(item for item, _ in items), "open_alerts": sum(n for _, n in items)}
