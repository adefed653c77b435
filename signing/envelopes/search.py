"""Finding a tenant's envelopes: by words of their title, id or parties, status and dates.

The text of each envelope lives in an index that matches substrings in any script (Chinese
names have no spaces to split on): on SQLite the FTS5 table ``envelope_fts`` (trigram
tokenizer; ``LIKE`` on it is answered from the index), on PostgreSQL ``envelope_search``
with GIN ``pg_trgm`` indexes (``ILIKE``). Both come from the migration
``0012_envelope_search``. :func:`index_envelope` writes an envelope's row in the transaction
that writes the envelope, so the index never lags; :func:`unindex_envelope` removes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    and_,
    exists,
    func,
    select,
    text,
)

from evidence_chain.errors import ValidationError
from signing.envelopes.rules import STATUSES
from signing.envelopes.store import ENVELOPE, PARTY

MAX_QUERY = 200
"""The longest search text (characters); longer is a 400."""
MAX_TERMS = 8

_META = MetaData()
PG_INDEX = Table(
    "envelope_search",
    _META,
    Column("envelope_id", Integer, primary_key=True),
    Column("tenant_id", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("parties", Text, nullable=False),
)
SQLITE_INDEX = Table(
    "envelope_fts",
    _META,
    Column("rowid", Integer, primary_key=True),
    Column("body", Text),
    Column("parties", Text),
)


def texts(public_id: str, title: str, parties: Iterable[Any]) -> tuple[str, str]:
    """The indexed text of an envelope: (everything, the parties alone)."""
    lines = [" ".join(x for x in (p.name, p.email, p.organisation) if x) for p in parties]
    who = "\n".join(lines)
    return f"{public_id}\n{title}\n{who}", who


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def unindex_envelope(conn: Connection, envelope_id: int) -> None:
    """Remove an envelope's text from the index (with the envelope, same transaction)."""
    if _postgres(conn):
        conn.execute(PG_INDEX.delete().where(PG_INDEX.c.envelope_id == envelope_id))
    else:
        conn.execute(SQLITE_INDEX.delete().where(SQLITE_INDEX.c.rowid == envelope_id))


def index_envelope(conn: Connection, envelope_id: int) -> None:
    """(Re)write the index row of one envelope from its stored title and parties."""
    env = conn.execute(
        select(ENVELOPE.c.public_id, ENVELOPE.c.title, ENVELOPE.c.tenant_id).where(
            ENVELOPE.c.id == envelope_id
        )
    ).one()
    parties = conn.execute(
        select(PARTY.c.name, PARTY.c.email, PARTY.c.organisation)
        .where(PARTY.c.envelope_id == envelope_id)
        .order_by(PARTY.c.id)
    ).all()
    body, who = texts(env.public_id, env.title, parties)
    unindex_envelope(conn, envelope_id)
    if _postgres(conn):
        conn.execute(
            PG_INDEX.insert().values(
                envelope_id=envelope_id, tenant_id=env.tenant_id, body=body, parties=who
            )
        )
    else:
        conn.execute(SQLITE_INDEX.insert().values(rowid=envelope_id, body=body, parties=who))


