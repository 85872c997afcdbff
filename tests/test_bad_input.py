"""Bad input gets a clear answer: a table of inputs -> status, field and house message.

Each row is a mistake a user made (issue 10 "Errors in the house style", issue 13 items 9-11):
the answer is problem+json naming the field and the fix, never a 500 and never pydantic's or
the JSON library's wording.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest

VALUATION: dict[str, Any] = {
    "asset": {
        "name": "p",
        "kind": "patent",
        "legal": {"filing_date": "2016-05-10", "expiry_date": "2036-05-10"},
    },
    "valuation_date": "2026-11-27",
    "currency": "EUR",
    "methods": [
        {
            "method": "relief_from_royalty",
            "revenue": {"base": 1_000_000, "growth": 0.03, "years": 5},
            "royalty_rate": 0.05,
            "tax_rate": 0.25,
            "discount_rate": 0.12,
        }
    ],
}
COLLATERAL: dict[str, Any] = {
    "value": 1_000_000,
    "volatility": 0.4,
    "horizon_years": 2,
    "loan_amount": 200_000,
    "paths": 1_000,
    "seed": 1,
}
INSURANCE: dict[str, Any] = {
    "cover": "collateral_value",
    "collateral": {
        "value": 10,
        "volatility": 0.4,
        "loan_amount": 6,
        "horizon_years": 2,
        "annual_pd": 0.1,
    },
    "simulation": {"paths": 1_000, "seed": 2},
}
TRIGGERS: dict[str, Any] = {
    "as_of": "2026-11-27",
    "last_appraisal": {"date": "2025-06-30", "value": 1_000_000},
    "loan": {"amount": 300_000, "max_ltv": 0.3, "term_years": 3},
}
BODIES = {
    "/v1/valuations": VALUATION,
    "/v1/collateral": COLLATERAL,
    "/v1/insurance/quotes": INSURANCE,
    "/v1/triggers/evaluate": TRIGGERS,
}


def edited(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``path`` (``a.b.0.c``) set to ``value`` (or removed)."""
    out = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _REMOVE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


_REMOVE = object()
V, C, Q, T = "/v1/valuations", "/v1/collateral", "/v1/insurance/quotes", "/v1/triggers/evaluate"

# (case, endpoint, path to edit, new value, status, field, words the message must contain)
TABLE: list[tuple[str, str, str, Any, int, str, str]] = [
    ("volatility as a percentage", C, "volatility", 40, 422, "volatility", "0.40 means 40 %"),
    ("max_ltv as a percentage", C, "max_ltv", 30, 422, "max_ltv", "0.40 means 40 %"),
    ("annual_pd as a percentage", C, "annual_pd", 3, 422, "annual_pd", "0.40 means 40 %"),
    ("volatility draw as a percentage", C, "volatility", [0.3, 40], 422, "volatility[1]", "40 %"),
    ("volatility as text", C, "volatility", "high", 422, "volatility", "a number or a list"),
    ("collateral value 1e308", C, "value", 1e308, 422, "value", "at most 1e+18"),
    ("insurance cover mistyped", Q, "cover", "colateral", 422, "cover", "'collateral_value'"),
    ("insurance cover missing", Q, "cover", _REMOVE, 422, "cover", "'litigation'"),
    ("date as dd/mm/yyyy", V, "valuation_date", "27/11/2026", 422, "valuation_date", "YYYY-MM-DD"),
    ("date as a number", V, "valuation_date", 0, 422, "valuation_date", "YYYY-MM-DD"),
    (
        "date that does not exist",
        V,
        "valuation_date",
        "2026-02-30",
        422,
        "valuation_date",
        "exists",
    ),
    (
        "filing date in year 9990",
        V,
        "asset.legal.filing_date",
        "9990-01-01",
        422,
        "asset.legal.filing_date",
        "between 1800 and 2999",
    ),
    (
        "valuation before filing",
        V,
        "valuation_date",
        "2010-01-01",
        422,
        "valuation_date",
        "is before asset.legal.filing_date",
    ),
    ("currency in lower case", V, "currency", "eur", 422, "currency", "ISO 4217 code in capitals"),
    (
        "jurisdiction in lower case",
        V,
        "asset.jurisdiction",
        "de",
        422,
        "asset.jurisdiction",
        "ISO 3166-1",
    ),
    (
        "bad growth is reported on revenue.growth",
        V,
        "methods.0.revenue.growth",
        5,
        422,
        "methods[0].revenue.growth",
        "got 5",
    ),
    ("years as true", V, "methods.0.revenue.years", True, 422, "methods[0].revenue.years", "true"),
    ("years as text", V, "methods.0.revenue.years", "10", 422, "methods[0].revenue.years", "'10'"),
    (
        "paths over the configured limit",
        V,
        "simulation",
        {"paths": 50_000_000, "seed": 1},
        422,
        "simulation.paths",
        "max_paths = 1000000",
    ),
    ("weights that overflow", V, "weights", [1.7e308], 422, "weights[0]", "at most"),
    (
        "dcf flows of 1e308",
        V,
        "methods.0",
        {"method": "dcf", "cash_flows": [1e308, 1e308, 1e308], "discount_rate": 0.1},
        422,
        "methods[0].cash_flows[0]",
        "1e+308",
    ),
    (
        "appraisal in year 9999",
        T,
        "last_appraisal.date",
        "9999-12-30",
        422,
        "last_appraisal.date",
        "between 1800 and 2999",
    ),
    ("trigger max_ltv as a percentage", T, "loan.max_ltv", 30, 422, "loan.max_ltv", "40 %"),
    ("unknown field", C, "volatilty", 0.4, 422, "volatilty", "not a known field"),
]
LIBRARY_WORDS = ("Input should", "constrained-float", "valid list", "invalid character", "regex")


