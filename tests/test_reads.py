"""Reads never wait for writes: proofs and lists run in read-only transactions.

On SQLite a writer holds the database's write lock (BEGIN IMMEDIATE) for its whole
transaction; a read path in a deferred transaction reads the last committed snapshot meanwhile
instead of queueing behind it. On PostgreSQL a read path's transaction is READ ONLY.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from evidence_chain import db
from evidence_chain.events import parse_event


def _push(instance: Any, tenant: Any, n: int) -> list[Any]:
    events = [
        parse_event(
            {"type": "step", "subject": "s", "occurred_at": "2026-11-21T09:00:00Z", "data": {}}
        )
        for _ in range(n)
    ]
    return instance.ledger.append(tenant[0].id, tenant[0].public_id, events)


def test_a_proof_is_served_while_a_writer_holds_the_write_lock(instance, tenant, client, auth):
    receipts = _push(instance, tenant, 5)
    instance.ledger.sign_checkpoint()
    event_id = receipts[2].event_id
    answered: dict[str, Any] = {}

    def prove() -> None:
        started = time.perf_counter()
        response = client.get(f"/api/v1/events/{event_id}/proof", headers=auth)
        answered["status"] = response.status_code
        answered["seconds"] = time.perf_counter() - started

    with instance.engine.begin() as writer:  # BEGIN IMMEDIATE on SQLite: the write lock
        writer.execute(text("UPDATE log_state SET tree_size = tree_size WHERE id = 1"))
        reader = threading.Thread(target=prove)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "the proof waited for the writer's transaction"
    assert answered["status"] == 200
    assert answered["seconds"] < 5


def test_a_read_sees_one_snapshot_while_the_log_grows(instance, tenant):
    _push(instance, tenant, 3)
    with db.reading(instance.engine) as conn:
        before = conn.execute(text("SELECT count(*) FROM ledger_entry")).scalar_one()
        _push(instance, tenant, 4)  # committed by another connection meanwhile
        during = conn.execute(text("SELECT count(*) FROM ledger_entry")).scalar_one()
    assert before == during == 3
    with db.reading(instance.engine) as conn:
        assert conn.execute(text("SELECT count(*) FROM ledger_entry")).scalar_one() == 7


def test_a_write_in_a_read_path_fails_on_postgresql(instance):
    if instance.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no read-only transactions; the PostgreSQL run checks read paths")
    from sqlalchemy.exc import InternalError

    with pytest.raises(InternalError, match="read-only"), db.reading(instance.engine) as conn:
        conn.execute(text("UPDATE log_state SET tree_size = tree_size WHERE id = 1"))
