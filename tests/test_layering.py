"""Imports point one way: api -> risk -> valuation -> models. The core never imports Flask."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "models": {"valuation", "risk", "api", "flask", "werkzeug", "sqlalchemy"},
    "valuation": {"risk", "api", "flask", "werkzeug", "sqlalchemy"},
    "risk": {"api", "flask", "werkzeug", "sqlalchemy"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_reach_upward(layer):
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files, f"no modules in {layer}/"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_packages(f) & FORBIDDEN[layer]) for f in files
    }
    offenders = {f: bad for f, bad in offenders.items() if bad}
    assert not offenders, f"{layer}/ imports a higher layer: {offenders}"


def test_the_checker_sees_an_upward_import(tmp_path):
    bad = tmp_path / "m.py"
    bad.write_text("import flask\nfrom api.app import create_app\n")
    assert imported_packages(bad) >= {"flask", "api"}
