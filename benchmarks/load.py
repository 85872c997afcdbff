"""Load test: a mixed workload against gunicorn on SQLite and on PostgreSQL, side by side.

Starts ``ipvalue serve --production`` on a free port for each database (a fresh SQLite file; a
fresh schema of ``IPVALUE_TEST_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), stores a valuation and a collateral
record to read, then drives it with a small asyncio HTTP/1.1 keep-alive client: every connection
cycles through valuations (``examples/patent.json``), collateral (2,000 paths), triggers and
reads (a stored valuation, a stored collateral record, the newest 20 valuations). It prints
requests per second, p50/p99 latency and errors per database, overall and per kind.

Goal on a 2-core machine at 64 connections for 30 s: 0 errors on both databases, PostgreSQL's
throughput within 1.5x of SQLite's. The client runs on the same machine and takes its share of
the cores, so compare the two columns of one run, not runs on different days.

    .venv/bin/python benchmarks/load.py [--seconds 30] [--concurrency 64] [--workers N]
        [--databases sqlite,postgresql] [--postgres-url URL]
    .venv/bin/python benchmarks/load.py --url http://host:8000 --key ipv_...   # a running server
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
VALUATION = json.loads((ROOT / "examples" / "patent.json").read_text())
COLLATERAL = {
    "value": 10_000_000,
    "volatility": 0.4,
    "horizon_years": 1,
    "paths": 2_000,
    "loan_amount": 3_000_000,
    "annual_pd": 0.02,
    "seed": 7,
}
TRIGGERS = {
    "as_of": "2026-11-27",
    "last_appraisal": {"date": "2025-06-30", "value": 1_000_000},
    "current": {"value": 750_000},
    "loan": {"amount": 300_000, "max_ltv": 0.3, "term_years": 3},
    "legal": {
        "expiry_date": "2028-06-30",
        "events": [{"type": "invalidation_petition", "date": "2026-10-01"}],
    },
}
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GOAL_RATIO = 1.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server (dropped afterwards); yields its URL."""
    from sqlalchemy import create_engine, text

    schema = f"ipv_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{sep}options=-csearch_path%3D{schema}&application_name={schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def server(database_url: str, workers: int | None) -> Iterator[tuple[str, str, int]]:
    """gunicorn on a free port on ``database_url``; yields (base URL, API key, master pid)."""
    tmp = tempfile.mkdtemp(prefix="ipvalue-load-")
    env = {
        **os.environ,
        "IPVALUE_DATABASE_URL": database_url,
        "IPVALUE_INSTANCE_PATH": tmp,
        "IPVALUE_RATE_LIMIT": "0",
        "IPVALUE_ANON_RATE_LIMIT": "0",
        "IPVALUE_LOG_LEVEL": "WARNING",
    }
    ipvalue = str(Path(sys.executable).with_name("ipvalue"))
    subprocess.run([ipvalue, "db", "upgrade"], env=env, check=False, capture_output=True)
    out = subprocess.run(
        [ipvalue, "keys", "create", "--tenant", "load"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    key = next(w for w in out.split() if w.startswith("ipv_"))
    port = free_port()
    cmd = [ipvalue, "serve", "--production", "--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/readyz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the server did not become ready within 60 s") from None
                time.sleep(0.2)
        yield url, key, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _post(url: str, key: str, path: str, body: dict[str, object]) -> str:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        return str(json.loads(resp.read())["id"])


@dataclass(frozen=True)
class Call:
    """One request of the mix: its kind, the raw HTTP bytes and the status that means success."""

    kind: str
    raw: bytes
    expect: int


def mix(url: str, key: str) -> list[Call]:
    """The cycle each connection runs (after storing the records it reads)."""
    valuation_id = _post(url, key, "/v1/valuations", VALUATION)
    collateral_id = _post(url, key, "/v1/collateral", COLLATERAL)
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}"

    def req(method: str, path: str, body: dict[str, object] | None = None) -> bytes:
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        return (head + "\r\n").encode() + data

    return [
        Call("valuation", req("POST", "/v1/valuations", VALUATION), 201),
        Call("read", req("GET", f"/v1/valuations/{valuation_id}"), 200),
        Call("collateral", req("POST", "/v1/collateral", COLLATERAL), 201),
        Call("read", req("GET", "/v1/valuations?limit=20"), 200),
        Call("triggers", req("POST", "/v1/triggers/evaluate", TRIGGERS), 201),
        Call("read", req("GET", f"/v1/collateral/{collateral_id}"), 200),
    ]


@dataclass
class Tally:
    """Latencies (s) by kind and error descriptions of one run."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def one_connection(
    host: str, port: int, calls: list[Call], start: int, stop: float, tally: Tally
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = start
    try:
        while time.perf_counter() < stop:
            call = calls[i % len(calls)]
            i += 1
            began = time.perf_counter()
            writer.write(call.raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length, close = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
            tally.latencies.setdefault(call.kind, []).append(time.perf_counter() - began)
            if status != call.expect:
                tally.errors.append(f"{call.kind} {status}")
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.errors.append(type(exc).__name__)
    finally:
        writer.close()


async def drive(
    url: str, calls: list[Call], seconds: float, connections: int, meter: CpuMeter
) -> tuple[Tally, float, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    warm_stop = time.perf_counter() + 3.0  # each worker imports its paths, caches the key
    await asyncio.gather(
        *(one_connection(host, port, calls, i, warm_stop, Tally()) for i in range(connections))
    )
    tally = Tally()
    meter.begin()
    began = time.perf_counter()
    stop = began + seconds
    await asyncio.gather(
        *(one_connection(host, port, calls, i, stop, tally) for i in range(connections))
    )
    elapsed = time.perf_counter() - began
    return tally, elapsed, meter.spent()


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank), nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    kinds: dict[str, tuple[float, float, float]]  # kind -> (req/s, p50 ms, p99 ms)
    error_kinds: list[str]
    cpu_ms: float  # server CPU (gunicorn and database backends) per answered request


def figures(tally: Tally, elapsed: float, cpu: float = float("nan")) -> Figures:
    every = [x for values in tally.latencies.values() for x in values]
    kinds = {
        kind: (len(v) / elapsed, percentile(v, 0.5) * 1000, percentile(v, 0.99) * 1000)
        for kind, v in sorted(tally.latencies.items())
    }
    return Figures(
        rate=len(every) / elapsed,
        p50_ms=percentile(every, 0.5) * 1000,
        p99_ms=percentile(every, 0.99) * 1000,
        errors=len(tally.errors),
        kinds=kinds,
        error_kinds=sorted(set(tally.errors)),
        cpu_ms=cpu / max(len(every), 1) * 1000,
    )


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (s), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (gunicorn's master, workers and their job processes)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        path = Path(f"/proc/{current}/task/{current}/children")
        if path.exists():
            todo += [int(p) for p in path.read_text().split()]
    return out


def _backends(database_url: str) -> list[int]:
    """PostgreSQL backend pids serving ``database_url`` (by its ``application_name``)."""
    from urllib.parse import parse_qs

    names = parse_qs(urlsplit(database_url).query).get("application_name")
    if not names:
        return []
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.split("?")[0])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"),
                {"n": names[0]},
            )
            return [int(r[0]) for r in rows]
    finally:
        engine.dispose()


class CpuMeter:
    """CPU seconds spent serving: the gunicorn tree, plus the database's backends if any."""

    def __init__(self, master: int | None, database_url: str | None) -> None:
        self.master, self.database_url = master, database_url
        self.start: dict[int, float] = {}

    def _now(self) -> dict[int, float]:
        pids = _tree(self.master) if self.master else []
        if self.database_url and self.database_url.startswith("postgresql"):
            pids += _backends(self.database_url)
        return {pid: _cpu_seconds(pid) for pid in pids}

    def begin(self) -> None:
        self.start = self._now()

    def spent(self) -> float:
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self._now().items())


