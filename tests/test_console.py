"""The web console, driven as a person would through its pages (Flask's test client keeps the
session cookie): sign in, value the README's patent through the form, see the result and its
report, download the PDF, acknowledge an alert, upload a portfolio, sign out."""

from __future__ import annotations

import datetime as dt
import html
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
    huge = '{"asset": {"name": ' + "9" * 5000 + "}}"  # more digits than Python reads
    too_long = browser.post(
        "/console/valuations", data={"csrf": _form_token(browser), "body": huge}
    )
    assert too_long.status_code == 422 and "4300 digits" in too_long.get_data(as_text=True)
    deep = browser.post(
        "/console/valuations", data={"csrf": _form_token(browser), "body": "[" * 100_000}
    )
    assert deep.status_code == 422 and "too deep" in deep.get_data(as_text=True)


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


# -- the valuation form, generated from the request models ------------------------------------


def _inputs(page: str) -> dict[str, str]:
    """What a browser would post of the page's valuation form: each input's value and each
    select's chosen option (the JSON option's ``body`` left out)."""
    form = page.split('id="valuation-form"', 1)[1].split("</form>", 1)[0]
    values = {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r'<input [^>]*name="([^"]+)" value="([^"]*)"', form)
    }
    for m in re.finditer(r'<textarea [^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form):
        values[m.group(1)] = html.unescape(m.group(2))
    for m in re.finditer(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2))
        values[m.group(1)] = chosen.group(1) if chosen else ""
    return values


def _method_schemas() -> dict[str, dict[str, Any]]:
    """Method name -> its JSON schema, from the request model's discriminated union."""
    from ipvalue.models.valuation import ValuationRequest

    schema = ValuationRequest.model_json_schema()
    items = schema["properties"]["methods"]["items"]
    return {
        name: schema["$defs"][ref.rsplit("/", 1)[1]]
        for name, ref in items["discriminator"]["mapping"].items()
    }


def test_the_form_offers_every_method_and_every_field(app: Any) -> None:
    browser = _signed_in(app)
    page = browser.get("/console/valuations/new").get_data(as_text=True)
    names = set(re.findall(r'name="([^"]+)"', page))
    methods = _method_schemas()
    assert len(methods) >= 10
    options = set(re.findall(r'<option value="([a-z_]+)"', page.split('name="m0.method"')[1]))
    assert set(methods) <= options
    for method, schema in methods.items():
        for field in set(schema["properties"]) - {"method"}:
            prefix = f"m0.{method}.{field}"
            assert any(n == prefix or n.startswith(prefix + ".") for n in names), prefix
    for field in ("asset.name", "asset.legal.filing_date", "valuation_date", "simulation.paths"):
        assert field in names
    assert 'name="body"' in page, "the JSON option stays"
    script = re.search(r'<script src="(/console/static/[^"]+)"', page)
    assert script
    served = browser.get(script.group(1))
    assert served.status_code == 200 and b"method-select" in served.data
    served.close()


def _fill(values: dict[str, str], names: set[str], prefix: str, body: Any) -> None:
    """Put ``body`` into the form's inputs, walking into objects the form has inputs for."""
    if prefix in names:
        values[prefix] = body if isinstance(body, str) else json.dumps(body)
    elif isinstance(body, dict):
        for key, inner in body.items():
            _fill(values, names, f"{prefix}.{key}" if prefix else key, inner)
    else:
        raise AssertionError(f"the form has no input for {prefix}")


def _patent_form(browser: Any, body: dict[str, Any]) -> dict[str, str]:
    """The form's inputs filled with ``body``, as a person would type it (the page shows one
    method block; every block has the same inputs)."""
    page = browser.get("/console/valuations/new").get_data(as_text=True)
    names = set(re.findall(r'name="([^"]+)"', page))
    values = {"csrf": _csrf(page), "methods": str(len(body["methods"]))}
    for key, inner in body.items():
        if key != "methods":
            _fill(values, names, key, inner)
    for index, method in enumerate(body["methods"]):
        values[f"m{index}.method"] = method["method"]
        block = names | {f"m{index}.{n[3:]}" for n in names if n.startswith("m0.")}
        for key, inner in method.items():
            if key != "method":
                _fill(values, block, f"m{index}.{method['method']}.{key}", inner)
    return values


def test_the_form_values_the_readme_patent(app: Any) -> None:
    browser = _signed_in(app)
    body = json.loads((EXAMPLES / "patent.json").read_text())
    body["simulation"] = {"paths": 2000, "seed": 3}
    sent = browser.post("/console/valuations", data=_patent_form(browser, body))
    assert sent.status_code == 302, sent.get_data(as_text=True)[-2000:]
    record_id = sent.headers["Location"].rsplit("/", 1)[-1]
    headers = {"Authorization": f"Bearer {key_for(app)}"}
    stored = app.test_client().get(f"/v1/valuations/{record_id}", headers=headers).get_json()
    direct = app.test_client().post("/v1/valuations", json=body, headers=headers).get_json()
    assert stored["request"] == body, "the form builds the very body of the README"
    assert stored["value"] == direct["value"]
    assert stored["distribution"]["p05"] == direct["distribution"]["p05"]
    page = browser.get(sent.headers["Location"]).get_data(as_text=True)
    assert money(stored["value"]["point"], "EUR") in page


