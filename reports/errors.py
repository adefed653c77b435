"""Errors of the reports package that the web edge maps to HTTP statuses."""

from __future__ import annotations

from evidence_chain.errors import ValidationError


class UnsupportedFileError(ValidationError):
    """The upload is neither a PDF nor a JSON evidence bundle."""

    code = "unsupported_file"
