"""Tenants and their API keys. Keys are shown once at creation; only their SHA-256 is kept.

A key is named by its prefix (its first 10 characters, unique among keys made since names
exist), listed with its name, creation, last use and revocation, and revoked by prefix: the
next request with it is a 401, since every request reads the key's row (there is no cache to
keep a revoked key alive). The last active key of a tenant is not revoked unless asked
explicitly (``allow_last``): a tenant that revoked it would lock itself out of the API.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from evidence_chain import db
from evidence_chain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from evidence_chain.models import ApiKey, Tenant

log = logging.getLogger(__name__)

TENANT = Tenant.__table__  # type: ignore[attr-defined]
API_KEY = ApiKey.__table__  # type: ignore[attr-defined]
KEY_PREFIX = "stk_"
PREFIX_LENGTH = 10
MAX_KEY_NAME = 100
TOUCH_WAIT_MS = 50
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most once per key in this interval: a write on every request
would take SQLite's write lock (shared with the evidence log's appends) for every API call."""


class LastKeyError(ConflictError):
    """Revoking this key would leave the tenant without any active key."""

    code = "last_key"


@dataclass(frozen=True)
class TenantRef:
    """The authenticated tenant of a request (and, when known, the key it used)."""

    id: int
    public_id: str
    name: str
    key_prefix: str | None = None


@dataclass(frozen=True)
class KeyInfo:
    """What is shown of an API key: never the key, only its prefix and its history."""

    prefix: str
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """True until the key is revoked."""
        return self.revoked_at is None

    def to_json(self) -> dict[str, Any]:
        """The API's view of the key."""
        return {
            "prefix": self.prefix,
            "name": self.name,
            "active": self.active,
            "created_at": _iso(self.created_at),
            "last_used_at": _iso(self.last_used_at),
            "revoked_at": _iso(self.revoked_at),
        }


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for what was stored as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat().replace("+00:00", "Z") if aware is not None else None


def _info(row: Any) -> KeyInfo:
    created = _aware(row.created_at)
    assert created is not None
    return KeyInfo(row.prefix, row.name, created, _aware(row.last_used_at), _aware(row.revoked_at))


def _check_name(name: str | None) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        raise ValidationError("a key name is a string", details={"field": "name"})
    name = name.strip()
    if len(name) > MAX_KEY_NAME or any(ord(c) < 32 for c in name):
        raise ValidationError(
            f"a key name is at most {MAX_KEY_NAME} printable characters",
            details={"field": "name"},
        )
    return name or None


def hash_key(key: str) -> bytes:
    """The stored form of an API key (keys are 256-bit random, so a plain hash suffices)."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def create_tenant(engine: Engine, name: str) -> tuple[TenantRef, str]:
    """Create a tenant with one API key; return it and the key, which is never stored."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("a tenant name is 1-200 characters", details={"field": "name"})
    with engine.begin() as conn:
        return create_tenant_in(conn, name)


