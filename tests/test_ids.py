"""Event ids are RFC 9562 UUIDv7: time-ordered, with the version and variant bits set."""

from __future__ import annotations

import uuid
from typing import Any

from evidence_chain.ids import uuid7


def test_uuid7_layout_and_order() -> None:
    ids = [uuid7(1_763_900_000_000 + i) for i in range(200)]
    for made in ids:
        assert made.version == 7 and made.variant == uuid.RFC_4122
        assert uuid.UUID(str(made)) == made
    assert [str(i) for i in ids] == sorted(str(i) for i in ids), "later ids sort later"
    assert (ids[0].int >> 80) >= 1_763_900_000_000
    same_ms = [uuid7(1_763_900_001_000) for _ in range(5000)]
    assert len(set(same_ms)) == 5000
    assert same_ms == sorted(same_ms, key=lambda u: u.int), "counted up within a millisecond"


def test_pushed_events_get_time_ordered_ids(client: Any, auth: dict[str, str]) -> None:
    body = [
        {"subject": "order:7", "type": "order.created", "occurred_at": "2026-11-23T10:00:00Z"}
        for _ in range(20)
    ]
    pushed = client.post("/api/v1/events", headers=auth, json={"events": body})
    assert pushed.status_code == 201, pushed.get_json()
    ids = [r["event_id"] for r in pushed.get_json()["receipts"]]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(ids)
