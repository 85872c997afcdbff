"""Webhook deliveries through an outbound proxy (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``).

A small forward proxy on 127.0.0.1 (`ForwardProxy`) takes absolute-URI requests and ``CONNECT``
tunnels and keeps what it was asked. An ``http://`` delivery reaches the receiver through it as
``POST http://host:port/path``; an ``https://`` one through a tunnel, with TLS to a receiver whose
self-signed certificate (made here) is verified for the URL's host; ``NO_PROXY`` sends direct; the
receiver is still checked against server-side request forgery with a proxy set (the proxy itself
may be private); a proxy setting that cannot be used is a clear line in the delivery log.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import http.server
import importlib.util
import select
import shutil
import socket
import ssl
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_book_webhooks import Receiver, without_proxy_variables
from test_webhook_ssrf import PUBLIC, resolving, subscribe

from ipvalue.api.db import engine_for
from ipvalue.api.webhooks import (
    ProxyError,
    RefusedURL,
    Target,
    deliver_due,
    enqueue,
    http_send,
    parse_proxy,
    proxy_for,
)

JSON = {"Content-Type": "application/json"}


class ForwardProxy:
    """An HTTP forward proxy on 127.0.0.1: absolute-URI requests are forwarded, ``CONNECT``
    opens a tunnel. Host names are looked up in ``names`` (the test's DNS); ``seen`` keeps
    ``(method, target, Proxy-Authorization)`` of every request; ``refuse`` (a status) refuses
    every tunnel."""

    def __init__(self, names: dict[str, str]) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        self.refuse: int | None = None
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def address(self, host: str) -> str:
                return names.get(host, host)

            def do_POST(self) -> None:
                outer.seen.append(("POST", self.path, self.headers["Proxy-Authorization"]))
                parts = urllib.parse.urlsplit(self.path)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                upstream = http.client.HTTPConnection(
                    self.address(parts.hostname or ""), parts.port or 80, timeout=5
                )
                headers = {k: v for k, v in self.headers.items() if k != "Proxy-Authorization"}
                path = parts.path + ("?" + parts.query if parts.query else "")
                upstream.request("POST", path, body=body, headers=headers)
                answer = upstream.getresponse()
                answer.read()
                upstream.close()
                self.send_response(answer.status)
                self.end_headers()

            def do_CONNECT(self) -> None:
                outer.seen.append(("CONNECT", self.path, self.headers["Proxy-Authorization"]))
                if outer.refuse is not None:
                    self.send_response(outer.refuse)
                    self.end_headers()
                    return
                host, port = self.path.rsplit(":", 1)
                upstream = socket.create_connection((self.address(host), int(port)), timeout=5)
                self.send_response(200, "Connection established")
                self.end_headers()
                sockets = [self.connection, upstream]
                try:
                    while True:
                        ready, _, _ = select.select(sockets, [], [], 5)
                        if not ready:
                            break
                        for sock in ready:
                            data = sock.recv(65536)
                            if not data:
                                return
                            (upstream if sock is self.connection else self.connection).sendall(data)
                finally:
                    upstream.close()
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(folder: Path, host: str) -> tuple[Path, Path]:
    """``(certificate, key)`` PEM files of a self-signed certificate for ``host``, made with the
    ``cryptography`` package, else the ``openssl`` command; skips when there is neither."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    if importlib.util.find_spec("cryptography") is not None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        private = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        made = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(private, hashes.SHA256())
        )
        cert.write_bytes(made.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert, key
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no TLS certificate can be made: neither cryptography nor openssl installed")
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-nodes", "-days", "2", "-keyout", str(key), "-out", str(cert)]
    command += ["-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}"]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


@pytest.fixture(autouse=True)
def no_proxy_of_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the proxy variables it means; none of the machine's apply."""
    without_proxy_variables(monkeypatch)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    names = ("receiver.test", "wrong.test", "hooks.bank.example")
    p = ForwardProxy(dict.fromkeys(names, "127.0.0.1"))
    yield p
    p.close()


def test_an_http_delivery_is_an_absolute_uri_request_to_the_proxy(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver, proxy: ForwardProxy
) -> None:
    port = receiver.server.server_address[1]
    resolving(monkeypatch, {"receiver.test": "127.0.0.1"})
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("//", "//ops:s%40cret@"))
    url = f"http://receiver.test:{port}/hook?x=1"
    assert http_send(url, b'{"a": 1}', JSON, allow_private=True) == 200
    token = base64.b64encode(b"ops:s@cret").decode()
    assert proxy.seen == [("POST", url, f"Basic {token}")]
    headers, body = receiver.got[0]
    assert headers["Host"] == f"receiver.test:{port}" and body == b'{"a": 1}'


def test_https_goes_through_a_connect_tunnel_verified_for_the_receivers_name(
    monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path, "receiver.test")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    receiver = Receiver(tls)
    try:
        port = receiver.server.server_address[1]
        # the certificate is the only one trusted; "wrong.test" reaches the same receiver
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # for http:// only
        resolving(monkeypatch, {"receiver.test": "127.0.0.1", "wrong.test": "127.0.0.1"})
        url = f"https://receiver.test:{port}/hook"
        assert http_send(url, b"{}", JSON, allow_private=True) == 200
        assert proxy.seen == [("CONNECT", f"receiver.test:{port}", None)]
        assert receiver.got[0][0]["Host"] == f"receiver.test:{port}"
        wrong = f"https://wrong.test:{port}/hook"
        with pytest.raises(ssl.SSLCertVerificationError, match=r"wrong\.test"):
            http_send(wrong, b"{}", JSON, allow_private=True)
        assert proxy.seen[-1][:2] == ("CONNECT", f"wrong.test:{port}")
        assert len(receiver.got) == 1
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.mark.parametrize(
    "no_proxy", ["receiver.test", ".test", "*", "other.example, RECEIVER.test:{port}"]
)
def test_no_proxy_sends_direct(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver, proxy: ForwardProxy, no_proxy: str
) -> None:
    port = receiver.server.server_address[1]
    resolving(monkeypatch, {"receiver.test": "127.0.0.1"})
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy.format(port=port))
    assert http_send(f"http://receiver.test:{port}/hook", b"{}", JSON, allow_private=True) == 200
    assert proxy.seen == [] and len(receiver.got) == 1


