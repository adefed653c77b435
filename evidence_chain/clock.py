"""Time as Sealtrail stores it: aware UTC datetimes, also when a database hands back naive ones.

SQLite keeps no time zone, so a ``DateTime(timezone=True)`` column reads back naive there and
aware on PostgreSQL; every stored moment is UTC, so :func:`aware` restores the zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """``moment`` with its UTC zone restored if the database dropped it; None stays None."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 UTC with microseconds (the form records use), or None."""
    value = aware(moment)
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
