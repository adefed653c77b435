"""Tables of people and their sessions (created by migration ``0009_people``).

Nothing secret is kept in clear: passwords as argon2id hashes, session ids, one-time tokens
and recovery codes as SHA-256 (each is 256 or 60+ random bits, so a plain hash suffices), and
TOTP secrets sealed with the instance's master key (they must be read back to check a code).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel


class Person(SQLModel, table=True):
    """A user of the console: one tenant, one role, one email address (unique)."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True, index=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    email: str = Field(max_length=254, unique=True, index=True)
    role: str = Field(max_length=32)
    password_hash: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    totp_blob: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    totp_pending_blob: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    totp_last_counter: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    totp_enabled_at: datetime | None = None
    created_at: datetime
    password_set_at: datetime | None = None
    removed_at: datetime | None = None


class PersonSession(SQLModel, table=True):
    """A console session: the cookie holds a random id, only its SHA-256 is stored."""

    __tablename__ = "person_session"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True, index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    id_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    stage: str = Field(max_length=8)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)


class PersonToken(SQLModel, table=True):
    """A one-time set-password link (from the CLI or an invitation); SHA-256 stored."""

    __tablename__ = "person_token"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    purpose: str = Field(max_length=16)
    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class PersonRecoveryCode(SQLModel, table=True):
    """A one-time recovery code of the second factor; SHA-256 stored."""

    __tablename__ = "person_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    code_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    used_at: datetime | None = None


class LoginThrottle(SQLModel, table=True):
    """Failed logins of one account or one client address in the current window."""

    __tablename__ = "login_throttle"

    key_hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    failures: int
    window_started_at: datetime
    locked_until: datetime | None = None


PERSON = Person.__table__  # type: ignore[attr-defined]
SESSION = PersonSession.__table__  # type: ignore[attr-defined]
TOKEN = PersonToken.__table__  # type: ignore[attr-defined]
RECOVERY = PersonRecoveryCode.__table__  # type: ignore[attr-defined]
THROTTLE = LoginThrottle.__table__  # type: ignore[attr-defined]
