"""Backup and restore of an instance: size and time for a log of N events plus blobs.

``BENCH_BACKUP_EVENTS`` (default 100,000) events in batches of 1,000, a checkpoint after each,
and ``BENCH_BACKUP_BLOBS`` (default 200) documents of 64 KiB in the blob store; then
``take_backup`` while a thread keeps appending (the service in use), ``restore_backup`` into a
fresh home and the audit of the restored log. SQLite by default; set
``BENCH_DATABASE_URL=postgresql://…`` (an empty database) for PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from pathlib import Path

from evidence_chain.config import load_settings
from evidence_chain.events import parse_event
from evidence_chain.tenants import create_tenant
from runtime.backup import restore_backup, take_backup
from runtime.services import build_services
from runtime.setup import initialise

EVENTS = int(os.environ.get("BENCH_BACKUP_EVENTS", "100000"))
BLOBS = int(os.environ.get("BENCH_BACKUP_BLOBS", "200"))
BATCH = 1000


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MiB"


def run() -> list[str]:
    """Fill, back up under load, restore, audit; print the figures."""
    database = os.environ.get("BENCH_DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "EVIDENCE_HOME": f"{tmp}/old",
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_ANCHORING": "false",
            "EVIDENCE_LOG_ORIGIN": "bench.sealtrail/backup",
        }
        settings = load_settings({**env, "DATABASE_URL": database})
        initialise(settings)
        inst = build_services(settings)
        tenant, _ = create_tenant(inst.engine, "Bench")
        batch = [
            parse_event(
                {
                    "type": "step",
                    "subject": f"s{i % 97}",
                    "occurred_at": "2026-11-21T00:00:00Z",
                    "data": {"i": i},
                }
            )
            for i in range(BATCH)
        ]
        for _ in range(EVENTS // BATCH):
            inst.ledger.append(tenant.id, tenant.public_id, batch)
            inst.ledger.sign_checkpoint()
        for _ in range(BLOBS):
            inst.blobs.put(secrets.token_bytes(64 * 1024))
        stop = threading.Event()
        during = [0]

        def writer() -> None:
            while not stop.is_set():
                inst.ledger.append(tenant.id, tenant.public_id, batch[:100])
                during[0] += 100

        thread = threading.Thread(target=writer)
        thread.start()
        started = time.perf_counter()
        backup = take_backup(settings, Path(tmp) / "backup")
        backup_s = time.perf_counter() - started
        stop.set()
        thread.join()
        inst.close()
        size = backup.figures["tree_size"]
        print(
            f"   backup of {size:,} events + {BLOBS} blobs while appending "
            f"({during[0]:,} events appended meanwhile, not in it): "
            f"{_mib(backup.size)} in {len(backup.manifest['files'])} files, {backup_s:.1f} s"
        )
        if database:
            print("   (restore into PostgreSQL needs a second empty database; not timed)")
            return []
        fresh = load_settings({**env, "EVIDENCE_HOME": f"{tmp}/new"})
        started = time.perf_counter()
        restore_backup(fresh, backup.path)
        restore_s = time.perf_counter() - started
        restored = build_services(fresh)
        started = time.perf_counter()
        report = restored.ledger.audit()
        audit_s = time.perf_counter() - started
        restored.close()
        print(f"   restore {restore_s:.1f} s; audit of the restored log {audit_s:.1f} s")
        if not report.ok or report.tree_size != size:
            return [f"restored log fails its audit: {report.problems[:1]}"]
        return []
