"""Certificates of evidence issued (report ids for the public verify page).

Revision ID: 0004_reports
Revises: 0003_signing
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_reports"
down_revision = "0003_signing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "evidence_report",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("anchor_tree_size", sa.BigInteger, nullable=True),
        sa.Column("bundle", sa.Text, nullable=False),
        sa.Column("bundle_sha256", sa.String(64), nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_evidence_report_report_id", "evidence_report", ["report_id"], unique=True)
    op.create_index("ix_evidence_report_tenant_id", "evidence_report", ["tenant_id"])


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("evidence_report")
