"""The anchoring records: anchors, their transactions (attempts) and chain alarms.

:class:`AnchorRecords` reads them and needs the database only, never the chain (the evidence
bundle, the certificate and the API read anchors through it). :class:`AnchorStore` writes
them for the sender and the watch: each status change is handed to the
:class:`StatusListener` callables inside the transaction that makes it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, insert, select, update

from evidence_chain import db
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import utcnow
from evidence_chain.errors import NotFoundError
from evidence_chain.models import Anchor, AnchorAttempt, ChainAlarm

log = logging.getLogger(__name__)

ANCHOR = Anchor.__table__  # type: ignore[attr-defined]
ATTEMPT = AnchorAttempt.__table__  # type: ignore[attr-defined]
ALARM = ChainAlarm.__table__  # type: ignore[attr-defined]

# anchor statuses
PENDING = "pending"
MINED = "mined"
CONFIRMED = "confirmed"
REORGED = "reorged"
SUPERSEDED = "superseded"
FAILED = "failed"
ON_CHAIN = (MINED, CONFIRMED)
LIVE = (PENDING, MINED, CONFIRMED)


# attempt statuses
SENT = "sent"
DROPPED = "dropped"
REPLACED = "replaced"
REVERTED = "reverted"


def hex0x(value: bytes | None) -> str | None:
    """``0x`` and the hex of ``value`` (None stays None)."""
    return None if value is None else "0x" + bytes(value).hex()


def _iso(moment: datetime | None) -> str | None:
    aware = _aware(moment)
    return None if aware is None else aware.strftime("%Y-%m-%dT%H:%M:%SZ")


class StatusListener(Protocol):
    """Told of an anchor's status change inside the transaction that makes it.

    ``before`` is the previous status (None for a new anchor), ``anchor`` the anchor as the
    API shows it. It must not do network I/O: it runs while the transaction is open.
    """

    def __call__(
        self, conn: Connection, before: str | None, anchor: dict[str, Any], *, now: datetime
    ) -> None:
        """React to the change, writing only through ``conn``."""


@dataclass(frozen=True)
class AnchorView:
    """An anchor as stored."""

    id: int
    tree_size: int
    root: bytes
    log_id: bytes
    status: str
    chain_id: int
    contract: str
    tx_hash: bytes | None
    block_number: int | None
    block_hash: bytes | None
    block_timestamp: datetime | None
    confirmations: int
    gas_used: int | None
    note: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> AnchorView:
        """Build from a database row of ``anchor``."""
        return cls(
            id=int(row.id),
            tree_size=int(row.tree_size),
            root=bytes(row.root),
            log_id=bytes(row.log_id),
            status=str(row.status),
            chain_id=int(row.chain_id),
            contract=str(row.contract),
            tx_hash=bytes(row.tx_hash) if row.tx_hash is not None else None,
            block_number=int(row.block_number) if row.block_number is not None else None,
            block_hash=bytes(row.block_hash) if row.block_hash is not None else None,
            block_timestamp=_aware(row.block_timestamp),
            confirmations=int(row.confirmations),
            gas_used=int(row.gas_used) if row.gas_used is not None else None,
            note=row.note,
            created_at=_aware(row.created_at) or utcnow(),
            updated_at=_aware(row.updated_at) or utcnow(),
        )

    def to_json(self) -> dict[str, Any]:
        """The anchor as the API shows it (chain values 0x-prefixed, the log's root plain hex)."""
        return {
            "chain_id": self.chain_id,
            "contract": self.contract,
            "log_id": hex0x(self.log_id),
            "tx_hash": hex0x(self.tx_hash),
            "block_number": self.block_number,
            "block_hash": hex0x(self.block_hash),
            "block_timestamp": _iso(self.block_timestamp),
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "confirmations": self.confirmations,
            "status": self.status,
        }


@dataclass(frozen=True)
class AttemptView:
    """One transaction sent for an anchor."""

    id: int
    anchor_id: int
    tx_hash: bytes
    sender: str
    nonce: int
    gas_limit: int
    max_fee: int
    priority_fee: int
    raw_tx: bytes
    status: str
    block_number: int | None
    note: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> AttemptView:
        """Build from a database row of ``anchor_attempt``."""
        return cls(
            id=int(row.id),
            anchor_id=int(row.anchor_id),
            tx_hash=bytes(row.tx_hash),
            sender=str(row.sender),
            nonce=int(row.nonce),
            gas_limit=int(row.gas_limit),
            max_fee=int(row.max_fee),
            priority_fee=int(row.priority_fee),
            raw_tx=bytes(row.raw_tx),
            status=str(row.status),
            block_number=int(row.block_number) if row.block_number is not None else None,
            note=row.note,
            created_at=_aware(row.created_at) or utcnow(),
        )

    def to_json(self) -> dict[str, Any]:
        """The attempt as the API shows it."""
        return {
            "tx_hash": hex0x(self.tx_hash),
            "nonce": self.nonce,
            "max_fee_per_gas": self.max_fee,
            "max_priority_fee_per_gas": self.priority_fee,
            "gas_limit": self.gas_limit,
            "status": self.status,
            "block_number": self.block_number,
            "note": self.note,
            "sent_at": _iso(self.created_at),
        }


class AnchorRecords:
    """Reading the anchoring tables; needs the database only, never the chain."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, *, before: int | None = None, limit: int = 100) -> list[AnchorView]:
        """Anchors newest first (by tree size), paged with ``before``."""
        query = select(ANCHOR).order_by(ANCHOR.c.tree_size.desc(), ANCHOR.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(ANCHOR.c.tree_size < before)
        with db.reading(self.engine) as conn:
            return [AnchorView.from_row(r) for r in conn.execute(query)]

    def get(self, tree_size: int) -> AnchorView:
        """The anchor of a tree size (the newest one if several contracts were used)."""
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(ANCHOR)
                .where(ANCHOR.c.tree_size == tree_size)
                .order_by(ANCHOR.c.id.desc())
                .limit(1)
            ).first()
        if row is None:
            raise NotFoundError(
                f"no anchor at tree size {tree_size}", details={"tree_size": tree_size}
            )
        return AnchorView.from_row(row)

    def attempts(self, anchor_id: int) -> list[AttemptView]:
        """Every transaction sent for an anchor, oldest first."""
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(ATTEMPT).where(ATTEMPT.c.anchor_id == anchor_id).order_by(ATTEMPT.c.id)
            )
            return [AttemptView.from_row(r) for r in rows]

    def covering(self, tree_size: int) -> AnchorView | None:
        """The smallest on-chain anchor covering ``tree_size`` leaves, confirmed ones first."""
        with db.reading(self.engine) as conn:
            for statuses in ((CONFIRMED,), (MINED,)):
                row = conn.execute(
                    select(ANCHOR)
                    .where(ANCHOR.c.tree_size >= tree_size, ANCHOR.c.status.in_(statuses))
                    .order_by(ANCHOR.c.tree_size)
                    .limit(1)
                ).first()
                if row is not None:
                    return AnchorView.from_row(row)
        return None

    def latest(self, statuses: tuple[str, ...] = ON_CHAIN) -> AnchorView | None:
        """The anchor of the largest tree size among ``statuses``."""
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(ANCHOR)
                .where(ANCHOR.c.status.in_(statuses))
                .order_by(ANCHOR.c.tree_size.desc())
                .limit(1)
            ).first()
        return AnchorView.from_row(row) if row is not None else None

    def unsettled(self) -> list[AnchorView]:
        """Anchors not yet confirmed: pending or mined."""
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(ANCHOR)
                .where(ANCHOR.c.status.in_((PENDING, MINED)))
                .order_by(ANCHOR.c.tree_size.desc())
            )
            return [AnchorView.from_row(r) for r in rows]

    def alarms(self, *, include_resolved: bool = False) -> list[dict[str, Any]]:
        """Chain alarms, newest first (open ones only by default)."""
        query = select(ALARM).order_by(ALARM.c.id.desc())
        if not include_resolved:
            query = query.where(ALARM.c.resolved_at.is_(None))
        with db.reading(self.engine) as conn:
            return [
                {
                    "id": int(r.id),
                    "kind": r.kind,
                    "message": r.message,
                    "details": json.loads(r.details),
                    "created_at": _iso(r.created_at),
                    "resolved_at": _iso(r.resolved_at),
                }
                for r in conn.execute(query)
            ]

    def resolve_alarm(self, alarm_id: int, *, now: datetime | None = None) -> None:
        """Mark an alarm resolved (an operator looked into it)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(ALARM)
                .where(ALARM.c.id == alarm_id, ALARM.c.resolved_at.is_(None))
                .values(resolved_at=now or utcnow())
            ).rowcount
        if not done:
            raise NotFoundError(f"no open alarm {alarm_id}", details={"id": alarm_id})


