"""``ipvalue screen``: ranked CSV out, progress bar and summary on stderr, exit 2 on bad input."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from ipvalue.api.cli_screen import add_screen_command

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "portfolio.csv"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ipvalue")
    add_screen_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["screen", *argv])
    return int(args.func(args))


def test_screen_writes_the_ranked_csv_with_a_progress_bar(tmp_path, capsys):
    out = tmp_path / "ranked.csv"
    code = run(
        str(SAMPLE),
        "--out",
        str(out),
        "--paths",
        "500",
        "--seed",
        "9",
        "--horizon-years",
        "2",
        "--valuation-date",
        "2026-11-27",
    )
    assert code == 0
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 21 and rows[0]["rank"] == "1"
    err = capsys.readouterr().err
    assert "100% 21/21 assets" in err and "seed 9" in err and "VaR95" in err


def test_screen_to_stdout_is_reproducible(capsys):
    args = (str(SAMPLE), "--paths", "300", "--seed", "4", "--valuation-date", "2026-11-27")
    assert run(*args) == 0
    first = capsys.readouterr().out
    assert run(*args) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("rank,id,name")


def test_bad_csv_exits_2_naming_row_and_field(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,kind,sector,value,volatility\na,patent,s,lots,0.2\n")
    assert run(str(bad)) == 2
    assert "rows[1].value: row 1 (line 2)" in capsys.readouterr().err


def test_bad_settings_and_missing_file_exit_2(tmp_path, capsys):
    assert run(str(SAMPLE), "--horizon-years", "0") == 2
    assert "horizon_years" in capsys.readouterr().err
    assert run(str(SAMPLE), "--inter-correlation", "0.9", "--intra-correlation", "0.1") == 2
    assert "inter" in capsys.readouterr().err
    assert run(str(tmp_path / "none.csv")) == 2
    assert "cannot read" in capsys.readouterr().err


def test_unwritable_output_exits_2(tmp_path, capsys):
    out = tmp_path / "missing-dir" / "ranked.csv"
    assert run(str(SAMPLE), "--paths", "200", "--seed", "1", "--out", str(out)) == 2
    assert "cannot write" in capsys.readouterr().err


def test_screen_skips_bad_rows_ranks_by_ratio_and_writes_excel(tmp_path, capsys):
    from openpyxl import load_workbook

    data = tmp_path / "book.csv"
    data.write_text(
        "id,kind,sector,value,volatility\n"
        "a,patent,s,1000000,0.5\nbad,patent,s,lots,0.2\nb,trademark,s,200000,0.1\n"
    )
    out = tmp_path / "ranked.xlsx"
    args = ("--paths", "300", "--seed", "4", "--valuation-date", "2026-11-27")
    assert run(str(data), *args) == 2
    capsys.readouterr()
    code = run(
        str(data),
        *args,
        "--on-error",
        "skip",
        "--rank-by",
        "risk_adjusted_ratio",
        "--out",
        str(out),
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "left out: rows[2].value: row 2 (line 3)" in err and "risk_adjusted_ratio" in err
    book = load_workbook(out)
    ranked = list(book["ranked"].iter_rows(values_only=True))
    assert [r[1] for r in ranked[1:]] == ["b", "a"]
    assert [c.value for c in book["rejected"][2]][:3] == [2, 3, "bad"]


def test_screen_reads_an_excel_workbook(tmp_path, capsys):
    from openpyxl import Workbook

    book = Workbook()
    for row in (["id", "kind", "sector", "value", "volatility"], ["a", "patent", "s", 1e6, 0.4]):
        book.active.append(row)
    path = tmp_path / "book.xlsx"
    book.save(path)
    assert run(str(path), "--paths", "300", "--seed", "4", "--valuation-date", "2026-11-27") == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("1,a,a,patent,s")
