"""Mail delivery: the outbox's pending email, sent to the SMTP server outside any transaction.

Two things run :meth:`MailDelivery.drain`:

* the ``mail`` job of the scheduler leader, every few seconds: it sends what is due, including
  the retries (10 s, 30 s, 2 min, 10 min, 1 h, then every 6 h: a message is dead after 8 tries,
  or at once when the server refuses it for good, a 5xx reply);
* the prompt sender of each process: a thread woken when a connection that queued mail goes
  back to the pool (its transaction has ended), so a signing link or a code leaves at once,
  in the worker that wrote it, whether or not that worker leads the scheduler.

Both take rows through the shared lease (:mod:`evidence_chain.retry_queue`), so they never
send one message twice while its lease holds. A slow or silent mail server delays only the
mail: no request and no transaction waits for it.
"""

from __future__ import annotations

import html
import logging
import os
import random
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import Engine, event, select, update
from sqlalchemy.pool import ConnectionPoolEntry

from evidence_chain import db, retry_queue
from evidence_chain.config import Settings
from messages.errors import SendRefused
from messages.service import AFTER_COMMIT_FLAG, PENDING, SENT, outbox_table
from messages.sms import SmsGateway

log = logging.getLogger(__name__)

BACKOFF = retry_queue.Backoff((10.0, 30.0, 120.0, 600.0, 3600.0, 21600.0, 21600.0))
DUE = (PENDING, retry_queue.FAILED)
LEASE_SECONDS = 120.0
"""Longer than one batch can take: a batch of ``BATCH`` messages at ``TIMEOUT`` each."""
BATCH = 5
TIMEOUT = 15.0


URL = re.compile(r"https?://\S+")


def html_of(body: str, subject: str) -> str:
    """The HTML alternative of a plain-text message: the same words, escaped, with its web
    addresses as links (nothing else: no images, no tracking)."""
    paragraphs = []
    for block in body.strip().split("\n\n"):
        lines = []
        for line in block.split("\n"):
            text = html.escape(line)
            if URL.fullmatch(line.strip()):
                text = f'<a href="{html.escape(line.strip(), quote=True)}">{text}</a>'
            lines.append(text)
        paragraphs.append("<p>" + "<br>".join(lines) + "</p>")
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>"
        '<body style="font-family: sans-serif; line-height: 1.5">'
        + "".join(paragraphs)
        + "</body></html>"
    )


