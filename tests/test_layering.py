"""Imports point one way: api -> risk -> valuation -> models. The core never imports Flask.

The layers install as ``ipvalue.models``, ``ipvalue.valuation``, ``ipvalue.risk`` and
``ipvalue.api``; a bare ``import models`` (the folder's name) is refused everywhere, since it
would load a second copy of a layer outside the package.
"""

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


LAYERS = ("models", "valuation", "risk", "api")


def _layer_or_package(module: str) -> str:
    """``ipvalue.risk.collateral`` -> ``risk``; ``flask.json`` -> ``flask``."""
    parts = module.split(".")
    if parts[0] == "ipvalue" and len(parts) > 1:
        return parts[1]
    if parts[0] in LAYERS:
        return f"bare {parts[0]}"
    return parts[0]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {_layer_or_package(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(_layer_or_package(node.module))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.add("relative import")
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
    bad.write_text("import flask\nfrom ipvalue.api.app import create_app\n")
    assert imported_packages(bad) >= {"flask", "api"}


def test_no_module_imports_a_layer_by_its_folder_name():
    files = [
        f
        for folder in (*LAYERS, "tests", "benchmarks")
        for f in sorted((ROOT / folder).rglob("*.py"))
    ]
    offenders = {
        str(f.relative_to(ROOT)): sorted(
            p for p in imported_packages(f) if p.startswith("bare ") or p == "relative import"
        )
        for f in files
    }
    offenders = {f: bad for f, bad in offenders.items() if bad}
    assert not offenders, f"import the layers as ipvalue.<layer>: {offenders}"
