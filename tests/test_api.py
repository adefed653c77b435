"""The evidence API, endpoint by endpoint, including every error the issue names."""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any

import pytest

from evidence_chain.core import merkle
from evidence_chain.core.canonical import canonicalize
from evidence_chain.core.note import verify_checkpoint
from evidence_chain.tenants import create_tenant


def event(n: int = 0, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "contract.signed",
        "subject": "contract-42",
        "occurred_at": "2026-11-21T08:00:00+08:00",
        "actor": {"name": "张三", "email": "zhang@example.com"},
        "data": {"n": n, "sha256": "ab" * 32},
    }
    body.update(overrides)
    return body


def push(client: Any, auth: dict[str, str], body: Any) -> Any:
    return client.post("/api/v1/events", json=body, headers=auth)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


# -- pushing events ----------------------------------------------------------------------


def test_push_one_event_returns_a_durable_receipt(client, auth, instance):
    response = push(client, auth, event())
    assert response.status_code == 201
    (receipt,) = response.get_json()["receipts"]
    assert receipt["leaf_index"] == 0
    assert instance.ledger.tree_size() == 1

    got = client.get(f"/api/v1/events/{receipt['event_id']}", headers=auth).get_json()
    assert got["leaf_hash"] == receipt["leaf_hash"]
    record = got["record"]
    # The record is exactly what was hashed: the leaf recomputes from it.
    assert hashlib.sha256(b"\x00" + canonicalize(record)).hexdigest() == receipt["leaf_hash"]
    assert record["event_id"] == receipt["event_id"]
    assert record["type"] == "contract.signed"
    assert record["subject"] == "contract-42"
    assert record["occurred_at"] == "2026-11-21T00:00:00.000000Z"  # normalised to UTC
    assert record["received_at"].endswith("Z")
    assert record["actor"] == {"name": "张三", "email": "zhang@example.com"}
    assert record["prev_leaf_hash"] is None and record["subject_seq"] == 0
    assert record["tenant"].startswith("tn_")


def test_push_batch_gets_consecutive_gapless_indexes(client, auth):
    first = push(client, auth, event(0)).get_json()["receipts"]
    batch = push(client, auth, {"events": [event(i) for i in range(1, 6)]})
    assert batch.status_code == 201
    receipts = batch.get_json()["receipts"]
    assert [r["leaf_index"] for r in first + receipts] == list(range(6))
    assert len({r["event_id"] for r in receipts}) == 5


