"""The public verify page and `POST /api/v1/verify`: no login, anyone can check a file.

``/verify`` takes a signed contract PDF (with, optionally, its certificate of evidence or
bundle as a second file, ``evidence``), a certificate of evidence or an evidence bundle, or
opens what a QR code points at (``?report=<id>``, ``?document=<sha256>``), and shows every
check with its result. ``POST /api/v1/verify`` answers the same as JSON, or with
``?format=pdf`` as a signature verification report PDF. Thin: the checks live in
:mod:`reports.verification`; uploads are limited to EVIDENCE_MAX_PUBLIC_UPLOAD_BYTES, or
EVIDENCE_MAX_DOCUMENT_BYTES for a tenant that sends its API key to ``POST /api/v1/verify``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import RequestEntityTooLarge

from evidence_chain.errors import (
    EvidenceError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
)
from verifier_web import content_security_policy, verifier_html
from web.auth import authenticate_key
from web.context import services
from web.errors import status_of
from web.limits import bearer

if TYPE_CHECKING:  # the verification (and what it reads PDFs with) loads on first use
    from evidence_chain.core.bundle import ChainReader
    from reports.verification import Verification

bp = Blueprint(
    "verify",
    __name__,
    template_folder="templates",
    static_folder="static/verify",
    static_url_path="/static/verify",
)
MULTIPART_OVERHEAD = 64 * 1024
RESULT_SALT = "sealtrail.verify.result"

_ENVELOPE = {"$ref": "#/components/schemas/Error"}
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/verify": {
        "post": {
            "summary": "Verify a signed PDF, a certificate of evidence or an evidence bundle",
            "description": (
                "No authentication needed: anyone may upload up to "
                "EVIDENCE_MAX_PUBLIC_UPLOAD_BYTES, counted per address. A tenant that sends its "
                "API key may upload up to EVIDENCE_MAX_DOCUMENT_BYTES, counted per key; a wrong "
                "key is a 401. Send the file as multipart/form-data (field `file`) or as "
                "the raw body. Signed PDFs: every signature and document time-stamp (signer, "
                "time, intact, valid, trusted against this service's CA) and whether this exact "
                "file is in the evidence log, under which anchor. With a second multipart field "
                "`evidence` (the contract's certificate of evidence or bundle): the signed "
                "contract's signatures, the evidence as `sealtrail-verify` checks it, and the "
                "check `contract.in_evidence` (this exact file is a version recorded there: "
                "which step, who signed, which anchor); kind `contract`. Reports and bundles: "
                "the checks of `sealtrail-verify`. Every answer states the subject's lifecycle "
                "status as its records give it (`status`, and `summary` beside the verdict). "
                "A failed check is verdict FAILED with HTTP 200. `?format=pdf` returns a "
                "signature verification report PDF."
            ),
            "tags": ["verification"],
            "security": [{}, {"bearer": []}],
            "parameters": [
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["json", "pdf"]},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "evidence": {
                                    "description": (
                                        "Optional, with a signed contract in `file`: its "
                                        "certificate of evidence (PDF) or bundle (JSON)"
                                    ),
                                    "type": "string",
                                    "format": "binary",
                                },
                            },
                        }
                    },
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"type": "object"}},
                },
            },
            "responses": {
                "200": {
                    "description": "The checks and the verdict (VERIFIED, FAILED, INCOMPLETE)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["kind", "verdict", "checks"],
                                "properties": {
                                    "kind": {
                                        "type": "string",
                                        "enum": ["signed_pdf", "contract", "report", "bundle"],
                                    },
                                    "status": {
                                        "description": (
                                            "The subject's lifecycle status, derived from its "
                                            "records (null when no record was read)"
                                        ),
                                        "type": ["object", "null"],
                                        "properties": {
                                            "state": {
                                                "type": "string",
                                                "enum": [
                                                    "completed",
                                                    "voided",
                                                    "withdrawn",
                                                    "declined",
                                                    "expired",
                                                    "in_progress",
                                                ],
                                            },
                                            "at": {"type": ["string", "null"]},
                                            "reason": {"type": ["string", "null"]},
                                            "event_type": {"type": ["string", "null"]},
                                            "subject_seq": {"type": ["integer", "null"]},
                                            "by": {"type": ["string", "null"]},
                                            "text": {
                                                "type": "object",
                                                "properties": {
                                                    "en": {"type": "string"},
                                                    "zh": {"type": "string"},
                                                },
                                            },
                                        },
                                    },
                                    "summary": {
                                        "description": (
                                            "The verdict with the status beside it, e.g. "
                                            "`VERIFIED: the evidence is intact; the contract "
                                            "was VOIDED on 2026-11-23 10:00 UTC (reason: ...)`"
                                        ),
                                        "type": "object",
                                        "properties": {
                                            "en": {"type": "string"},
                                            "zh": {"type": "string"},
                                        },
                                    },
                                    "verdict": {
                                        "type": "string",
                                        "enum": ["VERIFIED", "FAILED", "INCOMPLETE"],
                                    },
                                    "sha256": {"type": "string"},
                                    "size": {"type": "integer"},
                                    "verified_at": {"type": "string", "format": "date-time"},
                                    "checks": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "name": {"type": "string"},
                                                "ok": {"type": ["boolean", "null"]},
                                                "detail": {"type": "string"},
                                            },
                                        },
                                    },
                                    "signatures": {"type": "array", "items": {"type": "object"}},
                                    "doc_timestamps": {
                                        "type": "array",
                                        "items": {"type": "object"},
                                    },
                                    "log": {"type": "array", "items": {"type": "object"}},
                                    "bundle": {"type": ["object", "null"]},
                                    "notes": {"type": "array", "items": {"type": "string"}},
                                    "informative": {
                                        "description": (
                                            "Fields no check covers, as the file states them "
                                            "(when a bundle was made, the anchor's "
                                            "confirmations then, a DSS update's date and file "
                                            "identifier)"
                                        ),
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["field", "value"],
                                            "properties": {
                                                "field": {"type": "string"},
                                                "value": {},
                                            },
                                        },
                                    },
                                },
                            }
                        },
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "400": {
                    "description": "Not a readable PDF or bundle (malformed, encrypted, bomb)",
                    "content": {"application/json": {"schema": _ENVELOPE}},
                },
                "401": {
                    "description": "An API key was sent and it is wrong or revoked",
                    "content": {"application/json": {"schema": _ENVELOPE}},
                },
                "413": {
                    "description": (
                        "Larger than EVIDENCE_MAX_PUBLIC_UPLOAD_BYTES (no API key) or "
                        "EVIDENCE_MAX_DOCUMENT_BYTES (a tenant's key), answered before the body "
                        "is read"
                    ),
                    "content": {"application/json": {"schema": _ENVELOPE}},
                },
                "415": {
                    "description": "Neither a PDF nor a JSON evidence bundle",
                    "content": {"application/json": {"schema": _ENVELOPE}},
                },
            },
        }
    }
}


# --- helpers ----------------------------------------------------------------------------------


def _chain() -> ChainReader | None:
    """A reader of the instance's chain (roots, receipts, blocks), when anchoring is on."""
    from reports.service import instance_chain_reader

    return instance_chain_reader(services())


