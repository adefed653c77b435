"""Identifiers that keep index locality: UUID version 7 (RFC 9562).

An event id is a UUIDv7: 48 bits of Unix time in milliseconds, a 12-bit counter, then 62
random bits (from ``secrets``), with the version and variant bits of RFC 9562. Ids made later
sort later (within a process strictly, by the counter: RFC 9562 section 6.2, method 1), so new
rows land at the right-hand edge of the ``event_id`` index instead of at random pages, and
ingestion into a large log stays as fast as into an empty one. The time in an id is the moment
of ingestion, a hint only: the evidence of time is the record's ``received_at`` and the anchor.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

_COUNTER_MAX = (1 << 12) - 1

# The last (milliseconds, counter) handed out by this process. Request threads make ids at
# once; the lock makes each read-increment-write whole so that no two ids repeat a counter.
_lock = threading.Lock()
_last = (0, 0)


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A new UUIDv7, later than every earlier one of this process (``now_ms`` for tests)."""
    global _last
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        last_ms, last_counter = _last
        if ms > last_ms:
            counter = secrets.randbits(11)  # a random start, leaving room to count up
        elif last_counter < _COUNTER_MAX:
            ms, counter = last_ms, last_counter + 1
        else:  # 4,096 ids in one millisecond: borrow the next one
            ms, counter = last_ms + 1, 0
        _last = (ms, counter)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= counter << 64
    value |= 0b10 << 62  # the RFC 9562 variant
    value |= secrets.randbits(62)
    return uuid.UUID(int=value)
