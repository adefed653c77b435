"""Server-side request forgery: by default no webhook reaches a loopback, private, link-local,
shared, multicast, unspecified or reserved address, at registration or at delivery time."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import pytest

from evidence_chain.config import load_settings
from evidence_chain.errors import ConfigurationError
from tests.webhooks.conftest import Clock, Receiver, serve
from webhooks import service as webhooks
from webhooks import urls as webhook_urls
from webhooks.service import WebhookService

ENVELOPE = {"envelope": {"id": "env_3", "status": "sent"}}
NAME = "hooks.customer.test"
PUBLIC = "93.184.215.14"


@pytest.fixture
def allow_private() -> bool:
    """This module checks the default: private targets refused."""
    return False


class FakeDNS:
    """Answers for one name, in turn (the last one repeats); other names resolve as usual."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.answers: list[list[str]] = [[PUBLIC]]
        self.queries = 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return self.real(host, port, *args, **kwargs)
        self.queries += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (ip, int(port)),
            )
            for ip in answer
        ]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    """A resolver in which ``hooks.customer.test`` answers what the test says."""
    fake = FakeDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


def register(client: Any, auth: dict[str, str], url: str) -> Any:
    return client.post("/api/v1/webhooks", json={"url": url}, headers=auth)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1:8080/hooks", "127.0.0.1 is a loopback address"),
        ("http://10.0.0.5:8080/in", "10.0.0.5 is a private address"),
        ("https://192.168.1.20/in", "192.168.1.20 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[::1]:8080/hooks", "::1 is a loopback address"),
        ("http://[fd00::5]/hooks", "fd00::5 is a private address"),
        ("http://[fe80::1]/hooks", "fe80::1 is a link-local address"),
        ("http://[::ffff:127.0.0.1]/hooks", "::ffff:127.0.0.1 is a loopback address"),
        ("http://100.64.3.4/hooks", "100.64.3.4 is a shared (carrier-grade NAT) address"),
        ("http://224.0.0.251/hooks", "224.0.0.251 is a multicast address"),
        ("http://0.0.0.0:8080/hooks", "0.0.0.0 is an unspecified address"),
        ("http://240.0.0.1/hooks", "240.0.0.1 is a reserved address"),
        ("http://localhost:8080/hooks", "localhost resolves to a loopback address"),
        ("http://2130706433:8080/hooks", "2130706433 resolves to a loopback address"),
    ],
)
def test_a_non_public_endpoint_is_refused_at_registration(
    client: Any, auth: dict[str, str], url: str, said: str
) -> None:
    r = register(client, auth, url)
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "invalid_request" and error["details"]["field"] == "url"
    assert said in error["message"] and "only to public addresses" in error["message"]
    assert client.get("/api/v1/webhooks", headers=auth).get_json()["webhooks"] == []


def test_a_name_with_any_private_answer_is_refused(
    client: Any, auth: dict[str, str], dns: FakeDNS
) -> None:
    dns.answers = [[PUBLIC, "10.1.2.3"]]
    r = register(client, auth, f"https://{NAME}/hooks")
    assert r.status_code == 400
    assert f"{NAME} resolves to a private address" in r.get_json()["error"]["message"]


def test_public_endpoints_are_accepted(client: Any, auth: dict[str, str], dns: FakeDNS) -> None:
    for url in (
        f"https://{PUBLIC}/hooks",
        "https://[2606:4700:4700::1111]/hooks",
        f"https://{NAME}/hooks",  # answers a public address
    ):
        r = register(client, auth, url)
        assert r.status_code == 201, (url, r.get_json())


