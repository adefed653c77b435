"""First start of an instance: everything it keeps under EVIDENCE_HOME, made once."""

from __future__ import annotations

from evidence_chain import db
from evidence_chain.config import Settings
from evidence_chain.ledger import Ledger
from evidence_chain.logkey import create_private_key, load_private_key
from evidence_chain.private_files import (
    create_secret_file,
    instance_lock,
    make_private_dir,
    read_secret_file,
)
from signing.authority import create_authority, load_authority


def initialise(settings: Settings) -> None:
    """Make or upgrade an instance, before anything serves from it (idempotent).

    Creates, under the instance's inter-process lock: the home folder (0700 when it makes it),
    the database schema, the log key and origin, the signing authority (master key, CAs, TSA,
    service signer: :mod:`signing.authority`) and the session key of the signer pages. This is
    the only place they are made: gunicorn's ``on_starting`` and ``flask --app app init`` call
    it; workers and every other command only open them (:func:`check_initialised`).
    """
    make_private_dir(settings.home)
    with instance_lock(settings.home):
        db.upgrade(settings.database_url)
        create_private_key(settings.key_path)
        engine = db.make_engine(settings.database_url)
        try:
            Ledger.ensure_origin(engine, settings.log_origin)
        finally:
            engine.dispose()
        if not settings.session_key:
            create_secret_file(settings.session_key_path)
    create_authority(settings)
    check_initialised(settings)  # what every worker will check: refuse now, not in each worker


def check_initialised(settings: Settings) -> None:
    """ConfigurationError (naming the file) unless every file of the instance is present and
    fits: the log key, the signing authority, the session key."""
    load_private_key(settings.key_path)
    load_authority(settings)
    if not settings.session_key:
        read_secret_file(settings.session_key_path, "the session key")
