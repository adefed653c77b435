"""Envelopes: documents, parties, fields, signer links, one-time codes, notifications.

Revision ID: 0006_envelopes
Revises: 0005_documents
Create Date: 2026-11-21
"""

from __future__ import annotations

revision = "0006_envelopes"
down_revision = "0005_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables."""


def downgrade() -> None:
    """Drop the tables."""
