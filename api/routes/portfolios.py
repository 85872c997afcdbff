"""``POST /v1/portfolios/screen``: many assets ranked by risk-adjusted value, with totals.

The body is JSON (``PortfolioRequest``), or a file: CSV (``Content-Type: text/csv``) or an Excel
workbook (``Content-Type:`` the .xlsx media type) as the body, or ``multipart/form-data`` with
the file in ``file`` (a ``.xlsx`` name or content type means Excel). The settings of an upload
come as query parameters (`UPLOAD_PARAMETERS`, documented in the OpenAPI document; any other
is refused, and a JSON body takes its settings in the body, not the query). ``on_error=skip``
screens the good rows of an upload and lists the others in ``rejected`` with their lines.

The ranked table, with the input columns, is served as CSV at ``GET /v1/portfolios/{id}/csv``
and as Excel at ``GET /v1/portfolios/{id}/xlsx`` (or ask for either with ``Accept`` on the POST).
"""

from __future__ import annotations

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
from ipvalue.models.portfolio import PortfolioAsset, PortfolioRequest, PortfolioResult
from ipvalue.risk.kernel.seeds import fresh_seed
from ipvalue.risk.portfolio import PortfolioUpload, read_portfolio_csv, read_portfolio_xlsx, to_xlsx
from ipvalue.risk.portfolio.csv_io import ON_ERROR
from ipvalue.risk.portfolio.ranked_table import XLSX_MEDIA_TYPE

bp = Blueprint("portfolios", __name__, url_prefix="/v1/portfolios")

UPLOAD_PARAMETERS: dict[str, tuple[dict[str, Any], str]] = {
    "horizon_years": ({"type": "number", "exclusiveMinimum": 0, "maximum": 30}, "years"),
    "paths": ({"type": "integer", "minimum": 200}, "simulated paths"),
    "seed": ({"type": "integer", "minimum": 0}, "seed; omitted draws one (recorded)"),
    "currency": ({"type": "string", "pattern": "^[A-Z]{3}$"}, "ISO 4217 code of the values"),
    "valuation_date": ({"type": "string", "format": "date"}, "date the file's dates refer to"),
    "drift": ({"type": "number", "minimum": -1, "maximum": 1}, "expected annual return"),
    "es_multiple": ({"type": "number", "minimum": 0, "maximum": 10}, "k in mean - k x es95"),
    "rank_by": (
        {"type": "string", "enum": ["risk_adjusted_value", "risk_adjusted_ratio"]},
        "the score that orders the table",
    ),
    "on_error": (
        {"type": "string", "enum": list(ON_ERROR), "default": "reject"},
        "reject: one bad row refuses the file; skip: screen the good rows, list the bad ones",
    ),
}
"""Query parameters of a CSV or Excel upload: the file's settings, and what a bad row does."""

SETTINGS = tuple(name for name in UPLOAD_PARAMETERS if name != "on_error")


def _setting(name: str, text: str) -> Any:
    """A query-string setting as the type its schema names (a number for ``paths=1000``);
    text that is no such number is a 422 naming the parameter."""
    kind = UPLOAD_PARAMETERS[name][0]["type"]
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        word = "a whole number" if kind == "integer" else "a number"
        raise InputError.for_field(name, f"must be {word}; got {text!r}") from None
    return text


def _parameters() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            "description": f"CSV or Excel upload only: {text}",
        }
        for name, (schema, text) in UPLOAD_PARAMETERS.items()
    ]


def _check_query(upload: bool) -> None:
    """Refuse unknown query parameters (every one named), and any on a JSON body (settings go
    in the body)."""
    unknown = [name for name in request.args if name not in UPLOAD_PARAMETERS]
    if unknown:
        allowed = ", ".join(UPLOAD_PARAMETERS)
        message = f"is not a query parameter of this endpoint; an upload takes {allowed}"
        raise InputError(
            f"{unknown[0]}: {message}" + (f" (and {len(unknown) - 1} more)" if unknown[1:] else ""),
            [FieldProblem(name, message) for name in unknown],
        )
    for name in request.args:
        if not upload and name == "on_error":
            raise InputError.for_field(
                name,
                "applies to CSV and Excel uploads, whose rows can be skipped; a JSON body is "
                "checked whole: fix or leave out the assets it names",
            )
        if not upload:
            raise InputError.for_field(
                name,
                f"query parameters set a CSV or Excel upload's settings; with a JSON body put "
                f'"{name}" in the body',
            )


def _is_excel(filename: str | None, mimetype: str | None, data: bytes) -> bool:
    """An Excel upload by its name, its media type, or its bytes (a .xlsx is a zip file)."""
    named = (filename or "").lower().endswith((".xlsx", ".xlsm"))
    return named or mimetype == XLSX_MEDIA_TYPE or data.startswith(b"PK\x03\x04")


