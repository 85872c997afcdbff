"""Portfolio CSV: the sample parses, bad files are refused whole naming row and field, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipvalue.models.errors import InputError
from ipvalue.models.portfolio import PortfolioAsset, PortfolioRequest
from ipvalue.risk.portfolio import CSV_COLUMNS, parse_portfolio_csv, screen_portfolio, to_csv
from ipvalue.risk.portfolio.csv_io import RESULT_COLUMNS

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
