"""Inclusion and consistency proofs served from the database at 1,000,000 leaves (10,000,000
with ``BENCH_LEAVES=10000000``: about 10 minutes and 7 GB), and the
ingest rate into that log beside a new, empty one (chunks alternating between the two)."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text

from bench.instance import fresh
from evidence_chain.config import load_settings
from evidence_chain.core import merkle
from evidence_chain.events import parse_event
from evidence_chain.tenants import create_tenant
from runtime.services import build_services
from runtime.setup import initialise

LEAVES = int(os.environ.get("BENCH_LEAVES", "1000000"))  # 10000000: the ten-million run
CHUNK = 10_000
SAMPLES = 2000  # also the LIMIT of the event sample query


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return samples[len(samples) // 2] * 1000, samples[int(len(samples) * 0.99)] * 1000


SIDE_BY_SIDE = 10


def _inclusion_times(inst: Any, tenant: Any, indexes: list[int]) -> list[float]:
    """Seconds for the inclusion proof (checked before it is served) of each leaf."""
    ids: list[str] = []
    with inst.engine.connect() as conn:
        for start in range(0, len(indexes), 500):
            query = text("SELECT event_id FROM ledger_entry WHERE leaf_index IN :ids")
            query = query.bindparams(bindparam("ids", expanding=True))
            ids += [r[0] for r in conn.execute(query, {"ids": indexes[start : start + 500]})]
    times: list[float] = []
    for event_id in ids:
        t0 = time.perf_counter()
        inst.ledger.inclusion_proof(tenant.id, event_id)
        times.append(time.perf_counter() - t0)
    return times


def _side_by_side(inst: Any, tenant: Any, template: list[Any]) -> tuple[float, float]:
    """Events/s appending chunks into the full log and into a new one, alternately."""
    with fresh() as (empty, other):
        rates: dict[str, list[float]] = {"big": [], "empty": []}
        pair = [("big", inst, tenant), ("empty", empty, other)]
        for round_ in range(SIDE_BY_SIDE):  # A B, B A, A B...: neither always goes first
            for name, services, who in pair if round_ % 2 == 0 else pair[::-1]:
                t0 = time.perf_counter()
                services.ledger.append(who.id, who.public_id, template)
                rates[name].append(len(template) / (time.perf_counter() - t0))
    return statistics.median(rates["big"]), statistics.median(rates["empty"])


def run() -> list[str]:
    """Fill a log to LEAVES leaves through the ledger, checkpointing as it goes; time proofs."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {"EVIDENCE_HOME": tmp, "EVIDENCE_SCHEDULER": "false", "EVIDENCE_ANCHORING": "false"}
        )
        initialise(settings)
        inst = build_services(settings)
        tenant, _ = create_tenant(inst.engine, "Bench")
        template = [
            parse_event(
                {
                    "type": "step",
                    "subject": f"s{i % 997}",
                    "occurred_at": "2026-11-21T00:00:00Z",
                    "data": {"i": i},
                }
            )
            for i in range(CHUNK)
        ]
        started = time.perf_counter()
        for _ in range(LEAVES // CHUNK):
            inst.ledger.append(tenant.id, tenant.public_id, template)
            inst.ledger.sign_checkpoint()
        fill_s = time.perf_counter() - started
        print(
            f"   filled {LEAVES:,} leaves in {fill_s:.0f} s "
            f"({LEAVES / fill_s:,.0f} leaves/s, in-process)"
        )
        checkpoints = [cp.tree_size for cp in inst.ledger.checkpoints(limit=1000)]
        rng = random.Random(1)
        # leaves spread over the whole log, then the newest ones (their subtrees are the
        # frontier's, the nodes written last)
        spread = sorted(rng.sample(range(LEAVES), SAMPLES))
        newest = list(range(LEAVES - SAMPLES // 2, LEAVES))
        inclusion = _inclusion_times(inst, tenant, spread)
        inclusion_new = _inclusion_times(inst, tenant, newest)
        consistency: list[float] = []
        for _ in range(SAMPLES):
            a, b = sorted(rng.sample(checkpoints, 2))
            t0 = time.perf_counter()
            proof = inst.ledger.consistency_proof(a, b)
            consistency.append(time.perf_counter() - t0)
        assert proof.proof is not None and merkle.HASH_SIZE == 32
        db_size = Path(tmp, "sealtrail.db").stat().st_size
        big, small = _side_by_side(inst, tenant, template)
        inst.close()
    i50, i99 = _percentiles(inclusion)
    c50, c99 = _percentiles(consistency)
    n50, n99 = _percentiles(inclusion_new)
    print(
        f"   database size:            {db_size / 1e6:,.0f} MB ({db_size / LEAVES:,.0f} bytes "
        f"an event, {LEAVES:,} leaves)"
    )
    print(
        f"   ingest at {LEAVES:,} leaves: {big:,.0f} events/s, beside {small:,.0f} into an empty "
        f"log ({big / small:.2f}; target 0.95; median of {SIDE_BY_SIDE} alternating chunks)"
    )
    print(f"   inclusion proof, from DB:   p50 {i50:.2f} ms, p99 {i99:.2f} ms (target p99 < 5)")
    print(f"   inclusion, newest leaves:   p50 {n50:.2f} ms, p99 {n99:.2f} ms")
    print(f"   consistency proof, from DB: p50 {c50:.2f} ms, p99 {c99:.2f} ms (target p99 < 5)")
    failures = []
    if big / small < 0.95:
        failures.append(f"proofs: ingest at {LEAVES:,} leaves {big / small:.2f} of an empty log")
    if i99 >= 5:
        failures.append(f"proofs: inclusion p99 {i99:.2f} ms")
    if c99 >= 5:
        failures.append(f"proofs: consistency p99 {c99:.2f} ms")
    return failures
