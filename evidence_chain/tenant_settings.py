"""A tenant's settings: the language and time zone of what Sealtrail writes for it, and
whether public lookups of its documents show detail.

``language`` (``zh`` or ``en``, default ``en``) and ``time_zone`` (an IANA name, default
``UTC``) decide the language and the times of its certificates of evidence and emails.
``public_detail`` (off by default) decides what anyone holding one of its documents sees on
``/verify``: with it off, only that the document is recorded, when, under which checkpoint
and anchor, and the status of its contract; with it on, also the subject and its timeline.

Every change is an event of the subject ``tenant:<public id>`` (``tenant.settings_changed``,
the new values), appended in the transaction of the change: when detail was made public, and
by whom, is itself evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Engine, select, update

from evidence_chain import db
from evidence_chain.clock import utcnow
from evidence_chain.errors import NotFoundError, ValidationError
from evidence_chain.events import format_time, parse_event
from evidence_chain.ledger import Ledger
from evidence_chain.models import Tenant

TENANT = Tenant.__table__  # type: ignore[attr-defined]
LANGUAGES = ("zh", "en")
FIELDS = ("language", "time_zone", "public_detail")


@dataclass(frozen=True)
class TenantSettings:
    """What a tenant has chosen."""

    language: str = "en"
    time_zone: str = "UTC"
    public_detail: bool = False

    def to_json(self) -> dict[str, Any]:
        """The API's view."""
        return {
            "language": self.language,
            "time_zone": self.time_zone,
            "public_detail": self.public_detail,
        }

    @property
    def zone(self) -> ZoneInfo:
        """The time zone (UTC when the stored name is no longer known to this machine)."""
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


def get_settings(engine: Engine, tenant_id: int) -> TenantSettings:
    """The tenant's settings; NotFoundError for an unknown tenant."""
    with db.reading(engine) as conn:
        row = conn.execute(
            select(TENANT.c.language, TENANT.c.time_zone, TENANT.c.public_detail).where(
                TENANT.c.id == tenant_id
            )
        ).one_or_none()
    if row is None:
        raise NotFoundError("no such tenant", details={"tenant": tenant_id})
    return TenantSettings(str(row.language), str(row.time_zone), bool(row.public_detail))


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes checked (ValidationError naming the field): known fields, a language of
    ``LANGUAGES``, an IANA time zone, a boolean ``public_detail``."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
    if "language" in changes and changes["language"] not in LANGUAGES:
        raise ValidationError(
            "language is zh or en", details={"field": "language", "allowed": list(LANGUAGES)}
        )
    if "time_zone" in changes:
        zone = changes["time_zone"]
        if not isinstance(zone, str) or zone not in available_timezones():
            raise ValidationError(
                "time_zone is an IANA time zone name such as Asia/Shanghai or UTC",
                details={"field": "time_zone"},
            )
    if "public_detail" in changes and not isinstance(changes["public_detail"], bool):
        raise ValidationError("public_detail is true or false", details={"field": "public_detail"})
    return changes


def update_settings(
    engine: Engine,
    ledger: Ledger,
    tenant_id: int,
    changes: dict[str, Any],
    *,
    actor: dict[str, Any] | None = None,
) -> TenantSettings:
    """Apply ``changes`` and log them as one event, in one transaction; return the result."""
    validate_changes(changes)
    with engine.begin() as conn:
        row = conn.execute(select(TENANT.c.public_id).where(TENANT.c.id == tenant_id)).one_or_none()
        if row is None:
            raise NotFoundError("no such tenant", details={"tenant": tenant_id})
        if changes:
            conn.execute(update(TENANT).where(TENANT.c.id == tenant_id).values(**changes))
            event = parse_event(
                {
                    "type": "tenant.settings_changed",
                    "subject": f"tenant:{row.public_id}",
                    "occurred_at": format_time(utcnow()),
                    "actor": actor or {"kind": "operator"},
                    "data": {"changed": changes},
                }
            )
            ledger.append_in(conn, tenant_id, row.public_id, [event])
    return get_settings(engine, tenant_id)
