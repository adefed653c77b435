"""Webhooks: a tenant's endpoints, and the views of their deliveries.

:class:`WebhookService` is the one object the rest of the code uses: endpoints (registered,
listed, deleted, their secret rotated), deliveries (listed, shown with their attempts,
replayed, a test ping), and the delivery job. The parts live beside it:
:mod:`webhooks.delivery` (the queue: enqueue in the caller's transaction, claim with a lease,
send, record, with retries and backoff), :mod:`webhooks.transport` (the SSRF-safe transport:
unless the instance allows private targets, ``EVIDENCE_WEBHOOK_ALLOW_PRIVATE``, an endpoint on
a non-public address is refused at registration and every delivery connection checks again)
and :mod:`webhooks.secrets` (each endpoint's secret, sealed under the instance's master key and
shown once, and the ``Sealtrail-Signature`` HMAC).
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, select, update

from evidence_chain import db
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import iso as _iso
from evidence_chain.clock import utcnow
from evidence_chain.errors import ConflictError, NotFoundError, ValidationError
from webhooks.delivery import (
    ALL,
    ATTEMPT,
    BACKOFF,
    BATCH,
    DEAD,
    DELIVERY,
    DUE,
    ENDPOINT,
    EVENTS,
    JITTER,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    PER_ENDPOINT,
    PING,
    STATUSES,
    TIMEOUT,
    WORKERS,
    DeliveryQueue,
    RunResult,
    anchor_status_changed,
    enqueue,
    enqueue_all_tenants,
    insert_deliveries,
    new_public_id,
)
from webhooks.secrets import SECRET_PREFIX, new_secret, open_secret, seal_secret, signature_header
from webhooks.transport import PublicOnlyAdapter, RequestsTransport, Transport
from webhooks.urls import (
    BlockedAddressError,
    SendError,
    blocked_reason,
    check_url,
    resolve_public,
    validate_url,
)

if TYPE_CHECKING:
    from evidence_chain.keystore import MasterKey


# --- validation --------------------------------------------------------------------------------


def validate_events(events: Any) -> list[str]:
    """``"*"``, ``["*"]`` or a non-empty list of known event names, de-duplicated and sorted."""
    if events is None or events == ALL:
        return [ALL]
    if not isinstance(events, list) or not events:
        raise ValidationError(
            'events must be "*" or a non-empty list of event names',
            details={"field": "events", "known": list(EVENTS)},
        )
    names: set[str] = set()
    for item in events:
        if item == ALL:
            return [ALL]
        if not isinstance(item, str) or item not in EVENTS:
            raise ValidationError(
                f"unknown event {item!r}", details={"field": "events", "known": list(EVENTS)}
            )
        names.add(item)
    return sorted(names)


# --- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointView:
    """An endpoint as the API shows it (never its secret)."""

    id: str
    url: str
    events: list[str]
    active: bool
    secret_prefix: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> EndpointView:
        """Build from a ``webhook_endpoint`` row."""
        return cls(
            id=row.public_id,
            url=row.url,
            events=list(json.loads(row.events)),
            active=bool(row.active),
            secret_prefix=row.secret_prefix,
            created_at=_aware(row.created_at) or utcnow(),
            updated_at=_aware(row.updated_at) or utcnow(),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.id,
            "url": self.url,
            "events": ALL if self.events == [ALL] else self.events,
            "active": self.active,
            "secret_prefix": self.secret_prefix,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class AttemptView:
    """One POST of a delivery."""

    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "attempted_at": _iso(self.attempted_at),
            "status_code": self.status_code,
            "duration_ms": self.duration_ms,
            "error": self.error,
        }


@dataclass(frozen=True)
class DeliveryView:
    """A delivery as the API shows it, with its attempts when asked for one."""

    id: str
    endpoint: str
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    replay_of: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: tuple[AttemptView, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        body: dict[str, Any] = {
            "id": self.id,
            "endpoint": self.endpoint,
            "event": self.event,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": _iso(self.next_attempt_at),
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "replay_of": self.replay_of,
            "created_at": _iso(self.created_at),
            "delivered_at": _iso(self.delivered_at),
            "payload": self.payload,
        }
        if self.attempt_log is not None:
            body["attempt_log"] = [a.to_json() for a in self.attempt_log]
        return body


class WebhookService:
    """Endpoints, deliveries and the delivery job of one instance."""

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
        self.allow_private = allow_private
        """Whether endpoints may be on loopback, private or link-local addresses."""
        self.transport: Transport = transport or RequestsTransport(allow_private=allow_private)
        self.clock = clock
        self.queue = DeliveryQueue(
            engine,
            master,
            transport=self.transport,
            clock=clock,
            rng=rng,
            timeout=timeout,
            batch=batch,
            per_endpoint=per_endpoint,
            workers=workers,
            lease_seconds=lease_seconds,
        )
        """The delivery job (:mod:`webhooks.delivery`)."""

    # -- endpoints ----------------------------------------------------------------------------

    def _endpoint_row(self, conn: Connection, tenant_id: int, public_id: str) -> Any:
        row = conn.execute(
            select(ENDPOINT).where(
                ENDPOINT.c.public_id == public_id,
                ENDPOINT.c.tenant_id == tenant_id,
                ENDPOINT.c.deleted_at.is_(None),
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no webhook endpoint {public_id!r}", details={"id": public_id})
        return row

    def create_endpoint(
        self, tenant_id: int, url: Any, events: Any = ALL
    ) -> tuple[EndpointView, str]:
        """Register an endpoint; return it and its secret, which is shown only now."""
        clean_url = validate_url(url)
        names = validate_events(events)
        check_url(clean_url, allow_private=self.allow_private)  # DNS, before any transaction
        now = self.clock()
        public_id = new_public_id("whk_")
        secret = new_secret()
        with self.engine.begin() as conn:
            conn.execute(
                insert(ENDPOINT).values(
                    public_id=public_id,
                    tenant_id=tenant_id,
                    url=clean_url,
                    events=json.dumps(names),
                    secret_blob=seal_secret(secret, public_id, self.master),
                    secret_prefix=secret[: len(SECRET_PREFIX) + 4],
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            row = self._endpoint_row(conn, tenant_id, public_id)
        return EndpointView.from_row(row), secret

    def endpoints(self, tenant_id: int) -> list[EndpointView]:
        """The tenant's endpoints, oldest first."""
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(ENDPOINT)
                .where(ENDPOINT.c.tenant_id == tenant_id, ENDPOINT.c.deleted_at.is_(None))
                .order_by(ENDPOINT.c.id)
            )
            return [EndpointView.from_row(r) for r in rows]

    def endpoint(self, tenant_id: int, public_id: str) -> EndpointView:
        """One endpoint of the tenant (NotFoundError for another tenant's)."""
        with db.reading(self.engine) as conn:
            return EndpointView.from_row(self._endpoint_row(conn, tenant_id, public_id))

    def delete_endpoint(self, tenant_id: int, public_id: str) -> None:
        """Delete an endpoint: it receives nothing more; its queued deliveries die."""
        now = self.clock()
        with self.engine.begin() as conn:
            row = self._endpoint_row(conn, tenant_id, public_id)
            conn.execute(
                update(ENDPOINT)
                .where(ENDPOINT.c.id == row.id)
                .values(active=False, deleted_at=now, updated_at=now)
            )
            conn.execute(
                update(DELIVERY)
                .where(DELIVERY.c.endpoint_id == row.id, DELIVERY.c.status.in_(DUE))
                .values(status=DEAD, next_attempt_at=None, last_error="endpoint deleted")
            )

    def rotate_secret(self, tenant_id: int, public_id: str) -> tuple[EndpointView, str]:
        """Replace the endpoint's secret at once; return the new one, shown only now."""
        secret = new_secret()
        now = self.clock()
        with self.engine.begin() as conn:
            row = self._endpoint_row(conn, tenant_id, public_id)
            conn.execute(
                update(ENDPOINT)
                .where(ENDPOINT.c.id == row.id)
                .values(
                    secret_blob=seal_secret(secret, public_id, self.master),
                    secret_prefix=secret[: len(SECRET_PREFIX) + 4],
                    updated_at=now,
                )
            )
            row = self._endpoint_row(conn, tenant_id, public_id)
        return EndpointView.from_row(row), secret

    # -- deliveries ---------------------------------------------------------------------------

    def _delivery_views(self, conn: Connection, rows: Sequence[Any]) -> list[DeliveryView]:
        replayed = {int(r.replay_of) for r in rows if r.replay_of is not None}
        originals: dict[int, str] = {}
        if replayed:
            originals = {
                int(r.id): r.public_id
                for r in conn.execute(
                    select(DELIVERY.c.id, DELIVERY.c.public_id).where(DELIVERY.c.id.in_(replayed))
                )
            }
        return [
            DeliveryView(
                id=r.public_id,
                endpoint=r.endpoint_public_id,
                event=r.event,
                payload=json.loads(r.payload),
                status=r.status,
                attempts=int(r.attempts),
                next_attempt_at=_aware(r.next_attempt_at),
                last_status_code=r.last_status_code,
                last_error=r.last_error,
                replay_of=originals.get(int(r.replay_of)) if r.replay_of is not None else None,
                created_at=_aware(r.created_at) or utcnow(),
                delivered_at=_aware(r.delivered_at),
            )
            for r in rows
        ]

    @staticmethod
    def _delivery_query() -> Any:
        return select(DELIVERY, ENDPOINT.c.public_id.label("endpoint_public_id")).join(
            ENDPOINT, ENDPOINT.c.id == DELIVERY.c.endpoint_id
        )

    def deliveries(
        self,
        tenant_id: int,
        endpoint_id: str,
        *,
        status: str | None = None,
        before: str | None = None,
        limit: int = 50,
    ) -> list[DeliveryView]:
        """An endpoint's deliveries, newest first, paged by ``before`` (a delivery id)."""
        if status is not None and status not in STATUSES:
            raise ValidationError(
                f"status must be one of {', '.join(STATUSES)}",
                details={"field": "status", "allowed": list(STATUSES)},
            )
        with db.reading(self.engine) as conn:
            endpoint = self._endpoint_row(conn, tenant_id, endpoint_id)
            query = self._delivery_query().where(DELIVERY.c.endpoint_id == endpoint.id)
            if status is not None:
                query = query.where(DELIVERY.c.status == status)
            if before is not None:
                cursor = conn.execute(
                    select(DELIVERY.c.id).where(
                        DELIVERY.c.public_id == before, DELIVERY.c.endpoint_id == endpoint.id
                    )
                ).scalar()
                if cursor is None:
                    raise ValidationError(
                        f"before: no delivery {before!r} of this endpoint",
                        details={"field": "before"},
                    )
                query = query.where(DELIVERY.c.id < cursor)
            rows = conn.execute(query.order_by(DELIVERY.c.id.desc()).limit(limit)).all()
            return self._delivery_views(conn, rows)

    def delivery(self, tenant_id: int, public_id: str) -> DeliveryView:
        """One delivery of the tenant, with its attempts (NotFoundError for another's)."""
        with db.reading(self.engine) as conn:
            row = conn.execute(
                self._delivery_query().where(
                    DELIVERY.c.public_id == public_id, DELIVERY.c.tenant_id == tenant_id
                )
            ).first()
            if row is None:
                raise NotFoundError(f"no webhook delivery {public_id!r}", details={"id": public_id})
            (view,) = self._delivery_views(conn, [row])
            attempts = tuple(
                AttemptView(
                    attempted_at=_aware(a.attempted_at) or utcnow(),
                    status_code=a.status_code,
                    duration_ms=int(a.duration_ms),
                    error=a.error,
                )
                for a in conn.execute(
                    select(ATTEMPT).where(ATTEMPT.c.delivery_id == row.id).order_by(ATTEMPT.c.id)
                )
            )
        return dataclasses.replace(view, attempt_log=attempts)

    def replay(self, tenant_id: int, public_id: str) -> DeliveryView:
        """Queue a new delivery of the same event and payload, recording what it replays."""
        now = self.clock()
        with self.engine.begin() as conn:
            original = conn.execute(
                select(DELIVERY).where(
                    DELIVERY.c.public_id == public_id, DELIVERY.c.tenant_id == tenant_id
                )
            ).first()
            if original is None:
                raise NotFoundError(f"no webhook delivery {public_id!r}", details={"id": public_id})
            endpoint = conn.execute(
                select(ENDPOINT).where(ENDPOINT.c.id == original.endpoint_id)
            ).one()
            if endpoint.deleted_at is not None or not endpoint.active:
                raise ConflictError(
                    "the delivery's endpoint was deleted; it cannot be replayed",
                    details={"endpoint": endpoint.public_id},
                )
            (new_id,) = insert_deliveries(
                conn,
                [_ForceSubscribed(endpoint)],
                original.event,
                json.loads(original.payload),
                now,
                replay_of=int(original.id),
            )
        return self.delivery(tenant_id, new_id)

    def test(self, tenant_id: int, public_id: str) -> DeliveryView:
        """Queue a ``ping`` to the endpoint and try it at once; return it with its attempt."""
        now = self.clock()
        with self.engine.begin() as conn:
            endpoint = self._endpoint_row(conn, tenant_id, public_id)
            (new_id,) = insert_deliveries(
                conn,
                [endpoint],
                PING,
                {"ping": {"endpoint": public_id, "url": endpoint.url}},
                now,
            )
            delivery_id = conn.execute(
                select(DELIVERY.c.id).where(DELIVERY.c.public_id == new_id)
            ).scalar_one()
        self.queue.run([delivery_id], now)
        return self.delivery(tenant_id, new_id)

    # -- the job --------------------------------------------------------------------------------

    def deliver_due(self) -> RunResult:
        """Send one bounded batch of due deliveries; safe to run in several processes at once."""
        return self.queue.deliver_due()

    def drain(self, budget_seconds: float = 10.0) -> RunResult:
        """Run batches while there are due deliveries, for at most about ``budget_seconds``."""
        return self.queue.drain(budget_seconds)

    def counts(self, tenant_id: int | None = None) -> dict[str, int]:
        """Deliveries per status (of one tenant, or all)."""
        return self.queue.counts(tenant_id)


class _ForceSubscribed:
    """An endpoint row that accepts any event: a replay goes where the original went."""

    def __init__(self, row: Any) -> None:
        self.id = row.id
        self.tenant_id = row.tenant_id
        self.events = json.dumps([ALL])


__all__ = [
    "ALL",
    "ATTEMPT",
    "BACKOFF",
    "DELIVERY",
    "ENDPOINT",
    "EVENTS",
    "JITTER",
    "MAX_ATTEMPTS",
    "PING",
    "STATUSES",
    "BlockedAddressError",
    "DeliveryView",
    "EndpointView",
    "PublicOnlyAdapter",
    "RequestsTransport",
    "RunResult",
    "SendError",
    "Transport",
    "WebhookService",
    "anchor_status_changed",
    "blocked_reason",
    "check_url",
    "enqueue",
    "enqueue_all_tenants",
    "open_secret",
    "resolve_public",
    "signature_header",
]
