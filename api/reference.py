"""The field reference, ``docs/fields.md``, generated from the OpenAPI document.

Run ``python -m ipvalue.api.reference > docs/fields.md`` after changing a model or a route;
``tests/test_docs.py`` fails while the committed file differs from what this prints. The
document is the service's own (`ipvalue.api.openapi.build_document` over the registered routes),
so the reference shows exactly the fields, types, defaults and limits the service validates.
No database is needed: the routes are registered on a bare Flask app.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from flask import Flask

from ipvalue.api.app import _register_routes  # the same routes create_app registers
from ipvalue.api.openapi import build_document

HEADER = """\
# Fields of every request and answer

Generated from the service's pydantic models by `python -m ipvalue.api.reference >
docs/fields.md`; do not edit by hand (`tests/test_docs.py` checks that it is current). What the
endpoints do is in [api.md](api.md); the formulas in [methods.md](methods.md); the defaults'
sources in [domain.md](domain.md). Money is in the request's currency, rates are decimals
(0.05 = 5 %), durations are years unless named `_days`.
"""

_CONSTRAINTS = (
    ("minimum", ">= {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "<= {}"),
    ("exclusiveMaximum", "< {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "matches `{}`"),
)


def document() -> dict[str, Any]:
    """The OpenAPI document of the service's routes."""
    app = Flask("ipvalue.reference")
    _register_routes(app)
    return build_document(app)


def anchor(name: str) -> str:
    """The HTML anchor of a schema's section."""
    return "schema-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _cell(text: str) -> str:
    """Text fit for one table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def type_of(schema: dict[str, Any]) -> str:
    """A JSON schema's type in words, schemas linked (``list of [Asset](#schema-asset)``)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{anchor(name)})"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            parts = [type_of(s) for s in schema[key]]
            joined = " or ".join(dict.fromkeys(p for p in parts if p != "null"))
            return joined + (" or null" if "null" in parts else "")
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(type_of({**schema, "type": k}) for k in kind)
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, dict) and items:
            return f"list of {type_of(items)}"
        prefix = schema.get("prefixItems")
        if prefix:
            return "list of (" + ", ".join(type_of(s) for s in prefix) + ")"
        return "list"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return f"map of string to {type_of(extra)}"
        return "object"
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    return str(kind) if kind else "any"


def constraints(schema: dict[str, Any]) -> str:
    """Limits of a value (``>= 0; <= 1``), also inside a nullable ``anyOf``."""
    found = [text.format(_number(schema[key])) for key, text in _CONSTRAINTS if key in schema]
    for option in schema.get("anyOf", []):
        found += [text.format(_number(option[k])) for k, text in _CONSTRAINTS if k in option]
    return "; ".join(dict.fromkeys(found))


def _schema_section(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f'<a id="{anchor(name)}"></a>', "", f"### {name}", ""]
    if schema.get("description"):
        lines += [" ".join(schema["description"].split()), ""]
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        lines += [f"Type: {type_of(schema)}.", ""]
        return lines
    required = set(schema.get("required", []))
    lines += [
        "| field | type | required | default | limits | description |",
        "|---|---|---|---|---|---|",
    ]
    for field, spec in properties.items():
        default = f"`{json.dumps(spec['default'])}`" if "default" in spec else ""
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{field}`",
                    _cell(type_of(spec)),
                    "yes" if field in required else "",
                    _cell(default),
                    _cell(constraints(spec)),
                    _cell(spec.get("description", "")),
                ]
            )
            + " |"
        )
    if schema.get("additionalProperties") is False:
        lines += ["", "Other fields are refused."]
    return [*lines, ""]


def _body_types(operation: dict[str, Any]) -> str:
    content = operation.get("requestBody", {}).get("content", {})
    parts = []
    for media, spec in content.items():
        schema = spec.get("schema", {})
        shown = type_of(schema) if "$ref" in schema else "file"
        parts.append(f"{shown} (`{media}`)" if media != "application/json" else shown)
    return ", ".join(parts)


def _answer(operation: dict[str, Any]) -> str:
    for status, response in sorted(operation.get("responses", {}).items()):
        if status[0] in "23":
            content = response.get("content", {})
            schemas = [spec.get("schema", {}) for spec in content.values()]
            shown = [type_of(s) for s in schemas if "$ref" in s] or list(content) or [""]
            return f"{status} {shown[0]}".strip()
    return ""


def _endpoints(doc: dict[str, Any]) -> list[str]:
    lines = [
        "## Endpoints",
        "",
        "| method and path | body | success answer | query parameters |",
        "|---|---|---|---|",
    ]
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            row = [
                f"`{method.upper()} {path}`",
                _body_types(operation),
                _answer(operation),
                ", ".join(f"`{q}`" for q in query),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    lines.append("")
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            params = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if not params:
                continue
            lines += [
                f"Query parameters of `{method.upper()} {path}`:",
                "",
                "| parameter | type | default | limits | description |",
                "|---|---|---|---|---|",
            ]
            for p in params:
                schema = p.get("schema", {})
                default = f"`{json.dumps(schema['default'])}`" if "default" in schema else ""
                cells = [
                    f"`{p['name']}`",
                    type_of(schema),
                    default,
                    constraints(schema),
                    p.get("description", ""),
                ]
                lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
            lines.append("")
    return lines


def render(doc: dict[str, Any] | None = None) -> str:
    """The Markdown of ``docs/fields.md``: endpoints, query parameters, then every schema."""
    doc = doc if doc is not None else document()
    lines = [HEADER, *_endpoints(doc), "## Schemas", ""]
    for name, schema in sorted(doc["components"]["schemas"].items()):
        lines += _schema_section(name, schema)
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> int:
    """Print the reference on standard output."""
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
