"""Job functions and probes shared by the job tests (module-level, so job processes import them).

A job of `slow` appends its process id to ``payload["runs"]`` when it starts and waits until the
file ``payload["release"]`` exists, so a test can kill it mid-run, count how often it ran, and
let it finish.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from ipvalue.api.db import dumps, now
from ipvalue.api.executors import function_path
from ipvalue.api.tables import jobs, records

TESTS = Path(__file__).resolve().parent


def slow(payload: dict[str, Any]) -> dict[str, Any]:
    """Notes its pid in ``runs``, then waits (at most 120 s) for ``release`` to exist."""
    with open(payload["runs"], "a") as runs:
        runs.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + 120
    while not os.path.exists(payload["release"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"done": True, "tag": payload.get("tag")}


def runs_of(path: Path) -> list[int]:
    """The pids of the runs a `slow` job noted, in order."""
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def job_children(parent: int) -> list[int]:
    """Job processes started by server process ``parent`` (it is in their command line)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"ipvalue.api.executors" in arg for arg in argv) and str(parent).encode() in argv:
            if alive(int(proc.name)):
                found.append(int(proc.name))
    return found


def wait_until(check: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``check`` every 0.1 s until it returns something true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def queue_slow(engine: Engine, tenant: str, tmp: Path, tag: str = "") -> tuple[str, Path, Path]:
    """Insert a queued `slow` job directly; ``(job id, runs file, release file)``."""
    job_id = str(uuid.uuid4())
    runs, release = tmp / f"runs-{job_id}", tmp / f"release-{job_id}"
    payload = {"runs": str(runs), "release": str(release), "tag": tag}
    with engine.begin() as conn:
        conn.execute(
            insert(jobs),
            {
                "id": job_id,
                "kind": "test",
                "tenant": tenant,
                "fn": function_path(slow),
                "status": "queued",
                "progress": 0.0,
                "payload": dumps(payload),
                "context": dumps({"request": payload}),
                "attempts": 0,
                "owner": None,
                "created_at": now(),
            },
        )
    return job_id, runs, release


def job_row(engine: Engine, job_id: str) -> dict[str, Any]:
    """The job's row as a dict."""
    with engine.connect() as conn:
        return dict(conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one())


def records_of(engine: Engine, job_id: str) -> int:
    """How many records job ``job_id`` left."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(records).where(records.c.job_id == job_id)
            ).scalar_one()
        )


def owner_pid(engine: Engine, job_id: str) -> int | None:
    """The pid in the job's owner (``host:pid:exec``) once its own process has taken it."""
    owner = job_row(engine, job_id)["owner"] or ""
    parts = owner.split(":")
    if len(parts) == 3 and parts[0] == socket.gethostname()[:32] and parts[2] == "exec":
        return int(parts[1])
    return None


class TcpProxy:
    """A loopback TCP forwarder that can be cut: a database outage on demand.

    While cut, every open connection is closed and new ones are closed on arrival.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.cut_off = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.cut_off.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
                with self._lock:
                    self._open.discard(s)

    def cut(self) -> None:
        """Start the outage: close everything open, refuse what comes."""
        self.cut_off.set()
        with self._lock:
            sockets = list(self._open)
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def restore(self) -> None:
        """End the outage."""
        self.cut_off.clear()

    def close(self) -> None:
        self.cut()
        self.server.close()
