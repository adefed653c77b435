"""One Sealtrail instance: its settings, database engine, log key and ledger, wired once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from evidence_chain import db
from evidence_chain.config import Settings
from evidence_chain.errors import ConfigurationError
from evidence_chain.ledger import Ledger
from evidence_chain.logkey import LogKey, load_or_create_private_key

log = logging.getLogger(__name__)


@dataclass
class Instance:
    """The domain services of one instance, shared by the web edge, the CLI and the scheduler."""

    settings: Settings
    engine: Engine
    ledger: Ledger

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


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


def open_instance(settings: Settings) -> Instance:
    """Open an initialised instance; ConfigurationError if its schema is not up to date."""
    engine = db.make_engine(settings.database_url)
    current = db.current_revision(engine)
    head = db.head_revision()
    if current != head:
        engine.dispose()
        raise ConfigurationError(
            f"the database schema is at {current or 'nothing'}, this code needs {head}: "
            "run `flask --app app init` (or `make run`, which does it)"
        )
    if not settings.key_path.exists():
        engine.dispose()
        raise ConfigurationError(
            f"no log key at {settings.key_path}: run `flask --app app init` first"
        )
    private_key = load_or_create_private_key(settings.key_path)
    origin = Ledger.ensure_origin(engine, settings.log_origin)
    ledger = Ledger(engine, LogKey(origin=origin, private_key=private_key))
    return Instance(settings=settings, engine=engine, ledger=ledger)
