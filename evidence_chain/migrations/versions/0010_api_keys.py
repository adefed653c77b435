"""API keys: a name, when each was last used, and an index to find one by its prefix.

Keys made before this revision have no name and no recorded use.

Revision ID: 0010_api_keys
Revises: 0009_people
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_api_keys"
down_revision = "0009_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the name and last-used columns and the prefix index."""
    with op.batch_alter_table("api_key") as batch:
        batch.add_column(sa.Column("name", sa.String(100), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_api_key_prefix", "api_key", ["prefix"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_api_key_prefix", "api_key")
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("name")
