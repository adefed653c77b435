"""Database tables of the signing engine (SQLModel): seals and signer certificates.

The schema is created by the hand-written migration ``0003_signing``; these classes must stay
in step with it. Seals are a tenant's own appearances (drawn or uploaded); a signer
certificate is issued by our CA to one identity of one tenant, with its private key sealed
by the master key (:mod:`evidence_chain.keystore`), and is reused until it is revoked or expires.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Seal(SQLModel, table=True):
    """A seal appearance of a tenant: a one-page PDF and its PNG preview."""

    __tablename__ = "seal"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True, index=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    kind: str = Field(max_length=32)
    text: str | None = Field(default=None, max_length=200)
    subtext: str | None = Field(default=None, max_length=200)
    spec: str = Field(sa_column=Column(Text, nullable=False))
    appearance: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    preview: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    source: str = Field(max_length=16)
    created_at: datetime


class SignerCertificate(SQLModel, table=True):
    """An end-entity certificate our CA issued to a signer identity of a tenant."""

    __tablename__ = "signer_certificate"
    __table_args__ = (UniqueConstraint("serial", name="uq_signer_certificate_serial"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    identity_key: str = Field(max_length=64, index=True)
    identity: str = Field(sa_column=Column(Text, nullable=False))
    certificate_pem: str = Field(sa_column=Column(Text, nullable=False))
    key_blob: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    serial: str = Field(max_length=64)
    fingerprint_sha256: str = Field(max_length=64)
    not_after: datetime
    created_at: datetime
    revoked_at: datetime | None = None
