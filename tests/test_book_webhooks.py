"""Webhooks: signed deliveries from the outbox to a receiver on 127.0.0.1, retries, the log."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from test_book_api import loan_body, make_asset
from test_book_monitoring import run, url_of

from ipvalue.api.db import engine_for
from ipvalue.api.webhooks import backoff, deliver_due, outbox, sign


class Receiver:
    """An HTTP receiver on 127.0.0.1 that answers ``status`` and keeps what it got (HTTPS
    with the certificate of ``tls``, when given)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def without_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the machine's ``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY`` and ``ALL_PROXY``
    (either case), so deliveries go where the test means."""
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture(autouse=True)
def allow_private_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver listens on 127.0.0.1, which the service refuses unless told otherwise (set
    before the app is built, so subscriptions and deliveries, in this process or a child, see
    it); and deliveries go straight to it, not through a proxy the machine names."""
    monkeypatch.setenv("IPVALUE_WEBHOOK_ALLOW_PRIVATE", "true")
    without_proxy_variables(monkeypatch)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_signature_reference_value() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    assert sign("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert [backoff(n) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert backoff(50) == 3600.0


def test_alerts_are_delivered_signed(client: Any, receiver: Receiver) -> None:
    made = client.post(
        "/v1/webhooks",
        json={"url": receiver.url, "events": ["alert.raised", "monitoring.completed"]},
    )
    assert made.status_code == 201
    hook = made.get_json()
    assert hook["secret"].startswith("whsec_")
    assert "secret" not in client.get(f"/v1/webhooks/{hook['id']}").get_json()
    a = make_asset(client)
    client.post("/v1/loans", json=loan_body(a["id"]))
    out = run(client)
    assert out["alerts_raised"] >= 1
    events = [json.loads(body)["event"] for _, body in receiver.got]
    assert events.count("alert.raised") == out["alerts_raised"]
    assert events[-1] == "monitoring.completed"
    for headers, body in receiver.got:
        expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Ipvalue-Signature"] == expected
    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries").get_json()["items"]
    assert {d["status"] for d in log} == {"delivered"} and len(log) == len(receiver.got)


def test_a_failed_delivery_is_retried_later_and_kept(client: Any, receiver: Receiver) -> None:
    hook = client.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["monitoring.completed"]}
    ).get_json()
    receiver.status = 503
    run(client)
    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries").get_json()["items"]
    assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [("pending", 1, 503)]
    engine = engine_for(url_of(client))
    assert deliver_due(engine) == {"delivered": 0, "retry": 0, "failed": 0, "refused": 0}
    with engine.begin() as conn:  # time passes: the retry is due
        conn.execute(outbox.update().values(next_attempt_at=outbox.c.created_at))
    receiver.status = 200
    assert deliver_due(engine)["delivered"] == 1
    assert len(receiver.got) == 2  # at least once: the first try and the retry


KILLED_RUN = """
import datetime as dt, os, signal, sys
import ipvalue.api.monitor as monitor
# killed between the commit of the alerts (and their outbox rows) and the first send
monitor.deliver_due = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
monitor.run_monitoring(sys.argv[1], "test-tenant", dt.date(2026, 6, 1), paths=2000)
"""


def test_committed_deliveries_survive_a_killed_process(client: Any, receiver: Receiver) -> None:
    """A run SIGKILLed after committing its alerts and before sending: the outbox still holds
    them, and the next deliverer (the next run, ``ipvalue monitor deliver``) sends them."""
    client.post("/v1/webhooks", json={"url": receiver.url, "events": ["alert.raised"]})
    a = make_asset(client)
    client.post("/v1/loans", json=loan_body(a["id"]))
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, url_of(client)], capture_output=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert receiver.got == []
    raised = client.get("/v1/alerts").get_json()["items"]
    assert raised  # committed before the kill
    engine = engine_for(url_of(client))
    assert deliver_due(engine)["delivered"] == len(raised)
    sent = sorted(json.loads(b)["data"]["id"] for _, b in receiver.got)
    assert sent == sorted(x["id"] for x in raised)


def test_bad_webhook_bodies(client: Any, other_client: Any) -> None:
    assert (
        client.post(
            "/v1/webhooks", json={"url": "ftp://x.example", "events": ["alert.raised"]}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/v1/webhooks", json={"url": "http://x.example", "events": ["nope"]}
        ).status_code
        == 422
    )
    hook = client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["alert.raised"]}
    ).get_json()
    assert other_client.get(f"/v1/webhooks/{hook['id']}/deliveries").status_code == 404
