"""Deliveries to a real local receiver: signature, retries with backoff, dead, replay, ping."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from sqlalchemy import select

from tests.webhooks.conftest import Clock, Receiver, follow, webhook_service
from webhooks import service as webhooks
from webhooks.service import BACKOFF, JITTER, MAX_ATTEMPTS, WebhookService

ENVELOPE = {"envelope": {"id": "env_7", "status": "sent", "title": "Lease, Rue Haute 4"}}


def register(client: Any, auth: dict[str, str], receiver: Receiver, events: Any = "*") -> str:
    r = client.post("/api/v1/webhooks", json={"url": receiver.url, "events": events}, headers=auth)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    receiver.secret = body["secret"]
    return str(body["id"])


def emit(instance: Any, tenant_id: int, event: str, payload: dict[str, Any], clock: Clock) -> None:
    with instance.engine.begin() as conn:
        webhooks.enqueue(conn, tenant_id, event, payload, now=clock())


def delivery(client: Any, auth: dict[str, str], delivery_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/webhook-deliveries/{delivery_id}", headers=auth)
    assert r.status_code == 200
    return dict(r.get_json())


def test_receiver_verifies_the_signature_of_a_delivery(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
    clock: Clock,
) -> None:
    follow(receiver, clock)
    endpoint = register(client, auth, receiver)
    emit(instance, tenant[0].id, "envelope.sent", ENVELOPE, clock)
    run = service.deliver_due()
    assert (run.claimed, run.succeeded) == (1, 1)
    (got,) = receiver.received
    assert got.verified and got.answered == 200 and got.path == "/hooks/sealtrail"
    body = got.json
    assert body["event"] == "envelope.sent" and body["data"] == ENVELOPE
    assert body["tenant"] == tenant[0].public_id
    assert got.headers["Sealtrail-Event"] == "envelope.sent"
    assert got.headers["Sealtrail-Delivery"] == body["id"]
    assert got.headers["Content-Type"] == "application/json"
    t = int(got.headers["Sealtrail-Signature"].split(",")[0].removeprefix("t="))
    assert t == int(clock().timestamp())
    # Canonical JSON: sorted keys, no spaces.
    assert got.body == json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    shown = delivery(client, auth, body["id"])
    assert shown["status"] == "succeeded" and shown["endpoint"] == endpoint
    assert shown["attempts"] == 1 and shown["delivered_at"] is not None
    assert [a["status_code"] for a in shown["attempt_log"]] == [200]
    assert service.deliver_due().claimed == 0  # nothing sent twice


def test_the_receiver_refuses_a_tampered_body_a_wrong_secret_and_a_stale_request(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
    clock: Clock,
) -> None:
    import requests

    follow(receiver, clock)
    register(client, auth, receiver)
    emit(instance, tenant[0].id, "envelope.sent", ENVELOPE, clock)
    service.deliver_due()
    (good,) = receiver.received
    headers = {k: v for k, v in good.headers.items() if k.startswith("Sealtrail")}
    tampered = good.body.replace(b'"sent"', b'"voided"')
    assert requests.post(receiver.url, data=tampered, headers=headers, timeout=5).status_code == 400
    secret, receiver.secret = receiver.secret, "whsec_" + "x" * 43
    assert (
        requests.post(receiver.url, data=good.body, headers=headers, timeout=5).status_code == 400
    )
    receiver.secret = secret
    assert (
        requests.post(receiver.url, data=good.body, headers=headers, timeout=5).status_code == 200
    )
    clock.advance(301)  # the same request, captured and sent again too late
    assert (
        requests.post(receiver.url, data=good.body, headers=headers, timeout=5).status_code == 400
    )


def test_a_rolled_back_status_change_sends_nothing(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
) -> None:
    register(client, auth, receiver)
    with pytest.raises(RuntimeError), instance.engine.begin() as conn:
        webhooks.enqueue(conn, tenant[0].id, "envelope.completed", ENVELOPE, now=service.clock())
        raise RuntimeError("the status change failed")
    assert service.deliver_due().claimed == 0 and receiver.received == []
    assert service.counts() == {"pending": 0, "failed": 0, "succeeded": 0, "dead": 0}


def test_500_then_200_is_retried_with_backoff(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
    clock: Clock,
) -> None:
    follow(receiver, clock)
    register(client, auth, receiver)
    receiver.script = [500, 502]
    emit(instance, tenant[0].id, "envelope.completed", ENVELOPE, clock)
    start = clock()
    assert service.deliver_due().failed == 1
    delivery_id = receiver.received[0].json["id"]
    first = delivery(client, auth, delivery_id)
    assert first["status"] == "failed" and first["last_status_code"] == 500
    assert first["last_error"] == "HTTP 500"
    wait = _next(first) - start
    assert BACKOFF[0] * (1 - JITTER) <= wait.total_seconds() <= BACKOFF[0] * (1 + JITTER)

    clock.advance(BACKOFF[0] * (1 - JITTER) - 1)  # not due yet
    assert service.deliver_due().claimed == 0 and len(receiver.received) == 1
    clock.now = _next(first)
    assert service.deliver_due().failed == 1
    second = delivery(client, auth, delivery_id)
    wait = _next(second) - clock()
    assert BACKOFF[1] * (1 - JITTER) <= wait.total_seconds() <= BACKOFF[1] * (1 + JITTER)

    clock.now = _next(second)
    assert service.deliver_due().succeeded == 1
    done = delivery(client, auth, delivery_id)
    assert done["status"] == "succeeded" and done["attempts"] == 3
    assert [a["status_code"] for a in done["attempt_log"]] == [500, 502, 200]
    assert all(r.verified for r in receiver.received)
    # The same delivery, the same body bytes on every attempt; fresh signatures.
    assert len({r.body for r in receiver.received}) == 1
    assert len({r.headers["Sealtrail-Signature"] for r in receiver.received}) == 3


def _next(shown: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(shown["next_attempt_at"].replace("Z", "+00:00"))


def test_dead_after_the_last_attempt(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
    clock: Clock,
) -> None:
    follow(receiver, clock)
    endpoint = register(client, auth, receiver)
    receiver.default = 503
    emit(instance, tenant[0].id, "envelope.declined", ENVELOPE, clock)
    times = []
    for _ in range(MAX_ATTEMPTS + 2):
        times.append(clock())
        service.deliver_due()
        clock.advance(max(BACKOFF) * (1 + JITTER) + 1)
    assert len(receiver.received) == MAX_ATTEMPTS == 8
    delivery_id = receiver.received[0].json["id"]
    shown = delivery(client, auth, delivery_id)
    assert shown["status"] == "dead" and shown["attempts"] == 8
    assert shown["next_attempt_at"] is None and shown["last_status_code"] == 503
    assert len(shown["attempt_log"]) == 8
    r = client.get(f"/api/v1/webhooks/{endpoint}/deliveries?status=dead", headers=auth)
    assert [d["id"] for d in r.get_json()["deliveries"]] == [delivery_id]


def test_backoff_schedule_between_attempts(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
    clock: Clock,
) -> None:
    follow(receiver, clock)
    register(client, auth, receiver)
    receiver.default = 500
    emit(instance, tenant[0].id, "party.signed", ENVELOPE, clock)
    sent_at: list[Any] = []
    for _ in range(10_000):  # step the fake clock by 0.5% of the expected wait until dead
        before = len(receiver.received)
        service.deliver_due()
        if len(receiver.received) > before:
            sent_at.append(clock())
        if len(sent_at) == MAX_ATTEMPTS:
            break
        step = max(1.0, BACKOFF[len(sent_at) - 1] * 0.005)
        clock.advance(step)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)]
    assert len(gaps) == len(BACKOFF)
    for gap, base in zip(gaps, BACKOFF, strict=True):
        step = max(1.0, base * 0.005)
        assert base * (1 - JITTER) <= gap <= base * (1 + JITTER) + step, (gap, base)
    assert len({round(g / b, 3) for g, b in zip(gaps, BACKOFF, strict=True)}) > 1  # jittered


def test_a_timeout_and_a_refused_connection_are_failures(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    app: Any,
    clock: Clock,
    receiver: Receiver,
) -> None:
    svc = webhook_service(instance, clock=clock, timeout=0.3)
    register(client, auth, receiver)
    receiver.delay = 1.0
    emit(instance, tenant[0].id, "envelope.sent", ENVELOPE, clock)
    assert svc.deliver_due().failed == 1
    (row,) = _rows(instance)
    assert row.status == "failed" and row.last_status_code is None
    assert "timed out" in row.last_error

    dead_port = client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/none"}, headers=auth
    ).get_json()["id"]
    emit(instance, tenant[0].id, "envelope.voided", ENVELOPE, clock)
    svc.deliver_due()
    refused = [r for r in _rows(instance) if r.event == "envelope.voided"]
    by_endpoint = {r.endpoint_id: r for r in refused}
    assert len(by_endpoint) == 2
    errors = [r.last_error for r in refused if r.last_status_code is None]
    assert any("Connection" in (e or "") for e in errors), errors
    assert dead_port.startswith("whk_")


def _rows(instance: Any) -> list[Any]:
    with instance.engine.connect() as conn:
        return list(conn.execute(select(webhooks.DELIVERY).order_by(webhooks.DELIVERY.c.id)))


def test_replay_sends_the_same_payload_as_a_new_delivery(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
    clock: Clock,
) -> None:
    follow(receiver, clock)
    endpoint = register(client, auth, receiver)
    emit(instance, tenant[0].id, "envelope.completed", ENVELOPE, clock)
    service.deliver_due()
    original = receiver.received[0].json
    r = client.post(f"/api/v1/webhook-deliveries/{original['id']}/replay", headers=auth)
    assert r.status_code == 202
    replay = r.get_json()
    assert replay["id"] != original["id"] and replay["replay_of"] == original["id"]
    assert replay["status"] == "pending" and replay["event"] == "envelope.completed"
    clock.advance(1)
    assert service.deliver_due().succeeded == 1
    second = receiver.received[1]
    assert second.verified and second.json["id"] == replay["id"]
    assert second.json["data"] == original["data"] == ENVELOPE
    assert second.json["event"] == original["event"]
    assert delivery(client, auth, original["id"])["attempts"] == 1  # the original is untouched
    listed = client.get(f"/api/v1/webhooks/{endpoint}/deliveries", headers=auth).get_json()
    assert [d["id"] for d in listed["deliveries"]] == [replay["id"], original["id"]]
    # A deleted endpoint cannot be replayed to.
    assert client.delete(f"/api/v1/webhooks/{endpoint}", headers=auth).status_code == 204
    r = client.post(f"/api/v1/webhook-deliveries/{original['id']}/replay", headers=auth)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"


def test_ping_is_sent_at_once(
    client: Any, auth: dict[str, str], service: WebhookService, receiver: Receiver, clock: Clock
) -> None:
    follow(receiver, clock)
    endpoint = register(client, auth, receiver, events=["envelope.completed"])
    r = client.post(f"/api/v1/webhooks/{endpoint}/test", headers=auth)
    assert r.status_code == 201
    shown = r.get_json()
    assert shown["event"] == "ping" and shown["status"] == "succeeded"
    assert [a["status_code"] for a in shown["attempt_log"]] == [200]
    (got,) = receiver.received
    assert got.verified and got.json["data"] == {
        "ping": {"endpoint": endpoint, "url": receiver.url}
    }


def test_subscriptions_filter_events(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
    clock: Clock,
) -> None:
    follow(receiver, clock)
    register(client, auth, receiver, events=["envelope.completed", "envelope.declined"])
    for event in ("envelope.sent", "envelope.completed", "party.signed", "envelope.declined"):
        emit(instance, tenant[0].id, event, ENVELOPE, clock)
    service.deliver_due()
    assert sorted(r.json["event"] for r in receiver.received) == [
        "envelope.completed",
        "envelope.declined",
    ]


def test_rotation_signs_with_the_new_secret_and_delete_stops_deliveries(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    service: WebhookService,
    receiver: Receiver,
    clock: Clock,
) -> None:
    follow(receiver, clock)
    endpoint = register(client, auth, receiver)
    old = receiver.secret
    r = client.post(f"/api/v1/webhooks/{endpoint}/rotate-secret", headers=auth)
    assert r.status_code == 200
    new = r.get_json()["secret"]
    assert new != old and new.startswith(r.get_json()["secret_prefix"])
    shown = client.get(f"/api/v1/webhooks/{endpoint}", headers=auth).get_json()
    assert "secret" not in shown and new not in json.dumps(shown)
    emit(instance, tenant[0].id, "envelope.sent", ENVELOPE, clock)
    service.deliver_due()
    assert not receiver.received[-1].verified  # the receiver still has the old secret
    receiver.secret = new
    clock.advance(BACKOFF[0] * (1 + JITTER))
    service.deliver_due()
    assert receiver.received[-1].verified
    # Deleted: queued deliveries die, new events are not queued, the endpoint is gone.
    emit(instance, tenant[0].id, "envelope.completed", ENVELOPE, clock)
    assert client.delete(f"/api/v1/webhooks/{endpoint}", headers=auth).status_code == 204
    emit(instance, tenant[0].id, "envelope.voided", ENVELOPE, clock)
    count = len(receiver.received)
    clock.advance(60)
    assert service.deliver_due().claimed == 0 and len(receiver.received) == count
    assert client.get(f"/api/v1/webhooks/{endpoint}", headers=auth).status_code == 404
    assert service.counts()["dead"] == 1 and service.counts()["pending"] == 0


def test_the_secret_is_encrypted_at_rest(
    client: Any, auth: dict[str, str], instance: Any, service: WebhookService, receiver: Receiver
) -> None:
    from evidence_chain.keystore import MasterKey

    endpoint = register(client, auth, receiver)
    assert receiver.secret is not None
    with instance.engine.connect() as conn:
        row = conn.execute(
            select(webhooks.ENDPOINT).where(webhooks.ENDPOINT.c.public_id == endpoint)
        ).one()
    blob = bytes(row.secret_blob)
    assert receiver.secret.encode() not in blob and receiver.secret[6:].encode() not in blob
    assert webhooks.open_secret(blob, endpoint, service.master) == receiver.secret
    from evidence_chain.errors import IntegrityError

    with pytest.raises(IntegrityError):
        webhooks.open_secret(blob, endpoint, MasterKey.generate())
    with pytest.raises(IntegrityError):  # bound to its endpoint: a copied blob does not open
        webhooks.open_secret(blob, "whk_other", service.master)


def test_one_slow_endpoint_does_not_hold_a_run(
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    instance: Any,
    clock: Clock,
    receiver: Receiver,
) -> None:
    svc = webhook_service(instance, clock=clock, per_endpoint=3, batch=10)
    register(client, auth, receiver)
    for _ in range(8):
        emit(instance, tenant[0].id, "party.signed", ENVELOPE, clock)
    assert svc.deliver_due().claimed == 3  # at most per_endpoint of one endpoint per run
    assert svc.deliver_due().claimed == 3
    assert svc.deliver_due().claimed == 2
    assert svc.deliver_due().claimed == 0
    assert svc.counts()["succeeded"] == 8
