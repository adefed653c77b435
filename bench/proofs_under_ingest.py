"""Inclusion proofs over HTTP while 1,000-event batches are ingested at the same time.

On SQLite a read must not wait for a write: proofs run in deferred (WAL reader) transactions,
only writers take the database's write lock. Measured against the running service (gunicorn,
as ``make run``): proof latency with the service idle, then while two clients push batches
of 1,000 events as fast as the service takes them (and the checkpoint job keeps signing).
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.ingest import BATCH, event_batch
from tests.service import Service, service_env

PREFILL_BATCHES = 5
INGEST_BATCHES = 60
CLIENTS = 2
IDLE_PROOFS = 400
TARGET_P99_MS = 50.0


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return ordered[len(ordered) // 2] * 1000, p99 * 1000


def run() -> list[str]:
    """Time proofs idle, then under concurrent ingest; the p99 under ingest has a target."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "instance"
        home.mkdir()
        svc = Service(home=home, env=service_env(home, f"sqlite:///{home / 'sealtrail.db'}"))
        svc.start()
        try:
            key = svc.flask("tenant", "create", "Bench").strip().splitlines()[-1]
            headers = {"Authorization": f"Bearer {key}"}
            pushed = {**headers, "Content-Type": "application/json"}
            ids: list[str] = []
            for n in range(PREFILL_BATCHES):
                r = requests.post(
                    f"{svc.url}/api/v1/events", data=event_batch(9, n), headers=pushed, timeout=60
                )
                r.raise_for_status()
                ids += [receipt["event_id"] for receipt in r.json()["receipts"]]
            proofs = requests.Session()
            rng = random.Random(7)

            def prove() -> float:
                event_id = rng.choice(ids)
                t0 = time.perf_counter()
                r = proofs.get(f"{svc.url}/api/v1/events/{event_id}/proof", headers=headers)
                elapsed = time.perf_counter() - t0
                if r.status_code != 200:
                    raise RuntimeError(f"proof answered {r.status_code}: {r.text[:200]}")
                return elapsed

            deadline = time.monotonic() + 30
            while True:  # until the checkpoint job has covered the prefilled events
                r = proofs.get(f"{svc.url}/api/v1/events/{ids[-1]}/proof", headers=headers)
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            idle = [prove() for _ in range(IDLE_PROOFS)]

            bodies = [
                [event_batch(c, n) for n in range(INGEST_BATCHES // CLIENTS)] for c in range(2)
            ]
            errors: list[str] = []

            def client(c: int) -> None:
                session = requests.Session()
                for body in bodies[c]:
                    r = session.post(
                        f"{svc.url}/api/v1/events", data=body, headers=pushed, timeout=60
                    )
                    if r.status_code != 201:
                        errors.append(f"{r.status_code} {r.text[:200]}")

            loaded: list[float] = []
            pushers = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
            started = time.perf_counter()
            for t in pushers:
                t.start()
            while any(t.is_alive() for t in pushers):
                loaded.append(prove())
            ingest_s = time.perf_counter() - started
        finally:
            svc.stop()
    i50, i99 = _percentiles(idle)
    l50, l99 = _percentiles(loaded)
    events = INGEST_BATCHES * BATCH
    print(f"   proofs, service idle:     p50 {i50:.1f} ms, p99 {i99:.1f} ms ({len(idle)} proofs)")
    print(
        f"   proofs, under ingest:     p50 {l50:.1f} ms, p99 {l99:.1f} ms ({len(loaded)} proofs"
        f" while {events:,} events were pushed in {ingest_s:.1f} s, batches of {BATCH})"
    )
    print(f"   ratio p99 loaded / idle:  {l99 / i99:.1f} (target p99 under ingest < 50 ms)")
    failures = [f"proofs under ingest: {e}" for e in errors[:3]]
    if l99 >= TARGET_P99_MS:
        failures.append(f"proofs under ingest: p99 {l99:.1f} ms, target < {TARGET_P99_MS:.0f}")
    return failures
