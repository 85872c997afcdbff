"""Load test: POST /v1/valuations against gunicorn on loopback at fixed concurrency.

Starts ``ipvalue serve --production`` on a free port with a fresh SQLite database (or uses
``--url`` and ``--key`` of a running server), drives it with a small asyncio HTTP/1.1 keep-alive
client for a bounded time, and prints p50/p99 latency, throughput and error rate. Goal on a
2-core machine at concurrency 16: zero errors, p99 under 100 ms, at least 300 requests/s.
The client runs on the same machine and takes its share of the cores.

    .venv/bin/python benchmarks/load.py [--seconds 15] [--concurrency 16] [--workers N]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
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
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
BODY = json.loads((ROOT / "examples" / "patent.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    workers: int | None, database_url: str | None = None
) -> tuple[subprocess.Popen[bytes], str, str, str]:
    """gunicorn on a free port with a fresh database; returns (process, url, key, tmpdir)."""
    tmp = tempfile.mkdtemp(prefix="ipvalue-load-")
    db = database_url or f"sqlite:///{tmp}/load.sqlite"
    env = {
        **os.environ,
        "IPVALUE_DATABASE_URL": db,
        "IPVALUE_RATE_LIMIT": "0",
        "IPVALUE_LOG_LEVEL": "WARNING",
    }
    ipvalue = str(Path(sys.executable).with_name("ipvalue"))
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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=1):
                return proc, url, key, tmp
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not become ready within 60 s")


async def one_connection(
    host: str, port: int, request: bytes, stop: float, latencies: list[float], errors: list[str]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if status != 201:
                errors.append(str(status))
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    except (OSError, asyncio.IncompleteReadError) as exc:
        errors.append(type(exc).__name__)
    finally:
        writer.close()


async def drive(
    url: str, key: str, seconds: float, concurrency: int
) -> tuple[list[float], list[str], float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    body = json.dumps(BODY).encode()
    request = (
        f"POST /v1/valuations HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors: list[str] = []
    # warm-up: each worker loads numpy/scipy paths and the key cache
    warm_stop = time.perf_counter() + 2.0
    await asyncio.gather(
        *(one_connection(host, port, request, warm_stop, [], []) for _ in range(concurrency))
    )
    began = time.perf_counter()
    stop = began + seconds
    await asyncio.gather(
        *(one_connection(host, port, request, stop, latencies, errors) for _ in range(concurrency))
    )
    return latencies, errors, time.perf_counter() - began


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--url", help="a running server (with --key) instead of starting one")
    parser.add_argument("--key")
    parser.add_argument(
        "--database-url", help="database of the started server (default: a fresh SQLite file)"
    )
    args = parser.parse_args()
    proc = None
    if args.url:
        url, key = args.url, args.key
    else:
        proc, url, key, _tmp = start_server(args.workers, args.database_url)
    try:
        latencies, errors, elapsed = asyncio.run(drive(url, key, args.seconds, args.concurrency))
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    done = sorted(latencies)
    total = len(done) + sum(1 for e in errors if not e.isdigit())
    p50, p99 = percentile(done, 0.50) * 1000, percentile(done, 0.99) * 1000
    rate = len(done) / elapsed
    error_rate = len(errors) / max(1, total)
    print(
        f"POST /v1/valuations, concurrency {args.concurrency}, {elapsed:.1f} s, {len(done)} answers"
    )
    print(
        f"  p50 {p50:.1f} ms   p99 {p99:.1f} ms   throughput {rate:.0f} req/s   "
        f"errors {len(errors)} ({error_rate:.2%})"
    )
    print(
        f"  goal: 0 errors, p99 < 100 ms ({p99 / 100:.2f} of bound), "
        f">= 300 req/s ({rate / 300:.2f} of goal)"
    )
    if errors:
        print("  error kinds:", sorted(set(errors)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