def _limit() -> int:
    """The largest upload: EVIDENCE_MAX_DOCUMENT_BYTES for a tenant's request (an API key was
    sent and accepted), the smaller EVIDENCE_MAX_PUBLIC_UPLOAD_BYTES for anyone else."""
    authenticated = services().signing.max_document_bytes
    if g.get("tenant") is not None:
        return int(authenticated)
    return int(min(authenticated, services().settings.max_public_upload_bytes))


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the file is larger than the limit of {limit} bytes", details={"limit": limit}
    )


def _upload(*, allow_raw: bool) -> bytes:
    """The uploaded file: multipart field ``file``, or (API) the raw body; size-limited."""
    limit = _limit()
    request.max_content_length = 2 * limit + MULTIPART_OVERHEAD  # a contract and its evidence
    try:
        if (request.mimetype or "").startswith("multipart/form-data"):
            item = request.files.get("file")
            if item is None:
                raise ValidationError(
                    "choose a file to verify (form field 'file')", details={"field": "file"}
                )
            data = item.read(limit + 1)
        elif allow_raw:
            data = request.get_data(cache=False)
        else:
            raise ValidationError("send the file as multipart/form-data (field 'file')")
    except RequestEntityTooLarge:
        raise _too_large(limit) from None
    if len(data) > limit:
        raise _too_large(limit)
    if not data:
        raise ValidationError("the file is empty", details={"field": "file"})
    return data


