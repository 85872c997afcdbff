"""Examples of the success answers of every GET and DELETE, recorded from the service itself.

``python -m ipvalue.api.openapi_responses --write`` builds an app on a temporary SQLite database,
posts the request examples (`ipvalue.api.openapi_examples`: the bodies of ``examples/`` and the
pledge book's), then calls each GET and DELETE operation and records its answer in
``openapi_responses.json`` beside this module (committed, shipped in the wheel). Ids, timestamps
and hashes are kept as they came: they are an example. JSON answers are recorded whole (lists
with ``?limit=2``); text answers (CSV, HTML, metrics) by their first lines; binary ones (PDF,
xlsx, PNG) by a sentence saying what they are.

`response_examples` reads the committed file, so building the OpenAPI document never runs the
service. ``--check`` regenerates and compares the operations and each answer's top-level keys
with the committed file (``tests/test_openapi.py`` does the same).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ipvalue.api.openapi_examples import Example, request_examples

FILE = Path(__file__).with_name("openapi_responses.json")
COMMAND = "python -m ipvalue.api.openapi_responses --write"
TEXT_LINES = 12
"""Lines kept of a text answer."""
TEXT_WIDTH = 200
"""Characters kept of each line of a text answer."""
LIST_LIMIT = 1
"""``limit`` of the list requests (a page of one item and its cursor shows the shape)."""
JOB_TIMEOUT = 600.0
"""Seconds to wait for a job (the volatility MCMC, the monitoring run)."""
LIST_ITEMS = 25
"""Items kept of a longer array in a JSON answer (the 4,000 posterior draws of a volatility)."""
PRIVATE = "IPVALUE_WEBHOOK_ALLOW_PRIVATE"
BINARY = ("application/pdf", "application/vnd.", "image/")

Recorded = dict[str, Any]
"""``{"status": "200", "content": {media type: {"summary": url, "value": answer}}}``."""


@cache
def response_examples() -> dict[tuple[str, str], Recorded]:
    """(method, OpenAPI path) -> the recorded success answer, from the committed file."""
    if not FILE.is_file():
        return {}
    operations = json.loads(FILE.read_text(encoding="utf-8"))["operations"]
    found: dict[tuple[str, str], Recorded] = {}
    for key, recorded in operations.items():
        method, path = key.split(" ", 1)
        found[(method, path)] = recorded
    return found


def examples_of(method: str, path: str) -> tuple[str, dict[str, dict[str, Example]]] | None:
    """The success status and, per media type, the named example of ``method path``."""
    recorded = response_examples().get((method, path))
    if recorded is None:
        return None
    named = {
        media: {"recorded": {"summary": shown["summary"], "value": shown["value"]}}
        for media, shown in recorded["content"].items()
    }
    return str(recorded["status"]), named


def _cut(value: Any) -> tuple[Any, bool]:
    """``value`` with every array longer than `LIST_ITEMS` cut to its first items; whether any
    was."""
    if isinstance(value, dict):
        pairs = {k: _cut(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(c for _, c in pairs.values())
    if isinstance(value, list):
        items = [_cut(v) for v in value[:LIST_ITEMS]]
        return [v for v, _ in items], len(value) > LIST_ITEMS or any(c for _, c in items)
    return value, False


def _shown(media: str, data: bytes) -> Any:
    """What is recorded of an answer of type ``media``."""
    if media == "application/json":
        return json.loads(data)
    if media.startswith(BINARY):
        return f"a {len(data):,}-byte {media} document (starts {data[:8]!r})"
    lines = data.decode("utf-8", errors="replace").splitlines()
    kept = [line[:TEXT_WIDTH] + ("…" if len(line) > TEXT_WIDTH else "") for line in lines]
    more = len(lines) - TEXT_LINES
    return "\n".join(kept[:TEXT_LINES]) + (f"\n… ({more} more lines)" if more > 0 else "")


def _trimmed_document(document: dict[str, Any]) -> dict[str, Any]:
    """``/openapi.json`` cut to its first path and first schema (it holds these examples)."""
    first_path = next(iter(document["paths"]))
    schemas = document["components"]["schemas"]
    first_schema = next(iter(sorted(schemas)))
    return {
        **document,
        "paths": {first_path: document["paths"][first_path]},
        "components": {
            **document["components"],
            "schemas": {first_schema: schemas[first_schema]},
        },
    }


class _Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback: takes every delivery with 204."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def _receiver() -> Iterator[str]:
    """The URL of a webhook receiver on loopback, while it runs; deliveries may reach it
    (``IPVALUE_WEBHOOK_ALLOW_PRIVATE``: the job processes that deliver read the environment)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    before = os.environ.get(PRIVATE)
    os.environ[PRIVATE] = "true"
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/ipvalue"
    finally:
        if before is None:
            os.environ.pop(PRIVATE, None)
        else:
            os.environ[PRIVATE] = before
        server.shutdown()
        server.server_close()


