"""Request bodies as JSON, all read by one strict parser (``canonical.parse_json``).

Every endpoint that takes JSON reads it here, so each refuses the same way: not JSON, duplicate
keys, numbers a double would change, or nesting deeper than any record needs (a hostile body is
measured before it is parsed) is a 400 with the reason, never a 500.
"""

from __future__ import annotations

from typing import Any

from flask import request

from evidence_chain.core.canonical import parse_json
from evidence_chain.errors import CanonicalizationError, ValidationError


def parse_text(raw: bytes | str, what: str = "the body", field: str | None = None) -> Any:
    """Parse JSON text; ValidationError naming ``what`` (and ``field``) if it is not valid."""
    try:
        return parse_json(raw)
    except CanonicalizationError as exc:
        details = {"field": field} if field else {}
        raise ValidationError(f"{what} is not valid JSON: {exc.message}", details=details) from None


def json_body() -> Any:
    """The request's JSON value; the Content-Type must be ``application/json``."""
    if not request.is_json:
        raise ValidationError(
            "send the body as JSON with 'Content-Type: application/json'",
            details={"content_type": request.content_type},
        )
    return parse_text(request.get_data(cache=False))


def json_object(*, empty_ok: bool = False, require_type: bool = True) -> dict[str, Any]:
    """The request's JSON object; ``empty_ok`` reads an empty body as ``{}``."""
    if empty_ok and not request.get_data(cache=True):
        return {}
    body = json_body() if require_type else parse_text(request.get_data(cache=False))
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object")
    return body