@pytest.mark.parametrize(
    ("case", "endpoint", "path", "value", "status", "field", "words"),
    TABLE,
    ids=[row[0] for row in TABLE],
)
def test_bad_input_names_the_field_and_the_fix(
    client: Any,
    case: str,
    endpoint: str,
    path: str,
    value: Any,
    status: int,
    field: str,
    words: str,
) -> None:
    body = edited(BODIES[endpoint], path, value)
    resp = client.post(endpoint, json=body)
    assert resp.status_code == status, (case, resp.get_json())
    assert resp.content_type == "application/problem+json"
    problem = resp.get_json()
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert field in messages, (case, problem["errors"])
    assert words in messages[field], (case, messages[field])
    for text in LIBRARY_WORDS:
        assert text not in json.dumps(problem), (case, problem)


def test_the_good_bodies_of_the_table_are_accepted(client: Any) -> None:
    for endpoint, body in BODIES.items():
        resp = client.post(endpoint, json=body)
        assert resp.status_code == 201, (endpoint, resp.get_json())


# (case, raw body, status, field, words)
RAW: list[tuple[str, str, int, str, str]] = [
    ("duplicate key", '{"currency": "EUR", "currency": "USD"}', 400, "currency", "twice"),
    (
        "NaN",
        '{"simulation": {"thresholds": [NaN]}}',
        400,
        "simulation.thresholds[0]",
        "finite",
    ),
    ("Infinity", '{"weights": [Infinity]}', 400, "weights[0]", "finite"),
    ("a number too large", '{"weights": [1e999]}', 400, "weights[0]", "finite"),
    ("NaN indicator", '{"asset": {"indicators": {"k": NaN}}}', 400, "asset.indicators.k", "finite"),
    ("lone surrogate", '{"asset": {"name": "\\ud800"}}', 400, "asset.name", "surrogate"),
    ("900-deep objects", '{"a":' * 900 + "1" + "}" * 900, 400, "a", "deeper than 32"),
    ("3000-deep arrays", "[" * 3000 + "]" * 3000, 400, "(body)", "deeper than 32"),
    ("40-deep arrays in a field", '{"x": ' + "[" * 40 + "]" * 40 + "}", 400, "x", "deeper"),
    ("not JSON", "value=1", 400, "(body)", "JSON object"),
    ("a list", "[1, 2]", 400, "(body)", "not an array"),
]


@pytest.mark.parametrize(
    ("case", "raw", "status", "field", "words"), RAW, ids=[row[0] for row in RAW]
)
def test_json_that_is_not_plain_is_refused(
    client: Any, case: str, raw: str, status: int, field: str, words: str
) -> None:
    resp = client.post("/v1/valuations", data=raw, content_type="application/json")
    assert resp.status_code == status, (case, resp.get_data(as_text=True))
    assert resp.content_type == "application/problem+json"
    errors = {e["field"]: e["message"] for e in resp.get_json()["errors"]}
    assert field in errors, (case, errors)
    assert words in errors[field], (case, errors)


