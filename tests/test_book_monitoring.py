"""Monitoring runs over the book: evaluations stored, alerts raised once, leases, job and CLI."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import select
from test_book_api import asset_body, loan_body, make_asset

from ipvalue.api.book import BookStore
from ipvalue.api.cli import main
from ipvalue.api.db import engine_for
from ipvalue.api.monitor import run_monitoring
from ipvalue.api.tables import records

AS_OF = "2026-06-01"


def url_of(client: Any) -> str:
    return str(client.application.config["DATABASE_URL"])


def run(client: Any, as_of: str = AS_OF, **kw: Any) -> dict[str, Any]:
    import datetime as dt

    return run_monitoring(
        url_of(client), "test-tenant", dt.date.fromisoformat(as_of), paths=2_000, **kw
    )


def loan(client: Any, *asset_ids: str, **extra: Any) -> dict[str, Any]:
    made = client.post("/v1/loans", json=loan_body(*asset_ids, **extra))
    assert made.status_code == 201, made.get_json()
    return dict(made.get_json())


def test_a_run_stores_the_evaluation_and_raises_alerts_once(client: Any) -> None:
    a = make_asset(client)
    b = make_asset(client, name="B", number="8000001")
    l1 = loan(client, a["id"], b["id"])
    first = run(client)
    assert first["loans_checked"] == 1 and first["failures"] == []
    shown = client.get(f"/v1/loans/{l1['id']}").get_json()["monitoring"]
    assert shown["as_of"] == AS_OF
    assert (
        shown["collateral"]["ltv"] > 0 and 0 <= shown["collateral"]["prob_ltv_breach"]["value"] <= 1
    )
    assert shown["next_revaluation_date"]
    alerts_before = client.get("/v1/alerts?status=open").get_json()["items"]
    assert len(alerts_before) == first["alerts_raised"]
    again = run(client)
    assert again["alerts_raised"] == 0  # nothing new fired
    # the right lapses: remaining life ends at once, new alerts on that asset
    lapse = {
        "events": [
            {"type": "lapsed", "date": "2026-05-01", "code": "EXP.", "source": "uspto-maintfee"}
        ]
    }
    assert client.post(f"/v1/assets/{a['id']}/events", json=lapse).status_code == 201
    third = run(client)
    assert third["alerts_raised"] >= 1
    raised = client.get(f"/v1/alerts?status=open&loan_id={l1['id']}").get_json()["items"]
    assert ("remaining_life", a["id"], "critical") in {
        (x["rule"], x["asset_id"], x["severity"]) for x in raised
    }
    line = third["loans"][0]
    assert line["value"] < first["loans"][0]["value"]  # the lapsed right counts zero
    target = next(x for x in raised if x["rule"] == "remaining_life")
    ack = client.post(
        f"/v1/alerts/{target['id']}/acknowledge", json={"by": "officer", "note": "seen"}
    )
    assert ack.status_code == 200
    assert (
        ack.get_json()["status"] == "acknowledged"
        and ack.get_json()["acknowledged_by"] == "officer"
    )
    assert run(client)["alerts_raised"] == 0  # acknowledged, still firing: not raised again
    assert client.post(f"/v1/alerts/{target['id']}/acknowledge", json={}).status_code == 422


def test_failures_are_reported_and_the_rest_go_on(client: Any) -> None:
    good = make_asset(client)
    bare = client.post("/v1/assets", json={"asset": {"name": "No appraisal", "kind": "patent"}})
    bad_loan = loan(client, bare.get_json()["id"])
    good_loan = loan(client, good["id"])
    out = run(client)
    assert out["loans_checked"] == 1
    assert [f["loan_id"] for f in out["failures"]] == [bad_loan["id"]]
    assert "appraisal" in out["failures"][0]["problem"]["detail"]
    assert out["loans"][0]["loan_id"] == good_loan["id"]


def test_sort_by_risk_puts_the_riskiest_loan_first(client: Any) -> None:
    a = make_asset(client)
    safe = loan(client, a["id"], amount=10_000)
    risky = loan(client, a["id"], amount=400_000, max_ltv=0.5)
    unmonitored = loan(client, a["id"], start_date="2026-11-01")
    run(client)
    order = [x["id"] for x in client.get("/v1/loans?sort=risk").get_json()["items"]]
    assert order == [risky["id"], safe["id"], unmonitored["id"]]
    page = client.get("/v1/loans?sort=risk&limit=1").get_json()
    rest = client.get(f"/v1/loans?sort=risk&limit=5&cursor={page['next_cursor']}").get_json()
    assert [x["id"] for x in rest["items"]] == order[1:]


def test_one_run_at_a_time_per_loan(client: Any) -> None:
    a = make_asset(client)
    held = loan(client, a["id"])
    store = BookStore(engine_for(url_of(client)))
    assert store.take_leases([held["id"]], "other-run", 60) == {held["id"]}
    assert not store.take_leases([held["id"]], "me", 60)
    out = run(client)
    assert out["loans_checked"] == 0 and out["skipped"][0]["loan_id"] == held["id"]
    store.release_leases([held["id"]], "other-run")
    assert run(client)["loans_checked"] == 1


def test_monitoring_run_as_a_job(client: Any) -> None:
    a = make_asset(client)
    loan(client, a["id"])
    started = client.post("/v1/monitoring/runs", json={"as_of": AS_OF})
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job_id"]
    deadline = time.monotonic() + 120
    while True:
        out = client.get(f"/v1/monitoring/runs/{job_id}").get_json()
        if out["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert out["status"] == "succeeded", out
    assert out["as_of"] == AS_OF and out["loans_checked"] == 1
    again = client.get(f"/v1/monitoring/runs/{out['id']}").get_json()
    assert again["loans_checked"] == 1 and again["kind"] == "monitoring_run"


def test_bad_run_bodies(client: Any, other_client: Any) -> None:
    assert client.post("/v1/monitoring/runs", json={"as_of": "2999-01-01"}).status_code == 422
    assert client.post("/v1/monitoring/runs", json={"loan_ids": ["nope"]}).status_code == 404
    assert client.get("/v1/monitoring/runs/nope").status_code == 404
    a = make_asset(client)
    mine = loan(client, a["id"])
    refused = other_client.post("/v1/monitoring/runs", json={"loan_ids": [mine["id"]]})
    assert refused.status_code == 404


def test_cli_monitor_run(client: Any, capsys: Any) -> None:
    a = make_asset(client)
    loan(client, a["id"])
    code = main(
        [
            "monitor",
            "run",
            "--as-of",
            AS_OF,
            "--database-url",
            url_of(client),
            "--tenant",
            "test-tenant",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["tenant"] == "test-tenant" and out["loans_checked"] == 1
    assert main(["monitor", "run", "--as-of", "june", "--database-url", url_of(client)]) == 2
    assert main(["monitor", "deliver", "--database-url", url_of(client)]) == 0
    assert "webhook deliveries" in capsys.readouterr().out
    assert main(["monitor", "book", "--database-url", url_of(client)]) == 0
    listed = capsys.readouterr().out
    assert "test-tenant: 1 loan(s), riskiest first" in listed and "Acme GmbH" in listed
    assert main(["monitor", "alerts", "--database-url", url_of(client)]) == 0
    assert capsys.readouterr().out.count("test-tenant") == out["alerts_raised"]


def test_book_totals_and_export(client: Any) -> None:
    import csv
    import io
    import zipfile

    a = make_asset(client)
    b = make_asset(client, name="B", number="8000001")
    loan(client, a["id"], b["id"])
    loan(client, a["id"], currency="USD")  # another currency: never added to EUR
    before = client.get("/v1/book").get_json()["currencies"]
    assert before["EUR"]["exposure"] == 100_000 and before["EUR"]["monitored"] == 0
    run(client)
    totals = client.get("/v1/book").get_json()
    eur = totals["currencies"]["EUR"]
    assert eur["loans"] == 1 and eur["monitored"] == 1
    assert eur["expected_loss"] >= eur["expected_loss_after_risk_sharing"] >= 0
    kinds = eur["concentration"]["kind"]
    assert kinds["shares"] == [{"name": "patent", "share": 1.0, "exposure": 100_000}]
    assert kinds["hhi"] == 1.0
    assert set(totals["currencies"]) == {"EUR", "USD"}
    exported = client.get("/v1/loans/export?format=csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert len(rows) == 2 and {r["currency"] for r in rows} == {"EUR", "USD"}
    monitored = next(r for r in rows if r["currency"] == "EUR")
    assert float(monitored["ltv"]) > 0 and monitored["as_of"] == AS_OF
    sheet = client.get("/v1/loans/export?format=xlsx")
    assert sheet.status_code == 200
    with zipfile.ZipFile(io.BytesIO(sheet.get_data())) as package:
        xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert "prob_ltv_breach" in xml and xml.count("<row ") == 3
    assert client.get("/v1/loans/export?format=pdf").status_code == 422


def test_racing_runs_take_a_loan_lease_once(db_url: str) -> None:
    """Eight runs race for one loan's lease on each database: exactly one holds it."""
    import threading

    from ipvalue.api.db import migrate

    engine = engine_for(db_url)
    migrate(engine)
    store = BookStore(engine)
    start = threading.Barrier(8)
    won: list[bool] = []

    def race(k: int) -> None:
        start.wait()
        won.append(bool(store.take_leases(["loan-1"], f"run-{k}", 60)))

    threads = [threading.Thread(target=race, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False] * 7 + [True]
    assert not store.take_leases(["loan-1"], "late", 60)
    store.release_leases(["loan-1"], "late")  # only the holder can give it back
    assert not store.take_leases(["loan-1"], "late", 60)


@pytest.mark.slow
def test_observations_are_re_estimated_once_and_feed_the_collateral(client: Any) -> None:
    body = asset_body()
    body["observations"] = {
        "series": [100 * 1.01**k * (1.08 if k % 2 else 0.93) for k in range(24)],
        "kind": "levels",
        "periods_per_year": 12,
    }
    made = client.post("/v1/assets", json=body)
    assert made.status_code == 201, made.get_json()
    loan(client, made.get_json()["id"])
    first = run(client)
    assert first["failures"] == [] and first["loans_checked"] == 1
    engine = engine_for(url_of(client))
    with engine.connect() as conn:
        estimates = conn.execute(
            select(records.c.subject).where(records.c.kind == "volatility")
        ).all()
    assert len(estimates) == 1
    evaluation = client.get(f"/v1/loans/{first['loans'][0]['loan_id']}").get_json()
    assert evaluation["monitoring"]["collateral"]["ltv"] > 0
    run(client, as_of="2026-07-01")  # same observations: no new estimate
    with engine.connect() as conn:
        assert (
            len(conn.execute(select(records.c.id).where(records.c.kind == "volatility")).all()) == 1
        )


def test_schedule_setting_and_one_tick_per_period(client: Any) -> None:
    from ipvalue.api.monitor_schedule import parse_every, scheduled_tick

    assert parse_every(None) is None and parse_every("0") is None
    assert parse_every("6h") == 21_600 and parse_every("1d") == 86_400 and parse_every("90") == 90
    with pytest.raises(ValueError, match="IPVALUE_MONITOR_EVERY"):
        parse_every("often")
    with pytest.raises(ValueError, match="at least 60"):
        parse_every("5s")

    class Runner:
        def __init__(self) -> None:
            self.jobs: list[tuple[str, str]] = []

        def create(self, kind: str, tenant: str, fn: Any, payload: Any, context: Any) -> str:
            self.jobs.append((kind, tenant))
            return f"job-{len(self.jobs)}"

    runner = Runner()
    assert scheduled_tick(runner, url_of(client), 3600, "worker-1") == ["job-1"]
    assert scheduled_tick(runner, url_of(client), 3600, "worker-2") == []  # same period
    assert runner.jobs == [("monitoring_run", "test-tenant")]


def test_racing_runs_take_a_chunks_leases_once_each(db_url: str) -> None:
    """Eight runs race for the leases of the same five loans at once (one expired, held
    before): each loan ends up held by exactly one run, and a live lease stays its holder's."""
    import threading

    from ipvalue.api.db import migrate

    engine = engine_for(db_url)
    migrate(engine)
    store = BookStore(engine)
    ids = [f"loan-{k}" for k in range(5)]
    assert store.take_leases(["loan-0"], "gone", 60) == {"loan-0"}
    store.release_leases(["loan-0"], "gone")  # expired: free to take
    assert store.take_leases(["loan-9"], "keeper", 60) == {"loan-9"}  # live: never taken
    start = threading.Barrier(8)
    won: dict[str, set[str]] = {}

    def race(k: int) -> None:
        start.wait()
        won[f"run-{k}"] = store.take_leases([*ids, "loan-9"], f"run-{k}", 60)

    threads = [threading.Thread(target=race, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    holders = {i: [run for run, held in won.items() if i in held] for i in [*ids, "loan-9"]}
    assert all(len(holders[i]) == 1 for i in ids), holders
    assert holders["loan-9"] == []
    run, held = next((r, h) for r, h in won.items() if h)
    store.release_leases(held, "someone-else")  # only the holder can give them back
    assert store.take_leases(sorted(held), "late", 60) == set()
    store.release_leases(held, run)
    assert store.take_leases(sorted(held), "late", 60) == held


def test_a_run_through_an_executor_stores_the_same_evaluations(client: Any) -> None:
    """Chunks evaluated in worker processes (here a process pool) and stored by the run: the
    same evaluations as a run that computes them itself (each loan seeded by id and date)."""
    from concurrent.futures import ProcessPoolExecutor

    import ipvalue.api.monitor as monitor

    a = make_asset(client)
    b = make_asset(client, name="B", number="8000001")
    bare = client.post("/v1/assets", json={"asset": {"name": "No appraisal", "kind": "patent"}})
    made = [loan(client, a["id"], b["id"]), loan(client, b["id"], amount=90_000)]
    bad = loan(client, bare.get_json()["id"])
    old_chunk = monitor.CHUNK_LOANS
    monitor.CHUNK_LOANS = 1  # every loan its own chunk, several in flight
    try:
        inline = run(client)
        with ProcessPoolExecutor(2) as pool:
            pooled = run(client, executor=pool)
    finally:
        monitor.CHUNK_LOANS = old_chunk
    assert [f["loan_id"] for f in pooled["failures"]] == [bad["id"]]
    assert pooled["failures"] == inline["failures"]
    assert pooled["loans_checked"] == inline["loans_checked"] == 2
    keep = ("loan_id", "value", "ltv", "prob_ltv_breach", "next_revaluation_date")
    assert [{k: x[k] for k in keep} for x in pooled["loans"]] == [
        {k: x[k] for k in keep} for x in inline["loans"]
    ]
    store_url = url_of(client)
    with engine_for(store_url).connect() as conn:
        rows = conn.execute(
            select(records.c.subject, records.c.result)
            .where(records.c.kind == "loan_evaluation")
            .order_by(records.c.created_at)
        ).all()
    for m in made:
        first, second = (json.loads(r) for s, r in rows if s == m["id"])
        assert first == second


def test_a_packed_chunk_evaluates_as_the_chunk_itself() -> None:
    """What an executor's worker runs (`evaluate_packed`: one buffer in, one out) gives the
    outcomes `evaluate_jobs` gives inline: the same lines, rules fired, problems and stored
    results (only a record's own id, time and digest are new)."""
    import datetime as dt

    from ipvalue.api.monitor_evaluation import (
        ChunkSpec,
        LoanJob,
        evaluate_jobs,
        evaluate_packed,
        pack,
        unpack,
    )
    from ipvalue.models.book import LoanBody

    doc = {**asset_body(), "events": []}
    jobs = [
        LoanJob("L1", LoanBody.model_validate(loan_body("a")), (("a", doc, None),), None),
        LoanJob(
            "L2",
            LoanBody.model_validate(loan_body("a", "x")),
            (("a", doc, None), ("x", None, None)),
            None,
        ),
    ]
    spec = ChunkSpec("test-tenant", dt.date.fromisoformat(AS_OF), "run-1", 2_000)
    blob = evaluate_packed(pack((spec, jobs)))
    assert isinstance(blob, bytes)
    packed, inline = unpack(blob), evaluate_jobs(spec, jobs)
    fresh = ("id", "created_at", "sha256")
    for p, i in zip(packed, inline, strict=True):
        assert (p.loan_id, p.problem, p.fired, p.line) == (i.loan_id, i.problem, i.fired, i.line)
        if i.record is None:
            assert p.record is None
        else:
            assert p.record is not None
            assert {k: v for k, v in p.record.items() if k not in fresh} == {
                k: v for k, v in i.record.items() if k not in fresh
            }
    assert inline[1].problem is not None and inline[0].problem is None
