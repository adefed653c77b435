"""Database tables of envelopes (SQLModel): envelopes, documents, parties, fields.

The schema is created by the hand-written migrations ``0006_envelopes`` and
``0011_superseded_links``; these classes must stay in step with them. Document bytes live in
the blob store (``evidence_chain.blobs``), named by their SHA-256; rows keep only the hashes.
Link tokens and one-time codes are stored as SHA-256 digests (codes with a per-code salt),
never in the clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Envelope(SQLModel, table=True):
    """A contract sent to parties; ``version`` increases with every change of its documents."""

    __tablename__ = "envelope"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True, index=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    title: str = Field(max_length=200)
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(max_length=16, index=True)
    order_mode: str = Field(max_length=16)
    version: int = 0
    created_by: str | None = Field(default=None, max_length=40)
    expires_at: datetime
    created_at: datetime
    remind_every_days: int | None = None
    """Remind the parties whose turn it is every this many days until they sign (None: no)."""
    sent_at: datetime | None = None
    completed_at: datetime | None = None
    finished_at: datetime | None = None
    finished_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    voided_at: datetime | None = None
    voided_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class EnvelopeDocument(SQLModel, table=True):
    """A PDF of an envelope: the original, the current version and the VOID copy."""

    __tablename__ = "envelope_document"
    __table_args__ = (UniqueConstraint("envelope_id", "n", name="uq_envelope_document_n"),)

    id: int | None = Field(default=None, primary_key=True)
    envelope_id: int = Field(foreign_key="envelope.id", index=True)
    n: int
    name: str = Field(max_length=200)
    pages: int
    sha256_original: str = Field(max_length=64)
    sha256_current: str = Field(max_length=64)
    sha256_void: str | None = Field(default=None, max_length=64)
    certified: bool = False


class EnvelopeParty(SQLModel, table=True):
    """A party of an envelope: a person, or an organisation signing with a tenant seal."""

    __tablename__ = "envelope_party"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True, index=True)
    envelope_id: int = Field(foreign_key="envelope.id", index=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=16)
    organisation: str | None = Field(default=None, max_length=200)
    seal_id: str | None = Field(default=None, max_length=40)
    role: str | None = Field(default=None, max_length=64)
    routing_order: int
    status: str = Field(max_length=16)
    token_hash: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary(32), nullable=True, unique=True)
    )
    token_expires_at: datetime | None = None
    otp_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32), nullable=True))
    otp_salt: bytes | None = Field(default=None, sa_column=Column(LargeBinary(16), nullable=True))
    otp_expires_at: datetime | None = None
    otp_tries: int = 0
    otp_locked: bool = False
    otp_sent_at: datetime | None = None
    authenticated_until: datetime | None = None
    signed_at: datetime | None = None
    declined_at: datetime | None = None
    decline_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reminded_at: datetime | None = None


class EnvelopeField(SQLModel, table=True):
    """A field of a party on a document: signature, seal, date or text; fixed or anywhere."""

    __tablename__ = "envelope_field"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True, index=True)
    envelope_id: int = Field(foreign_key="envelope.id", index=True)
    party_id: int = Field(foreign_key="envelope_party.id", index=True)
    kind: str = Field(max_length=16)
    document_n: int
    page: int | None = None
    x: float | None = None
    y: float | None = None
    w: float
    h: float
    anywhere: bool = False
    label: str | None = Field(default=None, max_length=200)
    value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class EnvelopeSupersededLink(SQLModel, table=True):
    """The hash of a party's link token that a newer link replaced (a reminder sends a new
    one), kept so that the old link can say so instead of reading as unknown."""

    __tablename__ = "envelope_superseded_link"

    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    party_id: int = Field(foreign_key="envelope_party.id", index=True)
    superseded_at: datetime
