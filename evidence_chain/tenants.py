"""Tenants and their API keys. Keys are shown once at creation; only their SHA-256 is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select, update

from evidence_chain import db
from evidence_chain.errors import AuthenticationError, NotFoundError, ValidationError
from evidence_chain.models import ApiKey, Tenant

TENANT = Tenant.__table__  # type: ignore[attr-defined]
API_KEY = ApiKey.__table__  # type: ignore[attr-defined]
KEY_PREFIX = "stk_"


@dataclass(frozen=True)
class TenantRef:
    """The authenticated tenant of a request."""

    id: int
    public_id: str
    name: str


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
    return TenantRef(int(tenant_id), public_id, name), key


def add_key(engine: Engine, public_id: str) -> str:
    """Issue another API key for an existing tenant (for rotation)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(select(TENANT.c.id).where(TENANT.c.public_id == public_id)).first()
        if row is None:
            raise ValidationError(f"no tenant {public_id!r}", details={"tenant": public_id})
        return _new_key(conn, int(row.id), now)


def revoke_key(engine: Engine, public_id: str, prefix: str) -> int:
    """Revoke the tenant's active keys that start with ``prefix`` (the first 10 characters a key
    is listed by); return how many. NotFoundError if none matches; ValidationError if the prefix
    is shorter than a listed one, so one typo cannot revoke every key of a tenant."""
    if len(prefix) < 10 or not prefix.startswith(KEY_PREFIX):
        raise ValidationError(
            "name the key by its first 10 characters (stk_ and 6 more)", details={"field": "prefix"}
        )
    with engine.begin() as conn:
        row = conn.execute(select(TENANT.c.id).where(TENANT.c.public_id == public_id)).first()
        if row is None:
            raise NotFoundError(f"no tenant {public_id!r}", details={"tenant": public_id})
        result = conn.execute(
            update(API_KEY)
            .where(
                API_KEY.c.tenant_id == row.id,
                API_KEY.c.prefix == prefix[:10],
                API_KEY.c.revoked_at.is_(None),
            )
            .values(revoked_at=datetime.now(UTC))
        )
        if not result.rowcount:
            raise NotFoundError(
                f"tenant {public_id} has no active key starting {prefix[:10]}",
                details={"tenant": public_id, "prefix": prefix[:10]},
            )
        return int(result.rowcount)


def _new_key(conn: Connection, tenant_id: int, now: datetime) -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(API_KEY).values(
            tenant_id=tenant_id, key_hash=hash_key(key), prefix=key[:10], created_at=now
        )
    )
    return key


def authenticate(engine: Engine, key: str) -> TenantRef:
    """The tenant owning an active API key; AuthenticationError for anything else."""
    with db.reading(engine) as conn:
        row = conn.execute(
            select(TENANT.c.id, TENANT.c.public_id, TENANT.c.name)
            .join(API_KEY, API_KEY.c.tenant_id == TENANT.c.id)
            .where(API_KEY.c.key_hash == hash_key(key), API_KEY.c.revoked_at.is_(None))
        ).first()
    if row is None:
        raise AuthenticationError("unknown or revoked API key")
    return TenantRef(int(row.id), row.public_id, row.name)


def list_tenants(engine: Engine) -> list[TenantRef]:
    """All tenants, oldest first."""
    with db.reading(engine) as conn:
        rows = conn.execute(select(TENANT).order_by(TENANT.c.id)).all()
    return [TenantRef(int(r.id), r.public_id, r.name) for r in rows]