def test_batch_of_1000_is_accepted_and_1001_rejected(client, auth, instance):
    ok = push(client, auth, {"events": [event(i) for i in range(1000)]})
    assert ok.status_code == 201
    assert len(ok.get_json()["receipts"]) == 1000
    too_many = push(client, auth, {"events": [event(i) for i in range(1001)]})
    err = assert_error(too_many, 400, "invalid_request")
    assert err["details"]["max"] == 1000
    assert instance.ledger.tree_size() == 1000


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"type": ""}, "type"),
        ({"type": None}, "type"),
        ({"subject": " leading space"}, "subject"),
        ({"subject": "line\nbreak"}, "subject"),
        ({"subject": "x" * 257}, "subject"),
        ({"occurred_at": "2026-11-21 08:00"}, "occurred_at"),
        ({"occurred_at": "2026-11-21T08:00:00"}, "occurred_at"),  # no zone
        ({"occurred_at": "2026-13-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": 1700000000}, "occurred_at"),
        ({"actor": 5}, "actor"),
        ({"data": [1, 2]}, "data"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_event_rejects_the_whole_batch_naming_event_and_field(
    client, auth, instance, bad, field
):
    events = [event(0), event(1), event(2, **bad)]
    err = assert_error(push(client, auth, {"events": events}), 400, "invalid_request")
    assert err["details"] == {"index": 2, "field": field} | (
        {} if "reason" not in err["details"] else {"reason": err["details"]["reason"]}
    )
    assert "event 2" in err["message"]
    assert instance.ledger.tree_size() == 0  # nothing half-written


def test_missing_required_field_is_named(client, auth):
    body = event()
    del body["occurred_at"]
    err = assert_error(push(client, auth, body), 400, "invalid_request")
    assert err["details"]["field"] == "occurred_at"


def test_numbers_json_cannot_carry_exactly_are_rejected_with_their_path(client, auth, instance):
    # 2**53 + 1 is not representable as an IEEE double: every JCS verifier would round it.
    body = {"events": [event(0), event(1, data={"big": 2**53 + 1})]}
    err = assert_error(push(client, auth, body), 400, "invalid_request")
    assert "$.events[1].data.big" in err["message"]
    assert instance.ledger.tree_size() == 0


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'{"type": "a", "type": "b"}', "application/json"),  # duplicate key
        (b'{"type": NaN}', "application/json"),
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b'{"events": "x"}', "application/json"),
        (b'{"events": []}', "application/json"),
        (b'{"events": [], "extra": 1}', "application/json"),
        (b"type=a", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_bodies_are_400(client, auth, raw, content_type, instance):
    response = client.post(
        "/api/v1/events", data=raw, headers={**auth, "Content-Type": content_type}
    )
    assert_error(response, 400, "invalid_request")
    assert instance.ledger.tree_size() == 0


def test_body_over_one_mib_is_413(client, auth, instance):
    big = json.dumps(event(data={"blob": "x" * (1024 * 1024)})).encode()
    response = client.post(
        "/api/v1/events", data=big, headers={**auth, "Content-Type": "application/json"}
    )
    err = assert_error(response, 413, "payload_too_large")
    assert err["details"]["limit"] == 1024 * 1024
    assert instance.ledger.tree_size() == 0


# -- authentication and tenants -----------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer nope"},
    ],
)
def test_requests_without_a_valid_key_are_401(client, headers):
    assert_error(client.post("/api/v1/events", json=event(), headers=headers), 401, "unauthorized")
    assert_error(client.get("/api/v1/events/x", headers=headers), 401, "unauthorized")


def test_api_keys_are_stored_only_as_hashes(instance, tenant):
    from sqlalchemy import text

    _, key = tenant
    with instance.engine.connect() as conn:
        rows = conn.execute(text("SELECT key_hash, prefix FROM api_key")).all()
    assert len(rows) == 1
    assert bytes(rows[0].key_hash) == hashlib.sha256(key.encode()).digest()
    assert key not in rows[0].prefix or len(rows[0].prefix) < len(key) // 3


def test_another_tenants_event_and_subject_are_404(client, auth, instance):
    receipt = push(client, auth, event()).get_json()["receipts"][0]
    instance.ledger.sign_checkpoint()
    _, other_key = create_tenant(instance.engine, "Other Platform")
    other = {"Authorization": f"Bearer {other_key}"}
    eid = receipt["event_id"]
    assert_error(client.get(f"/api/v1/events/{eid}", headers=other), 404, "not_found")
    assert_error(client.get(f"/api/v1/events/{eid}/proof", headers=other), 404, "not_found")
    assert_error(client.get("/api/v1/subjects/contract-42/events", headers=other), 404, "not_found")
    # The same subject name is a separate chain per tenant.
    mine = push(client, other, event()).get_json()["receipts"][0]
    record = client.get(f"/api/v1/events/{mine['event_id']}", headers=other).get_json()["record"]
    assert record["subject_seq"] == 0 and record["prev_leaf_hash"] is None


def test_unknown_event_is_404(client, auth):
    assert_error(client.get("/api/v1/events/does-not-exist", headers=auth), 404, "not_found")


# -- idempotency ------------------------------------------------------------------------


def test_idempotency_key_returns_the_original_receipt(client, auth, instance):
    first = push(client, auth, event(idempotency_key="order-7"))
    again = push(client, auth, event(idempotency_key="order-7"))
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert instance.ledger.tree_size() == 1


def test_idempotency_key_with_another_body_is_409(client, auth, instance):
    push(client, auth, event(1, idempotency_key="order-7"))
    err = assert_error(push(client, auth, event(2, idempotency_key="order-7")), 409, "conflict")
    assert err["details"]["idempotency_key"] == "order-7"
    assert instance.ledger.tree_size() == 1


