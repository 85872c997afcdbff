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
