"""Searching envelopes: the text of each envelope (title, id, parties' names, emails and
organisations) in an index that finds substrings, Chinese included.

* SQLite: an FTS5 table ``envelope_fts`` with the trigram tokenizer (rowid = envelope id);
  ``LIKE '%…%'`` on it is answered from the index for patterns of three characters or more.
* PostgreSQL: a table ``envelope_search`` with GIN ``pg_trgm`` indexes, which answer
  ``ILIKE '%…%'``.

The rows are written by :mod:`signing.envelopes.search` in the transaction that writes the
envelope. Existing envelopes are indexed here.

Revision ID: 0012_envelope_search
Revises: 0012_tenant_settings
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_envelope_search"
down_revision = "0012_tenant_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the index of the dialect and fill it from the existing envelopes."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The extension belongs to the database, not to this schema: made in ``public`` (where
        # dropping an instance's schema cannot take it away from another instance's indexes),
        # and its operator class named with whatever schema holds it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        home = bind.execute(
            sa.text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n"
                " ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
            )
        ).scalar_one()
        ops = f'"{home}".gin_trgm_ops'
        op.create_table(
            "envelope_search",
            sa.Column(
                "envelope_id",
                sa.Integer,
                sa.ForeignKey("envelope.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("tenant_id", sa.Integer, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("parties", sa.Text, nullable=False),
        )
        op.execute(
            f"CREATE INDEX ix_envelope_search_body ON envelope_search USING gin (body {ops})"
        )
        op.execute(
            f"CREATE INDEX ix_envelope_search_parties ON envelope_search USING gin (parties {ops})"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE envelope_fts USING fts5(body, parties, tokenize='trigram')"
        )
    op.create_index("ix_envelope_tenant_created", "envelope", ["tenant_id", "created_at"])
    _fill(bind.dialect.name == "postgresql")


def _fill(postgres: bool) -> None:
    # The same text as signing.envelopes.search.texts writes: id and title, then each party's
    # name, email and organisation on a line of its own.
    if postgres:
        op.execute(
            "INSERT INTO envelope_search (envelope_id, tenant_id, body, parties) "
            "SELECT e.id, e.tenant_id, e.public_id || chr(10) || e.title || chr(10) || "
            "COALESCE(string_agg(concat_ws(' ', p.name, p.email, p.organisation), chr(10) "
            "ORDER BY p.id), ''), "
            "COALESCE(string_agg(concat_ws(' ', p.name, p.email, p.organisation), chr(10) "
            "ORDER BY p.id), '') "
            "FROM envelope e LEFT JOIN envelope_party p ON p.envelope_id = e.id "
            "GROUP BY e.id"
        )
    else:
        op.execute(
            "INSERT INTO envelope_fts (rowid, body, parties) "
            "SELECT e.id, e.public_id || char(10) || e.title || char(10) || "
            "COALESCE(group_concat(p.name || COALESCE(' ' || p.email, '') || "
            "COALESCE(' ' || p.organisation, ''), char(10)), ''), "
            "COALESCE(group_concat(p.name || COALESCE(' ' || p.email, '') || "
            "COALESCE(' ' || p.organisation, ''), char(10)), '') "
            "FROM envelope e LEFT JOIN envelope_party p ON p.envelope_id = e.id "
            "GROUP BY e.id"
        )


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_envelope_tenant_created", table_name="envelope")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_table("envelope_search")
    else:
        op.execute("DROP TABLE envelope_fts")
