"""Narrow errors of the signing engine.

Each subclass narrows a class of :mod:`evidence_chain.errors` (and so answers with its HTTP
status, see ``web/errors.py``) and adds its own ``code`` so a client can tell "this is not a
PDF" from "page 7 does not exist".
"""

from __future__ import annotations

from evidence_chain.errors import (
    ConfigurationError,
    GoneError,
    KeyDecryptionError,
    PayloadTooLargeError,
    ValidationError,
)

__all__ = [
    "AlreadySignedError",
    "CertifiedDocumentError",
    "EncryptedPdfError",
    "KeyDecryptionError",
    "LinkSupersededError",
    "MalformedPdfError",
    "NotAPdfError",
    "PageOutOfRangeError",
    "PdfTooLargeError",
    "PlacementOutOfPageError",
    "SealImageError",
    "SealImageTooLargeError",
    "SigningFailedError",
    "UnknownFieldError",
]


class NotAPdfError(ValidationError):
    """The uploaded bytes do not start like a PDF file."""

    code = "not_a_pdf"


class EncryptedPdfError(ValidationError):
    """The PDF is encrypted; the engine signs only unencrypted documents."""

    code = "encrypted_pdf"


class MalformedPdfError(ValidationError):
    """The PDF cannot be parsed (truncated, broken cross-reference table, ...)."""

    code = "malformed_pdf"


class PdfTooLargeError(PayloadTooLargeError):
    """The PDF is larger than the configured limit."""

    code = "pdf_too_large"


class PageOutOfRangeError(ValidationError):
    """A placement names a page that does not exist (pages are numbered from 1)."""

    code = "page_out_of_range"


class PlacementOutOfPageError(ValidationError):
    """A placement rectangle does not lie inside the page's media box."""

    code = "position_out_of_page"


class UnknownFieldError(ValidationError):
    """A named placement refers to a signature field that is absent or already signed."""

    code = "unknown_signature_field"


class AlreadySignedError(ValidationError):
    """Page content (watermark, QR code) cannot be added once a signature exists."""

    code = "already_signed"


class CertifiedDocumentError(ValidationError):
    """The document is certified and the requested change would break its certification."""

    code = "certified_document"


class SealImageError(ValidationError):
    """An uploaded seal image is not a PNG/JPEG, is too large, or cannot be decoded."""

    code = "invalid_seal_image"


class SigningFailedError(ConfigurationError):
    """The signing machinery itself failed (bad key, unreachable TSA, unvalidated chain)."""

    code = "signing_failed"


class SealImageTooLargeError(SealImageError):
    """An uploaded seal image exceeds the byte or pixel limit."""

    code = "seal_image_too_large"


class LinkSupersededError(GoneError):
    """A signing link that a newer link replaced (after a reminder): 410, not "unknown"."""

    code = "link_superseded"
