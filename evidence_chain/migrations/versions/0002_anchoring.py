"""Anchoring: anchors, their transaction attempts, chain alarms.

Revision ID: 0002_anchoring
Revises: 0001_ledger
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_anchoring"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the anchoring tables."""
    op.create_table(
        "anchor",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("log_id", sa.LargeBinary(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("contract", sa.String(42), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("block_number", sa.BigInteger, nullable=True),
        sa.Column("block_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("block_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmations", sa.Integer, nullable=False),
        sa.Column("gas_used", sa.BigInteger, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("contract", "tree_size", name="uq_anchor_contract_size"),
    )
    op.create_index("ix_anchor_tree_size", "anchor", ["tree_size"])
    op.create_index("ix_anchor_status", "anchor", ["status"])
    op.create_table(
        "anchor_attempt",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("anchor_id", sa.Integer, sa.ForeignKey("anchor.id"), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger, nullable=False),
        sa.Column("gas_limit", sa.BigInteger, nullable=False),
        sa.Column("max_fee", sa.BigInteger, nullable=False),
        sa.Column("priority_fee", sa.BigInteger, nullable=False),
        sa.Column("raw_tx", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=True),
        sa.Column("block_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_anchor_attempt_anchor_id", "anchor_attempt", ["anchor_id"])
    op.create_index("ix_anchor_attempt_status", "anchor_attempt", ["status"])
    op.create_table(
        "chain_alarm",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Drop the anchoring tables."""
    for table in ("chain_alarm", "anchor_attempt", "anchor"):
        op.drop_table(table)
