"""Group commit: concurrent appends in one process share one transaction and keep every
guarantee (gapless indexes, per-subject chains, idempotency, a receipt only once committed).

The first request is held inside its transaction until seven others wait behind it, so the
seven are sequenced as one group on every run, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from evidence_chain.errors import ConflictError
from evidence_chain.events import parse_event


def _event(subject: str, step: int, key: str | None = None) -> Any:
    body: dict[str, Any] = {
        "type": "contract.step",
        "subject": subject,
        "occurred_at": "2026-11-24T09:00:00Z",
        "data": {"step": step},
    }
    if key is not None:
        body["idempotency_key"] = key
    return parse_event(body)


def _hold_first_until(ledger: Any, waiting: int) -> None:
    """Hold the first request inside its transaction until ``waiting`` others queue."""
    sequencer = ledger.sequencer
    work = sequencer.work
    first = threading.Event()

    def held(conn: Any, requests: Any) -> Any:
        if not first.is_set():
            first.set()
            deadline = time.monotonic() + 20
            while len(sequencer._queue) < waiting and time.monotonic() < deadline:
                time.sleep(0.005)
        return work(conn, requests)

    sequencer.work = held


def _run_all(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start the first call, then the others; return each one's result or exception."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    threads[0].start()
    time.sleep(0.05)
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return results


def _assert_log_whole(instance: Any, expected: int) -> None:
    with instance.engine.connect() as conn:
        indexes = [
            r[0] for r in conn.execute(text("SELECT leaf_index FROM ledger_entry ORDER BY 1"))
        ]
        size = conn.execute(text("SELECT tree_size FROM log_state")).scalar_one()
    assert indexes == list(range(expected)) and size == expected
    instance.ledger.sign_checkpoint()
    report = instance.ledger.audit()
    assert report.ok, report.to_json()


def _assert_chained(events: list[Any]) -> None:
    """Each event of a subject names its place and the leaf of the one before it."""
    assert [e.record["subject_seq"] for e in events] == list(range(len(events)))
    previous = [None] + [e.leaf_hash.hex() for e in events[:-1]]
    assert [e.record["prev_leaf_hash"] for e in events] == previous


def test_concurrent_requests_share_one_transaction_and_keep_every_guarantee(instance, tenant):
    ref, _ = tenant
    ledger = instance.ledger
    original = ledger.append(ref.id, ref.public_id, [_event("contract-1", 0, key="k1")])[0]
    _hold_first_until(ledger, waiting=7)

    def append(*events: Any) -> Callable[[], Any]:
        return lambda: ledger.append(ref.id, ref.public_id, list(events))

    results = _run_all(
        [
            append(_event("contract-1", 1)),  # leads alone, held
            append(_event("contract-1", 2), _event("contract-2", 0)),
            append(_event("contract-1", 0, key="k1")),  # the same body again: a replay
            append(_event("contract-1", 9, key="k1")),  # the key with another body: 409
            append(_event("contract-3", 0, key="k2")),
            append(_event("contract-3", 0, key="k2")),  # the same new key in the same group
            append(_event("contract-2", 1)),
            append(_event("contract-1", 3)),
        ]
    )

    assert ledger.sequencer.groups == 1 and ledger.sequencer.grouped == 7
    assert isinstance(results[3], ConflictError)
    assert results[2] == [original]
    assert results[4] == results[5]
    receipts = [r for i, rs in enumerate(results) if i != 3 for r in rs]
    assert all(not isinstance(r, Exception) for r in receipts)
    # 1 before + 1 + 2 + 1 (k2 once) + 1 + 1 new events, every one stored at its receipt's index
    _assert_log_whole(instance, 7)
    for receipt in receipts:
        stored = ledger.get_event(ref.id, receipt.event_id)
        assert stored.leaf_index == receipt.leaf_index
    chain = ledger.subject_events(ref.id, "contract-1")
    _assert_chained(chain)
    assert sorted(e.record["data"]["step"] for e in chain) == [0, 1, 2, 3]


def test_a_request_that_breaks_the_transaction_fails_alone(instance, tenant):
    ref, _ = tenant
    ledger = instance.ledger
    _hold_first_until(ledger, waiting=3)
    work = ledger.sequencer.work

    def breaks_on_poison(conn: Any, requests: Any) -> Any:
        result = work(conn, requests)
        if any(prepared[0].event.subject == "poison" for _tenant, prepared in requests):
            raise RuntimeError("the database refused the write")  # after writing: not Evidence
        return result

    ledger.sequencer.work = breaks_on_poison
    results = _run_all(
        [
            lambda: ledger.append(ref.id, ref.public_id, [_event("a", 0)]),
            lambda: ledger.append(ref.id, ref.public_id, [_event("b", 0)]),
            lambda: ledger.append(ref.id, ref.public_id, [_event("poison", 0)]),
            lambda: ledger.append(ref.id, ref.public_id, [_event("c", 0)]),
        ]
    )

    assert isinstance(results[2], RuntimeError)
    assert [len(results[i]) for i in (0, 1, 3)] == [1, 1, 1]
    assert ledger.sequencer.groups == 0  # the group rolled back; each ran alone
    _assert_log_whole(instance, 3)
    assert ledger.subject_events(ref.id, "poison") == []


@pytest.mark.parametrize("threads", [8])
def test_many_threads_appending_leave_a_gapless_log(instance, tenant, threads):
    ref, _ = tenant
    ledger = instance.ledger
    per_thread = 15
    errors: list[BaseException] = []

    def push(t: int) -> None:
        try:
            for i in range(per_thread):
                ledger.append(ref.id, ref.public_id, [_event(f"s{(t + i) % 3}", i)])
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=push, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors
    _assert_log_whole(instance, threads * per_thread)
    for s in ("s0", "s1", "s2"):
        _assert_chained(ledger.subject_events(ref.id, s))
