"""Envelope fixtures: a real local SMTP server (aiosmtpd) and an app whose notifier uses it."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from evidence_chain.config import Settings, load_settings
from runtime.setup import initialise
from tests.service import free_port
from tests.signing.conftest import make_pdf

CODE = re.compile(r"signing code is (\d{6})")
LINK = re.compile(r"(https?://\S+/sign/([A-Za-z0-9_-]+))")


@dataclass
class Mailbox:
    """Messages received by the local SMTP server."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, pattern: re.Pattern[str], after: int = 0) -> re.Match[str]:
        """The first match of ``pattern`` in a message to ``address`` beyond the first ``after``."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for msg in self.to(address)[after:]:
                body = msg.get_body(preferencelist=("plain",))
                assert body is not None
                match = pattern.search(body.get_content())
                if match:
                    return match
            time.sleep(0.05)
        raise AssertionError(f"no message to {address} matching {pattern.pattern}")

    def code(self, address: str, after: int = 0) -> str:
        return self.wait_for(address, CODE, after).group(1)

    def token(self, address: str, after: int = 0) -> str:
        return self.wait_for(address, LINK, after).group(2)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp: tuple[Mailbox, int]) -> Settings:
    """Settings of a fresh instance mailing through the local SMTP server."""
    return load_settings(
        {
            "EVIDENCE_HOME": str(tmp_path / "home"),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.test/log",
            "EVIDENCE_ANCHORING": "false",
            "EVIDENCE_SMTP_HOST": "127.0.0.1",
            "EVIDENCE_SMTP_PORT": str(smtp[1]),
            "EVIDENCE_PUBLIC_URL": "https://sign.example.test",
        }
    )


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int]) -> Mailbox:
    return smtp[0]


@pytest.fixture
def envelopes(app: Any) -> Any:
    from web.context import services

    return services(app).envelopes


@pytest.fixture
def seal_id(app: Any, tenant: Any) -> str:
    from web.context import services

    record = services(app).signing.create_drawn_seal(
        tenant[0].id, kind="contract", text="Example Trading Co. Ltd."
    )
    return str(record.id)


@pytest.fixture(scope="session")
def contract_pdf() -> bytes:
    return make_pdf(2)


def three_party_spec(seal_id: str) -> dict[str, Any]:
    """Alice, then Bob and Example Trading Co. in parallel; fields on page 2."""
    return {
        "title": "Supply contract 2026-17",
        "message": "Please sign by Friday.",
        "order": "custom",
        "parties": [
            {
                "name": "Alice Zhang",
                "email": "alice@example.test",
                "order": 1,
                "fields": [
                    {"kind": "signature", "page": 2, "x": 60, "y": 120, "width": 150, "height": 50},
                    {"kind": "date", "page": 2, "x": 60, "y": 100, "width": 120, "height": 16},
                ],
            },
            {
                "name": "Bob Li",
                "email": "bob@example.test",
                "order": 2,
                "fields": [
                    {"kind": "signature", "page": 2, "x": 230, "y": 120},
                    {"kind": "text", "page": 2, "x": 230, "y": 100, "label": "Title"},
                ],
            },
            {
                "name": "Carol Wu",
                "email": "carol@example.test",
                "kind": "organisation",
                "organisation": "Example Trading Co. Ltd.",
                "seal_id": seal_id,
                "order": 2,
                "fields": [{"kind": "seal", "page": 2, "x": 420, "y": 80}],
            },
        ],
    }


__all__ = ["Mailbox", "initialise", "three_party_spec"]


@pytest.fixture(autouse=True)
def english(request: pytest.FixtureRequest) -> None:
    """Ask the signer's pages in English, as a browser set to English does."""
    if "client" in request.fixturenames:
        client: Any = request.getfixturevalue("client")
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
