"""The book's lists cost a constant number of SQL statements, however many loans it holds.

``GET /v1/loans`` and ``GET /v1/book`` read every loan's latest evaluation and open alerts in
batched queries (`ipvalue.api.store.SqlStore.latest_many`,
`ipvalue.api.book.BookStore.open_alerts`), not one query per loan: the statements one request
runs are counted with SQLAlchemy's ``before_cursor_execute`` event, for a tenant of 3 loans and
one of 30.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from test_book_api import asset_body, loan_body

from ipvalue.api.monitor import run_monitoring
from tests.conftest import authed_client, key_for

AS_OF = dt.date(2026, 6, 1)


@contextmanager
def statements(engine: Any) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs inside the block."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def book_of(app: Any, tenant: str, loans: int) -> Any:
    """A client of ``tenant`` whose book holds ``loans`` monitored loans with open alerts."""
    client = authed_client(app, key_for(app, tenant))
    made = client.post("/v1/assets", json=asset_body())
    assert made.status_code == 201, made.get_json()
    asset_id = made.get_json()["id"]
    for _ in range(loans):
        # lent far above the collateral: the LTV rules fire, so every loan has open alerts
        answer = client.post("/v1/loans", json=loan_body(asset_id, amount=50_000_000))
        assert answer.status_code == 201, answer.get_json()
    run = run_monitoring(app.config["DATABASE_URL"], tenant, AS_OF, paths=1_000)
    assert run["loans_checked"] == loans and run["failures"] == [], run
    return client


def counted(app: Any, client: Any, url: str) -> tuple[int, Any]:
    client.get(url)  # the key is looked up once, then cached: count a request like the next
    with statements(app.extensions["ipvalue.engine"]) as seen:
        answer = client.get(url)
    assert answer.status_code == 200, answer.get_json()
    return len(seen), answer.get_json()


def test_loans_and_book_run_as_many_statements_for_30_loans_as_for_3(app: Any) -> None:
    small, large = book_of(app, "small-book", 3), book_of(app, "large-book", 30)
    for url in ("/v1/loans?limit=100", "/v1/loans?sort=risk&limit=100", "/v1/book"):
        n_small, answer_small = counted(app, small, url)
        n_large, answer_large = counted(app, large, url)
        assert n_small == n_large, (url, n_small, n_large)
        if url == "/v1/book":
            assert answer_small["open_alerts"] > 0
            assert answer_large["open_alerts"] == 10 * answer_small["open_alerts"]
        else:
            assert len(answer_large["items"]) == 30
            for item in answer_large["items"]:
                assert item["monitoring"]["as_of"] == AS_OF.isoformat()
                assert item["monitoring"]["open_alerts"]


def test_a_listed_loan_shows_what_reading_it_alone_shows(app: Any) -> None:
    client = book_of(app, "one-book", 3)
    listed = client.get("/v1/loans").get_json()["items"]
    for item in listed:
        alone = client.get(f"/v1/loans/{item['id']}").get_json()
        assert alone["monitoring"] == item["monitoring"]
