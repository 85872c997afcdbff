"""The console's pages: sign in and out, the dashboard, value an asset, a valuation with its
report, loans by risk, a loan with its alerts (acknowledge them), volatility jobs with their
progress, and a portfolio upload with the ranked download."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import wraps
from importlib import resources
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request

from ipvalue.api.console import form
from ipvalue.api.console.client import Answer, api
from ipvalue.api.console.session import check_csrf, csrf_token, sign_in, signed_in_key
from ipvalue.api.openapi import operation

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
)

EXAMPLE_BODY = {
    "asset": {
        "name": "EP1234567 battery separator",
        "kind": "patent",
        "jurisdiction": "DE",
        "legal": {"status": "granted", "filing_date": "2016-05-10", "grant_date": "2019-02-01"},
    },
    "valuation_date": "2026-11-27",
    "currency": "EUR",
    "methods": [
        {
            "method": "relief_from_royalty",
            "revenue": {"base": 4000000, "growth": 0.04, "years": 10},
            "royalty_rate": {"dist": "triangular", "low": 0.03, "mode": 0.045, "high": 0.06},
            "tax_rate": 0.3,
            "discount_rate": 0.16,
        }
    ],
    "simulation": {"paths": 10000, "seed": 42},
}


def _page(template: str, **context: Any) -> str:
    return render_template(f"console/{template}", csrf=csrf_token(), **context)


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view runs with the session's key as ``key``; without one, to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = signed_in_key()
        if key is None:
            return redirect(f"/console/login?next={request.path}")
        if request.method == "POST":
            check_csrf()
        return view(key, *args, **kwargs)

    return wrapper


def _or_404(answer: Answer) -> Answer:
    if answer.status == 404:
        abort(404)
    return answer


@bp.get("/login")
@operation(media_type="text/html", tags=["console"])
def login_form() -> str:
    """The console's sign-in page (an API key)."""
    return _page("login.html", error=None, next=request.args.get("next", "/console/"))


@bp.post("/login")
@operation(media_type="text/html", tags=["console"], status=302)
def login() -> Any:
    """Sign in with an API key: a session cookie for the key's tenant."""
    secret = request.form.get("key", "").strip()
    target = request.form.get("next") or "/console/"
    if not target.startswith("/console/"):
        target = "/console/"
    info = current_app.extensions["ipvalue.keys"].lookup(secret) if secret else None
    if info is None:
        return _page("login.html", error="the API key is unknown or revoked", next=target), 401
    sign_in(secret, info)
    return redirect(target)


@bp.post("/logout")
@operation(media_type="text/html", tags=["console"], status=302)
def logout() -> Any:
    """Sign out: the session ends."""
    from flask import session

    check_csrf()
    session.clear()
    return redirect("/console/login")


@bp.get("/")
@operation(media_type="text/html", tags=["console"])
@signed_in
def dashboard(key: str) -> str:
    """The tenant's recent valuations, loans by risk and open alerts."""
    valuations = api("GET", "/v1/valuations", key, query_string={"limit": 20}).json
    loans = api("GET", "/v1/loans", key, query_string={"sort": "risk", "limit": 20})
    alerts = api("GET", "/v1/alerts", key, query_string={"status": "open", "limit": 20})
    return _page(
        "dashboard.html",
        valuations=valuations["items"],
        loans=loans.json["items"] if loans.ok else [],
        alerts=alerts.json["items"] if alerts.ok else [],
    )


def _valuation_form(
    values: Mapping[str, str],
    beside: Mapping[str, str] | None = None,
    rest: Mapping[str, str] | None = None,
    body: str | None = None,
    body_errors: Mapping[str, str] | None = None,
) -> str:
    """The valuation page: the form generated from the request models (`form`), and the
    JSON option (pasted or uploaded)."""
    return _page(
        "valuation_new.html",
        groups=form.request_groups(),
        forms=list(form.method_forms().values()),
        count=form.method_count(values),
        values=values,
        beside=beside or {},
        rest=rest or {},
        body=json.dumps(EXAMPLE_BODY, indent=2) if body is None else body,
        body_errors=body_errors or {},
    )


def _post(
    key: str,
    path: str,
    location: Callable[[dict[str, Any]], str],
    field: str,
    again: Callable[[dict[str, str]], str],
    **send: Any,
) -> Any:
    """``POST path`` on the API and the console's answer to the post: the page of what the
    API made, or the form again with the API's messages.

    Parameters
    ----------
    key : str
        The signed-in API key.
    path : str
        The API's path, e.g. ``/v1/valuations``.
    location : callable
        ``location(answer) -> str``: the console page of a 2xx answer's JSON (a 202 always goes
        to its job's page).
    field : str
        Where a refusal without field errors (a problem's ``detail`` only) is shown.
    again : callable
        ``again(messages) -> str``: the form again, with the API's messages by field; it is
        answered with the API's status.
    **send
        The request's ``json``, or ``data`` with ``content_type``, and ``query_string``.
    """
    answer = api("POST", path, key, **send)
    if answer.status == 202:
        return redirect(f"/console/jobs/{answer.json['job_id']}")
    if answer.ok:
        return redirect(location(answer.json))
    detail = answer.json.get("detail", "refused") if isinstance(answer.json, dict) else "refused"
    return again(answer.field_errors() or {field: detail}), answer.status


