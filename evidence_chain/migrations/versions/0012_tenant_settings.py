"""Tenant settings: the language and time zone of what Sealtrail writes for the tenant
(certificates, emails), and whether public lookups of its documents show detail.

Revision ID: 0012_tenant_settings
Revises: 0011_superseded_links
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_tenant_settings"
down_revision = "0011_superseded_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns, with the defaults every existing tenant had in effect (a plain
    ALTER TABLE on both databases: the tenant table, which others reference, is not rebuilt)."""
    op.add_column(
        "tenant", sa.Column("language", sa.String(8), nullable=False, server_default="en")
    )
    op.add_column(
        "tenant", sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC")
    )
    op.add_column(
        "tenant",
        sa.Column("public_detail", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    """Drop the columns (ALTER TABLE … DROP COLUMN, which SQLite has since 3.35)."""
    for column in ("public_detail", "time_zone", "language"):
        op.execute(sa.text(f"ALTER TABLE tenant DROP COLUMN {column}"))
