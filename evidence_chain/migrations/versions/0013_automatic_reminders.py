"""Automatic reminders: an envelope may ask that the parties whose turn it is be reminded
every N days until they sign.

Revision ID: 0013_automatic_reminders
Revises: 0012_envelope_search
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_automatic_reminders"
down_revision = "0012_envelope_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (no envelope had automatic reminders before)."""
    op.add_column("envelope", sa.Column("remind_every_days", sa.Integer, nullable=True))


def downgrade() -> None:
    """Drop the column."""
    op.execute(sa.text("ALTER TABLE envelope DROP COLUMN remind_every_days"))