def test_which_variable_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    http_target = Target("http", "hooks.bank.example", 80, "/", PUBLIC)
    https_target = Target("https", "hooks.bank.example", 443, "/", PUBLIC)
    assert proxy_for(http_target) is None and proxy_for(https_target) is None
    monkeypatch.setenv("HTTPS_PROXY", "proxy.bank.example:3128")  # no scheme: http://
    assert proxy_for(http_target) is None
    expected = parse_proxy("http://proxy.bank.example:3128", "HTTPS_PROXY")
    assert proxy_for(https_target) == expected
    monkeypatch.setenv("https_proxy", "http://lower.bank.example")  # the lower-case name wins
    chosen = proxy_for(https_target)
    assert chosen is not None and (chosen.host, chosen.port) == ("lower.bank.example", 80)
    assert chosen.variable == "HTTPS_PROXY" and chosen.headers == {}
    monkeypatch.setenv("no_proxy", "bank.example")
    assert proxy_for(https_target) is None


def test_a_private_proxy_is_used_but_a_private_receiver_is_still_refused(
    client: Any, monkeypatch: pytest.MonkeyPatch, receiver: Receiver, proxy: ForwardProxy
) -> None:
    port = receiver.server.server_address[1]
    monkeypatch.setenv("HTTP_PROXY", proxy.url)  # on 127.0.0.1: a proxy may be private
    resolving(monkeypatch, {"hooks.bank.example": PUBLIC, "inside.example": "10.20.30.40"})
    public = f"http://hooks.bank.example:{port}/hook"
    assert http_send(public, b"{}", JSON, allow_private=False) == 200  # the proxy reached it
    with pytest.raises(RefusedURL, match="private address"):
        http_send(f"http://inside.example:{port}/hook", b"{}", JSON, allow_private=False)
    assert [s[1] for s in proxy.seen] == [public]

    hook = subscribe(client, public).get_json()
    engine = engine_for(client.application.config["DATABASE_URL"])
    with engine.begin() as conn:
        enqueue(conn, "test-tenant", "monitoring.completed", {"loans_checked": 0})
    resolving(monkeypatch, {"hooks.bank.example": "10.20.30.40"})  # DNS changed since
    assert deliver_due(engine, allow_private=False)["refused"] == 1
    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries").get_json()["items"]
    assert log[0]["status"] == "refused" and "private address" in log[0]["last_error"]
    assert len(proxy.seen) == 1 and len(receiver.got) == 1  # never sent, proxy or not


def test_a_refused_tunnel_is_a_proxy_error(
    monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy
) -> None:
    resolving(monkeypatch, {"hooks.bank.example": PUBLIC})
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    proxy.refuse = 407  # Proxy Authentication Required
    with pytest.raises(
        ProxyError,
        match=r"127\.0\.0\.1:\d+ \(HTTPS_PROXY\): OSError: Tunnel connection failed: 407",
    ):
        http_send("https://hooks.bank.example/hook", b"{}", JSON)
    assert proxy.seen == [("CONNECT", "hooks.bank.example:443", None)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("http://ops:hunter2@proxy.bank.example:31x8", "is not a valid proxy URL"),
        ("http://proxy.bank.example:31x8", "is not a valid proxy URL (Port could not be cast"),
        ("http://ops:hun/ter2@proxy.bank.example:3128", "is not a valid proxy URL"),
        ("socks5://proxy.bank.example:1080", "only http:// proxies are supported"),
        ("https://proxy.bank.example:3128", "only http:// proxies are supported"),
        ("http://:3128", "has no host"),
        ("http://127.0.0.1:{closed}", "through the proxy 127.0.0.1:{closed} (HTTP_PROXY)"),
    ],
)
def test_an_unusable_proxy_is_a_clear_line_in_the_delivery_log(
    client: Any, monkeypatch: pytest.MonkeyPatch, setting: str, words: str
) -> None:
    resolving(monkeypatch, {"hooks.bank.example": PUBLIC})
    hook = subscribe(client, "http://hooks.bank.example/hook").get_json()
    engine = engine_for(client.application.config["DATABASE_URL"])
    with engine.begin() as conn:
        enqueue(conn, "test-tenant", "monitoring.completed", {"loans_checked": 0})
    closed = closed_port()
    monkeypatch.setenv("HTTP_PROXY", setting.format(closed=closed))
    assert deliver_due(engine, allow_private=False)["retry"] == 1  # retried, not a crash
    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries").get_json()["items"]
    assert (log[0]["status"], log[0]["attempts"], log[0]["last_status"]) == ("pending", 1, None)
    error = log[0]["last_error"]
    assert error.startswith("ProxyError: ") and words.format(closed=closed) in error, error
    assert "hun" not in error and "ter2" not in error  # no part of a password
    if "@" in setting:
        assert "HTTP_PROXY 'http://***@proxy.bank.example:" in error
    with pytest.raises(ProxyError):
        http_send("http://hooks.bank.example/hook", b"{}", JSON)
