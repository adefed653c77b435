"""Signing: seals and signer certificates.

Revision ID: 0003_signing
Revises: 0002_anchoring
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_signing"
down_revision = "0002_anchoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the signing tables."""
    op.create_table(
        "seal",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.String(200), nullable=True),
        sa.Column("subtext", sa.String(200), nullable=True),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("appearance", sa.LargeBinary, nullable=False),
        sa.Column("preview", sa.LargeBinary, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seal_public_id", "seal", ["public_id"], unique=True)
    op.create_index("ix_seal_tenant_id", "seal", ["tenant_id"])
    op.create_table(
        "signer_certificate",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("identity_key", sa.String(64), nullable=False),
        sa.Column("identity", sa.Text, nullable=False),
        sa.Column("certificate_pem", sa.Text, nullable=False),
        sa.Column("key_blob", sa.LargeBinary, nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(64), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("serial", name="uq_signer_certificate_serial"),
    )
    op.create_index("ix_signer_certificate_tenant_id", "signer_certificate", ["tenant_id"])
    op.create_index("ix_signer_certificate_identity_key", "signer_certificate", ["identity_key"])


def downgrade() -> None:
    """Drop the signing tables."""
    for table in ("signer_certificate", "seal"):
        op.drop_table(table)
