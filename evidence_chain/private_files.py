"""Files under ``EVIDENCE_HOME``: private (0600 files, 0700 folders), written atomically, and
created under one inter-process lock.

The instance home holds the database, keys, certificates, documents and the outbox (live
signing links and codes): nobody but the service's user may read any of it. The service sets
a restrictive umask when it starts (:func:`restrict_umask`), so that whatever a library or a
child process (SQLite, anvil) creates there is private too, and every file Sealtrail writes
itself is created with an explicit mode, so it stays private under any umask.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from evidence_chain.errors import ConfigurationError

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "LOCK_NAME",
    "PRIVATE_UMASK",
    "create_private_file",
    "create_secret_file",
    "file_lock",
    "instance_lock",
    "make_private_dir",
    "read_private_file",
    "read_secret_file",
    "restrict_umask",
    "write_private_file",
]

FILE_MODE = 0o600
DIR_MODE = 0o700
PRIVATE_UMASK = 0o077
LOCK_NAME = "instance.lock"
SECRET_BYTES = 64
MIN_SECRET_BYTES = 32


def restrict_umask() -> int:
    """Make everything this process creates from now on private to its user; return the old mask."""
    return os.umask(PRIVATE_UMASK)


def make_private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents as 0700 folders (existing ones are left alone)."""
    missing: list[Path] = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)
            # mkdir's mode is filtered by the umask; the folder must not depend on it
            os.chmod(folder, DIR_MODE)
    return Path(path)


def _write_aside(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new private file beside ``path``, flushed to disk; return its name."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private_file(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file, then rename), mode 0600.

    A reader sees the old content or the new one, never a part of either.
    """
    path = Path(path)
    make_private_dir(path.parent)
    tmp = _write_aside(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_dir(path.parent)


def create_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data`` (mode 0600) only if it does not exist yet.

    FileExistsError when it does: the file is linked into place whole, so an existing key is
    never overwritten and nobody ever reads a half-written one.
    """
    path = Path(path)
    make_private_dir(path.parent)
    tmp = _write_aside(path, data)
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _sync_dir(path.parent)


def read_private_file(path: Path, what: str) -> bytes:
    """The bytes of a secret file; ConfigurationError if it is missing or others may read it."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        raise ConfigurationError(
            f"{what} {path} is missing: run `flask --app app init` (or `make run`) first"
        ) from None
    if mode & 0o077:
        raise ConfigurationError(
            f"{what} {path} is readable by others (mode {mode:o}); chmod 600 it"
        )
    return path.read_bytes()


def create_secret_file(path: Path, size: int = SECRET_BYTES) -> None:
    """Fill ``path`` with ``size`` random bytes (0600) unless it exists already."""
    if Path(path).exists():
        return
    with contextlib.suppress(FileExistsError):
        create_private_file(Path(path), secrets.token_bytes(size))


def read_secret_file(path: Path, what: str, minimum: int = MIN_SECRET_BYTES) -> bytes:
    """The bytes of a secret made by :func:`create_secret_file`; ConfigurationError naming the
    file if it is missing, open to others or too short to be one."""
    data = read_private_file(path, what)
    if len(data) < minimum:
        raise ConfigurationError(
            f"{what} {path} holds {len(data)} bytes, fewer than {minimum}: it was not written "
            "whole; remove it and run `flask --app app init`"
        )
    return data


@contextlib.contextmanager
def file_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold an inter-process ``flock`` on the file ``path`` (created 0600), blocking until granted.

    Each call opens its own descriptor, so two threads of one process exclude each other too;
    a thread must not take the same lock again while it holds it.
    """
    path = Path(path)
    make_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def instance_lock(home: Path, *, shared: bool = False) -> contextlib.AbstractContextManager[None]:
    """The instance's lock (``EVIDENCE_HOME/instance.lock``): exclusive while its files are
    created or replaced, shared while a set of them is read, so that a reader never sees half
    of a set being made."""
    return file_lock(Path(home) / LOCK_NAME, shared=shared)
