"""The webhook delivery queue: enqueue, claim with a lease, send, record.

A status change (an envelope's, or an anchor's) calls :func:`enqueue` inside the transaction
that makes it, so the change and its notification commit together or not at all. The
delivery job (:class:`DeliveryQueue`) then POSTs each due delivery with a 5 s timeout and an
HMAC-SHA256 signature (:mod:`webhooks.secrets`) through the SSRF-safe transport
(:mod:`webhooks.transport`), and retries failures with exponential backoff and jitter (10 s,
30 s, 2 min, 10 min, 1 h, 6 h, 6 h) until the 8th attempt, after which the delivery is dead.
Due rows, the lease and the backoff are the shared retry mechanism
(:mod:`evidence_chain.retry_queue`). Several processes may run the job at once: a delivery is
claimed with a lease (an UPDATE conditioned on its status and on the lease being free), so it
is sent by exactly one of them per attempt. Sending is at-least-once (a process that dies
between the POST and recording it leaves the lease to expire and the delivery to be sent
again); receivers de-duplicate on ``Sealtrail-Delivery``.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from evidence_chain import db, retry_queue
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import iso as _iso
from evidence_chain.clock import utcnow
from evidence_chain.core.canonical import canonicalize
from evidence_chain.errors import IntegrityError, ValidationError
from evidence_chain.models import Tenant
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.secrets import open_secret, signature_header
from webhooks.transport import RequestsTransport, SendError, Transport

if TYPE_CHECKING:
    from evidence_chain.keystore import MasterKey

log = logging.getLogger(__name__)

ENDPOINT = WebhookEndpoint.__table__  # type: ignore[attr-defined]
DELIVERY = WebhookDelivery.__table__  # type: ignore[attr-defined]
ATTEMPT = WebhookAttempt.__table__  # type: ignore[attr-defined]
TENANT = Tenant.__table__  # type: ignore[attr-defined]

EVENTS = (
    "envelope.sent",
    "envelope.in_progress",
    "envelope.completed",
    "envelope.declined",
    "envelope.withdrawn",
    "envelope.expired",
    "envelope.voided",
    "party.signed",
    "anchor.mined",
    "anchor.confirmed",
    "anchor.reorged",
)
"""The events an endpoint may subscribe to ("*" is all of them)."""
PING = "ping"
"""The event of ``POST /api/v1/webhooks/{id}/test``; sent whatever the subscription."""
ALL = "*"

# delivery statuses
PENDING = "pending"  # not attempted yet
FAILED = "failed"  # the last attempt failed; another is scheduled
SUCCEEDED = "succeeded"
DEAD = "dead"  # gave up: attempts exhausted, or the endpoint was deleted
STATUSES = (PENDING, FAILED, SUCCEEDED, DEAD)
DUE = (PENDING, FAILED)

RETRY = retry_queue.Backoff((10.0, 30.0, 120.0, 600.0, 3600.0, 21600.0, 21600.0), jitter=0.1)
"""The shared retry mechanism (:mod:`evidence_chain.retry_queue`): seconds to wait after failed
attempt n (1-based), each spread by +-10% so that retries of one outage do not arrive at once."""
BACKOFF = RETRY.schedule
MAX_ATTEMPTS = RETRY.max_attempts
JITTER = RETRY.jitter
TIMEOUT = 5.0
BATCH = 100
PER_ENDPOINT = 25
"""At most this many deliveries of one endpoint per run, so a slow endpoint cannot hog it."""
WORKERS = 8
LEASE_SECONDS = 180.0
"""Longer than a run can take: BATCH deliveries at TIMEOUT each over WORKERS threads."""
ERROR_LEN = 500

USER_AGENT = "Sealtrail-Webhooks/1"


def _truncate(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= ERROR_LEN else text[: ERROR_LEN - 3] + "..."


def _subscribed(events_json: str, event: str) -> bool:
    events = json.loads(events_json)
    return event == PING or ALL in events or event in events


# --- enqueue -------------------------------------------------------------------------------------


def new_public_id(prefix: str) -> str:
    """A fresh public id: ``prefix`` and 96 random bits."""
    return prefix + secrets.token_hex(12)


def insert_deliveries(
    conn: Connection,
    endpoints: Iterable[Any],
    event: str,
    payload: Mapping[str, Any],
    now: datetime,
    *,
    replay_of: int | None = None,
) -> list[str]:
    """Queue ``event`` for each of ``endpoints`` subscribed to it; return the new ids."""
    body = canonicalize(dict(payload)).decode()
    ids: list[str] = []
    rows = []
    for endpoint in endpoints:
        if not _subscribed(endpoint.events, event):
            continue
        public_id = new_public_id("whd_")
        ids.append(public_id)
        rows.append(
            {
                "public_id": public_id,
                "tenant_id": int(endpoint.tenant_id),
                "endpoint_id": int(endpoint.id),
                "event": event,
                "payload": body,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "replay_of": replay_of,
                "created_at": now,
            }
        )
    if rows:
        conn.execute(insert(DELIVERY), rows)
    return ids


def _active_endpoints(conn: Connection, tenant_id: int | None) -> list[Any]:
    query = select(ENDPOINT.c.id, ENDPOINT.c.tenant_id, ENDPOINT.c.events).where(
        ENDPOINT.c.active.is_(True), ENDPOINT.c.deleted_at.is_(None)
    )
    if tenant_id is not None:
        query = query.where(ENDPOINT.c.tenant_id == tenant_id)
    return list(conn.execute(query.order_by(ENDPOINT.c.id)))


def enqueue(
    conn: Connection,
    tenant_id: int,
    event: str,
    payload: dict[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    """Queue a delivery of `event` to every active endpoint of the tenant, in the caller's
    transaction (so a status change and its notification commit together)."""
    if event not in EVENTS and event != PING:
        raise ValidationError(f"unknown webhook event {event!r}", details={"event": event})
    insert_deliveries(conn, _active_endpoints(conn, tenant_id), event, payload, now or utcnow())


def enqueue_all_tenants(
    conn: Connection, event: str, payload: dict[str, Any], *, now: datetime | None = None
) -> int:
    """Queue ``event`` to every subscribed endpoint of every tenant (the log is shared)."""
    if event not in EVENTS:
        raise ValidationError(f"unknown webhook event {event!r}", details={"event": event})
    return len(
        insert_deliveries(conn, _active_endpoints(conn, None), event, payload, now or utcnow())
    )


def anchor_events(before: str | None, after: str) -> list[str]:
    """The webhook events of an anchor's status change (anchoring's status names)."""
    on_chain = ("mined", "confirmed")
    events: list[str] = []
    if after in on_chain and before not in on_chain:
        events.append("anchor.mined")
    if after == "confirmed" and before != "confirmed":
        events.append("anchor.confirmed")
    if before in on_chain and after in ("reorged", "superseded"):
        events.append("anchor.reorged")
    return events


def anchor_status_changed(
    conn: Connection, before: str | None, anchor: dict[str, Any], *, now: datetime | None = None
) -> None:
    """Queue ``anchor.*`` deliveries for a status change, in the transaction that made it."""
    for event in anchor_events(before, str(anchor["status"])):
        enqueue_all_tenants(conn, event, {"anchor": anchor}, now=now)


@dataclass(frozen=True)
class _Claimed:
    id: int
    public_id: str
    event: str
    payload: str
    attempts: int
    created_at: datetime
    url: str
    endpoint_public_id: str
    secret_blob: bytes
    tenant_public_id: str


@dataclass(frozen=True)
class _Outcome:
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class RunResult:
    """What one run of the delivery job did."""

    claimed: int
    succeeded: int
    failed: int
    dead: int


def delivery_body(
    delivery_id: str, event: str, created_at: datetime, tenant: str, payload: str
) -> bytes:
    """The POSTed body: canonical JSON of id, event, created_at, tenant and data."""
    return canonicalize(
        {
            "id": delivery_id,
            "event": event,
            "created_at": _iso(created_at),
            "tenant": tenant,
            "data": json.loads(payload),
        }
    )


class DeliveryQueue:
    """The delivery job of one instance: due deliveries claimed, sent and recorded."""

    def __init__(
        self,
        engine: Engine,
        master: MasterKey,
        *,
        transport: Transport | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        timeout: float = TIMEOUT,
        batch: int = BATCH,
        per_endpoint: int = PER_ENDPOINT,
        workers: int = WORKERS,
        lease_seconds: float = LEASE_SECONDS,
        allow_private: bool = False,
    ) -> None:
        self.engine = engine
        self.master = master
        self.transport: Transport = transport or RequestsTransport(allow_private=allow_private)
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.timeout = timeout
        self.batch = batch
        self.per_endpoint = per_endpoint
        self.workers = workers
        self.lease_seconds = lease_seconds

    def deliver_due(self) -> RunResult:
        """Send one bounded batch of due deliveries; safe to run in several processes at once."""
        now = self.clock()
        with db.reading(self.engine) as conn:
            candidates = conn.execute(
                select(DELIVERY.c.id, DELIVERY.c.endpoint_id)
                .join(ENDPOINT, ENDPOINT.c.id == DELIVERY.c.endpoint_id)
                .where(
                    *retry_queue.is_due(DELIVERY, DUE, now),
                    ENDPOINT.c.active.is_(True),
                    ENDPOINT.c.deleted_at.is_(None),
                )
                .order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id)
                .limit(self.batch * 4)
            ).all()
        per_endpoint: dict[int, int] = {}
        chosen: list[int] = []
        for row in candidates:
            seen = per_endpoint.get(int(row.endpoint_id), 0)
            if seen >= self.per_endpoint:
                continue
            per_endpoint[int(row.endpoint_id)] = seen + 1
            chosen.append(int(row.id))
            if len(chosen) >= self.batch:
                break
        if not chosen:
            return RunResult(0, 0, 0, 0)
        return self.run(chosen, now)

    def drain(self, budget_seconds: float = 10.0) -> RunResult:
        """Run batches while there are due deliveries, for at most about ``budget_seconds``."""
        started = time.monotonic()
        total = RunResult(0, 0, 0, 0)
        while True:
            run = self.deliver_due()
            total = RunResult(
                total.claimed + run.claimed,
                total.succeeded + run.succeeded,
                total.failed + run.failed,
                total.dead + run.dead,
            )
            if run.claimed == 0 or time.monotonic() - started >= budget_seconds:
                return total

    def _claim(self, ids: list[int], now: datetime) -> tuple[str, list[_Claimed]]:
        """Lease ``ids`` to this run: only rows still due and unleased are taken."""
        owner = secrets.token_hex(10)
        until = now + timedelta(seconds=self.lease_seconds)
        with self.engine.begin() as conn:
            conn.execute(
                update(DELIVERY)
                .where(DELIVERY.c.id.in_(ids), *retry_queue.is_due(DELIVERY, DUE, now))
                .values(lease_owner=owner, lease_until=until)
            )
            rows = conn.execute(
                select(
                    DELIVERY.c.id,
                    DELIVERY.c.public_id,
                    DELIVERY.c.event,
                    DELIVERY.c.payload,
                    DELIVERY.c.attempts,
                    DELIVERY.c.created_at,
                    ENDPOINT.c.url,
                    ENDPOINT.c.public_id.label("endpoint_public_id"),
                    ENDPOINT.c.secret_blob,
                    TENANT.c.public_id.label("tenant_public_id"),
                )
                .join(ENDPOINT, ENDPOINT.c.id == DELIVERY.c.endpoint_id)
                .join(TENANT, TENANT.c.id == DELIVERY.c.tenant_id)
                .where(DELIVERY.c.lease_owner == owner)
                .order_by(DELIVERY.c.id)
            ).all()
        return owner, [
            _Claimed(
                id=int(r.id),
                public_id=r.public_id,
                event=r.event,
                payload=r.payload,
                attempts=int(r.attempts),
                created_at=_aware(r.created_at) or now,
                url=r.url,
                endpoint_public_id=r.endpoint_public_id,
                secret_blob=bytes(r.secret_blob),
                tenant_public_id=r.tenant_public_id,
            )
            for r in rows
        ]

    def run(self, ids: list[int], now: datetime) -> RunResult:
        """Claim ``ids``, send those claimed, and record each outcome."""
        owner, claimed = self._claim(ids, now)
        if not claimed:
            return RunResult(0, 0, 0, 0)
        if len(claimed) == 1 or self.workers <= 1:
            outcomes = [self._send(item) for item in claimed]
        else:
            with ThreadPoolExecutor(
                max_workers=min(self.workers, len(claimed)), thread_name_prefix="webhook"
            ) as pool:
                outcomes = list(pool.map(self._send, claimed))
        counts = {SUCCEEDED: 0, FAILED: 0, DEAD: 0}
        # One transaction records the whole batch (one commit, not one per delivery).
        with self.engine.begin() as conn:
            for item, outcome in zip(claimed, outcomes, strict=True):
                counts[self._record(conn, owner, item, outcome)] += 1
        return RunResult(len(claimed), counts[SUCCEEDED], counts[FAILED], counts[DEAD])

    def _send(self, item: _Claimed) -> _Outcome:
        attempted_at = self.clock()
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        try:
            secret = open_secret(item.secret_blob, item.endpoint_public_id, self.master)
            body = delivery_body(
                item.public_id, item.event, item.created_at, item.tenant_public_id, item.payload
            )
            timestamp = int(attempted_at.timestamp())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Sealtrail-Signature": signature_header(secret, timestamp, body),
                "Sealtrail-Event": item.event,
                "Sealtrail-Delivery": item.public_id,
            }
            status_code = self.transport.post(item.url, body, headers, self.timeout)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except SendError as exc:
            error = str(exc)
        except IntegrityError as exc:
            error = exc.message
        except Exception as exc:  # a delivery must never take the job down with it
            log.exception("webhook delivery %s failed unexpectedly", item.public_id)
            error = f"{type(exc).__name__}: {exc}"
        duration_ms = int((time.monotonic() - started) * 1000)
        return _Outcome(attempted_at, status_code, duration_ms, _truncate(error))

    def _record(self, conn: Connection, owner: str, item: _Claimed, outcome: _Outcome) -> str:
        attempts = item.attempts + 1
        values = RETRY.next_state(attempts, outcome.attempted_at, ok=outcome.ok, rng=self.rng)
        values.update(last_status_code=outcome.status_code, last_error=outcome.error)
        status = str(values["status"])
        if outcome.ok:
            values["delivered_at"] = outcome.attempted_at
        result = conn.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id == item.id, DELIVERY.c.lease_owner == owner)
            .values(**values)
        )
        conn.execute(
            insert(ATTEMPT).values(
                delivery_id=item.id,
                attempted_at=outcome.attempted_at,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                error=outcome.error,
            )
        )
        if result.rowcount != 1:
            log.warning("webhook delivery %s: lease expired before it was recorded", item.public_id)
        level = logging.INFO if outcome.ok else logging.WARNING
        log.log(
            level,
            "webhook %s %s -> %s (%s, attempt %d)",
            item.event,
            item.public_id,
            outcome.status_code if outcome.status_code is not None else "no response",
            status,
            attempts,
        )
        return status

    def counts(self, tenant_id: int | None = None) -> dict[str, int]:
        """Deliveries per status (of one tenant, or all)."""
        query = select(DELIVERY.c.status, func.count()).group_by(DELIVERY.c.status)
        if tenant_id is not None:
            query = query.where(DELIVERY.c.tenant_id == tenant_id)
        with db.reading(self.engine) as conn:
            found = {row[0]: int(row[1]) for row in conn.execute(query)}
        return {status: found.get(status, 0) for status in STATUSES}


__all__ = [
    "ALL",
    "BACKOFF",
    "EVENTS",
    "JITTER",
    "MAX_ATTEMPTS",
    "PING",
    "STATUSES",
    "DeliveryQueue",
    "RunResult",
    "anchor_events",
    "anchor_status_changed",
    "delivery_body",
    "enqueue",
    "enqueue_all_tenants",
    "insert_deliveries",
    "new_public_id",
]
