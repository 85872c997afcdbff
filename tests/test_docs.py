"""The project's documentation stands alone and stays true to the code.

- ``docs/fields.md`` is what ``python -m ipvalue.api.reference`` prints (regenerate it after
  changing a model or a route);
- every field, parameter and value that ``docs/api.md`` names in backticks exists in the
  service's OpenAPI document, so the prose cannot drift from the contract unnoticed;
- links between the documents resolve (files and anchors);
- nothing points outside the repository (``../shared``, ``API.md``, ``DOMAIN.md``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ipvalue.api.facts import FILTERS
from ipvalue.api.limits import SETTINGS as LIMITS
from ipvalue.api.reference import anchor, document, render

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
OUTSIDE = re.compile(r"\.\./shared|shared/|(?<![\w/.])(API|DOMAIN|DESIGN)\.md")

#: Names docs/api.md uses that are not schema fields: record kinds, size limits, the ranked
#: table's sheets and the stored table's key.
NOT_FIELDS = {*FILTERS, "valuation", *LIMITS, "csv", "ranked", "totals"}

#: Files whose owners replace their pointers in the same merge (remove the entry then).
POINTERS_FIXED_ELSEWHERE = {"risk/insurance.py"}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return document()


def test_fields_reference_is_current(openapi: dict[str, Any]) -> None:
    committed = (DOCS / "fields.md").read_text(encoding="utf-8")
    assert committed == render(openapi), (
        "docs/fields.md is stale: run `.venv/bin/python -m ipvalue.api.reference > docs/fields.md`"
    )


def _names(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        found.update(node.get("properties", {}))
        found.update(str(v) for v in node.get("enum", []))
        if "const" in node:
            found.add(str(node["const"]))
        if node.get("in") == "query":
            found.add(node["name"])
        for value in node.values():
            _names(value, found)
    elif isinstance(node, list):
        for value in node:
            _names(value, found)
    return found


def test_every_name_in_api_md_is_in_the_openapi_document(openapi: dict[str, Any]) -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    spans = re.findall(r"`([^`\n]+)`", text)
    named = {s for s in spans if re.fullmatch(r"[a-z][a-z0-9_]*", s)}
    named |= {q for s in spans for q in re.findall(r'"([a-z][a-z0-9_]*)"', s)}
    unknown = sorted(named - _names(openapi, set()) - NOT_FIELDS)
    assert not unknown, f"docs/api.md names fields the service does not have: {unknown}"


def test_api_md_covers_every_endpoint(openapi: dict[str, Any]) -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    for path, methods in openapi["paths"].items():
        shown = re.sub(r"\{[a-z_]+\}", "{id}", path)
        if shown.startswith("/v1/triggers/history/"):
            shown = "/v1/triggers/history/{asset_id}"
        for method in methods:
            assert f"{method.upper()} {shown}" in text, f"docs/api.md lacks {method} {path}"


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, fragment = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        assert linked.is_file(), f"{page.name}: link to missing {target}"
        if fragment and linked.suffix == ".md":
            body = linked.read_text(encoding="utf-8")
            headings = {
                re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                for h in re.findall(r"^#+ (.+)$", body, flags=re.M)
            }
            ids = set(re.findall(r'<a id="([^"]+)"></a>', body))
            assert fragment in headings | ids, f"{page.name}: no anchor {target}"


def test_schema_links_in_the_reference_resolve() -> None:
    text = (DOCS / "fields.md").read_text(encoding="utf-8")
    ids = set(re.findall(r'<a id="([^"]+)"></a>', text))
    links = set(re.findall(r"\]\(#(schema-[^)]+)\)", text))
    assert links and links <= ids
    assert anchor("RecordList_CollateralResult_") == "schema-recordlist-collateralresult"


def _project_files() -> list[Path]:
    files = [ROOT / "README.md", *PAGES, *sorted((ROOT / "examples").glob("*"))]
    for folder in ("models", "valuation", "risk", "api"):
        files += sorted((ROOT / folder).rglob("*.py")) + sorted((ROOT / folder).rglob("*.md"))
    return [f for f in files if f.is_file() and "migrations" not in f.parts]


def test_nothing_points_outside_the_repository() -> None:
    stray = []
    for path in _project_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative in POINTERS_FIXED_ELSEWHERE:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if OUTSIDE.search(line):
                stray.append(f"{relative}:{number}: {line.strip()}")
    assert not stray, "point at docs/ instead:\n" + "\n".join(stray)