def _valuation_page(result: dict[str, Any]) -> str:
    return f"/console/valuations/{result['id']}"


def _job_page(result: dict[str, Any]) -> str:
    return f"/console/jobs/{result['job_id']}"


def _portfolio_page(result: dict[str, Any]) -> str:
    return f"/console/portfolios/{result['id']}"


@bp.get("/valuations/new")
@operation(media_type="text/html", tags=["console"])
@signed_in
def new_valuation(key: str) -> str:
    """The valuation form: every method's fields (generated from the request models), filled
    with the README's patent; or a JSON body (pasted, uploaded or edited from the example)."""
    del key
    return _valuation_form(form.form_values(EXAMPLE_BODY))


@bp.post("/valuations")
@operation(media_type="text/html", tags=["console"], status=302)
@signed_in
def create_valuation(key: str) -> Any:
    """Value the asset of the form (or of the JSON body) through ``POST /v1/valuations``;
    the API's messages are shown beside the fields they name. ``action=add`` adds a method
    block, ``action=remove:N`` removes block N."""
    upload = request.files.get("file")
    if "body" in request.form or (upload and upload.filename):
        return _create_from_json(key)
    values = {k: v for k, v in request.form.items() if k not in {"csrf", "action"}}
    action = request.form.get("action", "value")
    if action == "add":
        values["methods"] = str(form.method_count(values) + 1)
        return _valuation_form(values)
    if action.startswith("remove:") and action[7:].isdigit():
        return _valuation_form(form.drop_method(values, int(action[7:])))

    def again(errors: dict[str, str]) -> str:
        return _valuation_form(values, *form.field_messages(errors, values))

    return _post(
        key, "/v1/valuations", _valuation_page, "body", again, json=form.build_body(values)
    )


def _create_from_json(key: str) -> Any:
    """The JSON option: a pasted or uploaded body, posted as it is."""
    upload = request.files.get("file")
    text = upload.read().decode("utf-8", "replace") if upload and upload.filename else ""
    text = text or request.form.get("body", "")
    values = form.form_values(EXAMPLE_BODY)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        errors = {"body": f"is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"}
        return _valuation_form(values, body=text, body_errors=errors), 422
    except ValueError as exc:  # an integer of more digits than Python converts
        errors = {"body": f"holds a number that cannot be read: {exc}"}
        return _valuation_form(values, body=text, body_errors=errors), 422
    except RecursionError:
        errors = {"body": "nests objects and arrays too deep to read; flatten the body"}
        return _valuation_form(values, body=text, body_errors=errors), 422

    def again(errors: dict[str, str]) -> str:
        return _valuation_form(values, body=text, body_errors=errors)

    return _post(key, "/v1/valuations", _valuation_page, "body", again, json=body)


@bp.get("/valuations/<record_id>")
@operation(media_type="text/html", tags=["console"])
@signed_in
def valuation(key: str, record_id: str) -> str:
    """A stored valuation: its figures and its report (HTML inline, PDF to download)."""
    record = _or_404(api("GET", f"/v1/valuations/{record_id}", key)).json
    return _page("valuation.html", record=record)


@bp.get("/valuations/<record_id>/report")
@operation(media_type=("text/html", "application/pdf"), tags=["console"])
@signed_in
def valuation_report(key: str, record_id: str) -> Response:
    """The valuation's report through the console session (``format``, ``lang``)."""
    return _report(key, f"/v1/valuations/{record_id}/report")


def _report(key: str, path: str) -> Response:
    """A document of the API (``path``) through the console session, with the page's
    ``format`` and ``lang``."""
    query = {k: v for k, v in request.args.items() if k in {"format", "lang"}}
    answer = _or_404(api("GET", path, key, query_string=query))
    return Response(answer.data, status=answer.status, mimetype=answer.mimetype)


@bp.get("/loans/<loan_id>")
@operation(media_type="text/html", tags=["console"])
@signed_in
def loan(key: str, loan_id: str) -> str:
    """A loan with its monitoring and alerts (acknowledge them here)."""
    shown = _or_404(api("GET", f"/v1/loans/{loan_id}", key)).json
    alerts = api("GET", "/v1/alerts", key, query_string={"loan_id": loan_id, "limit": 100})
    return _page("loan.html", loan=shown, alerts=alerts.json["items"] if alerts.ok else [])


