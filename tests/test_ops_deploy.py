"""Running in production: the image, the compose file, and nginx in front of gunicorn.

The nginx tests need ``nginx`` on the PATH (Debian: ``nginx-light``; ``.ci/run`` installs it) and
skip without it; the compose file is checked by ``docker compose config`` when available, else
loaded as YAML and checked for its structure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import _free_port, gunicorn_server

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (nginx-light)")


def _local_config(folder: Path, upstream_port: int, port: int) -> Path:
    """deploy/nginx.conf pointed at a local gunicorn, with its files under ``folder``."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server web:8000;" in text and "listen 8080;" in text and "/tmp/" in text
    text = text.replace("server web:8000;", f"server 127.0.0.1:{upstream_port};")
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    text = text.replace("/tmp/", f"{folder}/")
    path = folder / "nginx.conf"
    path.write_text(text)
    return path


@needs_nginx
def test_nginx_config_is_valid(tmp_path: Path) -> None:
    config = _local_config(tmp_path, 8000, _free_port())
    done = subprocess.run(
        [str(NGINX), "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            length = [
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if length and len(body) >= length[0]:
                break
    return data


@needs_nginx
def test_nginx_holds_slow_clients_so_gunicorn_threads_stay_free(
    sqlite_url: str, tmp_path: Path
) -> None:
    """One gunicorn thread, the body deadline off: only nginx stands between it and them."""
    env = {"IPVALUE_THREADS": "1", "IPVALUE_BODY_TIMEOUT": "0", "IPVALUE_PROXY_COUNT": "1"}
    env["IPVALUE_INSTANCE_PATH"] = str(tmp_path / "instance")
    with gunicorn_server(sqlite_url, tmp_path / "log", workers=1, **env) as (_pid, upstream):
        port = _free_port()
        config = _local_config(tmp_path, upstream, port)
        with (tmp_path / "nginx.log").open("wb") as log:
            proc = subprocess.Popen(
                [str(NGINX), "-p", str(tmp_path), "-c", str(config), "-g", "daemon off;"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        slow: list[socket.socket] = []
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        log_text = (tmp_path / "nginx.log").read_text()
                        pytest.fail("nginx did not start: " + log_text, pytrace=False)
                    time.sleep(0.1)
            head = (
                b"POST /v1/valuations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 500\r\n\r\n{"asset": '
            )
            for _ in range(4):  # each would hold gunicorn's only thread for 10 s without nginx
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(head)
                slow.append(sock)
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert _answer(sock).startswith(b"HTTP/1.1 200")
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(
                    b"POST /v1/valuations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    b"Content-Length: 3000000\r\n\r\n"
                )
                answer = _answer(sock)
            assert answer.startswith(b"HTTP/1.1 413")
            assert b"application/problem+json" in answer and b"max_body_bytes" in answer
        finally:
            for sock in slow:
                sock.close()
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


# ----------------------------------------------------------------------------- compose, image


def _compose() -> dict[str, Any]:
    """The compose file as compose resolves it, else as YAML."""
    env = {**os.environ, "IPVALUE_DB_PASSWORD": "test-only"}
    try:
        done = subprocess.run(
            ["docker", "compose", "config", "--format", "json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done is not None and done.returncode == 0:
        import json

        return dict(json.loads(done.stdout))
    document = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_compose_runs_postgres_dask_with_two_workers_and_nginx_in_front() -> None:
    services = _compose()["services"]
    assert {"postgres", "scheduler", "worker", "web", "nginx"} <= set(services)
    web, worker = services["web"], services["worker"]
    assert "postgres" in services["postgres"]["image"]
    assert services["postgres"]["healthcheck"]
    assert "dask" in services["scheduler"]["command"][0]
    assert worker["command"][:2] == ["dask", "worker"]
    assert int(worker["deploy"]["replicas"]) == 2
    web_env = _env(web)
    assert web_env["IPVALUE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in web_env["IPVALUE_DATABASE_URL"]
    assert web_env["IPVALUE_DASK_SCHEDULER"] == _env(worker)["IPVALUE_DASK_SCHEDULER"]
    assert web_env["IPVALUE_DASK_SCHEDULER"].endswith("scheduler:8786")
    assert _env(worker)["IPVALUE_DATABASE_URL"] == web_env["IPVALUE_DATABASE_URL"]
    assert web_env["IPVALUE_PROXY_COUNT"] == "1"  # nginx's X-Forwarded-For is the client
    # each instance's control socket in its own folder: never on a volume instances share
    instance = web_env["IPVALUE_INSTANCE_PATH"]
    mounts = [str(v if isinstance(v, str) else v.get("target")) for v in web.get("volumes", [])]
    assert not any(instance.startswith(m.split(":")[-1]) for m in mounts), mounts
    nginx = services["nginx"]
    nginx_mounts = [str(v if isinstance(v, str) else v.get("source")) for v in nginx["volumes"]]
    assert any("deploy/nginx.conf" in m for m in nginx_mounts)
    assert "ports" in nginx and "ports" not in web  # only nginx faces the clients


def test_dockerfile_is_slim_non_root_with_a_health_check() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    bases = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert bases and all("slim" in base for base in bases)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    start = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    assert "/healthz" in " ".join(lines[start : start + 2])
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)
