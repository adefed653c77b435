"""Mail queue: the outbox's delivery columns (status, attempts, lease, sent time, last error).

Messages written before this revision were either sent at once or kept for the operator; they
stay ``kept``.

Revision ID: 0008_mail_queue
Revises: 0007_webhooks
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_mail_queue"
down_revision = "0007_webhooks"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the delivery columns and the index of due messages."""
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="kept"))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", TZ, nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(40), nullable=True))
        batch.add_column(sa.Column("lease_until", TZ, nullable=True))
        batch.add_column(sa.Column("sent_at", TZ, nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(500), nullable=True))
    op.create_index("ix_outbox_message_due", "outbox_message", ["status", "next_attempt_at"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_outbox_message_due", "outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        for column in (
            "last_error",
            "sent_at",
            "lease_until",
            "lease_owner",
            "next_attempt_at",
            "attempts",
            "status",
        ):
            batch.drop_column(column)
