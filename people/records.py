"""What the people services share: views, lookups and the evidence events of people.

Every login, failed login, lock, invitation, password set, role change, removal and change of
the second factor is an event of the subject ``person:<public id>`` in the person's tenant,
appended in the transaction of the change. The log is append-only, so it keeps no email
address and no password: a person is named by public id, an address by its SHA-256
(``email_sha256``), as ``docs/evidence-record.md`` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from evidence_chain.events import format_time, parse_event
from evidence_chain.ledger import Ledger
from evidence_chain.tenants import TENANT
from people.models import PERSON


@dataclass(frozen=True)
class ClientContext:
    """Where a request came from, recorded with every event of a person."""

    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class PersonView:
    """A person as the console shows it."""

    id: int
    public_id: str
    tenant_id: int
    tenant_public_id: str
    tenant_name: str
    email: str
    role: str
    status: str
    """``invited`` (no password yet), ``active`` or ``removed``."""
    totp_enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Authenticated:
    """The person of a console request and the session it came with."""

    person: PersonView
    session_id: int
    session_public_id: str


def aware(moment: datetime | None) -> datetime | None:
    """``moment`` with UTC attached when the database returned it naive (SQLite)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def person_query() -> Any:
    """Persons joined with their tenant."""
    return select(
        PERSON,
        TENANT.c.public_id.label("tenant_public_id"),
        TENANT.c.name.label("tenant_name"),
    ).join(TENANT, TENANT.c.id == PERSON.c.tenant_id)


def view(row: Any) -> PersonView:
    """A :class:`PersonView` from a row of :func:`person_query`."""
    if row.removed_at is not None:
        status = "removed"
    elif row.password_hash is None:
        status = "invited"
    else:
        status = "active"
    created = aware(row.created_at)
    assert created is not None
    return PersonView(
        id=int(row.id),
        public_id=row.public_id,
        tenant_id=int(row.tenant_id),
        tenant_public_id=row.tenant_public_id,
        tenant_name=row.tenant_name,
        email=row.email,
        role=row.role,
        status=status,
        totp_enabled=row.totp_blob is not None,
        created_at=created,
    )


def load(conn: Connection, **where: Any) -> PersonView | None:
    """The person matching ``where`` (column=value), or None."""
    query = person_query()
    for column, value in where.items():
        query = query.where(PERSON.c[column] == value)
    row = conn.execute(query).first()
    return view(row) if row is not None else None


def actor_of(person: PersonView | None) -> dict[str, Any]:
    """The ``actor`` of an event done by ``person`` (None: the instance's operator, by CLI)."""
    if person is None:
        return {"role": "operator"}
    return {"role": "person", "person_id": person.public_id, "person_role": person.role}


def record(
    ledger: Ledger,
    conn: Connection,
    subject: PersonView,
    etype: str,
    actor: dict[str, Any],
    ctx: ClientContext | None,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> str:
    """Append one event of ``subject`` in the caller's transaction; return its event id."""
    body = {
        **(data or {}),
        "ip": ctx.ip if ctx else None,
        "user_agent": ctx.user_agent if ctx else None,
    }
    event = parse_event(
        {
            "type": etype,
            "subject": f"person:{subject.public_id}",
            "occurred_at": format_time(now),
            "actor": actor,
            "data": body,
        }
    )
    (receipt,) = ledger.append_in(conn, subject.tenant_id, subject.tenant_public_id, [event])
    return receipt.event_id
