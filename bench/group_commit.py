"""Group commit: single-event requests from 8 threads of one process, with concurrent
appends sharing one transaction (the service's way) beside one transaction per request.

Rounds alternate A B A B on the same log, so both see the same machine and the same log
size. On SQLite every commit is an fsync of the WAL (``synchronous=FULL``); on PostgreSQL a
WAL flush and a turn of the ``log_state`` row lock. PostgreSQL is measured when
``BENCH_DATABASE_URL`` (or ``EVIDENCE_TEST_DATABASE_URL``) names a database to use.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from bench.instance import fresh, postgres_schema
from evidence_chain.events import parse_event

THREADS = 8
PER_THREAD = 60
ROUNDS = 3


def _event(t: int, i: int) -> Any:
    return parse_event(
        {
            "type": "contract.signed",
            "subject": f"contract-{t}-{i // 5}",
            "occurred_at": "2026-11-24T09:00:00Z",
            "actor": {"email": "signer@example.com"},
            "data": {"document_sha256": "ab" * 32, "step": i},
        }
    )


def _round(inst: Any, tenant: Any, grouped: bool) -> float:
    ledger, engine = inst.ledger, inst.engine

    def one_by_one(events: list[Any]) -> None:
        prepared = ledger.prepare(tenant.public_id, events)
        with engine.begin() as conn:
            ledger._append(conn, tenant.id, prepared)

    def push(t: int) -> None:
        for i in range(PER_THREAD):
            events = [_event(t, i)]
            if grouped:
                ledger.append(tenant.id, tenant.public_id, events)
            else:
                one_by_one(events)

    threads = [threading.Thread(target=push, args=(t,)) for t in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return THREADS * PER_THREAD / (time.perf_counter() - started)


def _measure(name: str, env: dict[str, str]) -> str:
    with fresh(env) as (inst, tenant):
        rates: dict[bool, list[float]] = {True: [], False: []}
        groups_before = inst.ledger.sequencer.grouped
        for _ in range(ROUNDS):
            for grouped in (False, True):
                rates[grouped].append(_round(inst, tenant, grouped))
        grouped_requests = inst.ledger.sequencer.grouped - groups_before
    best = {g: max(r) for g, r in rates.items()}
    share = grouped_requests / (ROUNDS * THREADS * PER_THREAD)
    return (
        f"   {name}: {best[True]:,.0f} events/s with group commit, {best[False]:,.0f} with one "
        f"transaction per request ({best[True] / best[False]:.2f}x; best of {ROUNDS} alternating "
        f"rounds, {THREADS} threads x {PER_THREAD} single-event appends; {share:.0%} of the "
        f"requests shared a transaction)"
    )


def run() -> list[str]:
    """Print events/s with and without group commit, SQLite and (if given) PostgreSQL."""
    print(_measure("SQLite", {}), flush=True)
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("EVIDENCE_TEST_DATABASE_URL")
    if url and url.startswith("postgresql"):
        print(
            _measure("PostgreSQL", {"DATABASE_URL": postgres_schema(url, "bench_group_commit")}),
            flush=True,
        )
    return []