def run_one(
    url: str,
    key: str,
    seconds: float,
    connections: int,
    master: int | None = None,
    database_url: str | None = None,
) -> Figures:
    calls = mix(url, key)
    meter = CpuMeter(master, database_url)
    tally, elapsed, cpu = asyncio.run(drive(url, calls, seconds, connections, meter))
    return figures(tally, elapsed, cpu)


def report(results: dict[str, Figures], seconds: float, connections: int) -> None:
    names = list(results)
    width = 14
    print(f"mixed load, {connections} connections, {seconds:g} s per database")
    print(f"{'':22}" + "".join(f"{n:>{width}}" for n in names))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:22}" + "".join(f"{v:>{width}}" for v in values))

    row("requests/s", [f"{results[n].rate:.0f}" for n in names])
    row("p50 ms", [f"{results[n].p50_ms:.1f}" for n in names])
    row("p99 ms", [f"{results[n].p99_ms:.1f}" for n in names])
    row("errors", [str(results[n].errors) for n in names])
    row("server CPU ms/request", [f"{results[n].cpu_ms:.2f}" for n in names])
    cores = os.cpu_count() or 1
    row(f"req/s on {cores} idle cores", [f"{cores * 1000 / results[n].cpu_ms:.0f}" for n in names])
    kinds = sorted({k for f in results.values() for k in f.kinds})
    for kind in kinds:
        cells = []
        for n in names:
            rate, p50, p99 = results[n].kinds.get(kind, (0.0, float("nan"), float("nan")))
            cells.append(f"{rate:.0f} {p50:.0f}/{p99:.0f}")
        row(f"  {kind} r/s p50/p99", cells)
    for n in names:
        if results[n].error_kinds:
            print(f"  {n} error kinds: {results[n].error_kinds}")
    if "sqlite" in results and "postgresql" in results:
        sq, pg = results["sqlite"], results["postgresql"]
        ratio = sq.rate / max(pg.rate, 1e-9)
        cpu_ratio = pg.cpu_ms / max(sq.cpu_ms, 1e-9)
        print(
            f"goal: 0 errors on both; PostgreSQL within {GOAL_RATIO}x of SQLite: throughput "
            f"{ratio:.2f}x ({'met' if ratio <= GOAL_RATIO else 'NOT met'}), server CPU per "
            f"request {cpu_ratio:.2f}x ({'met' if cpu_ratio <= GOAL_RATIO else 'NOT met'})"
        )
    print(
        "(CPU per request counts the gunicorn processes and, on PostgreSQL, its backends; it "
        "does not move with other work on the machine the way throughput does)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=64, help="connections")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("IPVALUE_TEST_POSTGRES_URL", PG_DEFAULT)
    )
    parser.add_argument("--url", help="a running server (with --key) instead of starting one")
    parser.add_argument("--key")
    args = parser.parse_args()
    results: dict[str, Figures] = {}
    if args.url:
        results["server"] = run_one(args.url, args.key, args.seconds, args.concurrency)
    for name in [d.strip() for d in args.databases.split(",") if d.strip()] if not args.url else []:
        if name == "sqlite":
            db = f"sqlite:///{tempfile.mkdtemp(prefix='ipvalue-load-db-')}/load.sqlite"
            with server(db, args.workers) as (url, key, master):
                results[name] = run_one(url, key, args.seconds, args.concurrency, master, db)
        elif name == "postgresql":
            try:
                schema = postgres_schema(args.postgres_url)
                db = schema.__enter__()
            except Exception as exc:
                print(f"postgresql: skipped, not reachable at {args.postgres_url}: {exc}")
                continue
            try:
                with server(db, args.workers) as (url, key, master):
                    results[name] = run_one(url, key, args.seconds, args.concurrency, master, db)
            finally:
                schema.__exit__(None, None, None)
        else:
            raise SystemExit(f"--databases: unknown {name!r}; use sqlite and/or postgresql")
    report(results, args.seconds, args.concurrency)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
