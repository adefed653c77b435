"""Database tables of the evidence ledger (SQLModel).

Ledger rows (``ledger_entry``, ``tree_node``, ``checkpoint``) are inserted once and never
updated or deleted by any code path; ``log_state`` and ``subject_head`` are the sequencer's
bookkeeping and may be updated. Anchoring rows (``anchor``, ``anchor_attempt``,
``chain_alarm``) track what happened on chain and are updated as it progresses; an anchor's
history is its attempts, which are never deleted. The schema itself is created by the Alembic
migrations in ``evidence_chain/migrations``; these classes must stay in step with them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary, SmallInteger, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel


class Tenant(SQLModel, table=True):
    """A customer account: a signing platform or an enterprise."""

    __tablename__ = "tenant"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    created_at: datetime
    language: str = Field(default="en", max_length=8, sa_column_kwargs={"server_default": "en"})
    """``zh`` or ``en``: the language of the certificates and emails made for the tenant."""
    time_zone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    """An IANA zone name (``Asia/Shanghai``): times in certificates, UTC beside them."""
    public_detail: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """Whether a public lookup of a document shows its subject and timeline (off: only that
    it is recorded, when, under which anchor, and its status)."""


class ApiKey(SQLModel, table=True):
    """An API key of a tenant; only its SHA-256 is stored."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    key_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    prefix: str = Field(max_length=16, index=True)
    name: str | None = Field(default=None, max_length=100)
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class LogState(SQLModel, table=True):
    """The single row that serialises sequencing: the log's origin and current size."""

    __tablename__ = "log_state"

    id: int = Field(default=1, primary_key=True)
    origin: str = Field(max_length=200)
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False))


class LedgerEntry(SQLModel, table=True):
    """One leaf of the log: the canonical record and its leaf hash."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_ledger_entry_idempotency"),
        UniqueConstraint("tenant_id", "subject", "subject_seq", name="uq_ledger_entry_subject_seq"),
    )

    leaf_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: str = Field(max_length=36, unique=True, index=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    subject: str = Field(max_length=256)
    subject_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    type: str = Field(max_length=128)
    record: str = Field(sa_column=Column(Text, nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    received_at: datetime
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32)))


class TreeNode(SQLModel, table=True):
    """A complete (perfect) subtree hash, stored once when the subtree is completed."""

    __tablename__ = "tree_node"

    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class SubjectHead(SQLModel, table=True):
    """The last record of each subject, the link the next record of that subject points to."""

    __tablename__ = "subject_head"

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    subject: str = Field(max_length=256, primary_key=True)
    last_leaf_index: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    count: int = Field(sa_column=Column(BigInteger, nullable=False))


class Checkpoint(SQLModel, table=True):
    """A signed checkpoint (C2SP tlog-checkpoint note) of the log at one tree size."""

    __tablename__ = "checkpoint"

    tree_size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class Anchor(SQLModel, table=True):
    """One checkpoint anchored (or being anchored) on chain; its attempts are its history."""

    __tablename__ = "anchor"
    __table_args__ = (UniqueConstraint("contract", "tree_size", name="uq_anchor_contract_size"),)

    id: int | None = Field(default=None, primary_key=True)
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    log_id: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    status: str = Field(max_length=16, index=True)
    chain_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    contract: str = Field(max_length=42)
    tx_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32)))
    block_number: int | None = Field(default=None, sa_column=Column(BigInteger))
    block_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32)))
    block_timestamp: datetime | None = None
    confirmations: int = 0
    gas_used: int | None = Field(default=None, sa_column=Column(BigInteger))
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    updated_at: datetime


class AnchorAttempt(SQLModel, table=True):
    """One transaction sent for an anchor, recorded (raw and hash) before it is broadcast."""

    __tablename__ = "anchor_attempt"

    id: int | None = Field(default=None, primary_key=True)
    anchor_id: int = Field(foreign_key="anchor.id", index=True)
    tx_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    sender: str = Field(max_length=42)
    nonce: int = Field(sa_column=Column(BigInteger, nullable=False))
    gas_limit: int = Field(sa_column=Column(BigInteger, nullable=False))
    max_fee: int = Field(sa_column=Column(BigInteger, nullable=False))
    priority_fee: int = Field(sa_column=Column(BigInteger, nullable=False))
    raw_tx: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(max_length=16, index=True)
    block_number: int | None = Field(default=None, sa_column=Column(BigInteger))
    block_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32)))
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    updated_at: datetime


class ChainAlarm(SQLModel, table=True):
    """Something on chain that needs an operator: a different root anchored, a wrong chain."""

    __tablename__ = "chain_alarm"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    message: str = Field(sa_column=Column(Text, nullable=False))
    details: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    resolved_at: datetime | None = None
