"""Envelopes: documents, parties, fields, signer links, one-time codes, notifications.

Revision ID: 0006_envelopes
Revises: 0005_documents
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_envelopes"
down_revision = "0005_documents"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "envelope",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("order_mode", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(40), nullable=True),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("completed_at", TZ, nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("finished_reason", sa.Text, nullable=True),
        sa.Column("voided_at", TZ, nullable=True),
        sa.Column("voided_reason", sa.Text, nullable=True),
    )
    op.create_index("ix_envelope_public_id", "envelope", ["public_id"], unique=True)
    op.create_index("ix_envelope_tenant_id", "envelope", ["tenant_id"])
    op.create_index("ix_envelope_status", "envelope", ["status"])
    op.create_table(
        "envelope_document",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("envelope_id", sa.Integer, sa.ForeignKey("envelope.id"), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("sha256_original", sa.String(64), nullable=False),
        sa.Column("sha256_current", sa.String(64), nullable=False),
        sa.Column("sha256_void", sa.String(64), nullable=True),
        sa.Column("certified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("envelope_id", "n", name="uq_envelope_document_n"),
    )
    op.create_index("ix_envelope_document_envelope_id", "envelope_document", ["envelope_id"])
    op.create_table(
        "envelope_party",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("envelope_id", sa.Integer, sa.ForeignKey("envelope.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=True),
        sa.Column("seal_id", sa.String(40), nullable=True),
        sa.Column("role", sa.String(64), nullable=True),
        sa.Column("routing_order", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=True, unique=True),
        sa.Column("token_expires_at", TZ, nullable=True),
        sa.Column("otp_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("otp_salt", sa.LargeBinary(16), nullable=True),
        sa.Column("otp_expires_at", TZ, nullable=True),
        sa.Column("otp_tries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("otp_locked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("otp_sent_at", TZ, nullable=True),
        sa.Column("authenticated_until", TZ, nullable=True),
        sa.Column("signed_at", TZ, nullable=True),
        sa.Column("declined_at", TZ, nullable=True),
        sa.Column("decline_reason", sa.Text, nullable=True),
        sa.Column("reminded_at", TZ, nullable=True),
    )
    op.create_index("ix_envelope_party_public_id", "envelope_party", ["public_id"], unique=True)
    op.create_index("ix_envelope_party_envelope_id", "envelope_party", ["envelope_id"])
    op.create_table(
        "envelope_field",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("envelope_id", sa.Integer, sa.ForeignKey("envelope.id"), nullable=False),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("envelope_party.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("document_n", sa.Integer, nullable=False),
        sa.Column("page", sa.Integer, nullable=True),
        sa.Column("x", sa.Float, nullable=True),
        sa.Column("y", sa.Float, nullable=True),
        sa.Column("w", sa.Float, nullable=False),
        sa.Column("h", sa.Float, nullable=False),
        sa.Column("anywhere", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("value", sa.Text, nullable=True),
    )
    op.create_index("ix_envelope_field_public_id", "envelope_field", ["public_id"], unique=True)
    op.create_index("ix_envelope_field_envelope_id", "envelope_field", ["envelope_id"])
    op.create_index("ix_envelope_field_party_id", "envelope_field", ["party_id"])
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_outbox_message_recipient", "outbox_message", ["recipient"])


def downgrade() -> None:
    """Drop the tables."""
    for table in (
        "outbox_message",
        "envelope_field",
        "envelope_party",
        "envelope_document",
        "envelope",
    ):
        op.drop_table(table)
