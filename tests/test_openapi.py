"""The OpenAPI document: valid, generated from the models, complete; the offline docs page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from ipvalue.models.valuation import ValuationRequest

#: Every endpoint of the contract, docs/api.md (method, OpenAPI path).
CONTRACT = [
    ("post", "/v1/valuations"),
    ("get", "/v1/valuations/{record_id}"),
    ("post", "/v1/volatility"),
    ("post", "/v1/collateral"),
    ("post", "/v1/triggers/evaluate"),
    ("post", "/v1/insurance/quotes"),
    ("post", "/v1/portfolios/screen"),
    ("get", "/v1/jobs/{job_id}"),
    ("get", "/openapi.json"),
    ("get", "/docs"),
    ("get", "/healthz"),
    ("get", "/readyz"),
]


@pytest.fixture
def document(anon_client: Any) -> dict[str, Any]:
    resp = anon_client.get("/openapi.json")
    assert resp.status_code == 200
    return dict(resp.get_json())


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.")


def _path_of(document: dict[str, Any], path: str) -> dict[str, Any]:
    """The path item, whatever its parameter is called."""
    pattern = re.sub(r"\\\{[^}]+\\\}", r"\\{[^}]+\\}", re.escape(path))
    for key, item in document["paths"].items():
        if re.fullmatch(pattern, key):
            return dict(item)
    raise AssertionError(f"{path} is not in the document")


@pytest.mark.parametrize(("method", "path"), CONTRACT)
def test_every_contract_endpoint_is_documented(
    document: dict[str, Any], method: str, path: str
) -> None:
    assert method in _path_of(document, path)


def test_request_schema_comes_from_the_pydantic_model(document: dict[str, Any]) -> None:
    op = document["paths"]["/v1/valuations"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[1]
    schema = document["components"]["schemas"][name]
    model = ValuationRequest.model_json_schema()
    assert set(schema["properties"]) == set(model["properties"])
    assert schema["required"] == model["required"]
    assert {"201", "202", "401", "422", "429"} <= set(op["responses"])


def test_v1_operations_require_the_bearer_key(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for op in item.values():
            assert ("security" in op) == path.startswith("/v1/"), path


def test_every_route_module_is_in_the_blueprint_list() -> None:
    import importlib
    import pkgutil

    import ipvalue.api.routes
    from ipvalue.api.app import BLUEPRINTS

    modules = [
        importlib.import_module(f"ipvalue.api.routes.{info.name}")
        for info in pkgutil.iter_modules(ipvalue.api.routes.__path__)
    ]
    served = {id(bp) for bp in BLUEPRINTS}
    missing = [m.__name__ for m in modules if hasattr(m, "bp") and id(m.bp) not in served]
    assert missing == [], "add these route modules' bp to api.app.BLUEPRINTS"
    assert len({bp.name for bp in BLUEPRINTS}) == len(BLUEPRINTS)


def test_docs_page_is_swagger_ui_served_by_the_app_itself(anon_client: Any) -> None:
    resp = anon_client.get("/docs")
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/html")
    page = resp.get_data(as_text=True)
    assert "openapi.json" in page and "SwaggerUIBundle" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "no CDN or remote asset"
    assets = re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page)
    assert len(assets) >= 4
    for path in assets:
        answer = anon_client.get(path)
        assert answer.status_code == 200, path
        assert len(answer.data) > 100, path
    assert anon_client.get("/docs/assets/../../etc/passwd").status_code == 404
    assert anon_client.get("/docs/assets/LICENSE").status_code == 404


def test_descriptions_are_markdown_and_version_is_the_packages(anon_client: Any) -> None:
    from importlib.metadata import version

    document = anon_client.get("/openapi.json").get_json()
    assert document["info"]["version"] == version("ipvalue")
    for path, operations in document["paths"].items():
        for method, entry in operations.items():
            text = entry["summary"] + entry.get("description", "")
            assert "``" not in text, (method, path)
            assert not re.search(r"\n-{3,}\n", text), (method, path)


def test_document_is_built_once_and_served_identically(anon_client: Any) -> None:
    assert anon_client.get("/openapi.json").data == anon_client.get("/openapi.json").data