@dataclass(frozen=True)
class Filters:
    """What to look for; every part optional. ``q`` and ``party`` are split into words, each
    of which must occur (as a substring, any case); dates bound ``created_at`` (``to`` is
    inclusive of its whole day when given as a date)."""

    q: str | None = None
    status: tuple[str, ...] = ()
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    party: str | None = None

    def __post_init__(self) -> None:
        for name in ("q", "party"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_QUERY:
                raise ValidationError(
                    f"{name} is at most {MAX_QUERY} characters",
                    details={"field": name, "maximum": MAX_QUERY},
                )
        for status in self.status:
            if status not in STATUSES:
                raise ValidationError(
                    f"status is one of {', '.join(STATUSES)}", details={"field": "status"}
                )
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValidationError(
                "from is after to", details={"field": "from", "reason": "date_order"}
            )


def _terms(value: str | None, field: str) -> list[str]:
    terms = [t for t in (value or "").split() if t]
    if len(terms) > MAX_TERMS:
        raise ValidationError(f"{field} has at most {MAX_TERMS} words", details={"field": field})
    return terms


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _sqlite_like(col: Any, term: str) -> ColumnElement[bool]:
    # FTS5 answers ``LIKE`` from its trigram index only in the two-argument form, for three
    # characters or more: a word with a wildcard character of its own is matched with an
    # ESCAPE clause instead, and a shorter word too (SQLite 3.40's trigram index finds nothing
    # for it), both by a scan of the index table.
    if len(term) >= 3 and not any(c in term for c in "%_\\"):
        return col.like(f"%{term}%")
    return col.like(_like(term), escape="\\")


def _matches(conn: Connection, column: str, terms: list[str]) -> ColumnElement[bool] | None:
    if not terms:
        return None
    if _postgres(conn):
        col = PG_INDEX.c[column]
        conds = [col.ilike(_like(t), escape="\\") for t in terms]
        return ENVELOPE.c.id.in_(select(PG_INDEX.c.envelope_id).where(and_(*conds)))
    col = SQLITE_INDEX.c[column]
    found = [_sqlite_like(col, t) for t in terms]
    return ENVELOPE.c.id.in_(select(SQLITE_INDEX.c.rowid).where(and_(*found)))


def query(conn: Connection, tenant_id: int, filters: Filters) -> Select[Any]:
    """The tenant's envelopes that match, unordered (callers order by id, newest first)."""
    q = select(ENVELOPE).where(ENVELOPE.c.tenant_id == tenant_id)
    for cond in (
        _matches(conn, "body", _terms(filters.q, "q")),
        _matches(conn, "parties", _terms(filters.party, "party")),
    ):
        if cond is not None:
            q = q.where(cond)
    if filters.status:
        q = q.where(ENVELOPE.c.status.in_(filters.status))
    if filters.created_from is not None:
        q = q.where(ENVELOPE.c.created_at >= filters.created_from)
    if filters.created_to is not None:
        q = q.where(ENVELOPE.c.created_at <= filters.created_to)
    return q


def count(conn: Connection, tenant_id: int, filters: Filters) -> int:
    """How many of the tenant's envelopes match."""
    inner = query(conn, tenant_id, filters).with_only_columns(ENVELOPE.c.id).subquery()
    return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())


def awaiting(email: str) -> ColumnElement[bool]:
    """Envelopes in which a party with this email has yet to sign."""
    return exists(
        select(text("1"))
        .select_from(PARTY)
        .where(
            PARTY.c.envelope_id == ENVELOPE.c.id,
            func.lower(PARTY.c.email) == email.lower(),
            PARTY.c.status == "pending",
        )
    )


OPEN_STATUSES = ("sent", "in_progress")
EXPIRING_WITHIN = dt.timedelta(days=7)
BUCKETS = ("to_sign", "waiting", "completed", "drafts", "expiring")
"""The dashboard's lists: what you have to sign, what waits for others, what is completed,
the drafts, and the open envelopes that expire within :data:`EXPIRING_WITHIN`."""


def bucket(name: str, email: str, now: dt.datetime) -> tuple[Filters, ColumnElement[bool] | None]:
    """The filters and extra condition of a dashboard list (ValidationError if unknown)."""
    if name == "to_sign":
        return Filters(status=OPEN_STATUSES), awaiting(email)
    if name == "waiting":
        return Filters(status=OPEN_STATUSES), ~awaiting(email)
    if name == "completed":
        return Filters(status=("completed",)), None
    if name == "drafts":
        return Filters(status=("draft",)), None
    if name == "expiring":
        return Filters(status=OPEN_STATUSES), ENVELOPE.c.expires_at <= now + EXPIRING_WITHIN
    raise ValidationError(f"view is one of {', '.join(BUCKETS)}", details={"field": "view"})
