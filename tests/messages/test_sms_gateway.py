"""A party with only a phone number gets its link and codes through the HTTP SMS gateway
(a local double that speaks the documented contract): bearer token, JSON body, the same
idempotency key on every attempt, retries on 5xx, a refused number dead at once."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from evidence_chain.config import Settings, load_settings
from messages.service import outbox_table
from signing.envelopes.service import RequestContext
from tests.envelopes.helpers import create
from tests.signing.conftest import make_pdf

PHONE = "+8613800138000"
TOKEN = "sms-gateway-token-0123456789"


class Gateway:
    """The SMS gateway double: what it received, and the answers it gives (201 once empty)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    code = outer.answers.pop(0) if outer.answers else 201
                    outer.received.append(
                        {
                            "auth": self.headers.get("Authorization"),
                            "json": json.loads(body),
                            "answered": code,
                        }
                    )
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"

    def wait(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"the gateway got {len(self.received)} of {count} messages")


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    found = Gateway()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, gateway: Gateway) -> Settings:
    return load_settings(
        {
            "EVIDENCE_HOME": str(tmp_path / "home"),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_ANCHORING": "false",
            "EVIDENCE_SMS_URL": gateway.url,
            "EVIDENCE_SMS_TOKEN": TOKEN,
            "EVIDENCE_PUBLIC_URL": "https://sign.example.test",
        }
    )


def _phone_only_envelope(client: Any, auth: dict[str, str]) -> str:
    spec = {
        "title": "租赁合同 Lease 9",
        "parties": [
            {
                "name": "王芳",
                "phone": PHONE,
                "fields": [{"kind": "signature", "page": 1, "x": 72, "y": 72}],
            }
        ],
    }
    created = create(client, auth, spec, make_pdf(1))
    assert created.status_code == 201, created.get_json()
    envelope_id = str(created.get_json()["id"])
    assert client.post(f"/api/v1/envelopes/{envelope_id}/send", headers=auth).status_code == 200
    return envelope_id


def _rows(instance: Any) -> list[Any]:
    table = outbox_table()
    with instance.engine.connect() as conn:
        return list(conn.execute(select(table).order_by(table.c.id)).all())


def test_a_phone_only_party_gets_its_link_and_code_by_sms(
    client: Any, auth: dict[str, str], instance: Any, gateway: Gateway, tenant: Any
) -> None:
    _phone_only_envelope(client, auth)
    (link_sms,) = gateway.wait(1)
    assert link_sms["auth"] == f"Bearer {TOKEN}"
    body = link_sms["json"]
    assert body["to"] == PHONE and set(body) == {"to", "text", "idempotency_key"}
    assert f"{tenant[0].name}邀请您签署「租赁合同 Lease 9」" in body["text"]
    assert "asks you to sign" in body["text"]
    token = re.search(r"/sign/([A-Za-z0-9_-]+)", body["text"])
    assert token is not None and body["idempotency_key"] == "sealtrail-outbox-1"

    instance.envelopes.request_code(token.group(1), RequestContext("203.0.113.9", "pytest"))
    code_sms = gateway.wait(2)[1]["json"]
    assert re.search(r"signing code is \d{6}", code_sms["text"]) and "验证码" in code_sms["text"]
    deadline = time.monotonic() + 5
    while any(r.status != "succeeded" for r in _rows(instance)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(r.channel, r.status, r.body) for r in _rows(instance)] == [
        ("sms", "succeeded", "")
    ] * 2


def test_a_busy_gateway_is_tried_again_and_a_refused_number_is_dead(
    client: Any, auth: dict[str, str], instance: Any, gateway: Gateway
) -> None:
    gateway.answers = [503]
    _phone_only_envelope(client, auth)
    gateway.wait(1)
    deadline = time.monotonic() + 5
    while _rows(instance)[0].status == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    (row,) = _rows(instance)
    assert row.status == "failed" and "503" in (row.last_error or "") and row.body != ""
    # the retry (the mail job, here run by hand once the row is due) carries the same key
    table = outbox_table()
    with instance.engine.begin() as conn:
        conn.execute(table.update().values(next_attempt_at=row.created_at))
    instance.mail.drain()
    second = gateway.wait(2)[1]
    assert second["json"]["idempotency_key"] == gateway.received[0]["json"]["idempotency_key"]
    assert _rows(instance)[0].status == "succeeded"

    gateway.answers = [400]
    _phone_only_envelope(client, auth)
    gateway.wait(3)
    deadline = time.monotonic() + 5
    while _rows(instance)[-1].status == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _rows(instance)[-1].status == "dead"
