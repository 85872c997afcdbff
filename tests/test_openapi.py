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


# -- examples: every operation with a body has one, and each is valid -------------------------


def _operations_with_a_body(app: Any) -> list[tuple[str, str, Any]]:
    """(method, OpenAPI path, the view's declared operation) of every documented operation
    that takes a body."""
    from ipvalue.api.openapi import _PARAM, ATTRIBUTE, Operation

    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("console."):
            continue
        view = app.view_functions[rule.endpoint]
        op = getattr(view, ATTRIBUTE, None) or Operation()
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            found.append((method.lower(), _PARAM.sub(r"{\1}", rule.rule), op))
    return found


def _validate_body(op: Any, media: str, value: Any) -> None:
    """Check ``value`` as the operation itself reads a body of ``media``."""
    from ipvalue.risk.book.imports import parse
    from ipvalue.risk.portfolio import read_portfolio_csv

    if media == "application/json":
        assert op.request is not None, "a JSON example needs the operation's request model"
        op.request.model_validate(value)
    elif media == "text/csv" and op.request is not None:  # a CSV upload of the JSON's assets
        upload = read_portfolio_csv(value.encode(), 100_000, "reject")
        assert upload.assets and not upload.rejected
    else:  # a bulk file: read by its format
        fmt = "csv" if media == "text/csv" else "uspto-maintfee"
        parsed = parse(fmt, value)
        assert parsed.rows and not parsed.rejected, parsed.rejected


def test_every_operation_with_a_body_has_a_valid_example(
    app: Any, document: dict[str, Any]
) -> None:
    checked = 0
    for method, path, op in _operations_with_a_body(app):
        content = document["paths"][path][method]["requestBody"]["content"]
        named = {media: body.get("examples", {}) for media, body in content.items()}
        assert any(named.values()), f"{method.upper()} {path} shows no example body"
        for media in ("application/json", "text/csv", "text/plain"):
            if media in content:
                assert named[media], f"{method.upper()} {path}: no {media} example"
            for name, example in named.get(media, {}).items():
                try:
                    _validate_body(op, media, example["value"])
                except Exception as exc:  # the name of the example that rotted
                    raise AssertionError(f"{method.upper()} {path} example {name}: {exc}") from exc
                checked += 1
    assert checked >= 20


def test_every_example_file_is_an_example_of_its_endpoint(document: dict[str, Any]) -> None:
    from ipvalue.api.openapi_examples import FILES, examples_folder

    folder = examples_folder()
    assert folder is not None and (folder / "patent.json").is_file()
    shown = {name for by_media in FILES.values() for names in by_media.values() for name in names}
    assert shown == {p.name for p in folder.iterdir() if p.is_file()}
    valuations = document["paths"]["/v1/valuations"]["post"]["requestBody"]["content"]
    assert valuations["application/json"]["examples"]["patent"]["value"]["methods"]


def test_response_examples_are_what_the_api_answers(client: Any, document: dict[str, Any]) -> None:
    import json
    from pathlib import Path

    from ipvalue.api.openapi_examples import RESPONSES
    from ipvalue.api.schemas import JobAccepted, RecordCheck

    body = json.loads((Path(__file__).parents[1] / "examples" / "patent.json").read_text())
    body["methods"][0]["royalty_rate"] = 4.5
    answer = client.post("/v1/valuations", json=body)
    (example,) = RESPONSES[("post", "/v1/valuations", "422")].values()
    assert answer.status_code == 422 and answer.get_json() == example["value"]
    shown = document["paths"]["/v1/valuations"]["post"]["responses"]["422"]["content"]
    assert shown["application/problem+json"]["examples"]
    for example in RESPONSES[("get", "/v1/records/verify", "200")].values():
        RecordCheck.model_validate(example["value"])
    jobs = document["paths"]["/v1/volatility"]["post"]["responses"]["202"]["content"]
    for example in jobs["application/json"]["examples"].values():
        JobAccepted.model_validate(example["value"])


def test_every_query_parameter_a_route_takes_is_documented(
    client: Any, document: dict[str, Any]
) -> None:
    """Each route that refuses an unknown query parameter names those it takes; every one of
    them is in the operation's documented parameters."""
    checked = 0
    for path, item in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, op in item.items():
            url = re.sub(r"\{[^}]+\}", "x", path) + "?zz_unknown=1"
            answer = client.open(url, method=method.upper(), json={} if method != "get" else None)
            errors = (answer.get_json(silent=True) or {}).get("errors") or []
            refused = [e for e in errors if e["field"] == "zz_unknown"]
            if answer.status_code != 422 or not refused:
                continue
            named = re.search(r"(?:use|takes) ([a-z0-9_, ]+?)(?:\)|;|$)", refused[0]["message"])
            taken = set(re.split(r",\s*|\s+or\s+", named.group(1).strip())) if named else set()
            documented = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            assert taken <= documented, (method, path, sorted(taken - documented))
            checked += 1
    assert checked >= 15


# -- answers: every operation shows an example, recorded from the service ----------------------


def _has_example(op: dict[str, Any]) -> bool:
    bodies = list(op.get("requestBody", {}).get("content", {}).values())
    bodies += [c for r in op.get("responses", {}).values() for c in r.get("content", {}).values()]
    return any("example" in body or "examples" in body for body in bodies)


def test_every_operation_shows_an_example(document: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, op in item.items()
        if not _has_example(op)
    ]
    assert missing == [], "add them to URLS in api/openapi_responses.py and run --write"


def test_recorded_answers_fit_the_documented_response_schema(document: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    from ipvalue.api.openapi_responses import response_examples

    checked = 0
    for (method, path), recorded in response_examples().items():
        response = document["paths"][path][method]["responses"][recorded["status"]]
        for media, shown in recorded["content"].items():
            body = response["content"][media]
            assert shown["value"] == body["examples"]["recorded"]["value"], (method, path)
            if media != "application/json":
                assert isinstance(shown["value"], str) and shown["value"], (method, path, media)
                continue
            root = {**body["schema"], "components": document["components"]}
            errors = list(Draft202012Validator(root).iter_errors(shown["value"]))
            assert not errors, (
                f"{method.upper()} {path}: {errors[0].json_path}: {errors[0].message}"
            )
            checked += "$ref" in body["schema"]
    assert checked >= 15


def test_a_schema_mismatch_in_a_recorded_answer_is_caught(document: dict[str, Any]) -> None:
    """The check above can fail: a valuation record without its value does not fit."""
    from jsonschema import Draft202012Validator

    from ipvalue.api.openapi_responses import response_examples

    recorded = response_examples()[("get", "/v1/valuations/{record_id}")]
    value = dict(recorded["content"]["application/json"]["value"])
    del value["value"]
    body = document["paths"]["/v1/valuations/{record_id}"]["get"]["responses"]["200"]
    root = {**body["content"]["application/json"]["schema"], "components": document["components"]}
    assert list(Draft202012Validator(root).iter_errors(value))


def test_the_committed_answers_are_current() -> None:
    """Recording again gives the same operations, statuses, media types and top-level keys
    (ids and timestamps differ from run to run, so not the same bytes)."""
    import json

    from ipvalue.api.openapi_responses import FILE, generate, shape

    committed = json.loads(FILE.read_text(encoding="utf-8"))
    assert shape(generate()) == shape(committed), (
        "run python -m ipvalue.api.openapi_responses --write"
    )
