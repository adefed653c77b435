"""Inclusion and consistency proofs served from the database at 1,000,000 leaves."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from evidence_chain.config import load_settings
from evidence_chain.core import merkle
from evidence_chain.events import parse_event
from evidence_chain.tenants import create_tenant
from runtime.services import build_services
from runtime.setup import initialise

LEAVES = 1_000_000
CHUNK = 10_000
SAMPLES = 2000  # also the LIMIT of the event sample query


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return samples[len(samples) // 2] * 1000, samples[int(len(samples) * 0.99)] * 1000


def run() -> list[str]:
    """Fill a log to 1M leaves through the ledger, checkpointing along the way; time proofs."""
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
        with inst.engine.connect() as conn:
            ids = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT event_id FROM ledger_entry WHERE leaf_index % 997 = 0 LIMIT 2000"
                )
            ]
        inclusion: list[float] = []
        for event_id in ids:
            t0 = time.perf_counter()
            inst.ledger.inclusion_proof(tenant.id, event_id)
            inclusion.append(time.perf_counter() - t0)
        consistency: list[float] = []
        for _ in range(SAMPLES):
            a, b = sorted(rng.sample(checkpoints, 2))
            t0 = time.perf_counter()
            proof = inst.ledger.consistency_proof(a, b)
            consistency.append(time.perf_counter() - t0)
        assert proof.proof is not None and merkle.HASH_SIZE == 32
        db_size = Path(tmp, "sealtrail.db").stat().st_size
        inst.close()
    i50, i99 = _percentiles(inclusion)
    c50, c99 = _percentiles(consistency)
    print(f"   database size:            {db_size / 1e6:,.0f} MB")
    print(f"   inclusion proof, from DB:   p50 {i50:.2f} ms, p99 {i99:.2f} ms (target p99 < 5)")
    print(f"   consistency proof, from DB: p50 {c50:.2f} ms, p99 {c99:.2f} ms (target p99 < 5)")
    failures = []
    if i99 >= 5:
        failures.append(f"proofs: inclusion p99 {i99:.2f} ms")
    if c99 >= 5:
        failures.append(f"proofs: consistency p99 {c99:.2f} ms")
    return failures
