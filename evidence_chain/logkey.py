"""The log's Ed25519 signing key: generated on first start, kept in a 0600 file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence_chain.core.note import encode_verifier_key
from evidence_chain.errors import ConfigurationError


@dataclass(frozen=True)
class LogKey:
    """The checkpoint signer: the log origin (note key name) and its Ed25519 key."""

    origin: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def verifier_key(self) -> str:
        """The C2SP note verifier key (``origin+keyid+base64``) anyone verifies checkpoints with."""
        return encode_verifier_key(self.origin, self.public_key)


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """Load the PEM key at ``path``; create it (mode 0600, folder 0700) if it does not exist."""
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigurationError(
                f"the log key {path} is readable by others (mode {mode:o}); chmod 600 it"
            )
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(f"the log key {path} is not an Ed25519 key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Written aside, then linked into place: link() fails if another worker won the race, and
    # nobody ever reads a half-written key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return load_or_create_private_key(path)
    finally:
        tmp.unlink()
    return key
