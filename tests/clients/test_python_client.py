"""The Python client (clients/python, installed by `make deps`) against the running service:
push with idempotency keys, wait for the anchor, check the proof here, refuse a tampered
one, verify a webhook's signature; and its retries against a server that fails first."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sealtrail_client import Client, ProofError, SealtrailError, verify_proof, verify_signature

from tests.clients.conftest import Running

pytestmark = pytest.mark.slow
SUBJECT = "合同-客户端-001"


def _event(step: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "contract.signed",
        "subject": SUBJECT,
        "occurred_at": "2026-11-24T09:00:00+08:00",
        "actor": {"name": "张三", "email": "zhang@example.cn"},
        "data": {"step": step, "amount": 12.5},
        **extra,
    }


def test_push_wait_for_the_anchor_and_check_the_proof_here(running: Running) -> None:
    client = Client(running.service.url, running.api_key)
    (first,) = client.push([_event(1, idempotency_key="order-1")])
    again = client.push([_event(1, idempotency_key="order-1")])
    assert again == [first]  # the same key: the original receipt, recorded once
    with pytest.raises(SealtrailError) as conflict:
        client.push([_event(2, idempotency_key="order-1")])
    assert conflict.value.status == 409
    (second,) = client.push(_event(3))  # a single event gets a key of its own

    proof = client.wait_for_proof(second["event_id"], anchored=True, timeout=90)
    assert proof["anchor"]["status"] == "confirmed"
    checkpoint = client.verify(second["event_id"], proof)
    assert checkpoint.tree_size == proof["tree_size"] >= 2

    # the proof of the first event against the same tree, checked with the record too
    record = client.event(first["event_id"])["record"]
    older = client.proof(first["event_id"], tree_size=proof["tree_size"])
    verify_proof(older, client.public_key(), record=record)

    tampered = dict(proof)
    tampered["leaf_hash"] = "00" * 32
    with pytest.raises(ProofError, match="inclusion"):
        verify_proof(tampered, client.public_key())
    with pytest.raises(ProofError) as bad_record:
        verify_proof(older, client.public_key(), record={**record, "type": "contract.voided"})
    assert bad_record.value.reason == "bad_record"
    other_log = "other.example/log+01234567+AXk4F4K6V0bo8A0cAqnOgXx7P4CJzCdw0UsvCYgYt7Qy"
    with pytest.raises(ProofError):
        verify_proof(proof, other_log)


def test_a_webhook_is_checked_with_its_secret(running: Running) -> None:
    client = Client(running.service.url, running.api_key)
    hook = client.add_webhook(running.receiver.url + "/python", ["anchor.confirmed"])
    running.receiver.secret = hook["secret"]
    (receipt,) = client.push(_event(10))
    client.wait_for_proof(receipt["event_id"], anchored=True, timeout=90)
    deadline = time.monotonic() + 60
    mine: list[Any] = []
    while not mine and time.monotonic() < deadline:
        time.sleep(0.2)
        mine = [r for r in running.receiver.received if r.path.endswith("/python")]
    delivery = mine[0]
    signature = delivery.headers["Sealtrail-Signature"]
    assert verify_signature(hook["secret"], signature, delivery.body)
    assert json.loads(delivery.body)["event"] == "anchor.confirmed"
    assert not verify_signature(hook["secret"], signature, delivery.body + b" ")
    assert not verify_signature("whsec_wrong", signature, delivery.body)
    assert not verify_signature(hook["secret"], signature, delivery.body, now=time.time() + 3600)


@pytest.fixture
def flaky() -> Iterator[dict[str, Any]]:
    """A server that answers 503, then 429 with Retry-After: 1, then 201; it keeps what came."""
    state: dict[str, Any] = {"bodies": [], "answers": [503, 429, 201]}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state["bodies"].append(json.loads(body))
            code = state["answers"].pop(0)
            payload = (
                {"receipts": [{"event_id": "e", "leaf_index": 0, "leaf_hash": "00"}]}
                if code == 201
                else {"error": {"code": "unavailable", "message": "busy", "details": {}}}
            )
            data = json.dumps(payload).encode()
            self.send_response(code)
            if code == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def test_retries_send_the_same_idempotency_key(flaky: dict[str, Any]) -> None:
    client = Client(flaky["url"], "stk_test", backoff=0.01)
    started = time.monotonic()
    receipts = client.push([_event(1)])
    assert receipts[0]["event_id"] == "e"
    keys = [b["events"][0]["idempotency_key"] for b in flaky["bodies"]]
    assert len(keys) == 3 and len(set(keys)) == 1  # one key, three attempts
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured


def test_a_final_error_carries_the_envelope(running: Running) -> None:
    client = Client(running.service.url, "stk_not_a_key", retries=0)
    with pytest.raises(SealtrailError) as unauthorized:
        client.push(_event(1))
    assert unauthorized.value.status == 401 and unauthorized.value.code
    with pytest.raises(SealtrailError) as missing:
        Client(running.service.url, running.api_key).event("0190b1a2-0000-7000-8000-000000000000")
    assert missing.value.status == 404 and missing.value.code == "not_found"