@dataclass(frozen=True)
class SmtpTransport:
    """Hands one message at a time to an SMTP server (``EVIDENCE_SMTP_*``)."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "Sealtrail <no-reply@sealtrail.invalid>"
    starttls: bool = False
    timeout: float = TIMEOUT

    def send(self, to: str, subject: str, body: str, *, key: str = "") -> None:
        """Send one message (plain text with an HTML alternative); SendRefused if the server
        does not take it."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = subject
        mail["Message-ID"] = make_msgid(domain="sealtrail")
        mail.set_content(body)
        mail.add_alternative(html_of(body, subject), subtype="html")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendRefused(
                f"recipient refused ({', '.join(map(str, codes))})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            # The reply text may quote the message; only its code is kept.
            raise SendRefused(
                f"the server replied {exc.smtp_code}", permanent=exc.smtp_code >= 500
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendRefused(f"{type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class Result:
    """What one run sent."""

    claimed: int
    sent: int
    failed: int
    dead: int


class MailDelivery:
    """Sends the outbox's pending email (see the module's docstring)."""

    def __init__(
        self,
        engine: Engine,
        transport: SmtpTransport | None,
        *,
        sms: SmsGateway | None = None,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.transport = transport
        self.senders: dict[str, Any] = {
            channel: sender
            for channel, sender in (("email", transport), ("sms", sms))
            if sender is not None
        }
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rng = rng
        # The prompt sender's state, shared between the threads that wake it and its own
        # thread: guarded by ``_lock`` (the thread is started once per process, after a fork
        # too), and the wake-up itself is a threading.Event, safe to set from any thread.
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    @classmethod
    def for_settings(cls, settings: Settings, engine: Engine) -> MailDelivery | None:
        """The delivery of the configured SMTP server, woken after each transaction that
        queued mail; None when no server is configured (messages are then kept)."""
        if not settings.smtp_host and not settings.sms_url:
            return None
        smtp = None
        if settings.smtp_host:
            smtp = SmtpTransport(
                settings.smtp_host,
                settings.smtp_port,
                user=settings.smtp_user,
                password=settings.smtp_password,
                sender=settings.smtp_from,
                starttls=settings.smtp_starttls,
                timeout=settings.smtp_timeout,
            )
        sms = None
        if settings.sms_url:
            sms = SmsGateway(settings.sms_url, settings.sms_token, settings.sms_timeout)
        delivery = cls(engine, smtp, sms=sms)
        delivery.listen(engine)
        return delivery

    # -- the prompt sender --------------------------------------------------------------------

    def listen(self, engine: Engine) -> None:
        """Wake the prompt sender whenever a connection that queued mail is checked in."""

        def checked_in(dbapi_connection: Any, record: ConnectionPoolEntry | None) -> None:
            if record is not None and record.info.pop(AFTER_COMMIT_FLAG, False):
                self.wake()

        event.listen(engine, "checkin", checked_in)

    def wake(self) -> None:
        """Ask this process's prompt sender to send what is due now."""
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._serve, name="mail-delivery", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _serve(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                self.drain()
            except Exception:  # the thread must outlive a failed run; the job retries
                log.exception("prompt mail delivery failed; the mail job retries")

    # -- the job ------------------------------------------------------------------------------

    def deliver_due(self) -> Result:
        """Send one batch of due email."""
        table = outbox_table()
        now = self.clock()
        with db.reading(self.engine) as conn:
            ids = retry_queue.due(conn, table, DUE, now, BATCH)
        if not ids:
            return Result(0, 0, 0, 0)
        owner = retry_queue.lease(self.engine, table, DUE, ids, now, LEASE_SECONDS)
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(
                    table.c.id,
                    table.c.channel,
                    table.c.recipient,
                    table.c.subject,
                    table.c.body,
                    table.c.attempts,
                )
                .where(table.c.lease_owner == owner)
                .order_by(table.c.id)
            ).all()
        counts = {SENT: 0, retry_queue.FAILED: 0, retry_queue.DEAD: 0}
        for row in rows:
            counts[self._send_one(owner, row)] += 1
        return Result(len(rows), counts[SENT], counts[retry_queue.FAILED], counts[retry_queue.DEAD])

    def _send_one(self, owner: str, row: Any) -> str:
        table = outbox_table()
        error: str | None = None
        permanent = False
        sender = self.senders.get(str(row.channel))
        try:
            if sender is None:  # queued under a configuration that had this channel
                raise SendRefused(f"no sender is configured for {row.channel}")
            sender.send(row.recipient, row.subject, row.body, key=f"sealtrail-outbox-{row.id}")
        except SendRefused as exc:
            error, permanent = str(exc)[:500], exc.permanent
        attempted_at = self.clock()
        values = BACKOFF.next_state(
            int(row.attempts) + 1, attempted_at, ok=error is None, permanent=permanent, rng=self.rng
        )
        values["last_error"] = error
        if error is None:
            # The body may hold a live link or code: once delivered it is not kept.
            values.update(sent_at=attempted_at, body="")
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.id == row.id, table.c.lease_owner == owner)
                .values(**values)
            )
        status = str(values["status"])
        if error is None:
            log.info("message %s (%s) sent", row.id, row.channel)
        else:
            log.warning(
                "message %s (%s) not sent (%s, %s): %s",
                row.id,
                row.channel,
                status,
                values["attempts"],
                error,
            )
        return status

    def drain(self, budget_seconds: float = 10.0) -> Result:
        """Send batches while mail is due, for at most about ``budget_seconds``."""
        started = time.monotonic()
        total = Result(0, 0, 0, 0)
        while True:
            run = self.deliver_due()
            total = Result(
                total.claimed + run.claimed,
                total.sent + run.sent,
                total.failed + run.failed,
                total.dead + run.dead,
            )
            if run.claimed == 0 or time.monotonic() - started >= budget_seconds:
                return total
