"""The instance's health in Prometheus' text format, read from the database at scrape time.

Every value is a gauge computed from the database in one read transaction: the log, its
checkpoints and anchors, open chain alarms, the outbox and the webhook queue. Whichever
gunicorn worker (or machine) answers a scrape gives the same figures, with no shared memory and
no multiprocess mode; nothing is counted in a process. A scrape costs a handful of indexed
queries, and :class:`MetricsCache` answers repeated scrapes from the last result for a few
seconds, so scraping often cannot load the database.

Nothing secret is exported: per-tenant series are labelled by the tenant's public id only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, select

from evidence_chain import db
from evidence_chain.anchoring.records import ALARM, ANCHOR, ON_CHAIN
from evidence_chain.anchoring.service import CHAIN_AHEAD
from evidence_chain.clock import aware, utcnow
from evidence_chain.models import Checkpoint, LedgerEntry, LogState, Tenant
from messages.delivery import DUE as MAIL_DUE
from messages.service import outbox_table
from runtime.services import Services
from webhooks.delivery import DEAD, DUE
from webhooks.models import WebhookDelivery

CHECKPOINT = Checkpoint.__table__  # type: ignore[attr-defined]
ENTRY = LedgerEntry.__table__  # type: ignore[attr-defined]
STATE = LogState.__table__  # type: ignore[attr-defined]
TENANT = Tenant.__table__  # type: ignore[attr-defined]
DELIVERY = WebhookDelivery.__table__  # type: ignore[attr-defined]

ANCHOR_STATUSES = ("pending", "mined", "confirmed", "reorged", "superseded", "failed")
WEBHOOK_STATUSES = ("pending", "failed", "succeeded", "dead")
ALARM_KINDS = ("root_mismatch", "tree_size_not_increasing", "anchor_rejected", CHAIN_AHEAD)
OUTBOX_STATUSES = ("kept", "pending", "failed", "succeeded", "dead")
MIN_STALL_SECONDS = 600.0
CACHE_SECONDS = 5.0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def stall_threshold(anchor_interval: float) -> float:
    """Seconds a signed checkpoint may wait for its anchor before anchoring counts as stalled."""
    return max(MIN_STALL_SECONDS, 4 * anchor_interval)


def _age(now: datetime, moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return max(0.0, (now - aware(moment)).total_seconds())


def _gauge(name: str, doc: str, value: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc)
    if value is not None:
        family.add_metric([], value)
    return family


def _by(name: str, doc: str, label: str, counts: dict[str, int], keys: tuple[str, ...]) -> Any:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key in sorted(set(keys) | set(counts)):
        family.add_metric([key], counts.get(key, 0))
    return family


def _counts(conn: Connection, table: Any, column: Any, where: Any = None) -> dict[str, int]:
    query = select(column, func.count()).select_from(table).group_by(column)
    if where is not None:
        query = query.where(where)
    return {str(key): int(n) for key, n in conn.execute(query)}


@dataclass(eq=False)  # registered in a registry: hashed by identity
class InstanceCollector(Collector):
    """Collects the gauges of one instance from its database (see the module's docstring)."""

    services: Services
    clock: Callable[[], datetime] = utcnow

    def collect(self) -> Iterator[Any]:
        """The metric families, from one read transaction."""
        settings = self.services.settings
        now = self.clock()
        with db.reading(self.services.engine) as conn:
            yield from self._log(conn, now)
            yield from self._anchoring(conn, now, settings.anchor_interval)
            yield from self._queues(conn, now)

    def _log(self, conn: Connection, now: datetime) -> Iterator[Any]:
        size = conn.execute(select(STATE.c.tree_size).where(STATE.c.id == 1)).scalar() or 0
        cp = conn.execute(
            select(CHECKPOINT.c.tree_size, CHECKPOINT.c.created_at)
            .order_by(CHECKPOINT.c.tree_size.desc())
            .limit(1)
        ).first()
        yield _gauge("sealtrail_log_tree_size", "Entries in the evidence log.", size)
        yield _gauge(
            "sealtrail_checkpoint_tree_size",
            "Tree size of the last signed checkpoint.",
            cp.tree_size if cp else 0,
        )
        yield _gauge(
            "sealtrail_checkpoint_age_seconds",
            "Seconds since the last checkpoint was signed (absent before the first).",
            _age(now, cp.created_at) if cp else None,
        )
        yield _gauge(
            "sealtrail_unsigned_entries",
            "Entries not yet covered by a signed checkpoint.",
            size - (cp.tree_size if cp else 0),
        )
        per_tenant = GaugeMetricFamily(
            "sealtrail_tenant_log_entries",
            "Entries in the log per tenant (labelled by public tenant id).",
            labels=["tenant"],
        )
        rows = conn.execute(
            select(TENANT.c.public_id, func.count(ENTRY.c.leaf_index))
            .select_from(TENANT.outerjoin(ENTRY, ENTRY.c.tenant_id == TENANT.c.id))
            .group_by(TENANT.c.public_id)
        )
        for public_id, n in rows:
            per_tenant.add_metric([str(public_id)], int(n))
        yield per_tenant

    def _anchoring(self, conn: Connection, now: datetime, interval: float) -> Iterator[Any]:
        enabled = self.services.anchorer is not None
        yield _gauge("sealtrail_anchoring_enabled", "1 when anchoring is on.", int(enabled))
        yield _by(
            "sealtrail_anchors",
            "Anchors by status.",
            "status",
            _counts(conn, ANCHOR, ANCHOR.c.status),
            ANCHOR_STATUSES,
        )
        last = conn.execute(
            select(ANCHOR.c.tree_size, ANCHOR.c.block_timestamp, ANCHOR.c.updated_at)
            .where(ANCHOR.c.status.in_(ON_CHAIN))
            .order_by(ANCHOR.c.tree_size.desc())
            .limit(1)
        ).first()
        anchored = int(last.tree_size) if last else 0
        yield _gauge(
            "sealtrail_anchor_tree_size", "Tree size of the last anchor on chain.", anchored
        )
        yield _gauge(
            "sealtrail_anchor_age_seconds",
            "Seconds since the block of the last anchor on chain (absent before the first).",
            _age(now, last.block_timestamp or last.updated_at) if last else None,
        )
        waiting = conn.execute(
            select(func.min(CHECKPOINT.c.created_at)).where(CHECKPOINT.c.tree_size > anchored)
        ).scalar()
        waited = _age(now, waiting) or 0.0
        yield _gauge(
            "sealtrail_unanchored_checkpoint_age_seconds",
            "Seconds the oldest checkpoint beyond the last anchor has waited (0: none waits).",
            waited,
        )
        yield _gauge(
            "sealtrail_anchoring_stalled",
            "1 when anchoring is on and a checkpoint has waited longer than "
            f"max({MIN_STALL_SECONDS:.0f} s, 4 anchor intervals) for its anchor.",
            int(enabled and waited > stall_threshold(interval)),
        )
        yield _by(
            "sealtrail_chain_alarms_open",
            "Open chain alarms by kind (chain status; resolve with chain resolve-alarm).",
            "kind",
            _counts(conn, ALARM, ALARM.c.kind, ALARM.c.resolved_at.is_(None)),
            ALARM_KINDS,
        )

    def _queues(self, conn: Connection, now: datetime) -> Iterator[Any]:
        outbox = outbox_table()
        yield _by(
            "sealtrail_outbox_messages",
            "Messages to people by status (kept: no mail server; pending/failed: to send).",
            "status",
            _counts(conn, outbox, outbox.c.status),
            OUTBOX_STATUSES,
        )
        oldest = conn.execute(
            select(func.min(outbox.c.created_at)).where(outbox.c.status.in_(MAIL_DUE))
        ).scalar()
        yield _gauge(
            "sealtrail_outbox_oldest_undelivered_age_seconds",
            "Age of the oldest message still to be delivered (0: none).",
            _age(now, oldest) or 0.0,
        )
        yield _by(
            "sealtrail_webhook_deliveries",
            "Webhook deliveries by status (pending/failed: backlog; dead: given up).",
            "status",
            _counts(conn, DELIVERY, DELIVERY.c.status),
            WEBHOOK_STATUSES,
        )
        oldest = conn.execute(
            select(func.min(DELIVERY.c.created_at)).where(DELIVERY.c.status.in_(DUE))
        ).scalar()
        yield _gauge(
            "sealtrail_webhook_oldest_undelivered_age_seconds",
            "Age of the oldest webhook delivery still to be made (0: none).",
            _age(now, oldest) or 0.0,
        )
        backlog = GaugeMetricFamily(
            "sealtrail_tenant_webhook_backlog",
            "Webhook deliveries still to be made, per tenant.",
            labels=["tenant"],
        )
        dead = GaugeMetricFamily(
            "sealtrail_tenant_webhook_dead_letters",
            "Webhook deliveries given up (dead letters), per tenant.",
            labels=["tenant"],
        )
        rows = conn.execute(
            select(TENANT.c.public_id, DELIVERY.c.status, func.count())
            .select_from(DELIVERY.join(TENANT, TENANT.c.id == DELIVERY.c.tenant_id))
            .where(DELIVERY.c.status.in_((*DUE, DEAD)))
            .group_by(TENANT.c.public_id, DELIVERY.c.status)
        )
        due: dict[str, int] = {}
        gone: dict[str, int] = {}
        for public_id, status, n in rows:
            target = gone if status == DEAD else due
            target[str(public_id)] = target.get(str(public_id), 0) + int(n)
        for public_id, n in sorted(due.items()):
            backlog.add_metric([public_id], n)
        for public_id, n in sorted(gone.items()):
            dead.add_metric([public_id], n)
        yield backlog
        yield dead


class MetricsCache:
    """The rendered exposition of an instance, recomputed at most every ``seconds``.

    Shared by the threads of a worker: the lock makes one thread compute while the others wait
    for its result, so a burst of scrapes costs one set of queries.
    """

    def __init__(self, services: Services, *, seconds: float = CACHE_SECONDS) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(InstanceCollector(services))
        self.seconds = seconds
        self._lock = threading.Lock()
        self._body = b""
        self._at = float("-inf")

    def render(self) -> bytes:
        """The exposition in Prometheus' text format."""
        with self._lock:
            if time.monotonic() - self._at >= self.seconds:
                self._body = generate_latest(self.registry)
                self._at = time.monotonic()
            return self._body


__all__ = ["CONTENT_TYPE", "InstanceCollector", "MetricsCache", "stall_threshold"]