class AnchorStore:
    """Writing the anchoring tables; status changes are told to the listeners in their
    transaction."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        listeners: Sequence[StatusListener] = (),
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.listeners = tuple(listeners)
        self.records = AnchorRecords(engine)

    def set_anchor(self, anchor_id: int, **values: Any) -> None:
        """Update an anchor; a status change is told to the listeners."""
        with self.engine.begin() as conn:
            before = self.status_of(conn, anchor_id) if "status" in values else None
            conn.execute(
                update(ANCHOR)
                .where(ANCHOR.c.id == anchor_id)
                .values(updated_at=self.clock(), **values)
            )
            if "status" in values:
                self.notify(conn, anchor_id, before)

    @staticmethod
    def status_of(conn: Connection, anchor_id: int) -> str | None:
        """The anchor's status now (None when there is no such anchor)."""
        status = conn.execute(select(ANCHOR.c.status).where(ANCHOR.c.id == anchor_id)).scalar()
        return None if status is None else str(status)

    def notify(self, conn: Connection, anchor_id: int, before: str | None) -> None:
        """Tell the listeners of a status change (mined, confirmed, re-orged) in its transaction."""
        if not self.listeners:
            return
        row = conn.execute(select(ANCHOR).where(ANCHOR.c.id == anchor_id)).one()
        anchor = AnchorView.from_row(row).to_json()
        now = self.clock()
        for listener in self.listeners:
            listener(conn, before, anchor, now=now)

    def set_attempts(self, where: Any, **values: Any) -> None:
        """Update the attempts that ``where`` selects."""
        with self.engine.begin() as conn:
            conn.execute(update(ATTEMPT).where(where).values(updated_at=self.clock(), **values))

    def live_attempts(self, anchor_id: int) -> list[AttemptView]:
        """The anchor's transactions that are sent and not yet settled, newest first."""
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(ATTEMPT)
                .where(ATTEMPT.c.anchor_id == anchor_id, ATTEMPT.c.status == SENT)
                .order_by(ATTEMPT.c.id.desc())
            )
            return [AttemptView.from_row(r) for r in rows]

    def alarm(self, kind: str, message: str, details: dict[str, Any]) -> None:
        """Raise an alarm once (an open one of the same kind and tree size is not repeated)."""
        for open_alarm in self.records.alarms():
            if open_alarm["kind"] == kind and open_alarm["details"].get("tree_size") == details.get(
                "tree_size"
            ):
                return
        level = logging.CRITICAL if kind == "root_mismatch" else logging.ERROR
        log.log(level, "chain alarm %s: %s %s", kind, message, details)
        with self.engine.begin() as conn:
            conn.execute(
                insert(ALARM).values(
                    kind=kind,
                    message=message,
                    details=json.dumps(details, sort_keys=True),
                    created_at=self.clock(),
                )
            )


__all__ = [
    "ALARM",
    "ANCHOR",
    "ATTEMPT",
    "AnchorRecords",
    "AnchorStore",
    "AnchorView",
    "AttemptView",
    "StatusListener",
    "hex0x",
]
