"""Backup and restore of a whole instance: the database, the blob store and every key.

A backup is a folder (0700, files 0600)::

    manifest.json            format, versions, log figures, every file with its SHA-256
    database/sealtrail.db    SQLite: a copy made with the online backup API
    database/tables.jsonl    any other database: a logical export from one snapshot
    files/keys/...           the log key, the master key (unless in the environment)
    files/session.key        the session key (unless in the environment)
    files/pki/...            the signing authority
    files/chain/...          the embedded chain's deployment record and state
    files/blobs/...          the documents, named by their SHA-256 (unless they are kept in
                             an object store, EVIDENCE_BLOB_URL, which the manifest names)

It is taken while the service runs. The database is copied first, from one snapshot; the blob
store is copied after it, so it holds every blob the snapshot names (and perhaps a few more,
which do no harm: blobs are content-addressed). Events acknowledged after the snapshot are not
in the backup. The backup is written into ``DEST.partial`` and renamed to ``DEST`` once the
manifest is written, so a folder named ``DEST`` is always a complete backup.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_chain import db
from evidence_chain.clock import utcnow
from evidence_chain.config import Settings
from evidence_chain.db_backup import (
    LogFigures,
    export_tables,
    figures_of,
    import_tables,
    snapshot_sqlite,
    sqlite_path,
)
from evidence_chain.errors import ConfigurationError, EvidenceError
from evidence_chain.keystore import ENV_VAR as MASTER_KEY_ENV
from evidence_chain.keystore import master_key_path
from evidence_chain.private_files import (
    FILE_MODE,
    instance_lock,
    make_private_dir,
)

FORMAT = "sealtrail-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database/sealtrail.db"
EXPORT_FILE = "database/tables.jsonl"
CHUNK = 1024 * 1024


class BackupError(EvidenceError):
    """A backup cannot be taken or restored as asked."""

    code = "backup_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)


@dataclass(frozen=True)
class Backup:
    """A complete backup: where it is and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def figures(self) -> dict[str, Any]:
        """The log's figures at backup time."""
        return dict(self.manifest["database"])

    @property
    def size(self) -> int:
        """Bytes of every file the manifest lists."""
        return sum(int(f["size"]) for f in self.manifest["files"])


def _instance_files(settings: Settings) -> list[tuple[str, Path]]:
    """(name in the backup, path) of each key and authority file of the instance."""
    home = settings.home
    files: list[tuple[str, Path]] = [("files/keys/log_ed25519.pem", settings.key_path)]
    if not settings.master_key:
        files.append(("files/keys/master.key", master_key_path(settings)))
    if not settings.session_key:
        files.append(("files/session.key", settings.session_key_path))
    for folder in ("pki", "chain"):
        files.extend(
            (f"files/{path.relative_to(home).as_posix()}", path)
            for path in _walk(home / folder)
            if not path.name.endswith((".lock", ".log"))
        )
    return files


