"""POST /v1/portfolios/screen through HTTP: JSON, CSV upload, CSV download, bad CSV."""

from __future__ import annotations

import csv
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
