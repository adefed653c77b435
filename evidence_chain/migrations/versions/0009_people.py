"""People of a tenant: users, their console sessions, one-time tokens, recovery codes and the
login throttle.

Revision ID: 0009_people
Revises: 0008_mail_queue
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_people"
down_revision = "0008_mail_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "person",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("totp_blob", sa.LargeBinary, nullable=True),
        sa.Column("totp_pending_blob", sa.LargeBinary, nullable=True),
        sa.Column("totp_last_counter", sa.BigInteger, nullable=True),
        sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_person_public_id", "person", ["public_id"], unique=True)
    op.create_index("ix_person_email", "person", ["email"], unique=True)
    op.create_index("ix_person_tenant_id", "person", ["tenant_id"])
    op.create_table(
        "person_session",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("id_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("stage", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
    )
    op.create_index("ix_person_session_public_id", "person_session", ["public_id"], unique=True)
    op.create_index("ix_person_session_id_hash", "person_session", ["id_hash"], unique=True)
    op.create_index("ix_person_session_person_id", "person_session", ["person_id"])
    op.create_table(
        "person_token",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_person_token_token_hash", "person_token", ["token_hash"], unique=True)
    op.create_index("ix_person_token_person_id", "person_token", ["person_id"])
    op.create_table(
        "person_recovery_code",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_person_recovery_code_person_id", "person_recovery_code", ["person_id"])
    op.create_table(
        "login_throttle",
        sa.Column("key_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Drop the tables."""
    for table in (
        "login_throttle",
        "person_recovery_code",
        "person_token",
        "person_session",
        "person",
    ):
        op.drop_table(table)