def _upload() -> tuple[PortfolioUpload, str]:
    """The assets of an uploaded CSV or Excel file, screened by ``on_error``, and the format."""
    if request.mimetype == "multipart/form-data":
        file = request.files.get("file")
        if file is None:
            raise InputError.for_field("file", "attach the CSV or .xlsx as the form field 'file'")
        data = file.read()
        excel = _is_excel(file.filename, file.mimetype, data)
    else:
        data = request.get_data()
        excel = _is_excel(None, request.mimetype, data)
    on_error = request.args.get("on_error", "reject")
    if on_error not in ON_ERROR:
        raise InputError.for_field(
            "on_error", f"must be one of {', '.join(ON_ERROR)}; got {on_error!r}"
        )
    read = read_portfolio_xlsx if excel else read_portfolio_csv
    upload = read(data, limit_value("max_assets"), on_error)  # type: ignore[arg-type]
    return upload, "xlsx" if excel else "csv"


def _wants(media_type: str) -> bool:
    return request.accept_mimetypes.best == media_type


def _assets_of(record: dict[str, Any]) -> list[PortfolioAsset]:
    inputs = record.get("inputs") or {}
    return [PortfolioAsset.model_validate(a) for a in inputs.get("assets", [])]


@bp.post("/screen")
@operation(
    request=PortfolioRequest,
    response=PortfolioResult,
    status=201,
    tags=["portfolios"],
    jobs=True,
    parameters=_parameters(),
    uploads=("text/csv", XLSX_MEDIA_TYPE),
)
def screen() -> Any:
    """Rank the assets by risk-adjusted value (mean - 0.5 x ES95, or per unit of value with
    rank_by=risk_adjusted_ratio); portfolio VaR/ES with sector dependence, diversification
    benefit and concentration. A CSV or Excel upload takes its settings as query parameters
    (on_error=skip screens the good rows and lists the rejected ones). Large runs are jobs
    with progress."""
    upload = request.mimetype in {"text/csv", "multipart/form-data", XLSX_MEDIA_TYPE}
    _check_query(upload)
    rejected: list[dict[str, Any]] = []
    file_format = "json"
    if upload:
        parsed_file, file_format = _upload()
        payload: dict[str, Any] = {
            "assets": [a.model_dump(mode="json") for a in parsed_file.assets],
            **{
                name: _setting(name, request.args[name])
                for name in SETTINGS
                if name in request.args
            },
        }
        rejected = [r.model_dump(mode="json") for r in parsed_file.rejected]
    else:
        payload = json_body("text/csv, an .xlsx workbook or multipart/form-data for a file")
    assets = payload.get("assets")
    if isinstance(assets, list):
        check_limit("max_assets", len(assets), "assets")
    parsed = PortfolioRequest.model_validate(payload)
    check_limit("max_paths", parsed.paths, "paths")
    resolved = parsed.model_dump(mode="json", exclude_none=True)
    resolved["valuation_date"] = parsed.valuation_date.isoformat()
    if parsed.seed is None:
        resolved["seed"] = fresh_seed()
    if rejected:
        resolved["rejected"] = rejected
    sent = {
        "upload": file_format,
        "upload_rows": len(parsed.assets) + len(rejected),
        **{name: _setting(name, request.args[name]) for name in request.args},
    }
    body, status, headers = submit_or_run(
        "portfolio",
        portfolio_job,
        resolved,
        float(len(parsed.assets)) * parsed.paths,
        request=sent if upload else payload,
        seed=resolved["seed"],
        location="/v1/portfolios/{id}",
    )
    if status == 201 and _wants("text/csv"):
        return Response(body["csv"], status=201, mimetype="text/csv", headers=headers)
    if status == 201 and _wants(XLSX_MEDIA_TYPE):
        result = PortfolioResult.model_validate(body)
        data = to_xlsx(result, parsed.assets)
        return Response(data, status=201, mimetype=XLSX_MEDIA_TYPE, headers=headers)
    return body, status, headers


@bp.get("/<record_id>")
@operation(response=PortfolioResult, tags=["portfolios"], errors=[405])
def read(record_id: str) -> dict[str, Any]:
    """A stored screening, identical on every read (``GET /v1/portfolios/screen`` answers 405:
    screening is a POST)."""
    if record_id == "screen":
        raise MethodNotAllowed(valid_methods=["POST"])
    return record_answer(get_record("portfolio", record_id))


@bp.get("/<record_id>/csv")
@operation(tags=["portfolios"], media_type="text/csv")
def read_csv(record_id: str) -> Response:
    """The stored screening's ranked table as CSV."""
    record = get_record("portfolio", record_id)
    return Response(
        record["result"]["csv"],
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="screen-{record_id}.csv"'},
    )


@bp.get("/<record_id>/xlsx")
@operation(tags=["portfolios"], media_type=XLSX_MEDIA_TYPE)
def read_xlsx(record_id: str) -> Response:
    """The stored screening as an Excel workbook: the ranked table, totals, rejected rows."""
    record = get_record("portfolio", record_id)
    result = PortfolioResult.model_validate(record["result"])
    return Response(
        to_xlsx(result, _assets_of(record)),
        mimetype=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="screen-{record_id}.xlsx"'},
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
