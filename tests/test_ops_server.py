"""Operations under the real server (gunicorn): metrics across workers, text logs, gunicorn's
own error answers as problem+json, the body deadline, and ``make run``'s settings."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import _ready, gunicorn_server, worker_pids
from sqlalchemy import create_engine

from ipvalue.api.keys import create_key


def _raw(port: int, data: bytes, wait: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer (the server closes); status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _get(port: int, path: str, key: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {key}"} if key else {})
    resp = conn.getresponse()
    out = resp.status, resp.read()
    conn.close()
    return out


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Any:
    engine = create_engine(sqlite_url)
    key = create_key(engine, "ops").secret
    engine.dispose()
    env = {
        "IPVALUE_LOG_FORMAT": "text",
        "IPVALUE_LOG_LEVEL": "INFO",
        "IPVALUE_BODY_TIMEOUT": "1",
        "IPVALUE_THREADS": "2",
        "IPVALUE_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    log = tmp_path / "log"
    with gunicorn_server(sqlite_url, log, workers=2, **env) as (pid, port):
        yield pid, port, key, log, tmp_path / "instance"


def test_under_gunicorn(served: Any) -> None:
    """One server start, several checks (each start costs seconds)."""
    _pid, port, key, log, instance = served

    # /metrics sums the requests of every worker (prometheus-client multiprocess mode)
    for _ in range(20):  # new connection each: both workers answer some
        assert _get(port, "/v1/jobs/none", key)[0] == 404
    scraped = [_get(port, "/metrics")[1].decode() for _ in range(4)]
    pattern = re.compile(
        r'^ipvalue_http_requests_total\{method="GET",route="/v1/jobs/<job_id>",'
        r'status="404"\} (\S+)$',
        re.M,
    )
    totals = {float(m.group(1)) for text in scraped for m in pattern.finditer(text)}
    assert totals == {20.0}, totals  # whichever worker is scraped
    assert len(list((instance / "metrics").glob("*.db"))) >= 2

    # gunicorn's own answers are problem+json
    status, headers, body = _raw(port, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414 and headers["content-type"] == "application/problem+json"
    assert "shorten the URL" in json.loads(body)["detail"]
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(120))
    status, headers, body = _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert status == 431 and json.loads(body)["status"] == 431
    big = b"X-Big: " + b"v" * 9000 + b"\r\n"
    status, headers, body = _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert status == 431 and headers["content-type"] == "application/problem+json"

    # slow bodies: more trickling clients than threads all get 408, and the server still answers
    head = (
        b"POST /v1/valuations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + key.encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"asset": '
    )
    slow = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(6)]
    for sock in slow:
        sock.sendall(head)
    answers = []
    for sock in slow:
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        sock.close()
        answers.append(data)
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), [a[:40] for a in answers]
    problem = json.loads(answers[0].partition(b"\r\n\r\n")[2])
    assert "body_timeout" in problem["detail"]
    assert _get(port, "/healthz")[0] == 200

    # the control socket lives in the instance folder
    assert (instance / "gunicorn.ctl").is_socket()

    # text logs: the access lines and gunicorn's own lines in the same format
    time.sleep(0.5)
    lines = log.read_text().splitlines()
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
    assert any(re.match(stamp + r"INFO gunicorn\.error Booting worker", li) for li in lines)
    # every worker loaded the sampler's compiled kernels once, before its first request
    warmed = [
        int(m.group(1))
        for li in lines
        if (m := re.search(r"INFO ipvalue\.server worker (\d+): Monte Carlo sampler ready", li))
    ]
    assert sorted(warmed) == sorted(worker_pids(_pid)), (warmed, lines[:20])
    assert any(
        re.match(stamp + r"INFO ipvalue\.access GET /v1/jobs/none 404 [\d.]+ ms .*tenant=ops", li)
        for li in lines
    ), lines[-20:]
    assert not any(li.lstrip().startswith("{") for li in lines)


def test_make_run_honours_bind_workers_and_reuses_its_demo_key(
    sqlite_url: str, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {
        **os.environ,
        "IPVALUE_DATABASE_URL": sqlite_url,
        "IPVALUE_BIND": f"127.0.0.1:{port}",
        "IPVALUE_WORKERS": "3",
        "IPVALUE_LOG_LEVEL": "WARNING",
        "IPVALUE_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    ipvalue = str(Path(sys.executable).with_name("ipvalue"))
    printed = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        with out.open("wb") as f:
            proc = subprocess.Popen(
                [ipvalue, "serve", "--production", "--demo-key"],
                env=env,
                stdout=f,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 60
            while len(worker_pids(proc.pid)) < 3 or not _ready(port):
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("make run did not start: " + out.read_text(), pytrace=False)
                time.sleep(0.1)
            assert len(worker_pids(proc.pid)) == 3
            keys = re.findall(r"ipv_[A-Za-z0-9_-]{43}", out.read_text())
            assert keys, out.read_text()
            printed.append(keys[0])
            assert _get(port, "/v1/jobs/none", keys[0])[0] == 404
            status, _body = _get(port, "/")
            assert status == 302
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    assert printed[0] == printed[1]
    assert f"http://127.0.0.1:{port}/docs" in (tmp_path / "out0").read_text()
