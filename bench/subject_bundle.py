"""A large subject's evidence bundle: its proofs built in one pass, beside one proof per event.

A subject of 1,000 events in a log of 20,000 leaves; the bundle (format v1, every event with its
inclusion proof, checked against the signed checkpoint before it is returned) is built five
times; the same proofs fetched one event at a time (the way a client asking for each event's
proof gets them) are timed beside it. Target: a 1,000-event bundle under 150 ms.
"""

from __future__ import annotations

import statistics
import time

from bench.instance import fresh
from evidence_chain.events import parse_event
from reports.bundle import build_bundle

SUBJECT_EVENTS = 1_000
NOISE = 19_000
RUNS = 5
TARGET_MS = 150.0


def _events(subject: str | None, n: int) -> list[object]:
    return [
        parse_event(
            {
                "type": "party.viewed",
                "subject": subject or f"other:{i % 997}",
                "occurred_at": "2026-11-23T10:00:00Z",
                "actor": {"name": "张三", "email": "zhangsan@example.cn"},
                "data": {"i": i},
            }
        )
        for i in range(n)
    ]


def run() -> list[str]:
    """Time the bundle of a 1,000-event subject, and the same proofs one by one."""
    with fresh() as (inst, tenant):
        subject = "contract:HT-2026-001"
        mine, noise = _events(subject, SUBJECT_EVENTS), _events(None, NOISE)
        step = NOISE // SUBJECT_EVENTS
        for i in range(SUBJECT_EVENTS):  # the subject's steps spread over the log
            batch = [mine[i], *noise[i * step : (i + 1) * step]]
            inst.ledger.append(tenant.id, tenant.public_id, batch)  # type: ignore[arg-type]
        inst.ledger.sign_checkpoint()
        stored = inst.ledger.subject_events(tenant.id, subject)
        size = inst.ledger.tree_size()

        bundle_ms, single_ms = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            bundle = build_bundle(inst, tenant, subject)
            bundle_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            for event in stored:
                inst.ledger.inclusion_proof(tenant.id, event.event_id, size)
            single_ms.append((time.perf_counter() - started) * 1000)
    assert len(bundle["events"]) == SUBJECT_EVENTS
    one_pass, per_event = statistics.median(bundle_ms), statistics.median(single_ms)
    print(
        f"   bundle of a {SUBJECT_EVENTS:,}-event subject in a {size:,}-leaf log: "
        f"median {one_pass:.0f} ms (n={RUNS}); the same proofs one event at a time: "
        f"{per_event:.0f} ms; ratio {per_event / one_pass:.1f}x (target < {TARGET_MS:.0f} ms)"
    )
    if one_pass >= TARGET_MS:
        return [f"subject bundle: {one_pass:.0f} ms >= {TARGET_MS:.0f} ms"]
    return []
