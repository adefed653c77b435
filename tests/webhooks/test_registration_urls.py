"""What registration refuses, and how it says so: a URL that is not an RFC 3986 URI (an IPv6
zone id, raw non-ASCII), a host that does not resolve, and (by default) a private address, each
a 400 ``invalid_request`` whose details name the reason, with nothing stored; an accepted URL is
returned exactly as the OpenAPI's ``uri`` format describes."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

UNRESOLVABLE = "hooks.not-yet-live.test"


@pytest.fixture
def no_such_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver answers "no such name" for ``hooks.not-yet-live.test`` (as a DNS server
    would for a name not yet published); every other name resolves as usual."""
    real: Callable[..., Any] = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == UNRESOLVABLE:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def _refused(client: Any, auth: dict[str, str], url: str, reason: str) -> dict[str, Any]:
    r = client.post("/api/v1/webhooks", json={"url": url}, headers=auth)
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "invalid_request", error
    assert error["details"]["field"] == "url" and error["details"]["reason"] == reason, error
    assert client.get("/api/v1/webhooks", headers=auth).get_json()["webhooks"] == []
    return dict(error)


@pytest.mark.parametrize("allow_private", [True, False])
def test_an_ipv6_zone_id_is_refused(client: Any, auth: dict[str, str]) -> None:
    for url in ("http://[fe80::1%25eth0]/", "https://[fe80::1%eth0]:8443/hook"):
        error = _refused(client, auth, url, "zone_id")
        assert "zone id" in error["message"]


@pytest.mark.parametrize("allow_private", [True, False])
def test_a_host_that_does_not_resolve_is_refused(
    client: Any, auth: dict[str, str], no_such_name: None
) -> None:
    error = _refused(client, auth, f"https://{UNRESOLVABLE}/hooks", "unresolvable")
    assert UNRESOLVABLE in error["message"] and "does not resolve" in error["message"]


@pytest.mark.parametrize("allow_private", [True])
def test_not_a_uri_is_refused(client: Any, auth: dict[str, str]) -> None:
    for url in ("https://例子.测试/hook", "https://localhost/ä", "https://localhost/%zz"):
        _refused(client, auth, url, "not_a_uri")


@pytest.mark.parametrize("allow_private", [False])
def test_the_private_refusal_names_the_setting(client: Any, auth: dict[str, str]) -> None:
    for url, reason in (
        ("http://127.0.0.1:8080/in", "loopback"),
        ("http://localhost/in", "loopback"),
        ("http://10.0.0.5/in", "private"),
    ):
        error = _refused(client, auth, url, reason)
        assert "EVIDENCE_WEBHOOK_ALLOW_PRIVATE=true" in error["message"], error


@pytest.mark.parametrize("allow_private", [True])
def test_an_accepted_url_is_a_uri(client: Any, auth: dict[str, str]) -> None:
    import jsonschema_rs

    uri = jsonschema_rs.validator_for({"type": "string", "format": "uri"}, validate_formats=True)
    assert not uri.is_valid("http://[fe80::1%25eth0]/")  # what registration used to return
    for url in ("http://localhost:8080/in?x=1", "https://[::1]:8443/a%20b", "http://127.0.0.1/"):
        r = client.post("/api/v1/webhooks", json={"url": url}, headers=auth)
        assert r.status_code == 201, r.get_json()
        returned = r.get_json()["url"]
        assert returned == url
        assert uri.is_valid(returned), returned
