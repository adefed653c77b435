"""Errors of the core: the base of every Sealtrail error, and what verification raises.

They carry a stable machine-readable ``code``, a message and the evidence in ``details``
(for example the expected and the calculated root). They know nothing of HTTP: the web edge
maps each class to a status in one table (``web/errors.py``).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CanonicalizationError",
    "ChainError",
    "EvidenceError",
    "ValidationError",
    "VerificationError",
]


class EvidenceError(Exception):
    """Base of every error raised by Sealtrail code."""

    code = "evidence_error"

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


class CanonicalizationError(EvidenceError):
    """A value cannot be represented in RFC 8785 canonical JSON."""

    code = "not_canonicalizable"


class ValidationError(EvidenceError):
    """Input is malformed or violates a constraint (a bundle that is not one, a bad field)."""

    code = "invalid_request"


class ChainError(EvidenceError):
    """The blockchain could not be reached or rejected a transaction.

    In the core it is what a chain reader raises when it cannot answer: bundle verification
    then reports the anchor check as incomplete rather than failed.
    """

    code = "chain_unavailable"
