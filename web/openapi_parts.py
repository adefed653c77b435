"""Pieces of the OpenAPI description that every API module uses (imports nothing of ``web``)."""

from __future__ import annotations

from typing import Any

SUBJECT_DESCRIPTION = (
    "The platform's own identifier of what the events belong to (a contract number such as "
    "合同-001, orders/2026/17, envelope:env_…). Printable Unicode, normalised to NFC at intake "
    "(the record carries the NFC form), then 1-256 bytes in UTF-8; no character of the "
    "general categories Cc, Cf, Cs, Co, Cn, Zl, Zp, and no whitespace at either end "
    "(docs/evidence-record.md, Subjects)."
)
SUBJECT = {
    "type": "string",
    "minLength": 1,
    "maxLength": 256,
    "description": SUBJECT_DESCRIPTION,
    "example": "合同-001",
}
"""A subject in a body (``maxLength`` counts characters; the bound is 256 bytes of UTF-8)."""
SUBJECT_PATH = {
    "name": "subject",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": SUBJECT_DESCRIPTION
    + " In the path: percent-encoded UTF-8; a '/' may be sent as is or as %2F; looked up in "
    "its NFC form.",
}
"""The ``{subject}`` path parameter of the ``/api/v1/subjects/{subject}/…`` paths."""

HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "32 bytes, lowercase hex"}


def ref(name: str) -> dict[str, str]:
    """A reference to a schema of the document's components."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A response with a JSON body of ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def retry_later(description: str) -> dict[str, Any]:
    """An error response that carries a ``Retry-After`` header."""
    return {**json_response(ref("Error"), description), "headers": RETRY_AFTER}


ERRORS = {
    "400": json_response(ref("Error"), "Invalid request; details name the event and field"),
    "401": json_response(ref("Error"), "Missing or unknown API key"),
    "404": json_response(ref("Error"), "Not found (or another tenant's)"),
}

RATE_LIMITED = {
    **json_response(
        ref("Error"),
        "`rate_limited`: too many requests from this address (public endpoints, wrong API keys) "
        "or with this API key; retry after the seconds in `Retry-After`",
    ),
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
TOO_LARGE = json_response(
    ref("Error"),
    "`payload_too_large`: the body is over its limit (EVIDENCE_MAX_BODY_BYTES for JSON, "
    "EVIDENCE_MAX_DOCUMENT_BYTES for a tenant's file, EVIDENCE_MAX_PUBLIC_UPLOAD_BYTES for a "
    "public upload), answered before the body is read",
)
