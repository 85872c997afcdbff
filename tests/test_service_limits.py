"""Rate limit per key (429 + Retry-After) and size limits (413/422 naming the limit)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import authed_client, key_for

from ipvalue.api.ratelimit import TokenBuckets

BODY = {
    "asset": {"name": "p", "kind": "patent", "legal": {"status": "granted"}},
    "valuation_date": "2026-11-27",
    "currency": "EUR",
    "methods": [
        {
            "method": "relief_from_royalty",
            "revenue": [100.0, 110.0, 120.0],
            "royalty_rate": 0.05,
            "tax_rate": 0.25,
            "discount_rate": 0.12,
        }
    ],
}


def test_token_bucket_allows_burst_then_rate() -> None:
    buckets = TokenBuckets(rate=2.0, burst=3)
    assert [buckets.take("k", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k", now=0.0) == pytest.approx(0.5)
    assert buckets.take("k", now=0.5) == 0.0
    assert buckets.take("other", now=0.5) == 0.0


def test_rate_limit_is_per_key_with_retry_after(make_app: Any) -> None:
    app = make_app(RATE_LIMIT=0.5, RATE_BURST=3)
    first, second = authed_client(app, key_for(app)), authed_client(app, key_for(app, "b"))
    codes = [first.get("/v1/jobs/nope").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    refused = first.get("/v1/jobs/nope")
    assert refused.content_type == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    assert "rate_limit" in refused.get_json()["detail"]
    assert second.get("/v1/jobs/nope").status_code == 404


def test_body_over_the_limit_is_413_naming_it(make_app: Any) -> None:
    app = make_app(MAX_BODY_BYTES=1000)
    client = authed_client(app, key_for(app))
    big = copy.deepcopy(BODY)
    big["asset"]["name"] = "x" * 2000
    resp = client.post("/v1/valuations", json=big)
    assert resp.status_code == 413
    assert resp.content_type == "application/problem+json"
    assert resp.get_json()["limit"] == "max_body_bytes"


def test_paths_over_the_limit_is_422_naming_it(make_app: Any) -> None:
    app = make_app(MAX_PATHS=1000)
    client = authed_client(app, key_for(app))
    resp = client.post("/v1/valuations", json={**BODY, "simulation": {"paths": 5000, "seed": 1}})
    assert resp.status_code == 422
    problem = resp.get_json()
    assert problem["limit"] == "max_paths" and "simulation.paths" in problem["detail"]


@pytest.mark.parametrize(
    ("revenue", "field"),
    [
        ([100.0] * 30, "methods[0].revenue"),
        ({"base": 100.0, "growth": 0.02, "years": 30}, "methods[0].revenue.years"),
    ],
)
def test_series_over_the_limit_is_422_naming_it(make_app: Any, revenue: Any, field: str) -> None:
    app = make_app(MAX_SERIES_LENGTH=20)
    client = authed_client(app, key_for(app))
    body = copy.deepcopy(BODY)
    body["methods"][0]["revenue"] = revenue
    resp = client.post("/v1/valuations", json=body)
    assert resp.status_code == 422
    problem = resp.get_json()
    assert problem["limit"] == "max_series_length"
    assert problem["detail"].startswith(field)


def test_limits_come_from_the_environment(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPVALUE_MAX_PATHS", "1234")
    monkeypatch.setenv("IPVALUE_SYNC_BUDGET", "5")
    from ipvalue.api.config import from_env

    settings = from_env()
    assert settings["MAX_PATHS"] == 1234 and settings["SYNC_BUDGET"] == 5
    monkeypatch.setenv("IPVALUE_MAX_PATHS", "many")
    with pytest.raises(ValueError, match="IPVALUE_MAX_PATHS"):
        from_env()


def test_check_limit_names_the_limit_and_field(make_app: Any) -> None:
    from ipvalue.api.limits import check_limit
    from ipvalue.models.errors import LimitExceededError

    app = make_app(MAX_ASSETS=3)
    with app.app_context():
        check_limit("max_assets", 3, "assets")
        with pytest.raises(LimitExceededError) as caught:
            check_limit("max_assets", 4, "assets")
    assert caught.value.limit == "max_assets" and caught.value.status == 422
    assert str(caught.value).startswith("assets: 4 is over the limit max_assets = 3")
