"""First start of an instance: its home folder, database schema, log key and log origin."""

from __future__ import annotations

from evidence_chain import db
from evidence_chain.config import Settings
from evidence_chain.ledger import Ledger
from evidence_chain.logkey import load_or_create_private_key


def initialise(settings: Settings) -> None:
    """Prepare an instance on first start (idempotent): home folder, schema, log key, origin."""
    settings.home.mkdir(parents=True, exist_ok=True)
    db.upgrade(settings.database_url)
    load_or_create_private_key(settings.key_path)
    engine = db.make_engine(settings.database_url)
    try:
        Ledger.ensure_origin(engine, settings.log_origin)
    finally:
        engine.dispose()
