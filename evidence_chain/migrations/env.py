"""Alembic environment: runs Sealtrail's migrations against the configured URL."""

from __future__ import annotations

from alembic import context

from evidence_chain.db import make_engine

config = context.config


def run_migrations_online() -> None:
    """Apply migrations with a live connection."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
