"""Login throttle: failures counted per account and per client address, then a lock.

An account (keyed by the SHA-256 of its normalised email, known or not, so the answer does not
reveal which addresses have an account) is locked for :data:`LOCK` after
:data:`ACCOUNT_LIMIT` failures within :data:`WINDOW`; an address after :data:`ADDRESS_LIMIT`.
A successful login clears its account's count, not its address's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from evidence_chain.errors import RateLimitedError
from people.credentials import sha256
from people.models import THROTTLE

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


@dataclass(frozen=True)
class Failure:
    """The outcome of one counted failure: the count, and the lock it caused (if any)."""

    failures: int
    locked_until: datetime | None


def account_key(email: str) -> bytes:
    """The throttle key of an account."""
    return sha256("account:" + email)


def address_key(ip: str | None) -> bytes:
    """The throttle key of a client address."""
    return sha256("address:" + (ip or "unknown"))


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def check(conn: Connection, keys: dict[str, bytes], now: datetime) -> None:
    """RateLimitedError (reason ``locked``, its scope and unlock time) if a key is locked."""
    rows = conn.execute(
        select(THROTTLE.c.key_hash, THROTTLE.c.locked_until).where(
            THROTTLE.c.key_hash.in_(list(keys.values()))
        )
    ).all()
    locks = {bytes(r.key_hash): _aware(r.locked_until) for r in rows}
    for scope, key in keys.items():
        until = locks.get(key)
        if until is not None and until > now:
            raise locked_error(scope, until)


def locked_error(scope: str, until: datetime) -> RateLimitedError:
    """The error of a locked account or address."""
    return RateLimitedError(
        f"too many failed logins: try again after {until.isoformat(timespec='seconds')}",
        details={"reason": "locked", "scope": scope, "unlock_at": until.isoformat()},
    )


def _insert_once(conn: Connection, key: bytes, now: datetime) -> None:
    """Insert the key's row unless it exists (two first failures may race for it)."""
    values = {"key_hash": key, "failures": 0, "window_started_at": now}
    if conn.dialect.name == "postgresql":
        conn.execute(pg_insert(THROTTLE).values(**values).on_conflict_do_nothing())
    else:
        conn.execute(sqlite_insert(THROTTLE).values(**values).on_conflict_do_nothing())


def fail(conn: Connection, key: bytes, limit: int, now: datetime) -> Failure:
    """Count one failure of ``key``; lock it when it reaches ``limit`` within the window.

    The row is locked (PostgreSQL; SQLite's writer holds the database) while it is counted, so
    concurrent failures are all counted.
    """
    _insert_once(conn, key, now)
    query = select(THROTTLE).where(THROTTLE.c.key_hash == key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one()
    started = _aware(row.window_started_at) or now
    was_locked = _aware(row.locked_until)
    failures = 1 if now - started > WINDOW else int(row.failures) + 1
    if failures == 1:
        started = now
    locked_until = now + LOCK if failures >= limit else None
    if locked_until is not None and was_locked is not None and was_locked > now:
        locked_until = was_locked
    conn.execute(
        update(THROTTLE)
        .where(THROTTLE.c.key_hash == key)
        .values(
            failures=0 if locked_until else failures,
            window_started_at=now if locked_until else started,
            locked_until=locked_until,
        )
    )
    return Failure(failures, locked_until)


def clear(conn: Connection, key: bytes) -> None:
    """Forget the failures of ``key`` (after a successful login)."""
    conn.execute(delete(THROTTLE).where(THROTTLE.c.key_hash == key))
