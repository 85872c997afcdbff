"""Webhooks reach only public receivers: no server-side request forgery (issue 11).

A subscription whose host is, or resolves to, a loopback, link-local, private, multicast,
unspecified or cloud metadata address is refused with 422 on ``url``; each delivery resolves and
checks again (DNS may change after the subscription) and a refused one is logged, never sent.
``IPVALUE_WEBHOOK_ALLOW_PRIVATE=true`` admits private receivers (the other webhook tests use
it for their receiver on 127.0.0.1); metadata addresses stay refused.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from test_book_webhooks import Receiver, without_proxy_variables

from ipvalue.api import webhooks
from ipvalue.api.config import from_env
from ipvalue.api.db import engine_for
from ipvalue.api.webhooks import deliver_due, enqueue, http_send, refusal

PUBLIC = "93.184.215.14"

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "::1": "loopback",
    "169.254.10.1": "link-local",
    "fe80::1": "link-local",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "172.31.255.254": "private",
    "192.168.1.1": "private",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "169.254.169.254": "metadata",
    "fd00:ec2::254": "metadata",
    "100.100.100.200": "metadata",
    "::ffff:127.0.0.1": "loopback",
    "100.64.0.1": "not publicly routable",
}


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_every_non_public_address_is_refused(address: str) -> None:
    why = refusal(ipaddress.ip_address(address))
    assert why is not None and REFUSED[address] in why


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "172.32.0.1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.fixture(autouse=True)
def direct_deliveries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliveries here go straight to the receiver, whatever proxy the machine names."""
    without_proxy_variables(monkeypatch)


def test_allowing_private_receivers_keeps_metadata_multicast_and_unspecified_refused() -> None:
    for address in ("127.0.0.1", "10.0.0.1", "fe80::1", "fd12::1", "100.64.0.1"):
        assert refusal(ipaddress.ip_address(address), allow_private=True) is None
    for address, word in (
        ("169.254.169.254", "metadata"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
    ):
        assert word in str(refusal(ipaddress.ip_address(address), allow_private=True))


def test_the_setting_is_off_unless_turned_on() -> None:
    assert from_env({})["WEBHOOK_ALLOW_PRIVATE"] is False
    assert from_env({"IPVALUE_WEBHOOK_ALLOW_PRIVATE": "true"})["WEBHOOK_ALLOW_PRIVATE"] is True


def resolving(monkeypatch: pytest.MonkeyPatch, table: dict[str, str]) -> None:
    """Make host names resolve as ``table`` says (the service's only DNS look-up)."""

    def resolve(host: str, _port: int) -> list[str]:
        if host in table:
            return [table[host]]
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            raise OSError(f"unknown host {host}") from None

    monkeypatch.setattr(webhooks, "resolve_host", resolve)


def subscribe(client: Any, url: str) -> Any:
    return client.post("/v1/webhooks", json={"url": url, "events": ["monitoring.completed"]})


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:9/hook", "is a loopback address"),
        ("http://[::1]/hook", "is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata service"),
        ("https://inside.example/hook", "resolves to 10.20.30.40, which is a private address"),
        ("https://linklocal.example/hook", "link-local"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("https://nowhere.example/hook", "does not resolve"),
        ("ftp://files.example/hook", "http:// or https://"),
    ],
)
def test_a_subscription_to_a_non_public_receiver_is_422_on_url(
    client: Any, monkeypatch: pytest.MonkeyPatch, url: str, words: str
) -> None:
    resolving(monkeypatch, {"inside.example": "10.20.30.40", "linklocal.example": "fe80::7"})
    answer = subscribe(client, url)
    assert answer.status_code == 422, answer.get_json()
    assert answer.content_type == "application/problem+json"
    messages = {e["field"]: e["message"] for e in answer.get_json()["errors"]}
    assert words in messages["url"], messages
    if not url.startswith("ftp"):
        assert "IPVALUE_WEBHOOK_ALLOW_PRIVATE" in messages["url"]  # and the fix


def test_a_public_receiver_is_accepted(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    resolving(monkeypatch, {"hooks.bank.example": PUBLIC})
    assert subscribe(client, "https://hooks.bank.example/ipvalue").status_code == 201


def test_a_delivery_whose_host_now_resolves_inside_is_refused_and_logged_unsent(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolving(monkeypatch, {"hooks.bank.example": PUBLIC})
    hook = subscribe(client, "https://hooks.bank.example/ipvalue").get_json()
    engine = engine_for(client.application.config["DATABASE_URL"])
    with engine.begin() as conn:
        assert enqueue(conn, "test-tenant", "monitoring.completed", {"loans_checked": 0}) == 1
    resolving(monkeypatch, {"hooks.bank.example": "127.0.0.1"})  # DNS rebinding
    sent: list[str] = []

    def send(url: str, _body: bytes, _headers: dict[str, str]) -> int:
        sent.append(url)
        return 200

    counts = deliver_due(engine, send=send, allow_private=False)
    assert counts["refused"] == 1 and counts["delivered"] == 0 and sent == []
    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries").get_json()["items"]
    assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [("refused", 0, None)]
    assert "resolves to 127.0.0.1, which is a loopback address" in log[0]["last_error"]
    assert deliver_due(engine, send=send, allow_private=False)["refused"] == 0  # not retried


def test_a_delivery_connects_to_the_address_it_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = Receiver()
    try:
        port = receiver.server.server_address[1]
        # a name no real resolver knows: only the checked address can be the one reached
        resolving(monkeypatch, {"receiver.test": "127.0.0.1"})
        url = f"http://receiver.test:{port}/hook?x=1"
        with pytest.raises(webhooks.RefusedURL, match="loopback"):
            http_send(url, b"{}", {"Content-Type": "application/json"})
        status = http_send(url, b"{}", {"Content-Type": "application/json"}, allow_private=True)
        assert status == 200
        headers, body = receiver.got[0]
        assert headers["Host"] == f"receiver.test:{port}" and body == b"{}"
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
