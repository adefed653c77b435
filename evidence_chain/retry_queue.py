"""The retry queue shared by every outgoing delivery: webhooks to platforms, mail to people.

A delivery is a row written in the same transaction as the change that causes it; a job (and,
for mail, a prompt sender woken after that transaction ends) sends it later, outside any
transaction. Each table that uses this mechanism has the columns ``status``, ``attempts``,
``next_attempt_at``, ``lease_owner`` and ``lease_until``:

1. :func:`due` lists candidate rows in a read (no lock taken);
2. :func:`lease` gives them to one run, in one short write transaction: only rows still due
   and not leased to someone else are taken, so several processes may run the same job at
   once without sending a row twice while its lease holds;
3. the run sends each row with no transaction open, then records the outcome (its own short
   transaction) through :meth:`Backoff.next_state`: delivered, retried after a backoff with
   jitter, or dead after the last attempt.

A run that dies mid-way leaves its rows leased until ``lease_until``; then they are due again.
Delivery is therefore at least once: a crash between sending and recording sends that row again.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, or_, select, update

SUCCEEDED = "succeeded"
FAILED = "failed"
DEAD = "dead"


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts: ``schedule[n-1]`` seconds after the n-th failure, +-``jitter``."""

    schedule: tuple[float, ...]
    jitter: float = 0.1

    @property
    def max_attempts(self) -> int:
        """Attempts before a delivery is dead: one first try, then one per wait."""
        return len(self.schedule) + 1

    def seconds(self, attempts: int, rng: random.Random | None = None) -> float:
        """The wait after ``attempts`` failed attempts (1-based)."""
        base = self.schedule[min(attempts, len(self.schedule)) - 1]
        return base * (1.0 + (rng or random).uniform(-self.jitter, self.jitter))

    def next_state(
        self,
        attempts: int,
        attempted_at: datetime,
        *,
        ok: bool,
        permanent: bool = False,
        rng: random.Random | None = None,
    ) -> dict[str, Any]:
        """The columns to write after attempt number ``attempts`` (1-based), lease released.

        ``permanent`` marks a failure no retry can cure (a mail server refusing the address):
        the delivery is dead at once.
        """
        values: dict[str, Any] = {"attempts": attempts, "lease_owner": None, "lease_until": None}
        if ok:
            values.update(status=SUCCEEDED, next_attempt_at=None)
        elif permanent or attempts >= self.max_attempts:
            values.update(status=DEAD, next_attempt_at=None)
        else:
            wait = timedelta(seconds=self.seconds(attempts, rng))
            values.update(status=FAILED, next_attempt_at=attempted_at + wait)
        return values


def is_due(table: Any, due_statuses: tuple[str, ...], now: datetime) -> list[Any]:
    """The conditions of a row due at ``now`` and not leased."""
    return [
        table.c.status.in_(due_statuses),
        table.c.next_attempt_at <= now,
        or_(table.c.lease_until.is_(None), table.c.lease_until < now),
    ]


def due(
    conn: Connection, table: Any, due_statuses: tuple[str, ...], now: datetime, limit: int
) -> list[int]:
    """Ids of up to ``limit`` rows due at ``now``, oldest due first."""
    rows = conn.execute(
        select(table.c.id)
        .where(*is_due(table, due_statuses, now))
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
    ).all()
    return [int(r.id) for r in rows]


def lease(
    engine: Engine,
    table: Any,
    due_statuses: tuple[str, ...],
    ids: list[int],
    now: datetime,
    lease_seconds: float,
) -> str:
    """Lease those of ``ids`` still due and unleased to a new owner; return the owner.

    The caller reads its rows back with ``table.c.lease_owner == owner``.
    """
    owner = secrets.token_hex(10)
    with engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.id.in_(ids), *is_due(table, due_statuses, now))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
        )
    return owner
