"""Superseded signing links: the hash of each link token a reminder replaced.

An old link then answers "replaced by a newer link" (410) rather than "unknown link" (404).
Links replaced before this revision were not recorded and stay unknown.

Revision ID: 0011_superseded_links
Revises: 0010_api_keys
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_superseded_links"
down_revision = "0010_api_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "envelope_superseded_link",
        sa.Column("token_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("envelope_party.id"), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_envelope_superseded_link_party_id", "envelope_superseded_link", ["party_id"]
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_index("ix_envelope_superseded_link_party_id", "envelope_superseded_link")
    op.drop_table("envelope_superseded_link")
