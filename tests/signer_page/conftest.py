"""Envelopes for the signer page tests, made through the EnvelopeService, links and codes read
from the outbox as the operator would."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from messages.service import read_outbox
from signing.envelopes.service import EnvelopeService, InitiatorContext, RequestContext
from web.context import services

LINK = re.compile(r"/sign/([A-Za-z0-9_-]{20,})")
CODE = re.compile(r"\b(\d{6})\b")
WHO = InitiatorContext(key_prefix=None, request=RequestContext(ip="192.0.2.1", user_agent="tests"))


def contract_pdf(pages: int = 2, title: str = "Service Agreement") -> bytes:
    """A small A4 contract with numbered clauses on every page."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for page in range(1, pages + 1):
        c.setFont("Helvetica-Bold", 20)
        c.drawString(72, 770, title if page == 1 else f"{title} (continued)")
        c.setFont("Helvetica", 11)
        for i in range(28):
            c.drawString(72, 730 - 20 * i, f"{page}.{i + 1} The parties agree to clause {i + 1}.")
        c.showPage()
    c.save()
    return buf.getvalue()


@dataclass
class Sent:
    """A sent envelope and the link token of each party, by email."""

    envelope_id: str
    tokens: dict[str, str]


def link_token(engine: Any, email: str) -> str:
    """The token of the newest signer link sent to ``email``."""
    found = [m for m in read_outbox(engine, to=email) if LINK.search(m.body)]
    assert found, f"no link was sent to {email}"
    match = LINK.search(found[-1].body)
    assert match
    return match.group(1)


def latest_code(engine: Any, email: str) -> str:
    """The newest one-time code sent to ``email``."""
    for message in reversed(read_outbox(engine, to=email)):
        if LINK.search(message.body):
            continue
        match = CODE.search(message.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no code was sent to {email}")


@pytest.fixture
def envelopes(app: Any) -> EnvelopeService:
    """The app's envelope service."""
    return services(app).envelopes


@pytest.fixture
def send_envelope(
    envelopes: EnvelopeService, tenant: tuple[Any, str], instance: Any
) -> Callable[..., Sent]:
    """Create and send an envelope; parties sign one after another in the order given."""

    def make(parties: list[dict[str, Any]] | None = None, **spec: Any) -> Sent:
        if parties is None:
            parties = [
                {
                    "name": "Alice Zhang",
                    "email": "alice@example.com",
                    "fields": [
                        {"kind": "signature", "anywhere": True, "label": "Signature"},
                        {"kind": "date", "page": 2, "x": 400, "y": 100},
                        {"kind": "text", "page": 2, "x": 72, "y": 100, "label": "Job title"},
                    ],
                },
                {
                    "name": "Bob Li",
                    "email": "bob@example.com",
                    "fields": [{"kind": "signature", "page": 2, "x": 320, "y": 200}],
                },
            ]
        body = {"title": "Service Agreement 2026", "order": "sequential", "parties": parties}
        body.update(spec)
        created = envelopes.create(tenant[0], body, [("agreement.pdf", contract_pdf())], WHO)
        envelopes.send(tenant[0], created["id"], WHO)
        tokens = {}
        for party in parties:
            email = party["email"]
            found = [m for m in read_outbox(instance.engine, to=email) if LINK.search(m.body)]
            if found:
                tokens[email] = link_token(instance.engine, email)
        return Sent(created["id"], tokens)

    return make


@pytest.fixture(autouse=True)
def english(request: pytest.FixtureRequest) -> None:
    """Ask the signer's pages in English, as a browser set to English does (without the
    header they are in Chinese: see test_languages.py)."""
    if "client" in request.fixturenames:
        client: Any = request.getfixturevalue("client")
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
