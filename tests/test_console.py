"""The web console, driven as a person would through its pages (Flask's test client keeps the
session cookie): sign in, value the README's patent through the form, see the result and its
report, download the PDF, acknowledge an alert, upload a portfolio, sign out."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import key_for
from pypdf import PdfReader

from ipvalue.api.documents.numbers import money

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "every console form carries the CSRF token"
    return match.group(1)


def _signed_in(app: Any, tenant: str = "test-tenant") -> Any:
    browser = app.test_client()
    answer = browser.post("/console/login", data={"key": key_for(app, tenant)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/"
    return browser


def _form_token(browser: Any, path: str = "/console/valuations/new") -> str:
    return _csrf(browser.get(path).get_data(as_text=True))


def test_sign_in_with_a_key_and_out_again(app: Any) -> None:
    browser = app.test_client()
    assert browser.get("/console/").status_code == 302  # to the sign-in page
    bad = browser.post("/console/login", data={"key": "ipv_nonsense"})
    assert bad.status_code == 401 and "unknown or revoked" in bad.get_data(as_text=True)
    browser = app.test_client()
    signed = browser.post("/console/login", data={"key": key_for(app)})
    cookie = signed.headers["Set-Cookie"]
    assert cookie.startswith("ipvalue_console=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    home = browser.get("/console/")
    assert home.status_code == 200 and "Dashboard" in home.get_data(as_text=True)
    out = browser.post("/console/logout", data={"csrf": _csrf(home.get_data(as_text=True))})
    assert out.status_code == 302
    assert browser.get("/console/").status_code == 302


def test_value_the_readme_patent_through_the_form(app: Any) -> None:
    browser = _signed_in(app)
    body = json.loads((EXAMPLES / "patent.json").read_text())
    body["simulation"] = {"paths": 4000, "seed": 3}
    sent = browser.post(
        "/console/valuations",
        data={"csrf": _form_token(browser), "body": json.dumps(body)},
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    page = browser.get(sent.headers["Location"]).get_data(as_text=True)
    record_id = sent.headers["Location"].rsplit("/", 1)[-1]
    api_record = (
        app.test_client()
        .get(
            f"/v1/valuations/{record_id}",
            headers={"Authorization": f"Bearer {key_for(app)}"},
        )
        .get_json()
    )
    assert money(api_record["value"]["point"], "EUR") in page  # the API's figure, not a copy
    report = browser.get(f"/console/valuations/{record_id}/report").get_data(as_text=True)
    assert report.count("data:image/png;base64,") >= 2  # histogram and tornado
    pdf = browser.get(f"/console/valuations/{record_id}/report?format=pdf")
    assert pdf.mimetype == "application/pdf"
    text = re.sub(
        r"\s+", " ", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    )
    assert money(api_record["value"]["point"], "EUR") in text
    assert money(api_record["distribution"]["p05"], "EUR") in text
    home = browser.get("/console/").get_data(as_text=True)
    assert body["asset"]["name"] in home


def test_bad_form_input_shows_the_apis_message_beside_the_field(app: Any) -> None:
    browser = _signed_in(app)
    body = json.loads((EXAMPLES / "patent.json").read_text())
    body["methods"][0]["royalty_rate"] = 4.5
    answer = browser.post(
        "/console/valuations", data={"csrf": _form_token(browser), "body": json.dumps(body)}
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "methods[0].royalty_rate" in page
    not_json = browser.post(
        "/console/valuations", data={"csrf": _form_token(browser), "body": "{oops"}
    )
    assert not_json.status_code == 422 and "is not JSON" in not_json.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(app: Any) -> None:
    browser = _signed_in(app)
    answer = browser.post("/console/valuations", data={"body": "{}"})
    assert answer.status_code == 400
    assert "CSRF" in answer.get_json()["detail"]
    forged = browser.post("/console/valuations", data={"body": "{}", "csrf": "guess"})
    assert forged.status_code == 400


def test_a_session_expires_and_a_revoked_key_ends_it(make_app: Any) -> None:
    app = make_app(CONSOLE_SESSION_MINUTES=1.0, KEY_CACHE_SECONDS=0.0)
    browser = _signed_in(app)
    assert browser.get("/console/").status_code == 200
    with browser.session_transaction() as session:
        session["since"] = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    assert browser.get("/console/").status_code == 302
    from ipvalue.api.keys import revoke_key

    secret = key_for(app)
    browser = app.test_client()
    browser.post("/console/login", data={"key": secret})
    assert browser.get("/console/").status_code == 200
    revoke_key(app.extensions["ipvalue.engine"], secret[:12])
    assert browser.get("/console/").status_code == 302


def test_a_tenant_sees_only_its_own_records(app: Any) -> None:
    mine = _signed_in(app)
    body = json.loads((EXAMPLES / "patent.json").read_text())
    sent = mine.post(
        "/console/valuations", data={"csrf": _form_token(mine), "body": json.dumps(body)}
    )
    path = sent.headers["Location"]
    other = _signed_in(app, "other-tenant")
    assert other.get(path).status_code == 404
    assert body["asset"]["name"] not in other.get("/console/").get_data(as_text=True)


def test_upload_a_portfolio_and_download_the_ranked_file(app: Any) -> None:
    browser = _signed_in(app)
    token = _form_token(browser, "/console/portfolios/new")
    data = {
        "csrf": token,
        "paths": "1000",
        "file": (io.BytesIO((EXAMPLES / "portfolio.csv").read_bytes()), "portfolio.csv"),
    }
    sent = browser.post("/console/portfolios", data=data, content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)[:400]
    page = browser.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Download CSV" in page
    ranked = browser.get(sent.headers["Location"] + "/csv")
    assert ranked.status_code == 200 and ranked.data.startswith(b"rank,")
    assert "Report (PDF)" in page
    report = browser.get(sent.headers["Location"] + "/report?format=pdf")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.data)).pages)
    assert "Portfolio screening report" in text


def test_every_asset_is_served_by_the_app_and_the_console_is_not_in_the_api_document(
    app: Any,
) -> None:
    browser = app.test_client()
    page = browser.get("/console/login").get_data(as_text=True)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    for path in re.findall(r'(?:src|href)="(/console/static/[^"]+)"', page):
        answer = browser.get(path)
        assert answer.status_code == 200
        answer.close()
    document = browser.get("/openapi.json").get_json()
    assert not [p for p in document["paths"] if p.startswith("/console")]


@pytest.mark.parametrize("path", ["/console/valuations/none", "/console/loans/none"])
def test_unknown_records_are_404(app: Any, path: str) -> None:
    assert _signed_in(app).get(path).status_code == 404
