"""Document hashes named by events, for lookups by hash.

Revision ID: 0005_documents
Revises: 0004_reports
Create Date: 2026-11-21
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005_documents"
down_revision = "0004_reports"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    """Create the document index and fill it from the records already in the log."""
    from evidence_chain.documents import index_rows

    table = op.create_table(
        "document_ref",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.LargeBinary(32), nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
    )
    op.create_index("ix_document_ref_sha256", "document_ref", ["sha256"])
    conn = op.get_bind()
    entry = sa.table(
        "ledger_entry",
        sa.column("leaf_index", sa.BigInteger),
        sa.column("tenant_id", sa.Integer),
        sa.column("subject", sa.String),
        sa.column("record", sa.Text),
    )
    last = -1
    while True:
        rows = conn.execute(
            sa.select(entry.c.leaf_index, entry.c.tenant_id, entry.c.subject, entry.c.record)
            .where(entry.c.leaf_index > last)
            .order_by(entry.c.leaf_index)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        refs: list[dict[str, object]] = []
        for row in rows:
            # A cheap test first: most records name no document.
            if "sha256" in row.record:
                record = json.loads(row.record)
                kind = record.get("type") if isinstance(record.get("type"), str) else ""
                refs += index_rows(
                    int(row.tenant_id), row.subject, int(row.leaf_index), record.get("data"), kind
                )
        if refs:
            conn.execute(sa.insert(table), refs)
        last = int(rows[-1].leaf_index)


def downgrade() -> None:
    """Drop the document index."""
    op.drop_index("ix_document_ref_sha256", table_name="document_ref")
    op.drop_table("document_ref")
