"""POST /v1/portfolios/screen through HTTP: JSON, CSV and Excel uploads and downloads, bad files,
upload query parameters, on_error=skip, rank_by."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "portfolio.csv"
ASSETS = [
    {"id": "A", "kind": "patent", "sector": "pharma", "value": 1_000_000, "volatility": 0.4},
    {"id": "B", "kind": "trademark", "sector": "retail", "value": 3_000_000, "volatility": 0.2},
    {"id": "C", "kind": "software", "sector": "retail", "value": 500_000, "volatility": 0.5},
]


def test_json_screen_ranks_assets_and_gives_totals(client):
    body = {"assets": ASSETS, "paths": 2_000, "seed": 4, "valuation_date": "2026-11-27"}
    resp = client.post("/v1/portfolios/screen", json=body)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    ranked = [row["risk_adjusted_value"] for row in out["assets"]]
    assert ranked == sorted(ranked, reverse=True)
    assert out["totals"]["n_assets"] == 3
    assert out["totals"]["total_value"] == pytest.approx(4_500_000)
    stored = client.get(f"/v1/portfolios/{out['id']}").get_json()
    assert stored["totals"] == out["totals"]
    table = client.get(f"/v1/portfolios/{out['id']}/csv")
    assert table.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True))))
    assert [r["id"] for r in rows] == [row["id"] for row in out["assets"]]


def test_csv_upload_with_settings_in_the_query(client):
    resp = client.post(
        "/v1/portfolios/screen?paths=1000&seed=2&horizon_years=2&valuation_date=2026-11-27",
        data=SAMPLE.read_bytes(),
        content_type="text/csv",
    )
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert out["settings"]["horizon_years"] == 2
    with SAMPLE.open(encoding="utf-8-sig") as f:
        assert len(out["assets"]) == sum(1 for _ in csv.DictReader(f))


def test_multipart_upload_and_csv_answer(client):
    resp = client.post(
        "/v1/portfolios/screen?paths=1000&seed=2&valuation_date=2026-11-27",
        data={"file": (io.BytesIO(SAMPLE.read_bytes()), "portfolio.csv")},
        content_type="multipart/form-data",
        headers={"Accept": "text/csv"},
    )
    assert resp.status_code == 201
    assert resp.mimetype == "text/csv"
    assert resp.get_data(as_text=True).startswith("rank,")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"id,kind,sector,value\nA,patent,pharma,100\n", "columns.volatility"),
        (b"id,kind,sector,value,volatility\nA,patent,pharma,lots,0.3\n", "rows[1].value"),
        (
            b"id,kind,sector,value,volatility\nA,patent,pharma,100,0.3\nB,patent,x,-5,0.3\n",
            "rows[2].value",
        ),
        (b"id,kind,sector,value,volatility\nA,pat\xe9nt,pharma,100,0.3\n", "rows[1].kind"),
        (b"", "file"),
    ],
)
def test_bad_csv_is_refused_whole_naming_row_and_field(client, data, field):
    resp = client.post("/v1/portfolios/screen", data=data, content_type="text/csv")
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert resp.content_type == "application/problem+json"
    fields = [e["field"] for e in resp.get_json()["errors"]]
    assert field in fields, fields


def test_portfolio_over_the_asset_limit_names_the_limit(make_app):
    from tests.conftest import authed_client, key_for

    app = make_app(MAX_ASSETS=2)
    client = authed_client(app, key_for(app))
    resp = client.post("/v1/portfolios/screen", json={"assets": ASSETS, "paths": 1000})
    assert resp.status_code in (413, 422)
    assert resp.get_json()["limit"] == "max_assets"


def test_other_tenant_cannot_read_a_screening(client, other_client):
    body = {"assets": ASSETS, "paths": 1_000, "seed": 1}
    out = client.post("/v1/portfolios/screen", json=body).get_json()
    assert other_client.get(f"/v1/portfolios/{out['id']}").status_code == 404
    assert other_client.get(f"/v1/portfolios/{out['id']}/csv").status_code == 404


# --- upload settings, on_error, input columns, Excel, rank_by, 405 ----------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = b"id,kind,sector,value,volatility,jurisdiction,status,expiry_date\n"
ROWS = [
    b"A,patent,pharma,1000000,0.4,US,granted,2035-01-31\n",
    b"B,trademark,retail,3000000,0.2,DE,registered,\n",
    b"C,software,retail,500000,0.5,,granted,\n",
]
QUERY = "paths=1000&seed=2&valuation_date=2026-11-27"


def _problem_fields(resp):
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert resp.content_type == "application/problem+json"
    return [e["field"] for e in resp.get_json()["errors"]]


def test_ranked_csv_keeps_the_uploads_input_columns(client):
    resp = client.post(
        f"/v1/portfolios/screen?{QUERY}", data=HEADER + b"".join(ROWS), content_type="text/csv"
    )
    assert resp.status_code == 201, resp.get_json()
    table = client.get(f"/v1/portfolios/{resp.get_json()['id']}/csv").get_data(as_text=True)
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(table))}
    assert rows["A"]["volatility"] == "0.400000" and rows["A"]["jurisdiction"] == "US"
    assert rows["A"]["expiry_date"] == "2035-01-31" and rows["B"]["status"] == "registered"


def test_on_error_skip_screens_the_rest_and_reports_lines(client):
    data = HEADER + ROWS[0] + b"X,patent,pharma,lots,4%,US,granted,\n" + b"\n" + ROWS[1]
    assert _problem_fields(
        client.post(f"/v1/portfolios/screen?{QUERY}", data=data, content_type="text/csv")
    ) == ["rows[2].value", "rows[2].volatility"]
    resp = client.post(
        f"/v1/portfolios/screen?{QUERY}&on_error=skip", data=data, content_type="text/csv"
    )
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert out["totals"]["n_assets"] == 2
    assert [(r["row"], r["line"], r["id"]) for r in out["rejected"]] == [(2, 3, "X")]
    assert [e["field"] for e in out["rejected"][0]["errors"]] == [
        "rows[2].value",
        "rows[2].volatility",
    ]
    assert client.get(f"/v1/portfolios/{out['id']}").get_json()["rejected"] == out["rejected"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("paths=1000&path=5", "path"),
        ("on_error=ignore", "on_error"),
        ("rank_by=p05", "rank_by"),
        ("paths=many", "paths"),
    ],
)
def test_bad_or_unknown_query_parameters_are_refused_by_name(client, query, field):
    resp = client.post(
        f"/v1/portfolios/screen?{query}", data=HEADER + ROWS[0], content_type="text/csv"
    )
    assert field in _problem_fields(resp)
    assert field in resp.get_json()["detail"]


def test_a_json_body_takes_its_settings_in_the_body_not_the_query(client):
    resp = client.post("/v1/portfolios/screen?paths=1000", json={"assets": ASSETS})
    assert _problem_fields(resp) == ["paths"]
    assert "in the body" in resp.get_json()["errors"][0]["message"]
    resp = client.post("/v1/portfolios/screen?on_error=skip", json={"assets": ASSETS})
    assert _problem_fields(resp) == ["on_error"]
    assert "uploads" in resp.get_json()["errors"][0]["message"]


def test_rank_by_ratio_through_the_query_and_the_body(client):
    resp = client.post(
        f"/v1/portfolios/screen?{QUERY}&rank_by=risk_adjusted_ratio",
        data=HEADER + b"".join(ROWS),
        content_type="text/csv",
    )
    ratios = [r["risk_adjusted_ratio"] for r in resp.get_json()["assets"]]
    assert ratios == sorted(ratios, reverse=True)
    body = {"assets": ASSETS, "paths": 1_000, "seed": 1, "rank_by": "risk_adjusted_ratio"}
    assert (
        "risk_adjusted_ratio"
        in client.post("/v1/portfolios/screen", json=body).get_json()["settings"]["score"]
    )


def test_openapi_documents_the_upload(client):
    doc = client.get("/openapi.json").get_json()
    post = doc["paths"]["/v1/portfolios/screen"]["post"]
    names = {p["name"] for p in post["parameters"] if p["in"] == "query"}
    assert names == {
        "horizon_years",
        "paths",
        "seed",
        "currency",
        "valuation_date",
        "drift",
        "es_multiple",
        "rank_by",
        "on_error",
    }
    content = post["requestBody"]["content"]
    assert {"application/json", "text/csv", XLSX, "multipart/form-data"} <= set(content)
    assert "/v1/portfolios/{record_id}/xlsx" in doc["paths"]


def test_get_of_the_screen_endpoint_is_405_not_a_lookup(client):
    resp = client.get("/v1/portfolios/screen")
    assert resp.status_code == 405
    assert resp.content_type == "application/problem+json"
    assert "POST" in resp.headers["Allow"]


def _xlsx(rows):
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_excel_in_and_out(client):
    from openpyxl import load_workbook

    data = _xlsx(
        [
            ["id", "kind", "sector", "value", "volatility", "expiry_date"],
            ["A", "patent", "pharma", 1_000_000, 0.4, dt.date(2035, 1, 31)],
            ["B", "trademark", "retail", 3_000_000, 0.2, None],
        ]
    )
    resp = client.post(f"/v1/portfolios/screen?{QUERY}", data=data, content_type=XLSX)
    assert resp.status_code == 201, resp.get_json()
    record_id = resp.get_json()["id"]
    stored = client.get(f"/v1/portfolios/{record_id}").get_json()
    assert stored["request"]["upload"] == "xlsx" and stored["request"]["upload_rows"] == 2
    multipart = client.post(
        f"/v1/portfolios/screen?{QUERY}",
        data={"file": (io.BytesIO(data), "book.xlsx")},
        content_type="multipart/form-data",
        headers={"Accept": XLSX},
    )
    assert multipart.status_code == 201 and multipart.mimetype == XLSX
    out = client.get(f"/v1/portfolios/{record_id}/xlsx")
    assert out.status_code == 200 and out.mimetype == XLSX
    book = load_workbook(io.BytesIO(out.get_data()))
    rows = list(book["ranked"].iter_rows(values_only=True))
    header = list(rows[0])
    a = dict(zip(header, next(r for r in rows[1:] if r[1] == "A"), strict=True))
    assert a["volatility"] == pytest.approx(0.4) and a["expiry_date"].date() == dt.date(2035, 1, 31)
    bad = client.post("/v1/portfolios/screen", data=b"not a workbook", content_type=XLSX)
    assert _problem_fields(bad) == ["file"]
    mislabelled = client.post(f"/v1/portfolios/screen?{QUERY}", data=data, content_type="text/csv")
    assert mislabelled.status_code == 201, mislabelled.get_json()
