"""Private keys encrypted at rest under one master key.

Envelope format (version 1), chosen over PKCS#8 ``BestAvailableEncryption`` because that one
runs a password KDF (scrypt/PBKDF2) on every load, which is pointless with a random 256-bit
master key and slow when a worker opens many keys::

    blob = b"STK1" || nonce (12 bytes) || AES-256-GCM(wrap_key, nonce, PKCS#8 DER, aad=b"STK1")
    wrap_key = HKDF-SHA256(master, salt=None, info=b"sealtrail/keystore/v1", length=32)

The master key is never used directly: HKDF with a purpose label gives the key-wrapping key,
so the same master can later derive other keys without any two uses sharing a key. GCM
authenticates the magic too, so a blob of another version is refused rather than misread.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from evidence_chain.config import Settings
from evidence_chain.errors import ConfigurationError, KeyDecryptionError
from evidence_chain.private_files import create_private_file, read_private_file

__all__ = [
    "ENV_VAR",
    "MasterKey",
    "configured_master_key",
    "decrypt_private_key",
    "encrypt_private_key",
    "load_master_key",
    "master_key_path",
]

ENV_VAR = "EVIDENCE_MASTER_KEY"
MAGIC = b"STK1"
NONCE_LEN = 12
KEY_LEN = 32
_WRAP_INFO = b"sealtrail/keystore/v1"


def master_key_path(settings: Settings) -> Path:
    """Where the generated master key lives when EVIDENCE_MASTER_KEY is not set."""
    return settings.home / "keys" / "master.key"


@dataclass(frozen=True)
class MasterKey:
    """A 32-byte secret from which the key-wrapping key is derived."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_LEN:
            raise ConfigurationError(f"master key must be {KEY_LEN} bytes, got {len(self.secret)}")

    @classmethod
    def generate(cls) -> MasterKey:
        """Return a fresh random master key."""
        return cls(secrets.token_bytes(KEY_LEN))

    @classmethod
    def from_base64(cls, value: str) -> MasterKey:
        """Parse the base64 form used in ``EVIDENCE_MASTER_KEY`` and key files."""
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError("master key is not valid base64") from exc
        return cls(raw)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> MasterKey | None:
        """Return the key from ``EVIDENCE_MASTER_KEY``, or None when the variable is unset."""
        env = os.environ if environ is None else environ
        value = env.get(ENV_VAR)
        return cls.from_base64(value) if value else None

    @classmethod
    def load(cls, path: str | Path) -> MasterKey:
        """Read the key file at ``path``; ConfigurationError naming it if it is missing, open to
        others, empty or not a 32-byte key."""
        p = Path(path)
        raw = read_private_file(p, "the master key")
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            text = ""
        if not text:
            raise ConfigurationError(
                f"the master key {p} is empty or unreadable ({len(raw)} bytes): restore it from "
                "the backup, or set EVIDENCE_MASTER_KEY"
            )
        try:
            return cls.from_base64(text)
        except ConfigurationError as exc:
            raise ConfigurationError(f"the master key {p} is not usable: {exc.message}") from None

    @classmethod
    def create(cls, path: str | Path) -> MasterKey:
        """Generate a key and write it to ``path`` (0600, linked into place whole).

        FileExistsError if the file exists: a master key is never replaced.
        """
        key = cls.generate()
        create_private_file(Path(path), (key.to_base64() + "\n").encode("ascii"))
        return key

    def to_base64(self) -> str:
        """Return the key in the base64 form accepted by :meth:`from_base64`."""
        return base64.b64encode(self.secret).decode("ascii")

    def derive(self, info: bytes) -> bytes:
        """Derive a 32-byte subkey for the purpose named by ``info``."""
        return HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=None, info=info).derive(
            self.secret
        )


def configured_master_key(settings: Settings) -> MasterKey | None:
    """The master key from EVIDENCE_MASTER_KEY, None when it is not set."""
    if not settings.master_key:
        return None
    try:
        return MasterKey.from_base64(settings.master_key)
    except ConfigurationError as exc:
        raise ConfigurationError(f"EVIDENCE_MASTER_KEY is not usable: {exc.message}") from None


def load_master_key(settings: Settings) -> MasterKey:
    """EVIDENCE_MASTER_KEY, else ``keys/master.key``; ConfigurationError if neither is usable.

    Only ever read here: ``init`` makes the key file (:mod:`signing.authority`).
    """
    return configured_master_key(settings) or MasterKey.load(master_key_path(settings))


def encrypt_private_key(key: PrivateKeyTypes, master: MasterKey) -> bytes:
    """Serialise ``key`` as PKCS#8 DER and seal it in an AES-256-GCM envelope."""
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = secrets.token_bytes(NONCE_LEN)
    sealed = AESGCM(master.derive(_WRAP_INFO)).encrypt(nonce, der, MAGIC)
    return MAGIC + nonce + sealed


def decrypt_private_key(blob: bytes, master: MasterKey) -> PrivateKeyTypes:
    """Open an envelope made by :func:`encrypt_private_key` (KeyDecryptionError on failure)."""
    if len(blob) < len(MAGIC) + NONCE_LEN + 16 or not blob.startswith(MAGIC):
        raise KeyDecryptionError("not an encrypted key envelope")
    nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_LEN]
    try:
        der = AESGCM(master.derive(_WRAP_INFO)).decrypt(
            nonce, blob[len(MAGIC) + NONCE_LEN :], MAGIC
        )
    except InvalidTag as exc:
        raise KeyDecryptionError("wrong master key or corrupted key envelope") from exc
    return serialization.load_der_private_key(der, password=None)
