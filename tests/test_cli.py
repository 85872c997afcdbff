"""The ``ipvalue`` command prints the same result as the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipvalue.api.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "patent.json"


def test_value_json_matches_the_api(client, capsys):
    assert main(["value", str(EXAMPLE), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    api = client.post("/v1/valuations", json=json.loads(EXAMPLE.read_text())).get_json()
    api.pop("id")
    assert cli == api


def test_value_table_shows_methods_and_point(capsys):
    assert main(["value", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "relief_from_royalty" in out and "reconciled point value" in out
    assert "legal life" in out


def test_bad_file_names_the_field(tmp_path, capsys):
    payload = json.loads(EXAMPLE.read_text())
    payload["methods"][0]["royalty_rate"] = 1.5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    assert main(["value", str(path)]) == 2
    assert "methods[0].royalty_rate" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["not json", "[1]"])
def test_unreadable_file_is_refused(tmp_path, capsys, content):
    path = tmp_path / "x.json"
    path.write_text(content)
    assert main(["value", str(path)]) == 2
    assert "ipvalue:" in capsys.readouterr().err


def test_missing_file_is_refused(tmp_path, capsys):
    assert main(["value", str(tmp_path / "none.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
