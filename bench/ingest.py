"""Ingest throughput over HTTP (batches of 1,000, durable), next to a raw SQLite insert."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.service import Service, service_env

BATCH = 1000
BATCHES = 60
CLIENTS = 2


def event_batch(client: int, n: int) -> bytes:
    """The JSON body of batch ``n`` of ``client``: 1,000 events over 100 subjects."""
    events = [
        {
            "type": "contract.signed",
            "subject": f"contract-{client}-{(n * BATCH + i) // 10}",
            "occurred_at": "2026-11-21T09:00:00Z",
            "actor": {"email": "signer@example.com", "ip": "203.0.113.7"},
            "data": {"document_sha256": "ab" * 32, "step": i},
        }
        for i in range(BATCH)
    ]
    return json.dumps({"events": events}).encode()


def _raw_sqlite(rows: list[tuple[int, str, bytes]], path: Path) -> float:
    """Insert the same rows with plain sqlite3, same durability (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (leaf_index INTEGER PRIMARY KEY, record TEXT, leaf_hash BLOB)")
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows[start : start + BATCH])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def run() -> list[str]:
    """Push BATCHES x 1,000 events from CLIENTS concurrent clients; report events/s."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "instance"
        home.mkdir()
        svc = Service(home=home, env=service_env(home, f"sqlite:///{home / 'sealtrail.db'}"))
        svc.start()
        try:
            key = svc.flask("tenant", "create", "Bench").strip().splitlines()[-1]
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            bodies = [
                [event_batch(c, n) for n in range(BATCHES // CLIENTS)] for c in range(CLIENTS)
            ]
            requests.post(
                f"{svc.url}/api/v1/events", data=event_batch(99, 0), headers=headers, timeout=60
            )
            latencies: list[float] = []
            errors: list[str] = []

            def client(c: int) -> None:
                session = requests.Session()
                for body in bodies[c]:
                    t0 = time.perf_counter()
                    r = session.post(
                        f"{svc.url}/api/v1/events", data=body, headers=headers, timeout=60
                    )
                    latencies.append(time.perf_counter() - t0)
                    if r.status_code != 201:
                        errors.append(f"{r.status_code} {r.text[:200]}")

            threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            total = BATCHES // CLIENTS * CLIENTS * BATCH
            rate = total / elapsed
            import sqlalchemy as sa

            engine = sa.create_engine(f"sqlite:///{home / 'sealtrail.db'}")
            with engine.connect() as conn:
                rows = [
                    (int(r[0]), r[1], bytes(r[2]))
                    for r in conn.execute(
                        sa.text(
                            "SELECT leaf_index, record, leaf_hash FROM ledger_entry"
                            " ORDER BY leaf_index"
                        )
                    )
                ][BATCH:]
            engine.dispose()
        finally:
            svc.stop()
        raw_s = _raw_sqlite(rows, Path(tmp) / "raw.db")
    raw_rate = len(rows) / raw_s
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"   events pushed:            {total:,} in batches of {BATCH} from {CLIENTS} clients")
    print(f"   HTTP ingest (durable):    {rate:,.0f} events/s (target >= 10,000)")
    print(f"   batch latency:            p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    print(f"   raw SQLite insert:        {raw_rate:,.0f} rows/s (same rows, WAL, synchronous=FULL)")
    print(f"   ratio HTTP / raw insert:  {rate / raw_rate:.2f}")
    failures = [f"ingest: {e}" for e in errors[:3]]
    if rate < 10_000:
        failures.append(f"ingest: {rate:,.0f} events/s, target 10,000")
    return failures
