"""Blob store: document bytes named by their SHA-256 (content-addressed, write-once).

Two stores: files under ``EVIDENCE_HOME/blobs`` (the embedded default), or an S3-compatible
object store shared by every machine (``EVIDENCE_BLOB_URL=s3://bucket/prefix``,
:class:`S3BlobStore`). Both check every read against the blob's name.

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
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from evidence_chain.errors import (
    ConfigurationError,
    IntegrityError,
    NotFoundError,
    StorageUnavailableError,
)
from evidence_chain.private_files import make_private_dir

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_name(sha256: str) -> str:
    """``sha256`` if it can name a blob; NotFoundError otherwise."""
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


# --------------------------------------------------------------------------- object store
# Blobs in an S3-compatible object store, shared by every machine of a deployment.
#
# Selected with ``EVIDENCE_BLOB_URL=s3://bucket/prefix``. The endpoint, region and credentials
# come from the usual AWS settings (``AWS_ENDPOINT_URL``, ``AWS_REGION`` or
# ``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, a profile, an
# instance role), so MinIO, Ceph and cloud object stores all work. The bucket must exist.
#
# * **Write-once**: an object is written with ``If-None-Match: *``; when the name is taken, the
#   stored object is left as it is (same name, same bytes, unless someone altered it, which a
#   read then detects). A store that does not support conditional writes (HTTP 501) is written
#   after a HEAD that finds no object.
# * **Integrity-checked on read**: the bytes are hashed and compared with their name; an altered
#   object is an IntegrityError, never served.
# * Objects are ``<prefix>/<aa>/<bb>/<sha256>``, as on disk.

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _code(exc: Any) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _unavailable(exc: Exception, action: str) -> StorageUnavailableError:
    # The message names the store's answer, never credentials or the object's bytes.
    reason = _code(exc) or type(exc).__name__
    return StorageUnavailableError(
        f"the document store did not {action}: {reason}", details={"reason": reason}
    )


class S3BlobStore(BlobStore):
    """Blobs as objects of one bucket under a prefix (see the module's docstring)."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client
        # boto3 clients are thread-safe once made; making one is not, so the first use
        # makes it under this lock and every request thread shares it afterwards.
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        """The store of ``s3://bucket/prefix``; ConfigurationError for anything else."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ConfigurationError(
                "EVIDENCE_BLOB_URL must read s3://bucket/prefix (the endpoint, region and "
                "credentials come from the AWS_* settings)"
            )
        return cls(parts.netloc, parts.path)

    @property
    def client(self) -> Any:
        """The S3 client, made on first use."""
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                self._client = boto3.client(
                    "s3",
                    config=Config(retries={"max_attempts": 5, "mode": "standard"}),
                )
            return self._client

    def _key(self, sha256: str) -> str:
        check_name(sha256)
        name = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, data: bytes) -> str:
        """Store ``data`` once; return its SHA-256."""
        from botocore.exceptions import BotoCoreError, ClientError

        digest = hashlib.sha256(data).hexdigest()
        key = self._key(digest)
        try:
            self._put_once(key, data)
        except ClientError as exc:
            raise _unavailable(exc, "store the document") from None
        except BotoCoreError as exc:
            raise _unavailable(exc, "store the document") from None
        return digest

    def _put_once(self, key: str, data: bytes) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",
                ContentType="application/octet-stream",
            )
        except ClientError as exc:
            code = _code(exc)
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                return  # already stored: write-once
            if code not in ("NotImplemented", "501"):
                raise
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as missing:
                if _code(missing) not in _MISSING:
                    raise
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def get(self, sha256: str) -> bytes:
        """The object's bytes, checked against its name."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
            data = bytes(response["Body"].read())
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise NotFoundError(f"no blob {sha256}", details={"sha256": sha256}) from None
            raise _unavailable(exc, "return the document") from None
        except BotoCoreError as exc:
            raise _unavailable(exc, "return the document") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(
                f"blob {sha256} does not match its hash", details={"sha256": sha256}
            )
        return data

    def exists(self, sha256: str) -> bool:
        """True when the object exists."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise _unavailable(exc, "answer") from None
        except BotoCoreError as exc:
            raise _unavailable(exc, "answer") from None
        return True


def blob_store_for(home: Path, url: str | None = None) -> BlobStore:
    """The instance's blob store: the object store at ``url`` (``EVIDENCE_BLOB_URL``,
    ``s3://bucket/prefix``), else files under ``home/blobs``."""
    if url:
        return S3BlobStore.from_url(url)
    return FileBlobStore(Path(home) / "blobs")
