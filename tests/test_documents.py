"""The valuation report (HTML and PDF, English and Chinese) and the check of its SHA-256.

Golden tests are on the numbers the documents print, read back from the PDF's text layer with
pypdf, never on pixels.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import authed_client, key_for
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from ipvalue.api.db import MIGRATIONS, iso, migrate
from ipvalue.api.digest import record_digest
from ipvalue.api.documents.numbers import money, plain

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "patent.json"


@pytest.fixture
def db_client(make_app: Any, db_url: str) -> Any:
    app = make_app(DATABASE_URL=db_url)
    return authed_client(app, key_for(app))


def _valuation(client: Any, simulate: bool = True) -> dict[str, Any]:
    body = json.loads(EXAMPLE.read_text())
    if simulate:
        body["simulation"] = {"paths": 4000, "seed": 11}
    answer = client.post("/v1/valuations", json=body)
    assert answer.status_code == 201, answer.json
    return dict(answer.json)


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def simulated(client: Any) -> dict[str, Any]:
    valuation = _valuation(client)
    collateral = client.post(
        "/v1/collateral",
        json={
            "valuation_id": valuation["id"],
            "volatility": 0.3,
            "horizon_years": 3,
            "loan_amount": 300_000,
            "max_ltv": 0.5,
            "annual_pd": 0.02,
            "paths": 2000,
            "seed": 5,
        },
    )
    assert collateral.status_code == 201, collateral.json
    return {"valuation": valuation, "collateral": dict(collateral.json)}


def test_the_printed_sha256_is_the_records_canonical_json(client: Any, simulated: Any) -> None:
    valuation = simulated["valuation"]
    html = client.get(f"/v1/valuations/{valuation['id']}/report").data.decode()
    (item,) = [i for i in client.get("/v1/valuations").json["items"] if i["id"] == valuation["id"]]
    envelope = {k: item[k] for k in ("id", "kind", "created_at", "versions", "seed")}
    envelope |= {k: item[k] for k in ("request", "inputs", "job_id", "result")}
    canonical = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert expected in html
    check = client.get(f"/v1/records/verify?sha256={expected}").json
    assert check == {"match": True, "kind": "valuation", "id": valuation["id"]}


def test_the_pdf_prints_the_records_figures(client: Any, simulated: Any) -> None:
    valuation, collateral = simulated["valuation"], simulated["collateral"]
    answer = client.get(f"/v1/valuations/{valuation['id']}/report?format=pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert answer.data.startswith(b"%PDF")
    text_layer = _pdf_text(answer.data)
    flat = re.sub(r"\s+", " ", text_layer)
    distribution = valuation["distribution"]
    for figure in (
        valuation["value"]["point"],
        distribution["p05"],
        distribution["p50"],
        distribution["p95"],
        collateral["max_loan"],
        collateral["lending_value"],
    ):
        assert money(figure, "EUR") in flat, money(figure, "EUR")
    html = client.get(f"/v1/valuations/{valuation['id']}/report").data.decode()
    (digest,) = set(re.findall(r"[0-9a-f]{64}", html))
    assert digest in flat.replace(" ", ""), "the PDF prints the record's SHA-256"
    assert client.get(f"/v1/records/verify?sha256={digest}").json["match"] is True


def test_html_and_pdf_and_both_languages_show_the_same_numbers(client: Any, simulated: Any) -> None:
    vid = simulated["valuation"]["id"]
    point = money(simulated["valuation"]["value"]["point"], "EUR")
    english = client.get(f"/v1/valuations/{vid}/report?lang=en").data.decode()
    chinese = client.get(f"/v1/valuations/{vid}/report?lang=zh").data.decode()
    chinese_pdf = _pdf_text(client.get(f"/v1/valuations/{vid}/report?format=pdf&lang=zh").data)
    assert point in english and point in chinese and point in chinese_pdf
    assert "Valuation report" in english and "评估报告" in chinese
    assert "评估报告" in chinese_pdf, "the Chinese PDF embeds a font its text layer reads back"
    for html in (english, chinese):
        assert html.count("data:image/png;base64,") == 3  # histogram, tornado, fan


def test_every_chart_is_a_png_and_the_page_prints_on_a4(client: Any, simulated: Any) -> None:
    vid = simulated["valuation"]["id"]
    html = client.get(f"/v1/valuations/{vid}/report").data.decode()
    assert "size: a4" in html
    pdf = PdfReader(io.BytesIO(client.get(f"/v1/valuations/{vid}/report?format=pdf").data))
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_a_valuation_without_simulation_or_collateral_still_reports(client: Any) -> None:
    valuation = _valuation(client, simulate=False)
    html = client.get(f"/v1/valuations/{valuation['id']}/report").data.decode()
    assert money(valuation["value"]["point"], "EUR") in html
    assert "No collateral assessment was made from this valuation." in html
    assert "data:image/png" not in html
    assert "Next revaluation date" in html


def test_the_report_is_the_same_on_every_read(client: Any, simulated: Any) -> None:
    vid = simulated["valuation"]["id"]
    first = client.get(f"/v1/valuations/{vid}/report").data
    assert client.get(f"/v1/valuations/{vid}/report").data == first


def test_another_tenants_report_and_digest_are_not_found(
    client: Any, other_client: Any, simulated: Any
) -> None:
    vid = simulated["valuation"]["id"]
    html = client.get(f"/v1/valuations/{vid}/report").data.decode()
    (digest,) = set(re.findall(r"[0-9a-f]{64}", html))
    assert other_client.get(f"/v1/valuations/{vid}/report").status_code == 404
    assert other_client.get(f"/v1/records/verify?sha256={digest}").json["match"] is False


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("format=docx", "format", "html, pdf"),
        ("lang=fr", "lang", "en, zh"),
        ("colour=red", "colour", "unknown query parameter"),
    ],
)
def test_bad_report_parameters_are_422_naming_the_allowed_values(
    client: Any, simulated: Any, query: str, field: str, words: str
) -> None:
    answer = client.get(f"/v1/valuations/{simulated['valuation']['id']}/report?{query}")
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    assert answer.json["errors"][0]["field"] == field
    assert words in answer.json["errors"][0]["message"]


def test_unknown_report_and_bad_digest(client: Any) -> None:
    missing = client.get("/v1/valuations/no-such-id/report")
    assert missing.status_code == 404
    assert client.get("/v1/records/verify?sha256=" + "0" * 64).json == {
        "match": False,
        "kind": None,
        "id": None,
    }
    for bad in ("xyz", "A" * 64, "0" * 63, ""):
        answer = client.get(f"/v1/records/verify?sha256={bad}")
        assert answer.status_code == 422
        assert answer.json["errors"][0]["field"] == "sha256"
    assert client.get("/v1/records/verify").status_code == 422


def test_every_record_kind_gets_its_digest_at_write(db_client: Any) -> None:
    valuation = _valuation(db_client, simulate=False)
    collateral = db_client.post(
        "/v1/collateral", json={"value": 1_000_000, "volatility": 0.3, "horizon_years": 2}
    ).json
    for kind, record_id in (("valuation", valuation["id"]), ("collateral", collateral["id"])):
        items = db_client.get(f"/v1/{'valuations' if kind == 'valuation' else kind}").json
        (item,) = [i for i in items["items"] if i["id"] == record_id]
        digest = record_digest(item)
        assert db_client.get(f"/v1/records/verify?sha256={digest}").json["id"] == record_id


def test_the_migration_gives_existing_records_their_digest(tmp_path: Path) -> None:
    """A database at revision 0004 with a record: upgrading fills the record's digest."""
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    document = {
        "id": "r1",
        "kind": "valuation",
        "created_at": "2026-01-02 03:04:05.000006",
        "versions": {"python": "3.11"},
        "seed": "7",
        "request": {"a": [1, 2.5]},
        "inputs": {"a": [1, 2.5]},
        "job_id": None,
        "result": {"value": {"point": 1.25}, "名称": "专利"},
    }
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (name, created_at) VALUES ('t', '2026-01-01')"))
        conn.execute(
            text(
                "INSERT INTO records (id, kind, tenant, created_at, request, inputs, seed, "
                "versions, result, job_id) VALUES (:id, :kind, 't', :created_at, :request, "
                ":inputs, :seed, :versions, :result, :job_id)"
            ),
            {
                **document,
                **{
                    k: json.dumps(document[k], ensure_ascii=False)
                    for k in ("versions", "request", "inputs", "result")
                },
            },
        )
    migrate(engine)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT sha256 FROM records WHERE id = 'r1'")).scalar_one()
    created = dt.datetime(2026, 1, 2, 3, 4, 5, 6)
    assert stored == record_digest({**document, "created_at": iso(created)})
    with engine.begin() as conn, pytest.raises(Exception, match="immutable"):
        conn.execute(text("UPDATE records SET seed = '8' WHERE id = 'r1'"))


