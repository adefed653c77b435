"""Webhook secrets: generation, sealing under the instance's master key, and the signature.

An endpoint's secret is needed in clear to compute each signature, so it is sealed with a key
derived from the instance's master key (:class:`evidence_chain.keystore.MasterKey`), bound to the
endpoint's public id; it is shown once, at creation or rotation. Each delivery is signed::

    Sealtrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from evidence_chain.errors import IntegrityError

if TYPE_CHECKING:
    from evidence_chain.keystore import MasterKey

SECRET_PREFIX = "whsec_"  # noqa: S105 - a public label, not a secret
_SEAL_MAGIC = b"SWH1"
_SEAL_INFO = b"sealtrail/webhooks/secret/v1"
_NONCE_LEN = 12


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` and 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def seal_secret(secret: str, endpoint_id: str, master: MasterKey) -> bytes:
    """Encrypt ``secret`` for storage: ``SWH1 || nonce || AES-256-GCM``, bound to the endpoint."""
    nonce = secrets.token_bytes(_NONCE_LEN)
    aead = AESGCM(master.derive(_SEAL_INFO))
    return (
        _SEAL_MAGIC
        + nonce
        + aead.encrypt(nonce, secret.encode(), _SEAL_MAGIC + endpoint_id.encode())
    )


def open_secret(blob: bytes, endpoint_id: str, master: MasterKey) -> str:
    """Decrypt a sealed secret (IntegrityError with another master key or a swapped row)."""
    blob = bytes(blob)
    if not blob.startswith(_SEAL_MAGIC) or len(blob) < len(_SEAL_MAGIC) + _NONCE_LEN + 16:
        raise IntegrityError("not a sealed webhook secret", details={"endpoint": endpoint_id})
    nonce = blob[len(_SEAL_MAGIC) : len(_SEAL_MAGIC) + _NONCE_LEN]
    try:
        clear = AESGCM(master.derive(_SEAL_INFO)).decrypt(
            nonce, blob[len(_SEAL_MAGIC) + _NONCE_LEN :], _SEAL_MAGIC + endpoint_id.encode()
        )
    except InvalidTag:
        raise IntegrityError(
            "the webhook secret does not open with this master key",
            details={"endpoint": endpoint_id},
        ) from None
    return clear.decode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256, keyed by the secret's UTF-8 bytes, of ``f"{timestamp}." + body``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Sealtrail-Signature`` header value."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


__all__ = [
    "SECRET_PREFIX",
    "new_secret",
    "open_secret",
    "seal_secret",
    "signature",
    "signature_header",
]
