"""Mail leaves after the transaction that queued it, with retries; a silent mail server holds
up only the mail, never the database or other requests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from evidence_chain.config import Settings, load_settings
from evidence_chain.tenants import create_tenant
from messages.service import outbox_table, read_outbox
from tests.envelopes.conftest import LINK, Mailbox
from tests.envelopes.helpers import create, one_party_spec
from tests.service import free_port
from tests.signing.conftest import make_pdf


class SilentServer:
    """Accepts TCP connections on a port and never says a word (a hung mail server)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        # shutdown() wakes the thread blocked in accept(); close() alone would leave the
        # port listening until it returns.
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(5)


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    return load_settings(
        {
            "EVIDENCE_HOME": str(tmp_path / "home"),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.test/log",
            "EVIDENCE_ANCHORING": "false",
            "EVIDENCE_SMTP_HOST": "127.0.0.1",
            "EVIDENCE_SMTP_PORT": str(smtp_port),
            "EVIDENCE_SMTP_TIMEOUT": "3",
            "EVIDENCE_PUBLIC_URL": "https://sign.example.test",
        }
    )


@pytest.fixture
def mail_server(smtp_port: int) -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield box
    controller.stop()


def outbox_rows(instance: Any) -> list[Any]:
    table = outbox_table()
    with instance.engine.connect() as conn:
        return list(conn.execute(select(table).order_by(table.c.id)).all())


def wait_until(predicate: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def send_envelope(client: Any, auth: dict[str, str]) -> str:
    created = create(client, auth, one_party_spec(), make_pdf(1))
    assert created.status_code == 201, created.get_json()
    envelope_id = created.get_json()["id"]
    sent = client.post(f"/api/v1/envelopes/{envelope_id}/send", headers=auth)
    assert sent.status_code == 200, sent.get_json()
    return str(envelope_id)


def test_a_link_leaves_at_once_and_its_body_is_not_kept(
    client: Any, auth: dict[str, str], instance: Any, mail_server: Mailbox
) -> None:
    send_envelope(client, auth)
    link = mail_server.wait_for("dana@example.test", LINK)
    assert link.group(1).startswith("https://sign.example.test/sign/")
    wait_until(lambda: outbox_rows(instance)[0].status == "succeeded")
    (row,) = outbox_rows(instance)
    assert row.attempts == 1 and row.sent_at is not None and row.last_error is None
    # The live link was handed to the mail server; the database keeps no copy of it.
    assert row.body == ""
    assert [m.status for m in read_outbox(instance.engine, to="Dana@Example.TEST")] == ["succeeded"]


def test_a_silent_mail_server_holds_up_only_the_mail(
    client: Any, auth: dict[str, str], instance: Any, smtp_port: int
) -> None:
    silent = SilentServer(smtp_port)
    try:
        send_envelope(client, auth)
        # The prompt sender is now connected to a server that never answers.
        wait_until(lambda: len(silent.accepted) == 1)
        other = {"Authorization": f"Bearer {create_tenant(instance.engine, 'Other Co')[1]}"}
        started = time.monotonic()
        for i in range(40):
            pushed = client.post(
                "/api/v1/events",
                headers=other,
                json={
                    "subject": f"order:{i}",
                    "type": "order.created",
                    "occurred_at": "2026-11-23T10:00:00Z",
                    "data": {"n": i},
                },
            )
            assert pushed.status_code == 201, pushed.get_json()
        elapsed = time.monotonic() - started
        # All 40 pushes committed while the message was still in the hands of the silent
        # server: none of them waited for it.
        (row,) = outbox_rows(instance)
        assert row.status == "pending" and row.lease_owner is not None, (row, elapsed)
        print(f"40 pushes of another tenant during a hung SMTP session: {elapsed:.2f} s")
        # The attempt times out, and the message waits for its retry.
        wait_until(lambda: outbox_rows(instance)[0].status == "failed")
        (row,) = outbox_rows(instance)
        assert row.attempts == 1 and "timed out" in (row.last_error or "").lower()
        assert row.body, "a message not yet delivered keeps its body"
    finally:
        silent.close()

    # The server recovers; the retry (after its backoff) delivers the message.
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        mail = instance.mail
        assert mail.drain().claimed == 0, "not before its backoff has passed"
        now = mail.clock()
        mail.clock = lambda: now + timedelta(seconds=60)
        result = mail.drain()
        assert (result.claimed, result.sent) == (1, 1)
        assert box.wait_for("dana@example.test", LINK)
        (row,) = outbox_rows(instance)
        assert (row.status, row.attempts, row.body) == ("succeeded", 2, "")
    finally:
        controller.stop()


class RefusingMailbox(Mailbox):
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "550 5.1.1 no such mailbox"


def test_a_refused_address_is_dead_at_once(
    client: Any, auth: dict[str, str], instance: Any, smtp_port: int
) -> None:
    controller = Controller(RefusingMailbox(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        send_envelope(client, auth)
        wait_until(lambda: outbox_rows(instance)[0].status != "pending")
    finally:
        controller.stop()
    (row,) = outbox_rows(instance)
    assert (row.status, row.attempts) == ("dead", 1)
    assert "550" in (row.last_error or "")
    assert row.body, "an undelivered message keeps its body for the operator"


def test_a_signing_email_in_both_languages_names_the_sender(
    client: Any, auth: dict[str, str], instance: Any, mail_server: Mailbox, tenant: Any
) -> None:
    from html.parser import HTMLParser

    from evidence_chain.tenant_settings import update_settings

    update_settings(instance.engine, instance.ledger, tenant[0].id, {"time_zone": "Asia/Shanghai"})
    spec = {**one_party_spec(), "title": "租赁合同 Lease 7", "message": "请于周五前签署。"}
    created = create(client, auth, spec, make_pdf(1))
    envelope_id = created.get_json()["id"]
    client.post(f"/api/v1/envelopes/{envelope_id}/send", headers=auth)
    mail_server.wait_for("dana@example.test", LINK)
    (mail,) = mail_server.to("dana@example.test")
    assert mail.get_content_type() == "multipart/alternative"
    assert "请签署「租赁合同 Lease 7」" in mail["Subject"] and "Please sign" in mail["Subject"]
    plain_part = mail.get_body(preferencelist=("plain",))
    html_part = mail.get_body(preferencelist=("html",))
    assert plain_part is not None and html_part is not None
    plain, html = plain_part.get_content(), html_part.get_content()
    sender = tenant[0].name
    for text in (plain, html):
        assert f"{sender} 邀请您签署「租赁合同 Lease 7」" in text
        assert f"{sender} asks you to sign" in text
        assert "请于周五前签署。" in text
        assert "Asia/Shanghai" in text and "UTC)" in text  # the sender's zone, UTC beside
    # the HTML part parses, and its links (one a language) are the signing link
    links: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                links.append(dict(attrs)["href"] or "")

    Links().feed(html)
    found = LINK.search(plain)
    assert found is not None and links == [found.group(1)] * 2