def test_a_name_that_turns_private_after_registration_is_not_connected_to(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
    clock: Clock,
    dns: FakeDNS,
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    r = register(client, auth, f"http://{NAME}:{port}/hooks/sealtrail")
    assert r.status_code == 201, r.get_json()
    receiver.secret = r.get_json()["secret"]
    dns.answers = [["127.0.0.1"]]  # the name now points at the instance's own loopback
    with instance.engine.begin() as conn:
        webhooks.enqueue(conn, tenant[0].id, "envelope.sent", ENVELOPE, now=clock())
    run = service.deliver_due()
    assert (run.claimed, run.failed) == (1, 1)
    assert receiver.received == []  # never connected
    (listed,) = client.get(
        f"/api/v1/webhooks/{r.get_json()['id']}/deliveries", headers=auth
    ).get_json()["deliveries"]
    shown = client.get(f"/api/v1/webhook-deliveries/{listed['id']}", headers=auth).get_json()
    assert shown["status"] == "failed" and shown["last_status_code"] is None
    (attempt,) = shown["attempt_log"]
    assert attempt["status_code"] is None
    assert f"{NAME} resolves to a loopback address" in attempt["error"]
    # The same delivery with private targets allowed (an on-premises install) gets through:
    # the refusal was the guard's, not an unreachable receiver.
    on_premises = WebhookService(instance.engine, service.master, clock=clock, allow_private=True)
    clock.advance(60)
    assert on_premises.deliver_due().succeeded == 1
    (got,) = receiver.received
    assert got.verified and got.headers["Host"] == f"{NAME}:{port}"


def test_ping_to_a_loopback_endpoint_fails_without_connecting(
    client: Any, auth: dict[str, str], instance: Any, receiver: Receiver, dns: FakeDNS
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    created = register(client, auth, f"http://{NAME}:{port}/hooks/sealtrail").get_json()
    dns.answers = [["::1", "127.0.0.1"]]
    r = client.post(f"/api/v1/webhooks/{created['id']}/test", headers=auth)
    assert r.status_code == 201, r.get_json()
    shown = r.get_json()
    assert shown["event"] == "ping" and shown["status"] == "failed"
    assert "resolves to a loopback address" in shown["attempt_log"][0]["error"]
    assert receiver.received == []


def test_the_connection_goes_to_the_address_that_was_checked(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    clock: Clock,
    dns: FakeDNS,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the name answers a public address once, then a loopback one. A check
    that resolved the name and let the HTTP client resolve it again would reach loopback."""
    checked = webhook_urls.blocked_reason

    def policy(address: Any) -> str | None:  # 127.0.0.2 plays a public server
        return None if address == ipaddress.ip_address("127.0.0.2") else checked(address)

    monkeypatch.setattr(webhook_urls, "blocked_reason", policy)
    with serve("127.0.0.2") as public:
        port = int(public.url.split(":")[2].split("/")[0])
        with serve("127.0.0.1", port) as internal:
            dns.answers = [["127.0.0.2"]]
            r = register(client, auth, f"http://{NAME}:{port}/hooks/sealtrail")
            assert r.status_code == 201, r.get_json()
            public.secret = internal.secret = r.get_json()["secret"]
            dns.answers = [["127.0.0.2"], ["127.0.0.1"]]  # rebinds after the first answer
            before = dns.queries
            with instance.engine.begin() as conn:
                webhooks.enqueue(conn, tenant[0].id, "envelope.sent", ENVELOPE, now=clock())
            assert service.deliver_due().succeeded == 1
            assert internal.received == []
            (got,) = public.received
            assert got.verified and got.headers["Host"] == f"{NAME}:{port}"
            assert dns.queries - before == 1  # one answer, checked and used


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.53", "loopback"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.127.255.254", "shared (carrier-grade NAT)"),
        ("255.255.255.255", "reserved"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 form of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 form of 127.0.0.1
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("64:ff9b::808:808", None),  # NAT64 form of a public address
    ],
)
def test_address_classification(address: str, reason: str | None) -> None:
    assert webhook_urls.blocked_reason(ipaddress.ip_address(address)) == reason


def test_the_setting_defaults_to_refusing_private_targets(
    service: WebhookService, tmp_path: Any
) -> None:
    base = {"EVIDENCE_HOME": str(tmp_path)}
    assert load_settings(base).webhook_allow_private is False
    assert service.allow_private is False
    on = load_settings({**base, "EVIDENCE_WEBHOOK_ALLOW_PRIVATE": "true"})
    assert on.webhook_allow_private is True
    with pytest.raises(ConfigurationError):
        load_settings({**base, "EVIDENCE_WEBHOOK_ALLOW_PRIVATE": "sometimes"})