def test_every_method_and_approach_has_a_chinese_label() -> None:
    from ipvalue.api.documents.words import TERMS
    from ipvalue.models.methods import METHOD_NAMES
    from ipvalue.valuation.methods.registry import APPROACH

    zh = TERMS["zh"]
    missing = [n for n in (*METHOD_NAMES, *set(APPROACH.values())) if n not in zh]
    assert not missing


# -- the portfolio screening report -------------------------------------------------------

PORTFOLIO = Path(__file__).resolve().parents[1] / "examples" / "portfolio.json"


@pytest.fixture
def screened(client: Any) -> dict[str, Any]:
    body = json.loads(PORTFOLIO.read_text())
    body["paths"] = 2000
    answer = client.post("/v1/portfolios/screen", json=body)
    assert answer.status_code == 201, answer.json
    return dict(answer.json)


def test_the_portfolio_pdf_prints_the_screens_figures(client: Any, screened: Any) -> None:
    answer = client.get(f"/v1/portfolios/{screened['id']}/report?format=pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    flat = re.sub(r"\s+", " ", _pdf_text(answer.data))
    totals, currency = screened["totals"], screened["currency"]
    for name in ("total_value", "mean", "sd", "p05", "p50", "p95"):
        assert money(totals[name], currency) in flat, name
    for tail in totals["tail"]:
        assert f"{plain(tail['var'], 0)} ± {plain(tail['se_var'], 0)}" in flat
        assert plain(tail["diversification_benefit"], 0) in flat
    # the ranked table, in rank order, each row with its value range and risk figures
    positions = []
    for asset in screened["assets"]:
        assert f"{asset['rank']} {asset['name']}" in flat, asset["name"]
        figures = " ".join(plain(asset[k], 0) for k in ("p05", "p50", "p95", "es95"))
        assert figures in flat, (asset["id"], figures)
        positions.append(flat.index(figures))
    assert positions == sorted(positions), "rows print in rank order"
    concentration = screened["concentration"]
    assert f"{100 * concentration['largest_sector_share']:.1f} %" in flat
    assert f"{concentration['hhi']:,.4f}" in flat
    html = client.get(f"/v1/portfolios/{screened['id']}/report").data.decode()
    (digest,) = set(re.findall(r"[0-9a-f]{64}", html))
    assert digest in flat.replace(" ", "")
    assert client.get(f"/v1/records/verify?sha256={digest}").json == {
        "match": True,
        "kind": "portfolio",
        "id": screened["id"],
    }
    assert f"Seed {screened['settings']['seed_entropy']}" in flat
    assert "numpy" in flat and "ipvalue" in flat


def test_the_portfolio_report_has_its_chart_warnings_and_both_languages(
    client: Any, screened: Any
) -> None:
    pid = screened["id"]
    english = client.get(f"/v1/portfolios/{pid}/report").data.decode()
    chinese = client.get(f"/v1/portfolios/{pid}/report?lang=zh").data.decode()
    chinese_pdf = _pdf_text(client.get(f"/v1/portfolios/{pid}/report?format=pdf&lang=zh").data)
    total = money(screened["totals"]["total_value"], "EUR")
    assert total in english and total in chinese and total in chinese_pdf
    assert "Portfolio screening report" in english and "组合筛查报告" in chinese
    assert "组合筛查报告" in chinese_pdf
    for html in (english, chinese):
        assert html.count("data:image/png;base64,") == 1  # the ranked value ranges
    challenged = [a["name"] for a in screened["assets"] if a["under_challenge"]]
    assert challenged, "the example holds a challenged patent"
    assert f"{len(challenged)} asset(s) under challenge: " in english
    assert all(name in english.split("under challenge: ", 1)[1] for name in challenged)
    assert client.get(f"/v1/portfolios/{pid}/report").data == english.encode()


def test_rejected_upload_rows_and_a_long_table_are_reported(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ipvalue.api.documents import portfolio

    lines = (EXAMPLE.parent / "portfolio.csv").read_text().splitlines()
    lines.insert(2, "BAD-1,Broken row,patent,energy,,US,-5,0.4,granted,,,,false,,")
    answer = client.post(
        "/v1/portfolios/screen?paths=500&seed=2&on_error=skip&valuation_date=2026-11-27",
        data="\n".join(lines),
        content_type="text/csv",
    )
    assert answer.status_code == 201, answer.json
    (rejected,) = answer.json["rejected"]
    monkeypatch.setattr(portfolio, "TABLE_ROWS", 3)
    html = client.get(f"/v1/portfolios/{answer.json['id']}/report").data.decode()
    assert "1 row(s) of the upload were rejected" in html
    assert rejected["errors"][0]["field"] in html and "BAD-1" in html
    n = len(answer.json["assets"])
    assert f"the first 3 of {n} assets" in html
    assert f"/v1/portfolios/{answer.json['id']}/csv" in html


def test_portfolio_report_bad_input(client: Any, other_client: Any, screened: Any) -> None:
    pid = screened["id"]
    assert client.get("/v1/portfolios/no-such-id/report").status_code == 404
    assert other_client.get(f"/v1/portfolios/{pid}/report").status_code == 404
    for query, field, allowed in (
        ("format=docx", "format", "html, pdf"),
        ("lang=fr", "lang", "en, zh"),
    ):
        answer = client.get(f"/v1/portfolios/{pid}/report?{query}")
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
        assert answer.json["errors"][0]["field"] == field
        assert allowed in answer.json["errors"][0]["message"]
