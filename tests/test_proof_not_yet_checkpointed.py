"""A proof asked for before a checkpoint covers the event: 409 ``not_yet_checkpointed`` with a
``Retry-After`` of the checkpoint interval, not a 404 that reads like "no such event"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.test_api import assert_error


def _push(client: Any, auth: dict[str, str], subject: str) -> str:
    event = {
        "type": "t",
        "subject": subject,
        "occurred_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
    }
    r = client.post("/api/v1/events", json=event, headers=auth)
    assert r.status_code == 201
    return str(r.get_json()["receipts"][0]["event_id"])


def test_before_the_first_checkpoint_and_before_a_covering_one(
    client: Any, auth: dict[str, str], instance: Any
) -> None:
    first = _push(client, auth, "a")
    r = client.get(f"/api/v1/events/{first}/proof", headers=auth)
    error = assert_error(r, 409, "not_yet_checkpointed")
    assert r.headers["Retry-After"] == "2"  # EVIDENCE_CHECKPOINT_INTERVAL, 2 s by default
    assert error["details"]["retry_after"] == 2

    instance.ledger.sign_checkpoint()
    second = _push(client, auth, "b")
    r = client.get(f"/api/v1/events/{second}/proof", headers=auth)
    error = assert_error(r, 409, "not_yet_checkpointed")
    assert error["details"] == {"leaf_index": 1, "tree_size": 1, "retry_after": 2}
    assert r.headers["Retry-After"] == "2"
    # naming a tree that will never hold the event is not a "retry later"
    assert_error(
        client.get(f"/api/v1/events/{second}/proof?tree_size=1", headers=auth), 404, "not_found"
    )

    instance.ledger.sign_checkpoint()
    ok = client.get(f"/api/v1/events/{second}/proof", headers=auth)
    assert ok.status_code == 200 and ok.get_json()["tree_size"] == 2
    # an event that does not exist is still a 404
    missing = client.get("/api/v1/events/00000000-0000-4000-8000-000000000000/proof", headers=auth)
    assert_error(missing, 404, "not_found")