@contextmanager
def _service() -> Iterator[tuple[Any, str]]:
    """An authenticated test client of an app on a fresh temporary SQLite database, and the
    URL of a webhook receiver it may deliver to."""
    from ipvalue.api import create_app
    from ipvalue.api.db import dispose, engine_for, migrate
    from ipvalue.api.keys import create_key

    with tempfile.TemporaryDirectory() as folder, _receiver() as hook_url:
        url = f"sqlite:///{folder}/examples.sqlite"
        migrate(engine_for(url))
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": url,
                "RATE_LIMIT": 0,
                "WEBHOOK_ALLOW_PRIVATE": True,
            }
        )
        try:
            key = create_key(app.extensions["ipvalue.engine"], "example-tenant").secret
            client = app.test_client()
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
            yield client, hook_url
        finally:
            app.extensions["ipvalue.jobs"].shutdown()
            dispose(url)


def _created(answer: Any, what: str) -> dict[str, Any]:
    if answer.status_code not in (200, 201, 202):
        raise RuntimeError(f"{what}: {answer.status_code} {answer.get_data(as_text=True)}")
    return dict(answer.get_json())


def _wait(client: Any, job_id: str) -> dict[str, Any]:
    """The job's state once it has finished (or failed)."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        state = dict(client.get(f"/v1/jobs/{job_id}").get_json())
        if state["status"] in {"succeeded", "failed"}:
            if state["status"] == "failed":
                raise RuntimeError(f"job {job_id} failed: {state.get('error')}")
            return state
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} still {state['status']} after {JOB_TIMEOUT} s")
        time.sleep(0.2)


def _post_examples(client: Any, hook_url: str) -> dict[str, str]:
    """Post every request example; the ids the GETs need, by name."""
    examples = request_examples()
    ids: dict[str, str] = {}

    def body(method: str, path: str, name: str, media: str = "application/json") -> Any:
        return examples[(method, path)][media][name]["value"]

    jobs: list[str] = []
    for (method, path), by_media in examples.items():
        if method != "post" or path not in FIRST:
            continue
        for media, named in by_media.items():
            for name, example in named.items():
                value = example["value"]
                if "VALUATION_ID" in json.dumps(value) or "COLLATERAL_ID" in json.dumps(value):
                    continue  # posted below, once the record it names exists
                if media == "application/json":
                    out = _created(client.post(path, json=value), f"{path} {name}")
                else:
                    out = _created(client.post(path, data=value, content_type=media), name)
                if "job_id" in out and "id" not in out:
                    jobs.append(out["job_id"])
                    if path == "/v1/volatility":
                        ids["volatility_job"] = out["job_id"]
                    elif path == "/v1/valuations":
                        ids["job"] = out["job_id"]
                else:
                    ids.setdefault(FIRST[path], out["id"])
                    ids[name] = out["id"]
    for job_id in jobs:
        _wait(client, job_id)
    ids["volatility"] = _created(client.get(f"/v1/jobs/{ids['volatility_job']}"), "job")["result"][
        "id"
    ]
    text = json.dumps(body("post", "/v1/collateral", "collateral-from-valuation"))
    # as the README does: the simulated valuation's volatility, the first collateral's record
    text = text.replace("VALUATION_ID", ids["valuation-simulation"])
    _created(client.post("/v1/collateral", json=json.loads(text)), "collateral-from-valuation")
    text = json.dumps(body("post", "/v1/insurance/quotes", "insurance-from-collateral"))
    text = text.replace("COLLATERAL_ID", ids["collateral"])
    _created(client.post("/v1/insurance/quotes", json=json.loads(text)), "from collateral")

    asset = body("post", "/v1/assets", "patent-with-appraisal")
    second = json.loads(json.dumps(asset))
    second["asset"]["name"] = "US8000001 electrode coating"
    second["external_ids"] = {"publication_number": "US 8,000,001 B2"}
    spare = json.loads(json.dumps(second))
    spare["asset"]["name"] = "US8100002 cell housing (sold)"
    spare["external_ids"] = {"publication_number": "US 8,100,002 B2"}
    ids["asset"] = _created(client.post("/v1/assets", json=asset), "asset")["id"]
    ids["asset2"] = _created(client.post("/v1/assets", json=second), "asset")["id"]
    ids["spare_asset"] = _created(client.post("/v1/assets", json=spare), "asset")["id"]
    events = body("post", "/v1/assets/{asset_id}/events", "suit-and-pledge")
    _created(client.post(f"/v1/assets/{ids['asset']}/events", json=events), "events")
    for media, fmt in (("text/plain", "uspto-maintfee"), ("text/csv", "csv")):
        for example in examples[("post", "/v1/legal-status/imports")][media].values():
            _created(
                client.post(
                    f"/v1/legal-status/imports?format={fmt}",
                    data=example["value"],
                    content_type=media,
                ),
                f"import {fmt}",
            )
    loan = body("post", "/v1/loans", "two-patents")
    loan = {**loan, "pledged_asset_ids": [ids["asset"], ids["asset2"]]}
    ids["loan"] = _created(client.post("/v1/loans", json=loan), "loan")["id"]
    client.put(f"/v1/loans/{ids['loan']}", json={**loan, "amount": 450000})
    spare_loan = {**loan, "borrower": "Beta Cells Ltd.", "pledged_asset_ids": [ids["asset2"]]}
    ids["spare_loan"] = _created(client.post("/v1/loans", json=spare_loan), "loan")["id"]
    hook = body("post", "/v1/webhooks", "alerts")
    hook = {**hook, "url": hook_url}  # bank.example does not resolve: a loopback receiver
    ids["hook"] = _created(client.post("/v1/webhooks", json=hook), "webhook")["id"]
    run = _created(
        client.post("/v1/monitoring/runs", json=body("post", "/v1/monitoring/runs", "as-of")),
        "monitoring run",
    )
    _wait(client, run["job_id"])
    ids["run"] = run["job_id"]
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:  # the run's job delivers its events
        page = client.get(f"/v1/webhooks/{ids['hook']}/deliveries").get_json()
        if page["items"] and all(d["status"] != "pending" for d in page["items"]):
            break
        time.sleep(0.2)
    return ids


FIRST = {
    "/v1/valuations": "valuation",
    "/v1/collateral": "collateral",
    "/v1/insurance/quotes": "quote",
    "/v1/triggers/evaluate": "trigger",
    "/v1/portfolios/screen": "portfolio",
    "/v1/volatility": "volatility",
}
"""Path of a POST whose request examples are posted first -> name of the first id it makes."""

_LIST = f"?limit={LIST_LIMIT}"
URLS: dict[tuple[str, str], tuple[str, ...]] = {
    ("get", "/"): ("/",),
    ("get", "/docs"): ("/docs",),
    ("get", "/docs/assets/{name}"): (
        "/docs/assets/swagger-ui.css",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/favicon-32x32.png",
    ),
    ("get", "/healthz"): ("/healthz",),
    ("get", "/readyz"): ("/readyz",),
    ("get", "/metrics"): ("/metrics",),
    ("get", "/openapi.json"): ("/openapi.json",),
    ("get", "/v1/valuations"): ("/v1/valuations" + _LIST,),
    ("get", "/v1/valuations/{record_id}"): ("/v1/valuations/{valuation}",),
    ("get", "/v1/valuations/{record_id}/report"): (
        "/v1/valuations/{valuation}/report?format=html",
        "/v1/valuations/{valuation}/report?format=pdf",
    ),
    ("get", "/v1/collateral"): ("/v1/collateral" + _LIST,),
    ("get", "/v1/collateral/{record_id}"): ("/v1/collateral/{collateral}",),
    ("get", "/v1/insurance/quotes"): ("/v1/insurance/quotes" + _LIST,),
    ("get", "/v1/insurance/quotes/{record_id}"): ("/v1/insurance/quotes/{quote}",),
    ("get", "/v1/triggers"): ("/v1/triggers" + _LIST,),
    ("get", "/v1/triggers/{record_id}"): ("/v1/triggers/{trigger}",),
    ("get", "/v1/triggers/history/{asset_id}"): ("/v1/triggers/history/EP1234567",),
    ("get", "/v1/portfolios"): ("/v1/portfolios" + _LIST,),
    ("get", "/v1/portfolios/{record_id}"): ("/v1/portfolios/{portfolio}",),
    ("get", "/v1/portfolios/{record_id}/csv"): ("/v1/portfolios/{portfolio}/csv",),
    ("get", "/v1/portfolios/{record_id}/xlsx"): ("/v1/portfolios/{portfolio}/xlsx",),
    ("get", "/v1/portfolios/{record_id}/report"): (
        "/v1/portfolios/{portfolio}/report?format=html",
        "/v1/portfolios/{portfolio}/report?format=pdf",
    ),
    ("get", "/v1/volatility"): ("/v1/volatility" + _LIST,),
    ("get", "/v1/volatility/{record_id}"): ("/v1/volatility/{volatility}",),
    ("get", "/v1/jobs/{job_id}"): ("/v1/jobs/{job}",),
    ("get", "/v1/assets"): ("/v1/assets" + _LIST,),
    ("get", "/v1/assets/{asset_id}"): ("/v1/assets/{asset}",),
    ("get", "/v1/loans"): ("/v1/loans" + _LIST,),
    ("get", "/v1/loans/{loan_id}"): ("/v1/loans/{loan}",),
    ("get", "/v1/loans/export"): ("/v1/loans/export?format=csv", "/v1/loans/export?format=xlsx"),
    ("get", "/v1/loans/{loan_id}/report"): (
        "/v1/loans/{loan}/report?format=html",
        "/v1/loans/{loan}/report?format=pdf",
    ),
    ("get", "/v1/book"): ("/v1/book",),
    ("get", "/v1/alerts"): ("/v1/alerts" + _LIST,),
    ("get", "/v1/monitoring/runs/{run_id}"): ("/v1/monitoring/runs/{run}",),
    ("get", "/v1/webhooks/{hook_id}"): ("/v1/webhooks/{hook}",),
    ("get", "/v1/webhooks/{hook_id}/deliveries"): ("/v1/webhooks/{hook}/deliveries" + _LIST,),
    # last: they delete what the others read
    ("delete", "/v1/loans/{loan_id}"): ("/v1/loans/{spare_loan}",),
    ("delete", "/v1/assets/{asset_id}"): ("/v1/assets/{spare_asset}",),
}
"""(method, OpenAPI path) -> the URLs called (``{name}`` is the id made by `_post_examples`),
one per media type of the answer, in the order they run."""


def generate() -> dict[str, Any]:
    """Run the service on a temporary database and record every answer of `URLS`."""
    operations: dict[str, Recorded] = {}
    with _service() as (client, hook_url):
        ids = _post_examples(client, hook_url)
        for (method, path), urls in URLS.items():
            content: dict[str, dict[str, Any]] = {}
            status = None
            for template in urls:
                url = template.format(**ids)
                answer = client.open(url, method=method.upper())
                if answer.status_code >= 400:
                    raise RuntimeError(
                        f"{method.upper()} {url}: {answer.status_code} "
                        f"{answer.get_data(as_text=True)[:500]}"
                    )
                status = answer.status_code
                media = answer.mimetype
                value = _shown(media, answer.get_data())
                if path == "/openapi.json":
                    value = _trimmed_document(value)
                    summary = f"GET {url}, cut to its first path and first schema"
                else:
                    summary = f"{method.upper()} {url}"
                value, cut = _cut(value)
                if cut:
                    summary += f" (arrays cut to their first {LIST_ITEMS} items)"
                content[media] = {"summary": summary, "value": value}
            operations[f"{method} {path}"] = {"status": str(status), "content": content}
    return {
        "generated_by": COMMAND,
        "description": "Answers of the service to the request examples (api/openapi_responses.py).",
        "operations": operations,
    }


def shape(recorded: dict[str, Any]) -> dict[str, Any]:
    """Operations, statuses, media types and top-level keys of JSON answers: what must match."""
    return {
        key: {
            "status": entry["status"],
            "content": {
                media: sorted(shown["value"]) if isinstance(shown["value"], dict) else "text"
                for media, shown in entry["content"].items()
            },
        }
        for key, entry in recorded["operations"].items()
    }


def main(argv: list[str] | None = None) -> int:
    """``--write`` the committed file, or ``--check`` it against a fresh recording."""
    parser = argparse.ArgumentParser(prog="python -m ipvalue.api.openapi_responses")
    parser.add_argument("--write", action="store_true", help=f"rewrite {FILE.name}")
    parser.add_argument("--check", action="store_true", help="compare shapes with the file")
    args = parser.parse_args(argv)
    recorded = generate()
    if args.write:
        FILE.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {FILE} ({len(recorded['operations'])} operations)")
        return 0
    if args.check:
        committed = json.loads(FILE.read_text(encoding="utf-8"))
        if shape(committed) != shape(recorded):
            print(f"{FILE.name} is stale: run {COMMAND}", file=sys.stderr)
            return 1
        print(f"{FILE.name} is current")
        return 0
    json.dump(recorded, sys.stdout, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