def test_a_body_that_is_not_json_is_415_naming_the_type(client: Any) -> None:
    resp = client.post("/v1/valuations", data="a,b\n1,2\n", content_type="text/plain")
    assert resp.status_code == 415
    assert resp.content_type == "application/problem+json"
    assert "application/json" in resp.get_json()["detail"]
    form = client.post("/v1/collateral", data={"value": "1"})
    assert form.status_code == 415


def test_a_csv_sent_as_something_else_is_told_about_text_csv(client: Any) -> None:
    csv = "id,kind,sector,value,volatility\na,patent,x,100,0.3\n"
    resp = client.post(
        "/v1/portfolios/screen", data=csv, content_type="application/x-www-form-urlencoded"
    )
    assert resp.status_code == 415
    assert "text/csv" in resp.get_json()["detail"]
    resp = client.post("/v1/portfolios/screen", data=csv, content_type="application/json")
    assert resp.status_code == 400
    assert "JSON object" in resp.get_json()["detail"]
    assert "text/csv" in resp.get_json()["detail"]


def test_related_series_true_is_a_422_not_a_500(client: Any) -> None:
    body = {"series": [0.1, -0.1, 0.2, 0.05, -0.02, 0.1, 0.0], "kind": "returns"}
    resp = client.post(
        "/v1/volatility", json=body | {"periods_per_year": 4, "related_series": True}
    )
    assert resp.status_code == 422, resp.get_json()
    assert "related_series" in [e["field"] for e in resp.get_json()["errors"]]


def _market(rates: list[float], traits: list[float], subject: float) -> dict[str, Any]:
    comps = [
        {"royalty_rate": r, "characteristics": {"claims": k}}
        for r, k in zip(rates, traits, strict=True)
    ]
    method = {
        "method": "market",
        "comparables": comps,
        "subject": {"claims": subject},
        "revenue": [100.0, 100.0],
        "tax_rate": 0.2,
        "discount_rate": 0.1,
    }
    return edited(VALUATION, "methods", [method])


@pytest.mark.parametrize(
    ("rates", "traits", "subject", "words"),
    [
        ([0.05, 0.04, 0.03, 0.02, 0.01], [1, 2, 3, 4, 5], 10, "predicts a royalty rate of -0.04"),
        ([0.05, 0.04, 0.03, 0.02, 0.01], [3, 3, 3, 3, 3], 3, "the same for every comparable"),
    ],
)
def test_a_degenerate_market_regression_warns_and_uses_the_median(
    client: Any, rates: list[float], traits: list[float], subject: float, words: str
) -> None:
    resp = client.post("/v1/valuations", json=_market(rates, traits, subject))
    assert resp.status_code == 201, resp.get_json()
    method = resp.get_json()["methods"][0]
    assert method["value"] > 0  # the median rate 0.03, not a negative predicted rate
    assert any(words in w for w in method["warnings"]), method["warnings"]
    assert "regression" not in method["audit"]


def _nan_result(payload: dict[str, Any]) -> dict[str, Any]:
    return {"value": {"point": float("nan")}, "paths": [1.0, float("inf")]}


def test_a_non_finite_result_is_a_422_naming_where_inline_and_in_jobs() -> None:
    from ipvalue.api.errors import non_finite_at
    from ipvalue.api.jobs import call_job
    from ipvalue.models.errors import InputError

    assert non_finite_at({"a": [1.0, {"b": float("-inf")}]}) == "a[1].b"
    assert non_finite_at({"a": [1.0, 2]}) is None
    with pytest.raises(InputError) as caught:
        call_job(_nan_result, {}, lambda _f: None)  # the one call of inline runs and job runs
    assert caught.value.status == 422
    assert "not a finite number" in caught.value.problems[0].message


CSV_HEAD = "id,kind,sector,value,volatility\n"


def test_a_csv_row_with_two_bad_cells_reports_both(client: Any) -> None:
    csv = CSV_HEAD + "a,widget,x,abc,0.3\nb,patent,x,-5,40\n"
    resp = client.post("/v1/portfolios/screen", data=csv, content_type="text/csv")
    assert resp.status_code == 422
    errors = {e["field"]: e["message"] for e in resp.get_json()["errors"]}
    assert {"rows[1].kind", "rows[1].value", "rows[2].value", "rows[2].volatility"} <= set(errors)
    assert "0.40 means 40 %" in errors["rows[2].volatility"]
    assert "Input should" not in json.dumps(errors)