def _evidence() -> bytes | None:
    """The optional second file (multipart field ``evidence``): the contract's certificate of
    evidence or bundle; None when not sent or empty."""
    if not (request.mimetype or "").startswith("multipart/form-data"):
        return None
    item = request.files.get("evidence")
    if item is None or not item.filename:
        return None
    limit = _limit()
    data = item.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    return data or None


def _verify_upload(data: bytes) -> Verification:
    from reports.verification import verify_upload

    return verify_upload(
        data,
        instance=services(),
        signing=services().signing,
        chain=_chain(),
        max_bytes=_limit(),
        evidence=_evidence(),
    )


def _serializer() -> URLSafeSerializer | None:
    key = current_app.secret_key
    return URLSafeSerializer(key, salt=RESULT_SALT) if key else None


def _pdf_response(result: dict[str, Any]) -> Response:
    from reports.service import issue_verification_report

    report_id, pdf = issue_verification_report(services(), services().signing, result)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{report_id}.pdf"'
    response.headers["X-Report-Id"] = report_id
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(
    *,
    result: Verification | None = None,
    error: EvidenceError | None = None,
    status: int = 200,
    lookup: str | None = None,
) -> tuple[str, int]:
    from reports.verification import SERVICE_NAME

    body = result.to_json() if result is not None else None
    serializer = _serializer()
    token = serializer.dumps(body) if (body is not None and serializer is not None) else None
    html = render_template(
        "verify/page.html",
        result=result,
        body=body,
        error=error,
        status=status,
        token=token,
        lookup=lookup,
        limit=_limit(),
        service=SERVICE_NAME,
    )
    return html, status


def _no_store(html: str, status: int) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
"""The verify page's Content-Security-Policy: no script at all, its own stylesheet, forms
posted only to itself, never framed (as strict as the signer's page)."""


@bp.after_request
def _security_headers(response: Response) -> Response:
    """Frame, sniffing and referrer protection on every answer of the page; its CSP on HTML
    (the offline verifier sets its own, pinned to its inline code)."""
    if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers["X-Content-Type-Options"] = "nosniff"
    # /verify?document=<sha256> and ?report=<id> must not leak to other sites
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


# --- the page ---------------------------------------------------------------------------------


@bp.get("/verify")
def verify_form() -> Response:
    """The upload form, or what a QR code points at: a report id or a document hash."""
    report_id = request.args.get("report")
    document = request.args.get("document")
    want_pdf = request.args.get("format") == "pdf"
    if report_id is None and document is None:
        return _no_store(*_page())
    lookup = "report" if report_id is not None else "document"
    from evidence_chain.documents import parse_sha256
    from reports.verification import verify_document_hash, verify_stored_report

    try:
        if report_id is not None:
            from reports.service import get_report

            stored = get_report(services().engine, report_id.strip())
            if stored is None:
                raise NotFoundError(
                    "no certificate of evidence has this report id", details={"report": report_id}
                )
            result = verify_stored_report(stored, chain=_chain(), instance=services())
        else:
            assert document is not None
            result = verify_document_hash(services(), parse_sha256(document), chain=_chain())
    except EvidenceError as exc:
        return _no_store(*_page(error=exc, status=status_of(exc), lookup=lookup))
    if want_pdf:
        return _pdf_response(result.to_json())
    return _no_store(*_page(result=result, lookup=lookup))


