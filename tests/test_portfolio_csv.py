"""Portfolio files: the sample parses, bad files are refused whole (or bad rows skipped) naming
row and field; CSV and Excel in and out."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from ipvalue.models.errors import InputError
from ipvalue.models.portfolio import PortfolioAsset, PortfolioRequest, RejectedRow, RowProblem
from ipvalue.risk.portfolio import (
    CSV_COLUMNS,
    parse_portfolio_csv,
    read_portfolio_csv,
    read_portfolio_xlsx,
    screen_portfolio,
    to_csv,
    to_xlsx,
)
from ipvalue.risk.portfolio.ranked_table import INPUT_COLUMNS, RESULT_COLUMNS

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "portfolio.csv"
HEADER = "id,kind,sector,value,volatility,name"
GOOD_ROWS = [
    "a1,patent,energy,1000000,0.4,Battery",
    "a2,trademark,consumer,250000.5,0.2,Brand",
    "a3,software,fintech,3e6,0.5,Engine",
]


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def refused(data: bytes, max_rows: int = 100) -> InputError:
    with pytest.raises(InputError) as info:
        parse_portfolio_csv(data, max_rows)
    return info.value


def fields(err: InputError) -> list[str]:
    return [p.field for p in err.problems]


def test_sample_file_parses():
    assets = parse_portfolio_csv(SAMPLE.read_bytes(), max_rows=1000)
    assert 18 <= len(assets) <= 25
    assert {a.kind for a in assets} >= {"patent", "trademark", "software", "trade_secret"}
    first = assets[0]
    assert first.id == "P-001" and first.value == 12_500_000 and first.volatility == 0.45
    assert first.expiry_date == dt.date(2038, 6, 30)
    assert any(a.under_challenge for a in assets)
    assert any(a.remaining_life_years is not None for a in assets)
    assert any(a.invalidation_hazard is not None for a in assets)
    assert any(a.status == "lapsed" for a in assets)
    with SAMPLE.open(newline="") as f:
        assert set(next(csv.reader(f))) <= set(CSV_COLUMNS)


def test_good_file_bom_case_blank_lines_and_any_column_order():
    text = "\ufeffVolatility, ID ,Kind,SECTOR,Value\n\n0.3,x,Patent,s,10\n\n0.2,y,design,s,20\n"
    assets = parse_portfolio_csv(text.encode(), 10)
    assert [(a.id, a.kind, a.value) for a in assets] == [
        ("x", "patent", 10.0),
        ("y", "design", 20.0),
    ]


def test_missing_columns_are_named():
    err = refused(csv_bytes("a1,patent,energy,1000000", header="id,kind,sector,value"))
    assert fields(err) == ["columns.volatility"]
    assert "volatility" in err.problems[0].message


def test_unknown_and_duplicate_columns_are_refused():
    err = refused(
        csv_bytes("a,patent,s,1,0.2,0.3", header="id,kind,sector,value,volatility,volatilty")
    )
    assert fields(err) == ["columns.volatilty"]
    err = refused(csv_bytes("a,patent,s,1,0.2,2", header="id,kind,sector,value,volatility,value"))
    assert "columns.value" in fields(err)


def test_semicolon_files_get_a_clear_message():
    err = refused(b"id;kind;sector;value;volatility\na;patent;s;1;0.2\n")
    assert fields(err) == ["columns"] and "comma" in err.problems[0].message


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ("abc", "must be a number"),
        ("1,000,000", "thousands separators"),
        ("35%", "decimal"),
        ("nan", "must be a number"),
        ("inf", "must be a number"),
        ("-5", "above 0"),
        ("0", "above 0"),
    ],
)
def test_bad_numbers_name_row_and_field(cell, hint):
    rows = [*GOOD_ROWS, f'a4,patent,energy,"{cell}",0.3,Bad']
    err = refused(csv_bytes(*rows))
    assert fields(err) == ["rows[4].value"]
    message = err.problems[0].message
    assert "row 4 (line 5)" in message and hint in message, message


def test_every_problem_is_reported_and_nothing_returned():
    rows = [
        "a1,patent,energy,x,0.4,Battery",
        "a2,trademarc,consumer,250000.5,0.2,Brand",
        "a3,software,fintech,3e6,9,Engine",
        "a4,software,,3e6,0.2,Blank sector",
        "a1,software,fintech,3e6,0.2,Again",
        "a6,software,fintech,3e6,0.2",
    ]
    err = refused(csv_bytes(*rows))
    assert fields(err) == [
        "rows[1].value",
        "rows[2].kind",
        "rows[3].volatility",
        "rows[4].sector",
        "rows[6]",
    ]
    assert "(and 4 more)" in err.detail
    assert "row 2 (line 3)" in err.problems[1].message and "trademarc" in err.problems[1].message
    assert "row 6 (line 7) has 5 cells" in err.problems[4].message


def test_duplicate_ids_name_both_rows():
    err = refused(csv_bytes(*GOOD_ROWS, "a2,patent,energy,5,0.1,Twin"))
    assert fields(err) == ["rows[4].id"]
    assert "row 2" in err.problems[0].message and "row 4" in err.problems[0].message


@pytest.mark.parametrize(
    ("extra_header", "cell", "field", "hint"),
    [
        ("under_challenge", "maybe", "under_challenge", "true or false"),
        ("expiry_date", "31/12/2030", "expiry_date", "date"),
        ("status", "dormant", "status", "dormant"),
        ("invalidation_hazard", "1.5", "invalidation_hazard", "below 1"),
        ("jurisdiction", "usa", "jurisdiction", "ISO 3166-1"),
    ],
)
def test_optional_fields_checked(extra_header, cell, field, hint):
    data = csv_bytes(
        "a1,patent,energy,1000000,0.4,Battery," + cell, header=HEADER + "," + extra_header
    )
    err = refused(data)
    assert fields(err) == [f"rows[1].{field}"]
    assert "row 1 (line 2)" in err.problems[0].message and hint in err.problems[0].message


def test_expiry_and_remaining_life_together_are_refused():
    data = csv_bytes(
        "a1,patent,energy,1,0.4,B,2030-01-01,3",
        header=HEADER + ",expiry_date,remaining_life_years",
    )
    err = refused(data)
    assert fields(err) == ["rows[1].remaining_life_years"]
    assert "not both" in err.problems[0].message


def test_non_utf8_bytes_name_row_and_column():
    data = csv_bytes(*GOOD_ROWS).replace(b"Brand", "Marque d\u00e9pos\u00e9e".encode("latin-1"))
    err = refused(data)
    assert fields(err) == ["rows[2].name"]
    assert "row 2 (line 3)" in err.problems[0].message and "UTF-8" in err.problems[0].message
    assert "0xE9" in err.problems[0].message


def test_utf16_files_are_refused():
    data = "\n".join([HEADER, *GOOD_ROWS]).encode("utf-16")
    err = refused(data)
    assert fields(err) == ["file"] and "UTF-16" in err.problems[0].message


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_empty_file(data):
    err = refused(data)
    assert fields(err) == ["file"] and "empty" in err.problems[0].message


def test_header_without_rows():
    err = refused(csv_bytes())
    assert fields(err) == ["rows"] and "no data rows" in err.problems[0].message


def test_too_many_rows_names_the_limit():
    err = refused(csv_bytes(*GOOD_ROWS), max_rows=2)
    assert fields(err) == ["rows"]
    assert "more than 2 data rows" in err.problems[0].message
    assert len(parse_portfolio_csv(csv_bytes(*GOOD_ROWS), max_rows=3)) == 3


def test_control_characters_in_text_are_refused():
    err = refused(csv_bytes(*GOOD_ROWS).replace(b"Engine", b"Eng\x00ine"))
    assert fields(err) == ["rows[3].name"] and "U+0000" in err.problems[0].message


def test_problem_list_is_capped():
    rows = [f"a{i},patent,energy,x,0.4,B" for i in range(200)]
    err = refused(csv_bytes(*rows), max_rows=1000)
    assert len(err.problems) == 50


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_input_error(data):
    try:
        assets = parse_portfolio_csv(data, max_rows=20)
    except InputError as exc:
        assert exc.problems
    else:
        assert all(isinstance(a, PortfolioAsset) for a in assets)


def test_to_csv_round_trip_and_rank_order():
    assets = parse_portfolio_csv(SAMPLE.read_bytes(), max_rows=1000)
    assets[0] = assets[0].model_copy(update={"name": "=HYPERLINK(1)"})
    result = screen_portfolio(
        PortfolioRequest(assets=assets, seed=3, paths=500, valuation_date=dt.date(2026, 11, 27))
    )
    text = to_csv(result)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == list(RESULT_COLUMNS)
    assert len(rows) == len(assets)
    assert [int(r["rank"]) for r in rows] == list(range(1, len(assets) + 1))
    scores = [float(r["risk_adjusted_value"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    by_id = {r["id"]: r for r in rows}
    first = result.assets[0]
    assert float(by_id[first.id]["p05"]) == pytest.approx(first.p05, abs=0.005)
    assert by_id[first.id]["under_challenge"] in {"true", "false"}
    assert by_id["P-001"]["name"] == "'=HYPERLINK(1)"


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10_000), st.binary(min_size=1, max_size=4))
def test_corrupted_sample_parses_or_raises_input_error(position, junk):
    data = SAMPLE.read_bytes()
    i = position % len(data)
    corrupted = data[:i] + junk + data[i + len(junk) :]
    try:
        parse_portfolio_csv(corrupted, max_rows=1000)
    except InputError as exc:
        assert exc.problems and all(p.field and p.message for p in exc.problems)


def test_bad_bytes_row_number_skips_blank_lines_like_the_parser():
    data = csv_bytes(GOOD_ROWS[0], ",,,,,", "", GOOD_ROWS[1]).replace(b"Brand", b"Br\xe4nd")
    err = refused(data)
    assert fields(err) == ["rows[2].name"]
    assert "row 2 (line 5)" in err.problems[0].message


# --- on_error=skip, input columns in the ranked table, Excel in and out, rank_by --------------


def test_skip_keeps_good_rows_and_reports_bad_ones_with_lines():
    rows = [GOOD_ROWS[0], "", "b1,patent,energy,lots,40%,Two bad cells", GOOD_ROWS[1]]
    rows += ["b2,patent,energy,5,0.1", GOOD_ROWS[2], "a2,patent,energy,5,0.1,Twin"]
    upload = read_portfolio_csv(csv_bytes(*rows), 100, on_error="skip")
    assert [a.id for a in upload.assets] == ["a1", "a2", "a3"]
    assert [(r.row, r.line, r.id) for r in upload.rejected] == [
        (2, 4, "b1"),
        (4, 6, "b2"),
        (6, 8, "a2"),
    ]
    two = upload.rejected[0]
    assert [e.field for e in two.errors] == ["rows[2].value", "rows[2].volatility"]
    assert "row 2 (line 4)" in two.errors[0].message
    assert "repeats the id of row 3" in upload.rejected[2].errors[0].message


def test_reject_stays_the_default():
    data = csv_bytes(GOOD_ROWS[0], "b1,patent,energy,lots,0.4,Bad")
    err = refused(data)
    assert fields(err) == ["rows[2].value"]
    assert read_portfolio_csv(csv_bytes(*GOOD_ROWS), 10).rejected == []


def test_skip_still_refuses_file_wide_problems_and_an_all_bad_file():
    with pytest.raises(InputError) as info:
        read_portfolio_csv(b"id,kind,sector,value\nA,patent,s,1\n", 10, on_error="skip")
    assert fields(info.value) == ["columns.volatility"]
    with pytest.raises(InputError) as info:
        read_portfolio_csv(csv_bytes("b1,patent,energy,x,0.4,Bad"), 10, on_error="skip")
    assert fields(info.value) == ["rows[1].value"] and "no valid row" in info.value.detail
    with pytest.raises(ValueError, match="on_error"):
        read_portfolio_csv(csv_bytes(*GOOD_ROWS), 10, on_error="ignore")  # type: ignore[arg-type]


def _screened(**settings_):
    assets = parse_portfolio_csv(SAMPLE.read_bytes(), max_rows=1000)
    request = PortfolioRequest(
        assets=assets, seed=3, paths=500, valuation_date=dt.date(2026, 11, 27), **settings_
    )
    return request, screen_portfolio(request)


def test_ranked_csv_keeps_the_input_columns():
    request, result = _screened()
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(to_csv(result, request.assets)))}
    for asset in request.assets:
        row = rows[asset.id]
        assert float(row["volatility"]) == pytest.approx(asset.volatility)
        assert row["jurisdiction"] == (asset.jurisdiction or "")
        assert row["status"] == asset.status
        assert row["expiry_date"] == (asset.expiry_date.isoformat() if asset.expiry_date else "")
        life = asset.remaining_life_years
        assert row["remaining_life_years"] == ("" if life is None else f"{life:.2f}")
    assert set(INPUT_COLUMNS) <= set(RESULT_COLUMNS) and set(CSV_COLUMNS) <= set(RESULT_COLUMNS)


def test_rank_by_risk_adjusted_ratio_orders_by_the_ratio():
    _, by_value = _screened()
    _, by_ratio = _screened(rank_by="risk_adjusted_ratio")
    ratios = [r.risk_adjusted_ratio for r in by_ratio.assets]
    assert ratios == sorted(ratios, reverse=True)
    values = [r.risk_adjusted_value for r in by_ratio.assets]
    assert values != sorted(values, reverse=True), "the sample should rank differently"
    # Same simulation, other order: each asset's figures do not change.
    same = {r.id: r.model_dump(exclude={"rank"}) for r in by_value.assets}
    assert all(same[r.id] == r.model_dump(exclude={"rank"}) for r in by_ratio.assets)
    assert "risk_adjusted_ratio" in by_ratio.settings.score


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _typed(cell: str) -> object:
    """A CSV cell as a spreadsheet would hold it: numbers, dates and booleans typed."""
    if not cell:
        return None
    for convert in (int, float, dt.date.fromisoformat):
        try:
            return convert(cell)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(cell, cell)


def test_excel_upload_reads_as_the_same_csv():
    with SAMPLE.open(newline="", encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    data = _workbook([table[0], *[[_typed(c) for c in row] for row in table[1:]]])
    assert read_portfolio_xlsx(data, 1000).assets == parse_portfolio_csv(SAMPLE.read_bytes(), 1000)


def test_excel_bad_cells_name_the_sheet_row_and_skip_works():
    data = _workbook(
        [
            ["id", "kind", "sector", "value", "volatility"],
            ["a1", "patent", "energy", 1_000_000, 0.4],
            [None],
            ["a2", "patent", "energy", "lots", 0.4],
            ["a3", "design", "energy", 20, dt.datetime(2030, 1, 1)],
        ]
    )
    with pytest.raises(InputError) as info:
        read_portfolio_xlsx(data, 10)
    assert fields(info.value) == ["rows[2].value", "rows[3].volatility"]
    assert "row 2 (sheet row 4)" in info.value.problems[0].message
    upload = read_portfolio_xlsx(data, 10, on_error="skip")
    assert [a.id for a in upload.assets] == ["a1"]
    assert [(r.row, r.line) for r in upload.rejected] == [(2, 4), (3, 5)]


@pytest.mark.parametrize("data", [b"", b"id,kind\n", b"PK\x03\x04broken", SAMPLE.read_bytes()])
def test_a_file_that_is_not_a_workbook_is_refused(data):
    with pytest.raises(InputError) as info:
        read_portfolio_xlsx(data, 10)
    assert fields(info.value) == ["file"] and "text/csv" in info.value.problems[0].message


def test_to_xlsx_has_the_ranked_table_typed_and_formulas_stay_text():
    request, result = _screened()
    request.assets[0] = request.assets[0].model_copy(update={"name": "=HYPERLINK(1)"})
    result = screen_portfolio(request)
    result.rejected = [
        RejectedRow(row=9, line=11, id="x", errors=[RowProblem(field="rows[9].value", message="m")])
    ]
    book = load_workbook(io.BytesIO(to_xlsx(result, request.assets)))
    assert book.sheetnames == ["ranked", "totals", "rejected"]
    sheet = book["ranked"]
    header = [c.value for c in sheet[1]]
    assert header == list(RESULT_COLUMNS)
    rows = [
        dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)
    ]
    assert [r["id"] for r in rows] == [a.id for a in result.assets]
    assert rows[0]["value"] == pytest.approx(result.assets[0].value)
    first = next(r for r in rows if r["id"] == "P-001")
    assert first["name"] == "=HYPERLINK(1)" and first["expiry_date"].date() == dt.date(2038, 6, 30)
    cell = sheet.cell(row=2 + [r["id"] for r in rows].index("P-001"), column=3)
    assert cell.data_type == "s"
    totals = {r[0].value: r[1].value for r in book["totals"].iter_rows(min_row=2)}
    assert totals["total_value"] == pytest.approx(result.totals.total_value)
    assert [c.value for c in book["rejected"][2]] == [9, 11, "x", "rows[9].value", "m"]


def test_a_row_reports_every_bad_cell_whether_unreadable_or_invalid():
    err = refused(csv_bytes("a1,trademarc,energy,lots,9,Battery"))
    assert fields(err) == ["rows[1].value", "rows[1].kind", "rows[1].volatility"]
    assert "trademarc" in err.problems[1].message and "9" in err.problems[2].message
