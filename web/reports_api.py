"""Evidence bundles and certificates of evidence for a subject."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, jsonify, request

from evidence_chain.errors import ValidationError
from evidence_chain.events import normalize_subject
from web.auth import current_tenant, require_tenant
from web.context import services
from web.openapi_parts import ERRORS, SUBJECT_PATH

bp = Blueprint("reports_api", __name__)

_SUBJECT = SUBJECT_PATH

# Paths this module adds to the OpenAPI document (web/openapi.py merges them).
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/subjects/{subject}/bundle": {
        "get": {
            "summary": "The subject's evidence bundle (format v1, docs/evidence-bundle.md)",
            "security": [{"bearer": []}],
            "parameters": [
                _SUBJECT,
                {
                    "name": "download",
                    "in": "query",
                    "schema": {"type": "boolean"},
                    "description": "true: served as an attachment (Content-Disposition)",
                },
            ],
            "responses": {
                "200": {
                    "description": "The bundle: records, proofs, checkpoints, anchor, "
                    "documents and certificates",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **ERRORS,
            },
        }
    },
    "/api/v1/subjects/{subject}/report.pdf": {
        "get": {
            "summary": "Issue a certificate of evidence (signed PDF, bundle attached, QR code)",
            "description": (
                "Each call issues a new report with its own id (header X-Report-Id), "
                "verifiable at /verify?report=<id>. The bundle is embedded as "
                "evidence-bundle.json; the PDF is signed by the service (PAdES B-LT). Written "
                "in the tenant's language (GET /api/v1/tenant) unless lang says otherwise; "
                "the first page is in both. Each issued report is logged (event report.issued "
                "of the subject report:<id>, with the PDF's SHA-256)."
            ),
            "security": [{"bearer": []}],
            "parameters": [
                _SUBJECT,
                {
                    "name": "lang",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["zh", "en"]},
                    "description": "The certificate's language (default: the tenant's)",
                },
            ],
            "responses": {
                "200": {
                    "description": "The certificate of evidence",
                    "headers": {
                        "X-Report-Id": {"schema": {"type": "string"}},
                        "X-Report-Verdict": {
                            "schema": {"enum": ["VERIFIED", "INCOMPLETE", "FAILED"]}
                        },
                    },
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                **ERRORS,
            },
        }
    },
}


def _download_arg() -> bool:
    raw = (request.args.get("download") or "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ValidationError(
        "query parameter 'download' must be true or false", details={"field": "download"}
    )


def _file_stem(subject: str) -> str:
    """A file-name-safe ASCII form of a subject."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", subject).strip("._")[:100] or "subject"


def _attachment(prefix: str, subject: str, suffix: str) -> str:
    """A Content-Disposition naming the file after the subject: an ASCII ``filename`` for every
    client and, for a subject beyond ASCII (合同-001), the UTF-8 ``filename*`` (RFC 6266)."""
    ascii_name = f"{prefix}{_file_stem(subject)}{suffix}"
    header = f'attachment; filename="{ascii_name}"'
    if not subject.isascii():
        stem = re.sub(r'[\\/:*?"<>|%\s]+', "_", subject).strip("._")[:100] or "subject"
        header += f"; filename*=UTF-8''{quote(prefix + stem + suffix, safe='')}"
    return header


@bp.get("/api/v1/subjects/<path:subject>/bundle")
@require_tenant
def subject_bundle(subject: str) -> Response:
    """The subject's evidence bundle as JSON (an attachment with ``?download=1``)."""
    from reports.bundle import build_bundle  # imported on first use: keeps commands fast

    download = _download_arg()
    response = jsonify(build_bundle(services(), current_tenant(), subject))
    if download:
        response.headers["Content-Disposition"] = _attachment(
            "evidence-bundle-", normalize_subject(subject), ".json"
        )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/subjects/<path:subject>/report.pdf")
@require_tenant
def subject_report(subject: str) -> Response:
    """Issue a new certificate of evidence for the subject and return the signed PDF."""
    from reports.service import issue_report  # ReportLab and pyHanko load on first use

    lang = request.args.get("lang")
    if lang is not None and lang not in ("zh", "en"):
        raise ValidationError(
            "lang is zh or en", details={"field": "lang", "in": "query", "allowed": ["zh", "en"]}
        )
    issued = issue_report(services(), services().signing, current_tenant(), subject, language=lang)
    report_id = issued.report.report_id
    name = f"certificate-of-evidence-{report_id}.pdf"
    return Response(
        issued.pdf,
        mimetype="application/pdf",
        headers={
            "X-Report-Id": report_id,
            "X-Report-Verdict": issued.verdict.verdict,
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def init_app(app: Flask) -> None:
    """Register this module's routes and commands."""
    app.register_blueprint(bp)
