"""Evidence ledger: tenants, API keys, log state, entries, tree nodes, subject heads, checkpoints.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the ledger tables."""
    op.create_table(
        "tenant",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tenant_public_id", "tenant", ["public_id"], unique=True)
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_api_key_tenant_id", "api_key", ["tenant_id"])
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("subject_seq", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_hash", sa.LargeBinary(32), nullable=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_ledger_entry_idempotency"),
        sa.UniqueConstraint(
            "tenant_id", "subject", "subject_seq", name="uq_ledger_entry_subject_seq"
        ),
    )
    op.create_index("ix_ledger_entry_event_id", "ledger_entry", ["event_id"], unique=True)
    op.create_table(
        "tree_node",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "subject_head",
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), primary_key=True),
        sa.Column("subject", sa.String(256), primary_key=True),
        sa.Column("last_leaf_index", sa.BigInteger, nullable=False),
        sa.Column("last_leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "checkpoint",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop the ledger tables."""
    for table in (
        "checkpoint",
        "subject_head",
        "tree_node",
        "ledger_entry",
        "log_state",
        "api_key",
        "tenant",
    ):
        op.drop_table(table)