@bp.post("/verify")
def verify_submit() -> Response:
    """Verify an uploaded file and show the result (errors on the page, never a stack trace)."""
    try:
        result = _verify_upload(_upload(allow_raw=False))
    except EvidenceError as exc:
        return _no_store(*_page(error=exc, status=status_of(exc)))
    if request.form.get("format") == "pdf":
        return _pdf_response(result.to_json())
    return _no_store(*_page(result=result))


@bp.post("/verify/report.pdf")
def verify_report_pdf() -> Response:
    """The signature verification report PDF of a result this page showed (signed by us)."""
    serializer = _serializer()
    token = request.form.get("result") or ""
    try:
        if serializer is None:
            raise BadSignature("no key")
        body = serializer.loads(token)
    except BadSignature:
        exc = ValidationError("this result cannot be turned into a report: verify the file again")
        return _no_store(*_page(error=exc, status=400))
    if not isinstance(body, dict):
        exc = ValidationError("this result cannot be turned into a report: verify the file again")
        return _no_store(*_page(error=exc, status=400))
    return _pdf_response(body)


@bp.get("/verify/offline.html")
def offline_verifier() -> Response:
    """The browser verifier: one self-contained page to save and open from disk, no upload."""
    response = Response(verifier_html(), mimetype="text/html")
    # The page's own policy (inline script and style pinned by hash, connections only for the
    # JSON-RPC calls to the URL the user types), plus what a meta tag cannot say.
    response.headers["Content-Security-Policy"] = (
        content_security_policy() + "; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- the API ----------------------------------------------------------------------------------


@bp.post("/api/v1/verify")
def verify_api() -> Response:
    """Verify a file (multipart ``file`` or the raw body): JSON, or ``?format=pdf``."""
    fmt = request.args.get("format") or "json"
    if fmt not in ("json", "pdf"):
        raise ValidationError("format is json or pdf", details={"field": "format"})
    key = bearer()
    if key is not None:  # a tenant's request: its key must be right; then the larger limit
        g.tenant = authenticate_key(key)
    result = _verify_upload(_upload(allow_raw=True))
    if fmt == "pdf":
        return _pdf_response(result.to_json())
    response = jsonify(result.to_json())
    response.headers["Cache-Control"] = "no-store"
    return response


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def error_text(error: EvidenceError) -> str:
    """An error as the page says it: in the page's language for the errors a reader meets
    (the API's English message otherwise)."""
    messages = {
        "not_found": _("Nothing in the log of this service matches what you asked for."),
        "unsupported_file": _("This kind of file cannot be verified here."),
        "not_a_pdf": _("This file is not a PDF."),
        "malformed_pdf": _("This PDF is damaged and cannot be read."),
        "encrypted_pdf": _("This PDF is encrypted: remove the password and upload it again."),
        "payload_too_large": _("This file is larger than the page accepts."),
        "pdf_too_large": _("This file is larger than the page accepts."),
        "invalid_request": _("This request is not valid: check the file or the hash you gave."),
    }
    return messages.get(error.code, error.message)


def kind_labels() -> dict[str, str]:
    """What was checked, in words, in the page's language."""
    return {
        "signed_pdf": _("Signed PDF"),
        "contract": _("Signed contract with its evidence"),
        "report": _("Certificate of evidence"),
        "bundle": _("Evidence bundle"),
        "document": _("Document hash"),
    }


def init_app(app: Flask) -> None:
    """Register this module's routes and commands."""
    app.register_blueprint(bp)
    app.add_template_global(kind_labels, "kind_labels")
    app.add_template_global(error_text, "error_text")
    app.add_template_filter(_pretty, "pretty_json")
