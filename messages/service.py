"""Notifications to signers: one small interface, SMTP and an operator-read outbox behind it.

* :class:`SmtpNotifier` sends email through the configured SMTP server (``EVIDENCE_SMTP_*``).
* :class:`OutboxNotifier` keeps the message in the ``outbox_message`` table, for the operator
  to read with ``flask --app app outbox`` (the default when no SMTP server is configured).
* SMS: Sealtrail has no SMS gateway; a message on the ``sms`` channel always goes to the outbox.

A notifier is handed the caller's database connection, so an outbox message commits with the
state change that caused it. Message bodies may carry one-time codes: they are never logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import Column, Connection, Engine, Text, insert, select
from sqlmodel import Field, SQLModel

from evidence_chain import db
from evidence_chain.config import Settings
from evidence_chain.errors import EvidenceError

log = logging.getLogger(__name__)

CHANNELS = ("email", "sms")


class NotificationError(EvidenceError):
    """The message could not be handed to the mail server; the caller may retry."""

    code = "notification_failed"


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

    def to_json(self) -> dict[str, Any]:
        """The message as ``outbox --json`` prints it."""
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "channel": self.channel,
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
        }


class OutboxMessage(SQLModel, table=True):
    """A notification kept for the operator (created by migration ``0006_envelopes``)."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime
    channel: str = Field(max_length=8)
    recipient: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))


def _outbox_table() -> Any:
    return OutboxMessage.__table__  # type: ignore[attr-defined]


class Notifier(ABC):
    """Sends messages to signers."""

    @abstractmethod
    def send(self, conn: Connection, message: Message) -> str:
        """Deliver or keep ``message``; return how ("smtp" or "outbox")."""


class OutboxNotifier(Notifier):
    """Keeps every message in the ``outbox_message`` table, in the caller's transaction."""

    def send(self, conn: Connection, message: Message) -> str:
        """Insert the message into the outbox."""
        if message.channel not in CHANNELS:
            raise ValueError(f"unknown channel {message.channel!r}")
        conn.execute(
            insert(_outbox_table()).values(
                created_at=datetime.now(UTC),
                channel=message.channel,
                recipient=message.to,
                subject=message.subject[:300],
                body=message.body,
            )
        )
        log.info("notification kept in the outbox (%s)", message.channel)
        return "outbox"


class SmtpNotifier(Notifier):
    """Sends email through an SMTP server; SMS still goes to the outbox."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        user: str | None = None,
        password: str | None = None,
        sender: str = "Sealtrail <no-reply@sealtrail.invalid>",
        starttls: bool = False,
        timeout: float = 15.0,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.sender = sender
        self.starttls = starttls
        self.timeout = timeout
        self._outbox = OutboxNotifier()

    def send(self, conn: Connection, message: Message) -> str:
        """Send an email now; an SMS is kept in the outbox."""
        if message.channel != "email":
            return self._outbox.send(conn, message)
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain="sealtrail")
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            # The exception text names the server, never the message body.
            raise NotificationError(
                f"the mail server {self.host}:{self.port} did not accept the message: "
                f"{type(exc).__name__}"
            ) from None
        log.info("notification sent by SMTP via %s:%s", self.host, self.port)
        return "smtp"


def notifier_for(settings: Settings) -> Notifier:
    """SMTP when ``EVIDENCE_SMTP_HOST`` is set, else the outbox."""
    if settings.smtp_host:
        return SmtpNotifier(
            settings.smtp_host,
            settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
        )
    return OutboxNotifier()


def read_outbox(engine: Engine, *, to: str | None = None, limit: int = 100) -> list[OutboxItem]:
    """The newest outbox messages (optionally to one recipient), oldest first."""
    table = _outbox_table()
    query = select(table)
    if to:
        query = query.where(table.c.recipient == to)
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
        )
        for r in reversed(rows)
    ]
