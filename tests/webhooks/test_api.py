"""The webhook API: validation, tenant isolation, paging, the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webhooks.conftest import Receiver
from webhooks import service as webhooks
from webhooks.service import WebhookService

ENVELOPE = {"envelope": {"id": "env_9", "status": "completed"}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": "https://user:pw@example.com/hook"}, "url"),
        ({"url": "https://exa mple.com/hook"}, "url"),
        ({"url": "example.com/hook"}, "url"),
        ({"url": "https://example.com:99999/hook"}, "url"),
        ({"url": 42}, "url"),
        ({}, "url"),
        ({"url": "https://example.com/" + "a" * 2100}, "url"),
        ({"url": "https://example.com/hook", "events": []}, "events"),
        ({"url": "https://example.com/hook", "events": ["envelope.exploded"]}, "events"),
        ({"url": "https://example.com/hook", "events": "envelope.sent"}, "events"),
        ({"url": "https://example.com/hook", "events": ["ping"]}, "events"),
        ({"url": "https://example.com/hook", "secret": "mine"}, "secret"),
    ],
)
def test_a_bad_endpoint_is_a_400(
    client: Any, auth: dict[str, str], body: dict[str, Any], field: str
) -> None:
    r = client.post("/api/v1/webhooks", json=body, headers=auth)
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "invalid_request" and error["details"]["field"] == field
    assert client.get("/api/v1/webhooks", headers=auth).get_json()["webhooks"] == []


def test_not_json_and_no_key(client: Any, auth: dict[str, str]) -> None:
    r = client.post("/api/v1/webhooks", data="url=https://x.example", headers=auth)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_request"
    r = client.post(
        "/api/v1/webhooks", data=b"{not json", headers=auth, content_type="application/json"
    )
    assert r.status_code == 400
    r = client.post("/api/v1/webhooks", json=["https://x.example"], headers=auth)
    assert r.status_code == 400
    r = client.post("/api/v1/webhooks", json={"url": "https://x.example/h"})
    assert r.status_code == 401
    assert client.get("/api/v1/webhooks").status_code == 401


def test_create_list_get_delete(client: Any, auth: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/webhooks",
        json={"url": "https://localhost:8443/sealtrail", "events": ["anchor.confirmed"]},
        headers=auth,
    )
    assert r.status_code == 201
    created = r.get_json()
    assert created["id"].startswith("whk_") and created["active"] is True
    assert created["events"] == ["anchor.confirmed"]
    assert created["secret"].startswith(created["secret_prefix"])
    every = client.post(
        "/api/v1/webhooks", json={"url": "http://10.0.0.5:8080/in"}, headers=auth
    ).get_json()
    assert every["events"] == "*"
    listed = client.get("/api/v1/webhooks", headers=auth).get_json()["webhooks"]
    assert [w["id"] for w in listed] == [created["id"], every["id"]]
    assert all("secret" not in w for w in listed)
    shown = client.get(f"/api/v1/webhooks/{created['id']}", headers=auth).get_json()
    assert shown["url"] == "https://localhost:8443/sealtrail" and "secret" not in shown
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=auth).status_code == 404
    listed = client.get("/api/v1/webhooks", headers=auth).get_json()["webhooks"]
    assert [w["id"] for w in listed] == [every["id"]]


def test_another_tenants_endpoints_and_deliveries_are_404(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    other_tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
) -> None:
    other, other_auth = other_tenant
    mine = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=auth).get_json()
    receiver.secret = mine["secret"]
    theirs = client.post(
        "/api/v1/webhooks", json={"url": receiver.url + "/other"}, headers=other_auth
    ).get_json()
    with instance.engine.begin() as conn:
        webhooks.enqueue(conn, tenant[0].id, "envelope.completed", ENVELOPE, now=service.clock())
    service.deliver_due()
    # Only my endpoint got my event.
    assert [r.path for r in receiver.received] == ["/hooks/sealtrail"]
    delivery_id = receiver.received[0].json["id"]
    endpoint_id = mine["id"]
    for method, path in [
        ("get", f"/api/v1/webhooks/{endpoint_id}"),
        ("delete", f"/api/v1/webhooks/{endpoint_id}"),
        ("post", f"/api/v1/webhooks/{endpoint_id}/rotate-secret"),
        ("post", f"/api/v1/webhooks/{endpoint_id}/test"),
        ("get", f"/api/v1/webhooks/{endpoint_id}/deliveries"),
        ("get", f"/api/v1/webhook-deliveries/{delivery_id}"),
        ("post", f"/api/v1/webhook-deliveries/{delivery_id}/replay"),
    ]:
        r = getattr(client, method)(path, headers=other_auth)
        assert r.status_code == 404, (method, path, r.status_code)
        assert r.get_json()["error"]["code"] == "not_found"
    assert [
        w["id"] for w in client.get("/api/v1/webhooks", headers=other_auth).get_json()["webhooks"]
    ] == [theirs["id"]]
    for path in ("/api/v1/webhooks/whk_nope", "/api/v1/webhook-deliveries/whd_nope"):
        assert client.get(path, headers=auth).status_code == 404
    # Still mine, untouched.
    assert client.get(f"/api/v1/webhooks/{endpoint_id}", headers=auth).status_code == 200
    assert (
        client.get(f"/api/v1/webhook-deliveries/{delivery_id}", headers=auth).get_json()["attempts"]
        == 1
    )
    assert service.counts(other.id) == {"pending": 0, "failed": 0, "succeeded": 0, "dead": 0}
    # No replay or ping was queued for me by the other tenant, my secret is the same.
    assert service.counts(tenant[0].id) == {"pending": 0, "failed": 0, "succeeded": 1, "dead": 0}
    shown = client.get(f"/api/v1/webhooks/{endpoint_id}", headers=auth).get_json()
    assert receiver.secret.startswith(shown["secret_prefix"])


def test_deliveries_are_paged_and_filtered(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
) -> None:
    created = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=auth).get_json()
    receiver.secret = created["secret"]
    with instance.engine.begin() as conn:
        for n in range(7):
            webhooks.enqueue(
                conn,
                tenant[0].id,
                "party.signed",
                {"envelope": {"id": f"e{n}"}},
                now=service.clock(),
            )
    receiver.script = [500, 500]
    service.deliver_due()
    base = f"/api/v1/webhooks/{created['id']}/deliveries"
    seen: list[str] = []
    cursor = ""
    while True:
        page = client.get(f"{base}?limit=3{cursor}", headers=auth).get_json()
        seen += [d["id"] for d in page["deliveries"]]
        if page["next_before"] is None:
            break
        cursor = f"&before={page['next_before']}"
    assert len(seen) == len(set(seen)) == 7
    payloads = [
        client.get(f"/api/v1/webhook-deliveries/{i}", headers=auth).get_json()["payload"]
        for i in seen
    ]
    assert [p["envelope"]["id"] for p in payloads] == [f"e{n}" for n in range(6, -1, -1)]
    failed = client.get(f"{base}?status=failed", headers=auth).get_json()["deliveries"]
    assert len(failed) == 2 and all(d["last_status_code"] == 500 for d in failed)
    ok = client.get(f"{base}?status=succeeded", headers=auth).get_json()["deliveries"]
    assert len(ok) == 5
    for bad in ("?status=lost", "?limit=0", "?limit=abc", "?limit=201", "?before=whd_nope"):
        r = client.get(base + bad, headers=auth)
        assert r.status_code == 400, bad


def test_openapi_describes_the_webhook_paths(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/rotate-secret",
        "/api/v1/webhooks/{id}/test",
        "/api/v1/webhooks/{id}/deliveries",
        "/api/v1/webhook-deliveries/{id}",
        "/api/v1/webhook-deliveries/{id}/replay",
    ):
        assert path in doc["paths"], path
    assert "secret" in str(doc["paths"]["/api/v1/webhooks"]["post"]["responses"]["201"])