def test_idempotency_within_one_batch(client, auth, instance):
    same = push(
        client, auth, {"events": [event(1, idempotency_key="k"), event(1, idempotency_key="k")]}
    )
    r = same.get_json()["receipts"]
    assert r[0] == r[1]
    assert instance.ledger.tree_size() == 1
    clash = push(
        client, auth, {"events": [event(1, idempotency_key="j"), event(2, idempotency_key="j")]}
    )
    assert_error(clash, 409, "conflict")
    assert instance.ledger.tree_size() == 1


def test_idempotency_keys_are_per_tenant(client, auth, instance):
    push(client, auth, event(1, idempotency_key="shared"))
    _, other_key = create_tenant(instance.engine, "Other")
    other = push(
        client, {"Authorization": f"Bearer {other_key}"}, event(2, idempotency_key="shared")
    )
    assert other.status_code == 201
    assert instance.ledger.tree_size() == 2


# -- checkpoints and proofs ---------------------------------------------------------------


def test_log_endpoint_gives_origin_and_verifier_key(client):
    body = client.get("/api/v1/log").get_json()
    assert body["origin"] == "sealtrail.test/log"
    assert body["public_key"].startswith("sealtrail.test/log+")


def test_no_checkpoint_yet(client, auth):
    assert_error(client.get("/api/v1/checkpoints/latest"), 404, "not_found")
    receipt = push(client, auth, event()).get_json()["receipts"][0]
    response = client.get(f"/api/v1/events/{receipt['event_id']}/proof", headers=auth)
    err = assert_error(response, 409, "not_yet_checkpointed")
    assert "checkpoint" in err["message"] and response.headers["Retry-After"]


def test_inclusion_proof_verifies_against_the_signed_checkpoint(client, auth, instance):
    receipts = push(client, auth, {"events": [event(i) for i in range(13)]}).get_json()["receipts"]
    instance.ledger.sign_checkpoint()
    vkey = client.get("/api/v1/log").get_json()["public_key"]
    latest = client.get("/api/v1/checkpoints/latest").get_json()
    assert latest["tree_size"] == 13
    for receipt in receipts:
        proof = client.get(f"/api/v1/events/{receipt['event_id']}/proof", headers=auth).get_json()
        assert proof["tree_size"] == 13 and proof["leaf_index"] == receipt["leaf_index"]
        body = verify_checkpoint(proof["checkpoint"], vkey)
        assert body.root.hex() == proof["root"] == latest["root"]
        merkle.verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            proof["leaf_index"],
            proof["tree_size"],
            [bytes.fromhex(h) for h in proof["inclusion_proof"]],
            body.root,
        )


def test_proof_against_an_earlier_checkpoint(client, auth, instance):
    first = push(client, auth, {"events": [event(i) for i in range(5)]}).get_json()["receipts"]
    instance.ledger.sign_checkpoint()
    push(client, auth, {"events": [event(i) for i in range(5, 12)]})
    instance.ledger.sign_checkpoint()
    eid = first[3]["event_id"]
    old = client.get(f"/api/v1/events/{eid}/proof?tree_size=5", headers=auth).get_json()
    new = client.get(f"/api/v1/events/{eid}/proof", headers=auth).get_json()
    assert old["tree_size"] == 5 and new["tree_size"] == 12
    for p in (old, new):
        merkle.verify_inclusion(
            bytes.fromhex(p["leaf_hash"]),
            3,
            p["tree_size"],
            [bytes.fromhex(h) for h in p["inclusion_proof"]],
            bytes.fromhex(p["root"]),
        )
    assert_error(
        client.get(f"/api/v1/events/{eid}/proof?tree_size=7", headers=auth), 404, "not_found"
    )
    assert_error(
        client.get(f"/api/v1/events/{eid}/proof?tree_size=abc", headers=auth),
        400,
        "invalid_request",
    )
    # An event added after checkpoint 5 is not covered by it.
    late = client.get("/api/v1/subjects/contract-42/events?after=9", headers=auth).get_json()
    late_id = late["events"][0]["event_id"]
    assert_error(
        client.get(f"/api/v1/events/{late_id}/proof?tree_size=5", headers=auth), 404, "not_found"
    )


