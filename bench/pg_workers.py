"""PostgreSQL: does a second gunicorn worker add ingest throughput?

The same service on the same PostgreSQL, with 1 and then 2 workers (alternating, twice),
4 clients pushing batches of 100 events over HTTP. While each run goes on, a sampler reads
``pg_stat_activity`` every few milliseconds: the share of the service's busy database sessions
that were waiting for a lock (the sequencer is the ``log_state`` row lock) says how much of
the work queues behind it. Needs ``BENCH_DATABASE_URL`` or ``EVIDENCE_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench.instance import postgres_schema
from evidence_chain.config import normalize_database_url
from tests.service import Service, service_env

CLIENTS = 4
BATCH = 100
BATCHES_PER_CLIENT = 40
SCHEMA = "bench_pg_workers"


def _body(client: int, n: int) -> bytes:
    events = [
        {
            "type": "contract.signed",
            "subject": f"contract-{client}-{n}-{i // 10}",
            "occurred_at": "2026-11-24T09:00:00Z",
            "actor": {"email": "signer@example.com"},
            "data": {"document_sha256": "ab" * 32, "step": i},
        }
        for i in range(BATCH)
    ]
    return json.dumps({"events": events}).encode()


class _Sampler(threading.Thread):
    """Counts busy and lock-waiting sessions of the service (not this sampler's own)."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(base, isolation_level="AUTOCOMMIT")
        self.stop = threading.Event()
        self.busy = 0
        self.waiting = 0

    def run(self) -> None:
        query = text(
            "SELECT count(*) FILTER (WHERE state <> 'idle'),"
            " count(*) FILTER (WHERE wait_event_type = 'Lock')"
            " FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend' AND query NOT LIKE '%pg_stat_activity%'"
        )
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                busy, waiting = conn.execute(query).one()
                self.busy += int(busy)
                self.waiting += int(waiting)
                time.sleep(0.003)
        self.engine.dispose()


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _run(base: str, workers: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "instance"
        home.mkdir()
        env = service_env(home, postgres_schema(base, SCHEMA), WEB_CONCURRENCY=str(workers))
        svc = Service(home=home, env=env)
        svc.start()
        try:
            key = svc.flask("tenant", "create", "Bench").strip().splitlines()[-1]
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            bodies = [[_body(c, n) for n in range(BATCHES_PER_CLIENT)] for c in range(CLIENTS)]
            for _ in range(2 * workers):  # warm every worker: connections, imports
                requests.post(
                    f"{svc.url}/api/v1/events", data=_body(99, 0), headers=headers, timeout=60
                )
            errors: list[str] = []

            def client(c: int) -> None:
                session = requests.Session()
                for body in bodies[c]:
                    r = session.post(
                        f"{svc.url}/api/v1/events", data=body, headers=headers, timeout=60
                    )
                    if r.status_code != 201:
                        errors.append(f"{r.status_code} {r.text[:200]}")

            sampler = _Sampler(base)
            sampler.start()
            threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
            started = time.perf_counter()
            cpu_before = _cpu_times()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            cpu_after = _cpu_times()
            sampler.stop.set()
            sampler.join()
            if errors:
                raise RuntimeError(f"ingest failed: {errors[:3]}")
        finally:
            svc.stop()
    rate = CLIENTS * BATCHES_PER_CLIENT * BATCH / elapsed
    busy = (cpu_after[0] - cpu_before[0]) / max(cpu_after[1] - cpu_before[1], 1)
    return rate, sampler.waiting / max(sampler.busy, 1), busy


def run() -> list[str]:
    """Events/s with 1 and 2 workers on PostgreSQL, and the lock-waiting share."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("EVIDENCE_TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        print("   skipped: set BENCH_DATABASE_URL to a PostgreSQL database")
        return []
    base = normalize_database_url(url)
    rates: dict[int, list[float]] = {1: [], 2: []}
    waits: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(2):
        for workers in (1, 2):
            rate, waiting, busy = _run(base, workers)
            rates[workers].append(rate)
            waits[workers].append(waiting)
            cpu[workers].append(busy)
    one, two = max(rates[1]), max(rates[2])
    print(
        f"   PostgreSQL ingest, {CLIENTS} clients x batches of {BATCH}: 1 worker {one:,.0f} "
        f"events/s, 2 workers {two:,.0f} ({two / one:.2f}x; best of 2 alternating runs each)"
    )
    print(
        "   busy database sessions waiting for a lock (the sequencer): "
        f"1 worker {max(waits[1]):.0%}, 2 workers {max(waits[2]):.0%}"
    )
    print(
        f"   machine CPU busy during the runs ({os.cpu_count()} cores; clients, service and "
        f"PostgreSQL together): 1 worker {min(cpu[1]):.0%}, 2 workers {min(cpu[2]):.0%}"
    )
    return []
