"""Fuzz: schemathesis generates requests from /openapi.json, valid and invalid ones.

A failure is a 5xx, an answer that breaks the schema (status, content type, body, headers), or
an invalid request that is accepted (``negative_data_rejection``: data the schema forbids must
get a 4xx). Seeded and bounded, so a CI run is repeatable and takes about two minutes:
``IPVALUE_FUZZ_EXAMPLES`` generated requests per operation and mode (default 25, positive and
negative). Pending endpoints answer 501 by design, so for them only "no other 5xx" is checked.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Any

import schemathesis
from conftest import authed_client, key_for
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode, checks

from ipvalue.api import create_app

EXAMPLES = int(os.environ.get("IPVALUE_FUZZ_EXAMPLES", "25"))


def _build_app() -> Any:
    """The app under fuzz, on its own SQLite file (built at import: schemathesis needs it then)."""
    folder = tempfile.mkdtemp(prefix="ipvalue-fuzz-")
    atexit.register(shutil.rmtree, folder, True)
    # 10 paths x 10 years is over this budget, so simulations go to jobs quickly (202)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{folder}/fuzz.sqlite",
            "RATE_LIMIT": 0,
            "SYNC_BUDGET": 50_000,
            "MAX_PATHS": 20_000,
            "JOB_WORKERS": 1,
        }
    )
    app.config["FUZZ_KEY"] = key_for(app)
    atexit.register(app.extensions["ipvalue.jobs"].shutdown)
    return app


FUZZ_APP = _build_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", FUZZ_APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
schema.config.phases.update(phases=["examples", "fuzzing"])  # coverage: minutes, not seconds

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_answers_follow_the_schema(case: Any) -> None:
    headers = {"Authorization": f"Bearer {FUZZ_APP.config['FUZZ_KEY']}"}
    if "501" in case.operation.definition.raw.get("responses", {}):
        response = case.call(headers=headers)
        assert response.status_code in {400, 401, 404, 405, 413, 422, 429, 501}, (
            case.method,
            case.path,
            response.status_code,
        )
        return
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_fuzz_key_works() -> None:
    client = authed_client(FUZZ_APP, FUZZ_APP.config["FUZZ_KEY"])
    assert client.get("/v1/jobs/none").status_code == 404
