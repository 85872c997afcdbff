"""``POST /v1/portfolios/screen``: many assets ranked by risk-adjusted value, with totals.

The body is JSON (``PortfolioRequest``), or a CSV file: ``Content-Type: text/csv`` with the
file as the body, or ``multipart/form-data`` with the file in ``file``; the settings of a CSV
upload (``horizon_years``, ``paths``, ``seed``, ``currency``, ``valuation_date``, ``drift``) come
as query parameters. The ranked table is also served as CSV at ``GET /v1/portfolios/{id}/csv``
(or with ``Accept: text/csv`` on the POST).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import MethodNotAllowed

from ipvalue.api.body import json_body
from ipvalue.api.capabilities import portfolio_job
from ipvalue.api.jobs import submit_or_run
from ipvalue.api.limits import check_limit, limit_value
from ipvalue.api.openapi import operation
from ipvalue.api.records import get_record, list_parameters, list_records, record_answer
from ipvalue.api.schemas import RecordList
from ipvalue.models.errors import FieldProblem, InputError
from ipvalue.models.portfolio import PortfolioRequest, PortfolioResult
from ipvalue.risk.portfolio import parse_portfolio_csv

bp = Blueprint("portfolios", __name__, url_prefix="/v1/portfolios")
CSV_SETTINGS = ("horizon_years", "paths", "seed", "currency", "valuation_date", "drift")
_WHOLE = frozenset({"paths", "seed"})
_DECIMAL = frozenset({"horizon_years", "drift"})


def _setting(name: str, text: str) -> Any:
    """A query-string setting as the type the model expects (left as text when it is not)."""
    try:
        if name in _WHOLE:
            return int(text)
        if name in _DECIMAL:
            return float(text)
    except ValueError:
        pass
    return text


def csv_settings() -> dict[str, Any]:
    """The CSV upload's settings from the query string; an unknown parameter is a 422."""
    unknown = sorted(set(request.args) - set(CSV_SETTINGS))
    if unknown:
        raise InputError(
            f"{unknown[0]}: is not a setting of a CSV upload",
            [
                FieldProblem(
                    name, f"is not a setting of a CSV upload; use {', '.join(CSV_SETTINGS)}"
                )
                for name in unknown
            ],
        )
    return {
        name: _setting(name, request.args[name]) for name in CSV_SETTINGS if name in request.args
    }


def _csv_payload() -> dict[str, Any]:
    """Assets from an uploaded CSV and settings from the query string."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InputError.for_field("file", "attach the CSV as the form field 'file'")
        data = upload.read()
    else:
        data = request.get_data()
    assets = parse_portfolio_csv(data, max_rows=limit_value("max_assets"))
    return {"assets": [a.model_dump(mode="json") for a in assets], **csv_settings()}


def _wants_csv() -> bool:
    return request.accept_mimetypes.best == "text/csv"


@bp.post("/screen")
@operation(
    request=PortfolioRequest, response=PortfolioResult, status=201, tags=["portfolios"], jobs=True
)
def screen() -> Any:
    """Rank the assets by risk-adjusted value (mean - 0.5 x ES95); portfolio VaR/ES with
    sector dependence, diversification benefit and concentration. Large runs are jobs with
    progress."""
    is_csv = request.mimetype in {"text/csv", "multipart/form-data"}
    payload = _csv_payload() if is_csv else json_body("text/csv or multipart/form-data for a CSV")
    assets = payload.get("assets")
    if isinstance(assets, list):
        check_limit("max_assets", len(assets), "assets")
    parsed = PortfolioRequest.model_validate(payload)
    check_limit("max_paths", parsed.paths, "paths")
    resolved = parsed.model_dump(mode="json", exclude_none=True)
    resolved["valuation_date"] = parsed.valuation_date.isoformat()
    if parsed.seed is None:
        resolved["seed"] = secrets.randbits(63)
    body, status, headers = submit_or_run(
        "portfolio",
        portfolio_job,
        resolved,
        float(len(parsed.assets)) * parsed.paths,
        request=payload if not is_csv else {**csv_settings(), "csv_rows": len(parsed.assets)},
        seed=resolved["seed"],
        location="/v1/portfolios/{id}",
    )
    if status == 201 and _wants_csv():
        return Response(body["csv"], status=201, mimetype="text/csv", headers=headers)
    return body, status, headers


@bp.get("/<record_id>")
@operation(response=PortfolioResult, tags=["portfolios"])
def read(record_id: str) -> dict[str, Any]:
    """A stored screening, identical on every read."""
    if record_id == "screen":  # not an id: the screening endpoint takes POST only
        raise MethodNotAllowed(valid_methods=["POST"])
    return record_answer(get_record("portfolio", record_id))


@bp.get("/<record_id>/csv")
@operation(tags=["portfolios"])
def read_csv(record_id: str) -> Response:
    """The stored screening's ranked table as CSV."""
    record = get_record("portfolio", record_id)
    return Response(
        record["result"]["csv"],
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="screen-{record_id}.csv"'},
    )


@bp.get("")
@operation(
    response=RecordList[PortfolioResult],
    tags=["portfolios"],
    record=False,
    errors=[422],
    parameters=list_parameters("portfolio"),
)
def index() -> dict[str, Any]:
    """The tenant's screenings, newest first; filter by currency."""
    return list_records("portfolio")
