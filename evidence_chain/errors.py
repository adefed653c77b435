"""The one exception hierarchy of Sealtrail.

Every failure the service reports derives from :class:`EvidenceError`. The web edge maps
each subclass to an HTTP status and an error code in exactly one place; third-party errors
are wrapped into one of these where they cross into the domain.
"""

from __future__ import annotations

from typing import Any


class EvidenceError(Exception):
    """Base of every error raised by Sealtrail code."""

    code = "evidence_error"
    status = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class VerificationError(EvidenceError):
    """A proof, signature, hash or record did not verify.

    ``details`` carries the evidence when it is known (for example the expected and the
    calculated root), so the caller can show what differed, not only that something did.
    """

    code = "verification_failed"
    status = 422


class CanonicalizationError(EvidenceError):
    """A value cannot be represented in RFC 8785 canonical JSON."""

    code = "not_canonicalizable"
    status = 400


class ValidationError(EvidenceError):
    """Client input is malformed or violates a constraint."""

    code = "invalid_request"
    status = 400


class AuthenticationError(EvidenceError):
    """Missing or unknown credentials."""

    code = "unauthorized"
    status = 401


class NotFoundError(EvidenceError):
    """The resource does not exist, or belongs to another tenant."""

    code = "not_found"
    status = 404


class ConflictError(EvidenceError):
    """The request conflicts with the current state (idempotency key reuse, illegal transition)."""

    code = "conflict"
    status = 409


class ForbiddenError(EvidenceError):
    """Not allowed now: a signer before their code is accepted, a form without its CSRF token."""

    code = "forbidden"
    status = 403


class GoneError(EvidenceError):
    """The resource existed but is no longer usable (an expired or used signer link)."""

    code = "gone"
    status = 410


class RateLimitedError(EvidenceError):
    """Too many attempts: a one-time code requested again too soon, or a locked code."""

    code = "too_many_requests"
    status = 429


class PayloadTooLargeError(EvidenceError):
    """The request body or an uploaded file exceeds the configured limit."""

    code = "payload_too_large"
    status = 413


class IntegrityError(EvidenceError):
    """Stored evidence is inconsistent with itself: a tampered row, a non-consistent checkpoint."""

    code = "integrity_violation"
    status = 500


class ChainError(EvidenceError):
    """The blockchain could not be reached or rejected a transaction."""

    code = "chain_unavailable"
    status = 503


class ConfigurationError(EvidenceError):
    """The instance is configured inconsistently (wrong chain id, missing key)."""

    code = "configuration_error"
    status = 500
