"""Database engine, sessions and schema migrations.

SQLite runs in WAL mode with ``synchronous=FULL`` so that a committed (acknowledged) event
survives a crash of the process or of the machine; writers take the database lock at the
start of their transaction (``BEGIN IMMEDIATE``) so sequencing is serialised. Readers use
:func:`reading`: a deferred transaction, a WAL reader that sees one consistent snapshot and
never waits for a writer (nor makes one wait). PostgreSQL serialises sequencing with a row
lock on ``log_state``; its readers run in READ ONLY, REPEATABLE READ transactions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.orm import Session

from evidence_chain.private_files import FILE_MODE, make_private_dir

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30000
"""How long a SQLite statement waits for a lock before 'database is locked'."""
VERSION_TABLE = "alembic_version"
# `revision = "0007_webhooks"` and `down_revision = "0006_envelopes"` (or None) in each script
_REVISION_LINE = re.compile(
    r"""^(revision|down_revision)\s*(?::[^=\n]*)?=\s*["']?([A-Za-z0-9_]*)["']?\s*$""", re.M
)
READ_ONLY = "sealtrail_read_only"
"""Execution option of a connection whose transactions only read (see :func:`reading`)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the pragmas and pool settings Sealtrail relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            _create_private_database_file(Path(path))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            # 64 MiB of page cache (default 2 MiB): the subject index of a large log stays in
            # memory, so ingest at 1M leaves keeps 0.95 of an empty log's rate (bench proofs).
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # The driver is in autocommit mode. A reader begins a deferred transaction: it
            # takes no lock and reads the WAL snapshot of its first statement. A writer takes
            # the write lock up front, so that two writers never deadlock upgrading a read
            # lock, and sequencing is serialised.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def _create_private_database_file(path: Path) -> None:
    """Create an empty SQLite file (mode 0600, folder 0700) unless it exists.

    The database holds the outbox with live signing links and codes. SQLite gives its ``-wal``
    and ``-shm`` files the mode of the database file, so all three stay private.
    """
    make_private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection in a read-only transaction, rolled back at the end.

    Every read path (proofs, bundles, lists, views) uses it. On SQLite the transaction is
    deferred, so reads never queue behind the write lock that ingest holds; every statement
    in it sees the same snapshot. On PostgreSQL it is READ ONLY and REPEATABLE READ (one
    snapshot too), so a write slipped into a read path fails loudly in the tests instead of
    going unnoticed.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execution_options(**{READ_ONLY: True})
        else:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        # The first statement begins the transaction; closing the connection rolls it back.
        yield conn


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def alembic_config(url: str) -> Any:
    """An Alembic configuration bound to ``url`` and Sealtrail's migration scripts."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the schema at ``url`` to the latest migration."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def current_revision(engine: Engine) -> str | None:
    """The migration revision the database is at, or None if it has none.

    Read straight from Alembic's ``alembic_version`` table (as Alembic reads it), so a command
    that only checks the schema never imports Alembic."""
    with reading(engine) as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = sorted(
            str(r) for r in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        )
    return ",".join(rows) or None


def head_revision() -> str:
    """The newest migration revision shipped with this code.

    Read from the scripts' own ``revision`` and ``down_revision`` lines: the one revision no
    other script follows (a test holds this to Alembic's own answer)."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revisions.add(found["revision"])
        if found.get("down_revision", "None") != "None":
            followed.add(found["down_revision"])
    heads = revisions - followed
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must have exactly one head, found {sorted(heads)}")
    return heads.pop()


def alembic_head_revision() -> str:
    """The newest migration revision as Alembic itself finds it (slower: imports Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows of ``table`` in the caller's transaction, by the fastest way the
    database offers: PostgreSQL's ``COPY … FROM STDIN`` (one round trip, no statement per
    row; the usual executemany sends one statement a row), else an executemany."""
    if not rows:
        return
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        conn.execute(table.insert(), list(rows))
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
