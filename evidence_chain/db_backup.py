"""Consistent copies of the database while the service runs, and their restoration.

SQLite: the online backup API copies the database page by page inside one read transaction,
so the copy is the database as it stood at one commit (WAL readers never block writers).
PostgreSQL (or any database): a logical export, every table read in one READ ONLY, REPEATABLE
READ transaction (one snapshot), written as JSON lines; restoring it migrates an empty database
to the export's revision, inserts the rows parent tables first, moves the sequences past them
and migrates to the newest revision.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Connection,
    Engine,
    LargeBinary,
    MetaData,
    Table,
    create_engine,
    func,
    select,
    text,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.types import DateTime

from evidence_chain import db
from evidence_chain.clock import aware
from evidence_chain.errors import ConfigurationError
from evidence_chain.private_files import FILE_MODE

VERSION_TABLE = "alembic_version"
BATCH = 1000


@dataclass(frozen=True)
class LogFigures:
    """What the snapshot holds of the log: its size and its last checkpoint and anchor."""

    revision: str | None
    origin: str | None
    tree_size: int
    checkpoint_size: int | None
    checkpoint_root: str | None
    checkpoint_at: str | None
    anchored_size: int | None
    rows: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """The figures as the backup manifest records them."""
        return {
            "revision": self.revision,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "last_checkpoint": (
                None
                if self.checkpoint_size is None
                else {
                    "tree_size": self.checkpoint_size,
                    "root": self.checkpoint_root,
                    "signed_at": self.checkpoint_at,
                }
            ),
            "last_anchored_tree_size": self.anchored_size,
            "rows": self.rows,
        }


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL."""
    path = url.split("///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:":
        raise ConfigurationError("an in-memory SQLite database cannot be backed up")
    return Path(path)


def _private_file(path: Path) -> None:
    import os

    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def snapshot_sqlite(url: str, dest: Path) -> None:
    """Copy the SQLite database at ``url`` into the new file ``dest`` (0600), consistently."""
    _private_file(dest)
    source = sqlite3.connect(sqlite_path(url), timeout=30)
    try:
        target = sqlite3.connect(dest)
        try:
            # pages=-1: the whole database in one step, under one read transaction
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        source.close()


def _tables(conn: Connection) -> list[Table]:
    meta = MetaData()
    meta.reflect(bind=conn)
    return [t for t in meta.sorted_tables if t.name != VERSION_TABLE]


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        column = table.c[name]
        if value is not None and isinstance(column.type, LargeBinary):
            value = base64.b64decode(value)
        elif value is not None and isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value)
        out[name] = value
    return out


def export_tables(engine: Engine, out: IO[str]) -> LogFigures:
    """Write every table of the database as JSON lines, from one snapshot; return its figures.

    The first line names the format and the migration revision; then one line per table
    (``{"table", "columns"}``) followed by one line per row (a list, in column order).
    """
    with db.reading(engine) as conn:
        figures = log_figures(conn)
        out.write(json.dumps({"format": "sealtrail-tables", "revision": figures.revision}) + "\n")
        for table in _tables(conn):
            columns = [c.name for c in table.columns]
            out.write(json.dumps({"table": table.name, "columns": columns}) + "\n")
            order = list(table.primary_key.columns) or list(table.columns)
            for row in conn.execute(select(table).order_by(*order)):
                out.write(json.dumps([_encode(v) for v in row], ensure_ascii=False) + "\n")
    return figures


def _read_export(lines: IO[str]) -> tuple[str | None, Iterator[tuple[str, list[str], list[Any]]]]:
    header = json.loads(lines.readline() or "{}")
    if header.get("format") != "sealtrail-tables":
        raise ConfigurationError("the database export does not start with its header")

    def rows() -> Iterator[tuple[str, list[str], list[Any]]]:
        table: str | None = None
        columns: list[str] = []
        for line in lines:
            item = json.loads(line)
            if isinstance(item, dict):
                table, columns = str(item["table"]), [str(c) for c in item["columns"]]
                continue
            if table is None:
                raise ConfigurationError("the database export has a row before any table")
            yield table, columns, item

    return header.get("revision"), rows()


def import_tables(url: str, lines: IO[str]) -> None:
    """Load an export made by :func:`export_tables` into the empty database at ``url``."""
    from alembic import command

    revision, rows = _read_export(lines)
    command.upgrade(db.alembic_config(url), revision or "head")
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            tables = {t.name: t for t in _tables(conn)}
            if any(conn.execute(select(t).limit(1)).first() for t in tables.values()):
                raise ConfigurationError("the target database is not empty")
            pending: list[dict[str, Any]] = []
            current: str | None = None
            for name, columns, values in rows:
                if name not in tables:
                    raise ConfigurationError(f"the export has a table {name!r} the schema lacks")
                if name != current or len(pending) >= BATCH:
                    if pending and current is not None:
                        conn.execute(tables[current].insert(), pending)
                    pending, current = [], name
                pending.append(_decode(tables[name], dict(zip(columns, values, strict=True))))
            if pending and current is not None:
                conn.execute(tables[current].insert(), pending)
            if engine.dialect.name == "postgresql":
                _move_sequences(conn, list(tables.values()))
    finally:
        engine.dispose()
    db.upgrade(url)


def _move_sequences(conn: Connection, tables: list[Table]) -> None:
    """Set each serial column's sequence past the rows just inserted."""
    for table in tables:
        for column in table.primary_key.columns:
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar()
            if seq:
                top = conn.execute(select(func.max(column))).scalar()
                conn.execute(
                    text("SELECT setval(:s, :v, false)"), {"s": seq, "v": int(top or 0) + 1}
                )


def log_figures(conn: Connection) -> LogFigures:
    """The log's size, last checkpoint and last anchored size, and each table's row count."""
    tables = {t.name: t for t in _tables(conn)}
    revision = None
    if conn.dialect.has_table(conn, VERSION_TABLE):
        version = sql_table(VERSION_TABLE, sql_column("version_num"))
        revision = conn.execute(select(version.c.version_num)).scalar()
    rows = {
        name: int(conn.execute(select(text("count(*)")).select_from(t)).scalar() or 0)
        for name, t in sorted(tables.items())
    }
    origin, size = None, 0
    if "log_state" in tables:
        state = conn.execute(select(tables["log_state"]).limit(1)).first()
        if state is not None:
            origin, size = str(state.origin), int(state.tree_size)
    cp = None
    if "checkpoint" in tables:
        t = tables["checkpoint"]
        cp = conn.execute(select(t).order_by(t.c.tree_size.desc()).limit(1)).first()
    anchored = None
    if "anchor" in tables:
        t = tables["anchor"]
        anchored = conn.execute(
            select(t.c.tree_size)
            .where(t.c.status.in_(("mined", "confirmed")))
            .order_by(t.c.tree_size.desc())
            .limit(1)
        ).scalar()
    return LogFigures(
        revision=revision,
        origin=origin,
        tree_size=size,
        checkpoint_size=None if cp is None else int(cp.tree_size),
        checkpoint_root=None if cp is None else bytes(cp.root).hex(),
        checkpoint_at=None if cp is None else aware(cp.created_at).isoformat(),
        anchored_size=None if anchored is None else int(anchored),
        rows=rows,
    )


def figures_of(url: str) -> LogFigures:
    """The figures of the database at ``url`` (read in one snapshot)."""
    # a plain engine: reading a copy must not switch it to WAL as the service's engine does
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return log_figures(conn)
    finally:
        engine.dispose()