def create_tenant_in(conn: Connection, name: str) -> tuple[TenantRef, str]:
    """:func:`create_tenant` in the caller's transaction (with the tenant's first user, say)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("a tenant name is 1-200 characters", details={"field": "name"})
    now = datetime.now(UTC)
    public_id = "tn_" + secrets.token_hex(8)
    tenant_id = conn.execute(
        insert(TENANT).values(public_id=public_id, name=name, created_at=now).returning(TENANT.c.id)
    ).scalar_one()
    key = _new_key(conn, tenant_id, now)
    return TenantRef(int(tenant_id), public_id, name, key[:PREFIX_LENGTH]), key


def add_key(engine: Engine, public_id: str, name: str | None = None) -> str:
    """Issue another API key for an existing tenant (for rotation)."""
    return issue_key(engine, tenant_id_of(engine, public_id), name)[1]


def issue_key(engine: Engine, tenant_id: int, name: str | None = None) -> tuple[KeyInfo, str]:
    """A new API key of the tenant: what is shown of it, and the key (never stored)."""
    name = _check_name(name)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        key = _new_key(conn, tenant_id, now, name)
    log.info("API key %s issued to tenant #%d", key[:PREFIX_LENGTH], tenant_id)
    return KeyInfo(key[:PREFIX_LENGTH], name, now, None, None), key


def _new_key(conn: Connection, tenant_id: int, now: datetime, name: str | None = None) -> str:
    # The prefix names the key when it is listed or revoked: draw again in the (1 in 2^36)
    # case that another key already has it.
    while True:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        taken = conn.execute(
            select(API_KEY.c.id).where(API_KEY.c.prefix == key[:PREFIX_LENGTH])
        ).first()
        if taken is None:
            break
    conn.execute(
        insert(API_KEY).values(
            tenant_id=tenant_id,
            key_hash=hash_key(key),
            prefix=key[:PREFIX_LENGTH],
            name=name,
            created_at=now,
        )
    )
    return key


def tenant_id_of(engine: Engine, public_id: str) -> int:
    with db.reading(engine) as conn:
        row = conn.execute(select(TENANT.c.id).where(TENANT.c.public_id == public_id)).first()
    if row is None:
        raise NotFoundError(f"no tenant {public_id!r}", details={"tenant": public_id})
    return int(row.id)


def authenticate(engine: Engine, key: str) -> TenantRef:
    """The tenant owning an active API key; AuthenticationError for anything else.

    Reads the key's row on every call, so a revoked key fails from the next request on.
    Records the use at most once per :data:`LAST_USED_RESOLUTION` per key.
    """
    with db.reading(engine) as conn:
        row = conn.execute(
            select(
                TENANT.c.id,
                TENANT.c.public_id,
                TENANT.c.name,
                API_KEY.c.id.label("key_id"),
                API_KEY.c.prefix,
                API_KEY.c.last_used_at,
            )
            .join(API_KEY, API_KEY.c.tenant_id == TENANT.c.id)
            .where(API_KEY.c.key_hash == hash_key(key), API_KEY.c.revoked_at.is_(None))
        ).first()
    if row is None:
        raise AuthenticationError("unknown or revoked API key")
    now = datetime.now(UTC)
    last = _aware(row.last_used_at)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        _touch(engine, int(row.key_id), now)
    return TenantRef(int(row.id), row.public_id, row.name, row.prefix)


def _touch(engine: Engine, key_id: int, now: datetime) -> None:
    """Record a use of the key, never making the request wait for a writer.

    The condition makes concurrent workers write it once. The write waits at most
    :data:`TOUCH_WAIT_MS` for a lock (SQLite's write lock, a PostgreSQL row lock): when the
    database is busy the use is not recorded now, and the key's next request tries again.
    """
    try:
        with engine.connect() as conn:
            sqlite = engine.dialect.name == "sqlite"
            raw = conn.connection.dbapi_connection if sqlite else None
            if raw is not None:  # before BEGIN IMMEDIATE, which would wait the full timeout
                raw.execute(f"PRAGMA busy_timeout={TOUCH_WAIT_MS}")
            try:
                with conn.begin():
                    if not sqlite:
                        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{TOUCH_WAIT_MS}ms'")
                    conn.execute(
                        update(API_KEY)
                        .where(
                            API_KEY.c.id == key_id,
                            or_(
                                API_KEY.c.last_used_at.is_(None),
                                API_KEY.c.last_used_at < now - LAST_USED_RESOLUTION,
                            ),
                        )
                        .values(last_used_at=now)
                    )
            finally:
                if raw is not None:
                    raw.execute(f"PRAGMA busy_timeout={db.SQLITE_BUSY_TIMEOUT_MS}")
    except SQLAlchemyError as exc:
        # Bookkeeping only: a busy database must not turn a valid request into an error.
        log.info("use of API key #%d not recorded now (database busy): %s", key_id, exc)


def list_keys(engine: Engine, tenant_id: int) -> list[KeyInfo]:
    """Every key of the tenant, revoked ones too, oldest first."""
    with db.reading(engine) as conn:
        rows = conn.execute(
            select(API_KEY).where(API_KEY.c.tenant_id == tenant_id).order_by(API_KEY.c.id)
        ).all()
    return [_info(r) for r in rows]


def list_keys_of(engine: Engine, public_id: str) -> list[KeyInfo]:
    """Every key of the tenant named by its public id."""
    return list_keys(engine, tenant_id_of(engine, public_id))


def revoke_key(
    engine: Engine, prefix: str, *, tenant_id: int | None = None, allow_last: bool = False
) -> tuple[KeyInfo, str]:
    """Revoke the key with this prefix (of ``tenant_id`` only, when given); return it and its
    tenant's public id.

    NotFoundError if no key (of that tenant) has the prefix; ConflictError if several do
    (keys made before prefixes were kept unique); :class:`LastKeyError` if it is the tenant's
    last active key and ``allow_last`` is false. Revoking a revoked key changes nothing.
    """
    now = datetime.now(UTC)
    query = (
        select(API_KEY, TENANT.c.public_id)
        .join(TENANT, TENANT.c.id == API_KEY.c.tenant_id)
        .where(API_KEY.c.prefix == prefix)
    )
    if tenant_id is not None:
        query = query.where(API_KEY.c.tenant_id == tenant_id)
    with engine.begin() as conn:
        rows = conn.execute(query).all()
        if not rows:
            raise NotFoundError("no API key has this prefix", details={"prefix": prefix})
        if len(rows) > 1:
            raise ConflictError(
                "several API keys share this prefix; revoke them by tenant",
                details={"prefix": prefix, "tenants": sorted({r.public_id for r in rows})},
            )
        row = rows[0]
        if row.revoked_at is not None:
            return _info(row), row.public_id
        active = conn.execute(
            select(func.count())
            .select_from(API_KEY)
            .where(API_KEY.c.tenant_id == row.tenant_id, API_KEY.c.revoked_at.is_(None))
        ).scalar_one()
        if active <= 1 and not allow_last:
            raise LastKeyError(
                "this is the tenant's last active API key: issue a new key first, then revoke "
                "this one",
                details={"prefix": prefix},
            )
        conn.execute(update(API_KEY).where(API_KEY.c.id == row.id).values(revoked_at=now))
    log.info("API key %s of tenant %s revoked", prefix, row.public_id)
    revoked = KeyInfo(
        row.prefix, row.name, _aware(row.created_at) or now, _aware(row.last_used_at), now
    )
    return revoked, row.public_id


def list_tenants(engine: Engine) -> list[TenantRef]:
    """All tenants, oldest first."""
    with db.reading(engine) as conn:
        rows = conn.execute(select(TENANT).order_by(TENANT.c.id)).all()
    return [TenantRef(int(r.id), r.public_id, r.name) for r in rows]