def _walk(folder: Path) -> Iterator[Path]:
    """The regular files under ``folder``, sorted, without temporary files being written."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            yield path


def _copy(source: Path, target: Path) -> dict[str, Any]:
    """Copy ``source`` to the new private file ``target``; return its size and SHA-256."""
    make_private_dir(target.parent)
    digest = hashlib.sha256()
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return {"size": size, "sha256": digest.hexdigest()}


def _hash(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def take_backup(settings: Settings, dest: Path) -> Backup:
    """Back the running instance up into the new folder ``dest``."""
    dest = Path(dest).resolve()
    if dest.exists():
        raise BackupError(f"{dest} exists: a backup goes into a new folder", {"path": str(dest)})
    if dest == settings.home or settings.home in dest.parents:
        raise BackupError("a backup cannot be written inside EVIDENCE_HOME", {"path": str(dest)})
    work = dest.with_name(dest.name + ".partial")
    if work.exists():
        shutil.rmtree(work)
    make_private_dir(work)
    started = utcnow()
    entries: list[dict[str, Any]] = []
    try:
        # 1. the database, from one snapshot
        make_private_dir(work / "database")
        if settings.is_sqlite:
            snapshot_sqlite(settings.database_url, work / SQLITE_FILE)
            figures = figures_of(f"sqlite:///{work / SQLITE_FILE}")
            entries.append({"path": SQLITE_FILE, **_hash(work / SQLITE_FILE)})
            backend = "sqlite"
        else:
            engine = db.make_engine(settings.database_url)
            try:
                fd = os.open(work / EXPORT_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    figures = export_tables(engine, out)
                    out.flush()
                    os.fsync(out.fileno())
                backend = engine.dialect.name
            finally:
                engine.dispose()
            entries.append({"path": EXPORT_FILE, **_hash(work / EXPORT_FILE)})
        # 2. keys and the signing authority, as one set (never half of a set being made)
        with instance_lock(settings.home, shared=True):
            for name, path in _instance_files(settings):
                if path.is_file():
                    entries.append({"path": name, **_copy(path, work / name)})
        # 3. the blobs, after the snapshot: a superset of those it names. Documents in an
        # object store (EVIDENCE_BLOB_URL) stay there: it is shared, write-once, and backed up
        # by the store's own versioning or replication.
        blobs = settings.home / "blobs"
        for path in [] if settings.blob_url else _walk(blobs):
            name = f"files/blobs/{path.relative_to(blobs).as_posix()}"
            entry = {"path": name, **_copy(path, work / name)}
            if entry["sha256"] != path.name:
                raise BackupError(
                    f"the blob {path} does not hold the bytes it is named after",
                    {"path": str(path), "sha256": entry["sha256"]},
                )
            entries.append(entry)
        manifest = _manifest(settings, backend, figures, entries, started)
        fd = os.open(work / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(manifest, out, indent=2, ensure_ascii=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.rename(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Backup(dest, manifest)


def _manifest(
    settings: Settings,
    backend: str,
    figures: LogFigures,
    entries: list[dict[str, Any]],
    started: Any,
) -> dict[str, Any]:
    from_env = [
        name
        for name, value in (
            (MASTER_KEY_ENV, settings.master_key),
            ("EVIDENCE_SESSION_KEY", settings.session_key),
        )
        if value
    ]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "started_at": started.isoformat(),
        "finished_at": utcnow().isoformat(),
        "schema_revision": figures.revision,
        "database": {"backend": backend, **figures.to_json()},
        "secrets_in_environment": from_env,
        "blob_store": settings.blob_url or "files",
        "files": sorted(entries, key=lambda e: str(e["path"])),
    }


def read_backup(src: Path) -> Backup:
    """Open a backup and check it against its manifest: every file present, whole, unaltered."""
    src = Path(src).resolve()
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"{src} has no {MANIFEST}: it is not a complete backup", {"path": str(src)}
        ) from None
    except ValueError as exc:
        raise BackupError(f"{src / MANIFEST} is not JSON: {exc}", {"path": str(src)}) from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{src} is not a Sealtrail backup", {"path": str(src)})
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"backup format version {manifest.get('format_version')} is not supported "
            f"(this version reads {FORMAT_VERSION})",
            {"format_version": manifest.get("format_version")},
        )
    problems: list[str] = []
    for entry in manifest["files"]:
        name = str(entry["path"])
        path = (src / name).resolve()
        if src not in path.parents:
            raise BackupError(f"the manifest names a file outside the backup: {name}")
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif _hash(path) != {"size": entry["size"], "sha256": entry["sha256"]}:
            problems.append(f"{name}: altered (its SHA-256 is not the manifest's)")
    if problems:
        raise BackupError(
            f"the backup does not match its manifest: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            {"problems": problems[:100]},
        )
    return Backup(src, manifest)


def instance_in_use(settings: Settings) -> list[str]:
    """What already holds an instance at ``settings``: files of one, or a database with data."""
    found = [
        str(path)
        for path in (
            settings.key_path,
            master_key_path(settings),
            settings.session_key_path,
            settings.home / "pki",
            settings.home / "blobs",
        )
        if path.exists()
    ]
    if settings.is_sqlite:
        path = sqlite_path(settings.database_url)
        if path.exists() and path.stat().st_size > 0:
            found.append(str(path))
    else:
        figures = figures_of(settings.database_url)
        if any(figures.rows.values()):
            found.append("the database (it has rows)")
    return found


def restore_backup(settings: Settings, src: Path, *, force: bool = False) -> Backup:
    """Restore the backup ``src`` into the instance of ``settings`` (the service stopped).

    Refuses an instance that holds anything unless ``force``; then it is replaced.
    """
    backup = read_backup(src)
    manifest = backup.manifest
    backend = manifest["database"]["backend"]
    missing_env = [name for name in manifest["secrets_in_environment"] if not _env_set(name)]
    if missing_env:
        raise BackupError(
            f"the backup was taken with {', '.join(missing_env)} in the environment; set it to "
            "the same value before restoring",
            {"missing": missing_env},
        )
    store = manifest.get("blob_store", "files")
    if store != "files" and store != settings.blob_url:
        raise BackupError(
            f"the documents of this backup are in the object store {store}, not in the backup: "
            "set EVIDENCE_BLOB_URL to it (or to a copy of it) before restoring",
            {"blob_store": store},
        )
    if backend == "sqlite" and not settings.is_sqlite:
        raise BackupError(
            "this backup holds a SQLite database; restore it into a SQLite instance "
            "(unset DATABASE_URL)",
            {"backend": backend},
        )
    in_use = instance_in_use(settings)
    if in_use and not force:
        raise BackupError(
            "the instance is not empty; restore into a fresh EVIDENCE_HOME and database, or "
            "pass --force to replace it",
            {"found": in_use},
        )
    make_private_dir(settings.home)
    with instance_lock(settings.home):
        if in_use:
            _clear(settings)
        _restore_database(settings, backup)
        for entry in manifest["files"]:
            name = str(entry["path"])
            if not name.startswith("files/"):
                continue
            target = _target(settings, name)
            target.unlink(missing_ok=True)
            _copy(backup.path / name, target)
    return backup


def _env_set(name: str) -> bool:
    return bool(os.environ.get(name))


def _target(settings: Settings, name: str) -> Path:
    """Where a file of the backup goes in the instance."""
    if name == "files/keys/log_ed25519.pem":
        return settings.key_path
    return settings.home / name.removeprefix("files/")


def _clear(settings: Settings) -> None:
    """Remove what an instance holds (``restore --force``)."""
    for folder in ("pki", "blobs", "chain", "cache"):
        shutil.rmtree(settings.home / folder, ignore_errors=True)
    for path in (settings.key_path, master_key_path(settings), settings.session_key_path):
        path.unlink(missing_ok=True)
    if settings.is_sqlite:
        path = sqlite_path(settings.database_url)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        from sqlalchemy import MetaData

        engine = db.make_engine(settings.database_url)
        try:
            with engine.begin() as conn:
                meta = MetaData()
                meta.reflect(bind=conn)
                meta.drop_all(bind=conn)
        finally:
            engine.dispose()


def _restore_database(settings: Settings, backup: Backup) -> None:
    names = {str(e["path"]) for e in backup.manifest["files"]}
    if SQLITE_FILE in names:
        target = sqlite_path(settings.database_url)
        make_private_dir(target.parent)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        _copy(backup.path / SQLITE_FILE, target)
        db.upgrade(settings.database_url)
    elif EXPORT_FILE in names:
        with open(backup.path / EXPORT_FILE, encoding="utf-8") as lines:
            import_tables(settings.database_url, lines)
    else:
        raise ConfigurationError("the backup holds no database")
