"""The scheduler: the jobs of :mod:`runtime.jobs` in exactly one process.

Every web worker runs a :class:`SchedulerLeader` over the worker's own :class:`Services`; only
the one holding the instance-wide lock runs the jobs: a PostgreSQL session advisory lock, or
an exclusive file lock next to the SQLite database. If the leader dies its lock is released
and another worker takes over within one retry interval. Jobs are idempotent, so a takeover
never does harm.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import IO

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, text

from evidence_chain.private_files import FILE_MODE, make_private_dir
from runtime.jobs import Job, scheduled_jobs
from runtime.services import Services

log = logging.getLogger(__name__)

LOCK_NAME = "sealtrail-scheduler"


def advisory_key(origin: str) -> int:
    """A stable 63-bit advisory lock key: one scheduler per log, whatever shares the server."""
    digest = hashlib.sha256(f"{LOCK_NAME}\n{origin}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class LeaderLock:
    """An instance-wide, non-blocking, exclusive lock held for as long as the process wants."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._file: IO[bytes] | None = None
        self._conn: Connection | None = None
        self._key = advisory_key(services.ledger.key.origin)

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this process holds it."""
        if self.held():
            return True
        if self.services.settings.is_sqlite:
            path = Path(self.services.settings.home) / "scheduler.lock"
            make_private_dir(path.parent)
            handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE), "r+b")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
            self._file = handle
            return True
        conn = self.services.engine.connect()
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
        conn.commit()
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def held(self) -> bool:
        """True while this process still holds the lock (the database session is alive)."""
        if self._file is not None:
            return True
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            log.warning("lost the scheduler lock's database session")
            self._conn = None
            return False

    def release(self) -> None:
        """Give the lock up."""
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                self._conn.commit()
                self._conn.close()
            except Exception:  # the session is gone, and the lock with it
                log.debug("advisory unlock failed", exc_info=True)
            self._conn = None


class SchedulerLeader:
    """Runs the jobs in this process while it holds the leader lock; retries otherwise."""

    def __init__(
        self, services: Services, jobs: list[Job] | None = None, *, retry_seconds: float = 5.0
    ) -> None:
        self.services = services
        self.jobs = jobs if jobs is not None else scheduled_jobs(services)
        self.retry_seconds = retry_seconds
        self.lock = LeaderLock(services)
        self._scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        """True while this process runs the jobs."""
        return self._scheduler is not None

    def start(self) -> None:
        """Start competing for leadership in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="scheduler-leader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._scheduler is None and self.lock.try_acquire():
                log.info("this process (pid %d) now runs the scheduler", os.getpid())
                self._scheduler = BackgroundScheduler(timezone="UTC")
                for job in self.jobs:
                    self._scheduler.add_job(
                        job.func,
                        "interval",
                        seconds=job.seconds,
                        id=job.id,
                        name=job.id,
                        max_instances=1,
                        coalesce=True,
                    )
                self._scheduler.start()
            elif self._scheduler is not None and not self.lock.held():
                self._scheduler.shutdown(wait=False)
                self._scheduler = None
            self._stop.wait(self.retry_seconds)

    def stop(self) -> None:
        """Stop the jobs and give up leadership."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.lock.release()
