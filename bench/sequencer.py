"""How long the sequencer is held per batch: the record parts made before it is taken, beside
the same work done under it (the order before this change), in one run on one log.

The sequencer is SQLite's write lock (``BEGIN IMMEDIATE`` at the start of the transaction) or,
on PostgreSQL, the ``log_state`` row lock: whatever runs inside the appending transaction holds
it, and every other writer of the instance waits. Target (from the scaling goals): the share
of an append spent holding it under 15% is for HTTP requests, which also parse their bodies;
here, in-process, the figure printed is the share of ``Ledger.append``'s own time.
"""

from __future__ import annotations

import statistics
import time

from bench.instance import fresh
from evidence_chain.events import parse_event

BATCH = 1000
BATCHES = 30


def _batch(n: int) -> list[object]:
    return [
        parse_event(
            {
                "type": "contract.signed",
                "subject": f"contract-{(n * BATCH + i) // 10}",
                "occurred_at": "2026-11-21T09:00:00Z",
                "actor": {"email": "signer@example.com", "ip": "203.0.113.7"},
                "data": {"document_sha256": "ab" * 32, "step": i, "title": "租赁合同 Lease"},
            }
        )
        for i in range(BATCH)
    ]


def run() -> list[str]:
    """Append the same batches with the record parts made outside, then inside, the lock."""
    with fresh() as (inst, tenant):
        ledger, engine = inst.ledger, inst.engine
        held: dict[str, list[float]] = {"outside": [], "inside": []}
        total: dict[str, list[float]] = {"outside": [], "inside": []}
        for n in range(BATCHES * 2):
            events = _batch(n)
            mode = "outside" if n % 2 == 0 else "inside"  # interleaved: same log, same load
            started = time.perf_counter()
            if mode == "outside":
                prepared = ledger.prepare(tenant.public_id, events)  # type: ignore[arg-type]
                locked = time.perf_counter()
                with engine.begin() as conn:
                    ledger._append(conn, tenant.id, prepared)
            else:
                locked = started
                with engine.begin() as conn:
                    prepared = ledger.prepare(tenant.public_id, events)  # type: ignore[arg-type]
                    ledger._append(conn, tenant.id, prepared)
            done = time.perf_counter()
            held[mode].append(done - locked)
            total[mode].append(done - started)
    out = {m: statistics.median(held[m]) * 1000 for m in held}
    share = sum(held["outside"]) / sum(total["outside"])
    print(
        f"   sequencer held per 1,000-event batch (median of {BATCHES}, SQLite, in-process): "
        f"{out['outside']:.0f} ms with the records prepared before it, {out['inside']:.0f} ms "
        f"with them made under it ({out['inside'] / out['outside']:.2f}x); share of the append "
        f"spent holding it: {share:.0%}"
    )
    return []