def test_a_csv_upload_refuses_unknown_query_parameters(client: Any) -> None:
    csv = CSV_HEAD + "a,patent,x,100,0.3\nb,patent,y,200,0.2\n"
    resp = client.post(
        "/v1/portfolios/screen?paths=1000&csv_rows=999999&colour=red",
        data=csv,
        content_type="text/csv",
    )
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} == {"csv_rows", "colour"}


def test_a_csv_upload_records_its_settings_and_its_own_row_count(client: Any) -> None:
    csv = CSV_HEAD + "a,patent,x,100,0.3\nb,patent,y,200,0.2\n"
    resp = client.post(
        "/v1/portfolios/screen?paths=1000&seed=3&horizon_years=2", data=csv, content_type="text/csv"
    )
    assert resp.status_code == 201, resp.get_json()
    record = client.get(f"/v1/portfolios/{resp.get_json()['id']}").get_json()
    assert record["request"] == {
        "upload": "csv",
        "upload_rows": 2,
        "paths": 1000,
        "seed": 3,
        "horizon_years": 2.0,
    }
    bad = client.post("/v1/portfolios/screen?paths=many", data=csv, content_type="text/csv")
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0] == {
        "field": "paths",
        "message": "must be a whole number; got 'many'",
    }


def _empty_again(app: Any, url: str) -> None:
    """Recreate the app's database, empty: no tables at all."""
    from sqlalchemy import text

    engine = app.extensions["ipvalue.engine"]
    engine.dispose()
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        os.remove(path)
        open(path, "w").close()
        return
    schema = url.rsplit("search_path%3D", 1)[1]
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))


def test_a_recreated_empty_database_answers_503(make_app: Any, db_url: str) -> None:
    from tests.conftest import authed_client, key_for

    app = make_app(DATABASE_URL=db_url)
    client = authed_client(app, key_for(app))
    assert client.get("/v1/valuations").status_code == 200  # the key is now cached
    _empty_again(app, db_url)
    for resp in (client.get("/v1/valuations"), client.post("/v1/valuations", json=VALUATION)):
        assert resp.status_code == 503, resp.get_data(as_text=True)
        assert resp.content_type == "application/problem+json"
        assert "ipvalue db upgrade" in resp.get_json()["detail"]


def test_a_big_body_is_not_stored_twice_and_reads_back_whole(app: Any, client: Any) -> None:
    from sqlalchemy import func, select

    from ipvalue.api.tables import records

    body = edited(VALUATION, "asset.indicators", {f"claim_{i}": i for i in range(20_000)})
    resp = client.post("/v1/valuations", json=body)
    assert resp.status_code == 201, resp.get_json()
    size = len(json.dumps(body))
    with app.extensions["ipvalue.engine"].connect() as conn:
        row = conn.execute(
            select(func.length(records.c.request), func.length(records.c.inputs)).where(
                records.c.id == resp.get_json()["id"]
            )
        ).one()
    assert row[0] >= size * 0.9
    assert row[1] < size / 20, row  # the inputs are kept as their difference from the request
    record = client.get(f"/v1/valuations/{resp.get_json()['id']}").get_json()
    assert record["request"] == body
    assert record["inputs"]["asset"]["indicators"] == body["asset"]["indicators"]
    assert record["inputs"]["simulation"] is None  # a default the request left out


@pytest.mark.parametrize(
    ("base", "new"),
    [
        ({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3], "c": None}),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ({"a": [1, 2]}, {"a": [1, 2, 3]}),
        ({"a": 1}, {"a": 1.0}),
        ({"a": True}, {"a": 1}),
        ({"a": {"x": 1}, "z": 0}, {"a": {"x": 1, "y": 2}}),
        ([1, {"k": "v"}], [1, {"k": "w"}]),
        ({"a": 1}, None),
    ],
)
def test_a_stored_delta_restores_the_inputs_exactly(base: Any, new: Any) -> None:
    from ipvalue.api.delta import delta, restore

    back = restore(copy.deepcopy(base), json.loads(json.dumps(delta(base, new))))
    assert json.dumps(back) == json.dumps(new)
