"""Notifications to people: every message is written to the outbox in the caller's transaction.

A notifier is handed the caller's database connection, so a message commits (or rolls back)
with the state change that caused it, and nothing talks to a mail server while a transaction
is open:

* :class:`QueueingNotifier` queues email as ``pending`` when ``EVIDENCE_SMTP_HOST`` is set,
  and SMS when an HTTP SMS gateway is (``EVIDENCE_SMS_URL``);
  :class:`messages.delivery.MailDelivery` sends them after the transaction ends, with
  retries. A channel without a sender keeps its messages.
* :class:`OutboxNotifier` keeps every message (``kept``) for the operator to read with
  ``flask --app app outbox`` (the default when neither is configured).

Message bodies may carry one-time codes and live links: they are never logged, and a body is
erased from the outbox once the mail server or the gateway has accepted the message.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Engine, Index, Text, func, insert, select
from sqlmodel import Field, SQLModel

from evidence_chain import db
from evidence_chain.config import Settings

log = logging.getLogger(__name__)

CHANNELS = ("email", "sms")

KEPT = "kept"
"""Kept for the operator to read (no mail server configured, or an SMS)."""
PENDING = "pending"
"""Waiting for its first delivery attempt."""
SENT = "succeeded"
"""Accepted by the mail server; the body has been erased."""

AFTER_COMMIT_FLAG = "sealtrail.mail_queued"
"""Set in a connection's ``info`` when a message to send was queued on it; the prompt sender
is woken when that connection goes back to the pool, i.e. after its transaction ended."""


@dataclass(frozen=True)
class Message:
    """One notification: channel ("email" or "sms"), recipient, subject and plain-text body."""

    channel: str
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class OutboxItem:
    """A message kept in the outbox."""

    id: int
    created_at: datetime
    channel: str
    to: str
    subject: str
    body: str
    status: str = KEPT
    attempts: int = 0
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The message as ``outbox --json`` prints it."""
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "channel": self.channel,
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


class OutboxMessage(SQLModel, table=True):
    """A message to a person: kept for the operator, or queued for the mail server.

    Created by migration ``0006_envelopes``; the delivery columns by ``0008_mail_queue``.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime
    channel: str = Field(max_length=8)
    recipient: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=KEPT, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=40)
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)


def outbox_table() -> Any:
    """The ``outbox_message`` table."""
    return OutboxMessage.__table__  # type: ignore[attr-defined]


def _outbox_table() -> Any:
    return OutboxMessage.__table__  # type: ignore[attr-defined]


class Notifier(ABC):
    """Writes messages to people into the outbox, in the caller's transaction."""

    @abstractmethod
    def send(self, conn: Connection, message: Message) -> str:
        """Keep or queue ``message``; return how ("outbox" or "smtp")."""


def _insert(conn: Connection, message: Message, status: str) -> None:
    if message.channel not in CHANNELS:
        raise ValueError(f"unknown channel {message.channel!r}")
    now = datetime.now(UTC)
    conn.execute(
        insert(_outbox_table()).values(
            created_at=now,
            channel=message.channel,
            recipient=message.to.strip().lower() if message.channel == "email" else message.to,
            subject=message.subject[:300],
            body=message.body,
            status=status,
            attempts=0,
            next_attempt_at=now if status == PENDING else None,
        )
    )


class OutboxNotifier(Notifier):
    """Keeps every message in the outbox for the operator (no mail server configured)."""

    def send(self, conn: Connection, message: Message) -> str:
        """Insert the message into the outbox, kept."""
        _insert(conn, message, KEPT)
        log.info("notification kept in the outbox (%s)", message.channel)
        return "outbox"


class QueueingNotifier(Notifier):
    """Queues the messages of the channels that have a sender (email with an SMTP server,
    SMS with a gateway) and keeps the others in the outbox for the operator."""

    def __init__(self, channels: frozenset[str]) -> None:
        self.channels = channels

    def send(self, conn: Connection, message: Message) -> str:
        """Queue the message (sent once the transaction has ended), or keep it."""
        if message.channel not in self.channels:
            _insert(conn, message, KEPT)
            return "outbox"
        _insert(conn, message, PENDING)
        conn.info[AFTER_COMMIT_FLAG] = True
        return "smtp" if message.channel == "email" else "gateway"


def notifier_for(settings: Settings) -> Notifier:
    """Queue email when ``EVIDENCE_SMTP_HOST`` is set and SMS when ``EVIDENCE_SMS_URL`` is;
    keep in the outbox what has no sender."""
    channels = frozenset(
        c for c, on in (("email", settings.smtp_host), ("sms", settings.sms_url)) if on
    )
    return QueueingNotifier(channels) if channels else OutboxNotifier()


def read_outbox(engine: Engine, *, to: str | None = None, limit: int = 100) -> list[OutboxItem]:
    """The newest outbox messages (optionally to one recipient), oldest first."""
    table = _outbox_table()
    query = select(table)
    if to:
        query = query.where(func.lower(table.c.recipient) == to.strip().lower())
    with db.reading(engine) as conn:
        rows = conn.execute(query.order_by(table.c.id.desc()).limit(limit)).all()
    return [
        OutboxItem(
            id=int(r.id),
            created_at=r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC),
            channel=r.channel,
            to=r.recipient,
            subject=r.subject,
            body=r.body,
            status=r.status,
            attempts=int(r.attempts),
            last_error=r.last_error,
        )
        for r in reversed(rows)
    ]
