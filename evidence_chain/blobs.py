"""Blob store: document bytes named by their SHA-256 (content-addressed, write-once).

Two stores: files under ``EVIDENCE_HOME/blobs`` (the embedded default), or an S3-compatible
object store shared by every machine (``EVIDENCE_BLOB_URL=s3://bucket/prefix``,
:mod:`evidence_chain.blobs_s3`). Both check every read against the blob's name.

The filesystem default keeps ``<root>/<aa>/<bb>/<sha256>`` under ``EVIDENCE_HOME/blobs``;
several web workers (or machines sharing the folder) can write the same blob at once, since
a blob is written to a temporary file and renamed into place. Nothing is ever deleted:
evidence documents are kept.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

from evidence_chain.errors import IntegrityError, NotFoundError
from evidence_chain.private_files import make_private_dir

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_name(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise NotFoundError("a blob is named by its lowercase hex SHA-256")
    return sha256


class BlobStore(ABC):
    """Write-once storage of bytes by their SHA-256."""

    @abstractmethod
    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent); return its SHA-256 in hex."""

    @abstractmethod
    def get(self, sha256: str) -> bytes:
        """The bytes named ``sha256``; NotFoundError if absent, IntegrityError if altered."""

    @abstractmethod
    def exists(self, sha256: str) -> bool:
        """True when the blob is stored."""


class FileBlobStore(BlobStore):
    """Blobs as files under a root folder, two levels of fan-out."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        check_name(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` (atomic rename; a blob already there is kept); return its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        make_private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(  # mode 0600
            dir=path.parent, prefix=".tmp-"
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        """The blob's bytes, checked against its name."""
        path = self._path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no blob {sha256}", details={"sha256": sha256}) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(
                f"blob {sha256} does not match its hash", details={"sha256": sha256}
            )
        return data

    def exists(self, sha256: str) -> bool:
        """True when the blob file exists."""
        return self._path(sha256).exists()


def blob_store_for(home: Path, url: str | None = None) -> BlobStore:
    """The instance's blob store: the object store at ``url`` (``EVIDENCE_BLOB_URL``,
    ``s3://bucket/prefix``), else files under ``home/blobs``."""
    if url:
        from evidence_chain.blobs_s3 import S3BlobStore  # boto3 only when it is used

        return S3BlobStore.from_url(url)
    return FileBlobStore(Path(home) / "blobs")