@bp.get("/loans/<loan_id>/report")
@operation(media_type=("text/html", "application/pdf"), tags=["console"])
@signed_in
def loan_report(key: str, loan_id: str) -> Response:
    """The loan's guarantee certificate through the console session."""
    return _report(key, f"/v1/loans/{loan_id}/report")


@bp.post("/alerts/<alert_id>/acknowledge")
@operation(media_type="text/html", tags=["console"], status=302)
@signed_in
def acknowledge(key: str, alert_id: str) -> Any:
    """Acknowledge an alert (who saw it, and a note)."""
    body = {"by": request.form.get("by", "").strip() or "console", "note": request.form.get("note")}
    body = {k: v for k, v in body.items() if v}
    answer = _or_404(api("POST", f"/v1/alerts/{alert_id}/acknowledge", key, json=body))
    back = request.form.get("loan_id", "")
    if not answer.ok:
        abort(answer.status)
    return redirect(f"/console/loans/{back}" if back else "/console/")


@bp.get("/volatility/new")
@operation(media_type="text/html", tags=["console"])
@signed_in
def new_volatility(key: str) -> str:
    """The volatility form: a series of levels or returns."""
    del key
    return _page("volatility_new.html", errors={}, form={})


@bp.post("/volatility")
@operation(media_type="text/html", tags=["console"], status=302)
@signed_in
def create_volatility(key: str) -> Any:
    """Start a Bayesian volatility estimate (a job) and watch its progress."""
    fields = request.form.to_dict()
    try:
        series = [float(x) for x in fields.get("series", "").replace(",", " ").split()]
        periods = int(fields.get("periods_per_year") or 12)
    except ValueError:
        return _page("volatility_new.html", errors={"series": "numbers only"}, form=fields), 422
    body = {"series": series, "kind": fields.get("kind", "levels"), "periods_per_year": periods}

    def again(errors: dict[str, str]) -> str:
        return _page("volatility_new.html", errors=errors, form=fields)

    return _post(key, "/v1/volatility", _job_page, "series", again, json=body)


@bp.get("/jobs/<job_id>")
@operation(media_type="text/html", tags=["console"])
@signed_in
def job(key: str, job_id: str) -> str:
    """A job's progress (the page refreshes itself until the job ends)."""
    state = _or_404(api("GET", f"/v1/jobs/{job_id}", key)).json
    return _page("job.html", job=state)


@bp.get("/portfolios/new")
@operation(media_type="text/html", tags=["console"])
@signed_in
def new_portfolio(key: str) -> str:
    """The portfolio upload form (CSV or Excel)."""
    del key
    return _page("portfolio_new.html", errors={})


@bp.post("/portfolios")
@operation(media_type="text/html", tags=["console"], status=302)
@signed_in
def create_portfolio(key: str) -> Any:
    """Screen an uploaded portfolio file through ``POST /v1/portfolios/screen``."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page("portfolio_new.html", errors={"file": "choose a CSV or .xlsx file"}), 422
    data = upload.read()
    excel = upload.filename.lower().endswith(".xlsx")
    media = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if excel else "text/csv"
    )
    query = {k: v for k, v in request.form.items() if k in {"paths", "seed", "on_error"} and v}

    def again(errors: dict[str, str]) -> str:
        return _page("portfolio_new.html", errors=errors)

    send = {"data": data, "content_type": media, "query_string": query}
    return _post(key, "/v1/portfolios/screen", _portfolio_page, "file", again, **send)


@bp.get("/portfolios/<record_id>")
@operation(media_type="text/html", tags=["console"])
@signed_in
def portfolio(key: str, record_id: str) -> str:
    """A screened portfolio: totals and the ranked table, with downloads."""
    record = _or_404(api("GET", f"/v1/portfolios/{record_id}", key)).json
    return _page("portfolio.html", record=record)


@bp.get("/portfolios/<record_id>/report")
@operation(media_type=("text/html", "application/pdf"), tags=["console"])
@signed_in
def portfolio_report(key: str, record_id: str) -> Response:
    """The screening's report through the console session (``format``, ``lang``)."""
    return _report(key, f"/v1/portfolios/{record_id}/report")


@bp.get("/portfolios/<record_id>/<fmt>")
@operation(media_type=("text/csv", "application/octet-stream"), tags=["console"])
@signed_in
def portfolio_download(key: str, record_id: str, fmt: str) -> Response:
    """The ranked table as CSV or Excel."""
    if fmt not in {"csv", "xlsx"}:
        abort(404)
    answer = _or_404(api("GET", f"/v1/portfolios/{record_id}/{fmt}", key))
    response = Response(answer.data, status=answer.status, mimetype=answer.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="ranked-{record_id}.{fmt}"'
    return response


def static_files() -> list[str]:
    """The console's own static files (all served by the app)."""
    folder = resources.files("ipvalue.api.console") / "static"
    return sorted(p.name for p in folder.iterdir() if p.is_file())