def test_a_bad_form_field_shows_the_apis_message_beside_it(app: Any) -> None:
    browser = _signed_in(app)
    body = json.loads((EXAMPLES / "patent.json").read_text())
    values = _patent_form(browser, body)
    values["m0.relief_from_royalty.royalty_rate"] = "4.5"
    values["m1.replacement_cost.obsolescence.functional"] = "lots"
    answer = browser.post("/console/valuations", data=values)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    beside = dict(re.findall(r'<p class="error field-error" id="([^"]+)-error">([^<]*)</p>', page))
    rate = html.unescape(beside["m0.relief_from_royalty.royalty_rate"])
    assert rate.startswith("methods[0].royalty_rate: ") and "[0, 1]" in rate
    obsolete = html.unescape(beside["m1.replacement_cost.obsolescence.functional"])
    assert obsolete.startswith("methods[1].obsolescence.functional: ") and "string" in obsolete
    assert _inputs(page)["m0.relief_from_royalty.royalty_rate"] == "4.5", "the text stays"
    values = _patent_form(browser, body)
    values["valuation_date"] = "2010-01-01"  # before the filing date
    page = browser.post("/console/valuations", data=values).get_data(as_text=True)
    assert 'id="valuation_date-error"' in page and "filing" in page


def test_add_and_remove_a_method_keep_what_was_typed(app: Any) -> None:
    browser = _signed_in(app)
    values = _patent_form(browser, json.loads((EXAMPLES / "patent.json").read_text()))
    values["asset.name"] = "typed by hand"
    page = browser.post("/console/valuations", data={**values, "action": "add"})
    assert page.status_code == 200
    shown = _inputs(page.get_data(as_text=True))
    assert shown["methods"] == "3" and shown["asset.name"] == "typed by hand"
    assert shown["m2.method"] == "dcf", "a new block starts with the first method"
    assert shown["m1.replacement_cost.costs"] == values["m1.replacement_cost.costs"]
    shown["csrf"] = values["csrf"]
    removed = browser.post("/console/valuations", data={**shown, "action": "remove:0"})
    left = _inputs(removed.get_data(as_text=True))
    assert left["methods"] == "2" and left["m0.method"] == "replacement_cost"
    assert left["m0.replacement_cost.costs"] == values["m1.replacement_cost.costs"]


def test_a_derived_input_goes_through_the_form_as_json(app: Any) -> None:
    """A field that also takes a derivation (issue 14's build-up discount rate) says so in
    its hint and takes the object as JSON; an error inside it lands beside the field."""
    browser = _signed_in(app)
    body = json.loads((EXAMPLES / "patent.json").read_text())
    values = _patent_form(browser, body)
    page = browser.get("/console/valuations/new").get_data(as_text=True)
    assert "build_up" in page.split('name="m0.relief_from_royalty.discount_rate"', 1)[1][:1500]
    build_up = {"build_up": {"risk_free": 0.04, "equity_premium": 0.06, "specific_premium": 0.06}}
    values["m0.relief_from_royalty.discount_rate"] = json.dumps(build_up)
    sent = browser.post("/console/valuations", data=values)
    assert sent.status_code == 302, sent.get_data(as_text=True)[-1500:]
    build_up["build_up"]["risk_free"] = "high"  # type: ignore[assignment]
    values["m0.relief_from_royalty.discount_rate"] = json.dumps(build_up)
    refused = browser.post("/console/valuations", data=values).get_data(as_text=True)
    beside = dict(
        re.findall(r'<p class="error field-error" id="([^"]+)-error">([^<]*)</p>', refused)
    )
    assert html.unescape(beside["m0.relief_from_royalty.discount_rate"]).startswith(
        "methods[0].discount_rate.build_up.risk_free: "
    )


def test_a_refused_post_shows_its_form_again_with_the_apis_message_and_status(app: Any) -> None:
    """Every post the API refuses answers its form again, with the API's status and message
    (beside the field named, or under the form's own field for a problem without field
    errors); one it takes goes to what it made, a job's page for a job."""
    browser = _signed_in(app)
    token = _form_token(browser, "/console/volatility/new")
    short = browser.post("/console/volatility", data={"csrf": token, "series": "1 2"})
    page = short.get_data(as_text=True)
    assert short.status_code == 422 and "need at least 7 observations" in page
    assert ">1 2</textarea>" in page, "what was typed stays"
    not_numbers = browser.post("/console/volatility", data={"csrf": token, "series": "1 x"})
    assert not_numbers.status_code == 422 and "numbers only" in not_numbers.get_data(as_text=True)
    series = "100 101 99 102 104 103 105 107 106 108 110 109"
    started = browser.post("/console/volatility", data={"csrf": token, "series": series})
    assert started.status_code == 302 and started.headers["Location"].startswith("/console/jobs/")

    token = _form_token(browser, "/console/portfolios/new")
    bad = io.BytesIO(b"name,kind\nx,nothing\n")
    refused = browser.post(
        "/console/portfolios",
        data={"csrf": token, "file": (bad, "bad.csv")},
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<code>columns.id</code> required column" in page
    nothing = browser.post(
        "/console/portfolios", data={"csrf": token}, content_type="multipart/form-data"
    )
    assert nothing.status_code == 422 and "choose a CSV" in nothing.get_data(as_text=True)

    listed = browser.post("/console/valuations", data={"csrf": _form_token(browser), "body": "[1]"})
    page = listed.get_data(as_text=True)
    assert (
        listed.status_code == 400 and "must be a JSON object" in page and ">[1]</textarea>" in page
    )