def test_checkpoint_by_size_and_consistency_proof(client, auth, instance):
    push(client, auth, {"events": [event(i) for i in range(3)]})
    instance.ledger.sign_checkpoint()
    push(client, auth, {"events": [event(i) for i in range(3, 10)]})
    instance.ledger.sign_checkpoint()
    assert instance.ledger.sign_checkpoint() is None  # nothing new, nothing signed
    cp3 = client.get("/api/v1/checkpoints/3").get_json()
    cp10 = client.get("/api/v1/checkpoints/10").get_json()
    assert cp3["tree_size"] == 3 and cp10["tree_size"] == 10
    body = client.get("/api/v1/proofs/consistency?first=3&second=10").get_json()
    assert body["first_root"] == cp3["root"] and body["second_root"] == cp10["root"]
    merkle.verify_consistency(
        3,
        10,
        [bytes.fromhex(h) for h in body["proof"]],
        bytes.fromhex(cp3["root"]),
        bytes.fromhex(cp10["root"]),
    )
    same = client.get("/api/v1/proofs/consistency?first=10&second=10").get_json()
    assert same["proof"] == []
    assert_error(client.get("/api/v1/checkpoints/4"), 404, "not_found")
    assert_error(client.get("/api/v1/proofs/consistency?first=3"), 400, "invalid_request")
    assert_error(client.get("/api/v1/proofs/consistency?first=10&second=3"), 400, "invalid_request")
    assert_error(client.get("/api/v1/proofs/consistency?first=0&second=3"), 400, "invalid_request")
    assert_error(client.get("/api/v1/proofs/consistency?first=3&second=5"), 404, "not_found")
    assert_error(client.get("/api/v1/proofs/consistency?first=-1&second=5"), 400, "invalid_request")


def test_subject_events_form_a_hash_chain(client, auth):
    push(client, auth, {"events": [event(i) for i in range(4)] + [event(9, subject="other")]})
    push(client, auth, event(4))
    body = client.get("/api/v1/subjects/contract-42/events", headers=auth).get_json()
    items = body["events"]
    assert [e["subject_seq"] for e in items] == [0, 1, 2, 3, 4]
    assert items[0]["prev_leaf_hash"] is None
    for prev, cur in itertools.pairwise(items):
        assert cur["prev_leaf_hash"] == prev["leaf_hash"]
        assert cur["record"]["prev_leaf_hash"] == prev["leaf_hash"]
    page = client.get("/api/v1/subjects/contract-42/events?limit=2", headers=auth).get_json()
    assert [e["subject_seq"] for e in page["events"]] == [0, 1] and page["next_after"] == 1
    rest = client.get("/api/v1/subjects/contract-42/events?after=1", headers=auth).get_json()
    assert [e["subject_seq"] for e in rest["events"]] == [2, 3, 4]


def test_subject_names_may_contain_slashes(client, auth):
    push(client, auth, event(subject="envelope/2026/0001"))
    body = client.get("/api/v1/subjects/envelope/2026/0001/events", headers=auth).get_json()
    assert len(body["events"]) == 1


# -- the rest of the surface ------------------------------------------------------------


def test_healthz(client, auth, instance):
    push(client, auth, event())
    instance.ledger.sign_checkpoint()
    assert client.get("/healthz").get_json() == {
        "status": "ok",
        "tree_size": 1,
        "checkpoint_size": 1,
    }


def test_openapi_document_lists_every_endpoint(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/api/v1/events",
        "/api/v1/events/{event_id}",
        "/api/v1/events/{event_id}/proof",
        "/api/v1/checkpoints/latest",
        "/api/v1/checkpoints/{tree_size}",
        "/api/v1/proofs/consistency",
        "/api/v1/log",
        "/api/v1/subjects/{subject}/events",
        "/healthz",
    ):
        assert path in doc["paths"], path


def test_unknown_route_and_wrong_method_use_the_envelope(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    response = client.delete("/api/v1/events")
    assert_error(response, 405, "method_not_allowed")
