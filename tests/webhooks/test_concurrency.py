"""Two delivery jobs at once (two engines, as two processes would have) never send twice."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from evidence_chain import db
from runtime.jobs import scheduled_jobs
from tests.webhooks.conftest import Clock, Receiver, webhook_service
from webhooks import service as webhooks
from webhooks.service import WebhookService

N = 60


def queue(instance: Any, tenant_id: int, n: int, clock: Clock) -> None:
    with instance.engine.begin() as conn:
        for i in range(n):
            payload = {"envelope": {"id": f"env_{i}"}}
            webhooks.enqueue(conn, tenant_id, "party.signed", payload, now=clock())


def test_two_concurrent_jobs_send_each_delivery_once(
    instance: Any, tenant: Any, receiver: Receiver, clock: Clock
) -> None:
    first = webhook_service(instance, clock=clock, batch=7, per_endpoint=100)
    other_engine = db.make_engine(instance.settings.database_url)
    second = WebhookService(
        other_engine, first.master, clock=clock, batch=7, per_endpoint=100, allow_private=True
    )
    for n in range(3):
        _, secret = first.create_endpoint(tenant[0].id, f"{receiver.url}/{n}", "*")
        receiver.other_secrets.append(secret)
    receiver.delay = 0.005
    queue(instance, tenant[0].id, N, clock)
    start = threading.Barrier(2)
    claimed = {"first": 0, "second": 0}
    errors: list[BaseException] = []

    def run(name: str, service: WebhookService) -> None:
        try:
            start.wait()
            idle = 0
            while idle < 3:
                got = service.deliver_due().claimed
                claimed[name] += got
                idle = idle + 1 if got == 0 else 0
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=("first", first)),
        threading.Thread(target=run, args=("second", second)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    other_engine.dispose()
    assert not errors, errors
    sent = Counter(r.headers["Sealtrail-Delivery"] for r in receiver.received)
    assert len(sent) == 3 * N and set(sent.values()) == {1}
    assert claimed["first"] + claimed["second"] == 3 * N
    assert all(r.verified for r in receiver.received)
    assert first.counts()["succeeded"] == 3 * N
    assert claimed["first"] > 0 and claimed["second"] > 0  # both really worked
    # Every delivery has exactly one attempt recorded.
    assert sum(first.counts().values()) == 3 * N
    with instance.engine.connect() as conn:
        attempts = conn.execute(webhooks.ATTEMPT.select()).all()
    assert len(attempts) == 3 * N and len({a.delivery_id for a in attempts}) == 3 * N


def test_a_leased_delivery_is_left_alone_until_the_lease_expires(
    instance: Any, tenant: Any, receiver: Receiver, clock: Clock
) -> None:
    first = webhook_service(instance, clock=clock)
    second = WebhookService(instance.engine, first.master, clock=clock, allow_private=True)
    _, receiver.secret = first.create_endpoint(tenant[0].id, receiver.url, "*")
    queue(instance, tenant[0].id, 2, clock)
    with instance.engine.connect() as conn:
        ids = [r.id for r in conn.execute(webhooks.DELIVERY.select())]
    owner, claimed = first.queue._claim(ids, clock())  # a job that then dies without recording
    assert len(claimed) == 2 and owner
    assert second.deliver_due().claimed == 0 and receiver.received == []
    clock.advance(first.queue.lease_seconds + 1)
    assert second.deliver_due().succeeded == 2  # at least once: taken over after the lease
    assert len(receiver.received) == 2


def test_the_scheduler_runs_the_delivery_job(
    instance: Any, tenant: Any, receiver: Receiver
) -> None:
    jobs = {job.id: job for job in scheduled_jobs(instance)}
    service = instance.webhooks
    _, receiver.secret = service.create_endpoint(tenant[0].id, receiver.url, ["envelope.sent"])
    with instance.engine.begin() as conn:
        webhooks.enqueue(conn, tenant[0].id, "envelope.sent", {"envelope": {"id": "e"}})
    assert jobs["webhooks"].seconds <= 5
    jobs["webhooks"].func()
    (got,) = receiver.received
    assert got.verified and got.json["event"] == "envelope.sent"
