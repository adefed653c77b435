"""The one exception hierarchy of Sealtrail.

Every failure the service reports derives from :class:`EvidenceError` (defined in the core,
re-exported here with the core's other errors). The web edge maps each class to an HTTP
status in exactly one place (``web/errors.py``); third-party errors are wrapped into one of
these where they cross into the domain. No error here knows of HTTP.
"""

from __future__ import annotations

from evidence_chain.core.errors import (
    CanonicalizationError,
    ChainError,
    EvidenceError,
    ValidationError,
    VerificationError,
)

__all__ = [
    "AuthenticationError",
    "CanonicalizationError",
    "ChainError",
    "ConfigurationError",
    "ConflictError",
    "EvidenceError",
    "ForbiddenError",
    "GoneError",
    "IntegrityError",
    "KeyDecryptionError",
    "NotFoundError",
    "NotYetCheckpointedError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "StorageUnavailableError",
    "ValidationError",
    "VerificationError",
]


class AuthenticationError(EvidenceError):
    """Missing or unknown credentials."""

    code = "unauthorized"


class NotFoundError(EvidenceError):
    """The resource does not exist, or belongs to another tenant."""

    code = "not_found"


class ConflictError(EvidenceError):
    """The request conflicts with the current state (idempotency key reuse, illegal transition)."""

    code = "conflict"


class NotYetCheckpointedError(ConflictError):
    """The event exists, but no signed checkpoint covers it yet: retry after the next one."""

    code = "not_yet_checkpointed"


class ForbiddenError(EvidenceError):
    """Not allowed now: a signer before their code is accepted, a form without its CSRF token."""

    code = "forbidden"


class GoneError(EvidenceError):
    """The resource existed but is no longer usable (an expired or used signer link)."""

    code = "gone"


class RateLimitedError(EvidenceError):
    """Too many attempts: a one-time code requested again too soon, or a locked code."""

    code = "too_many_requests"


class PayloadTooLargeError(EvidenceError):
    """The request body or an uploaded file exceeds the configured limit."""

    code = "payload_too_large"


class IntegrityError(EvidenceError):
    """Stored evidence is inconsistent with itself: a tampered row, a non-consistent checkpoint."""

    code = "integrity_violation"


class StorageUnavailableError(EvidenceError):
    """The document store (an object store) could not be reached or refused the request."""

    code = "storage_unavailable"


class ConfigurationError(EvidenceError):
    """The instance is configured inconsistently (wrong chain id, missing key)."""

    code = "configuration_error"


class KeyDecryptionError(VerificationError):
    """An encrypted private key could not be opened with the master key."""

    code = "key_decryption_failed"
