"""Signing endpoints: seals, sign and validate PDFs, the public TSA and PKI.

Thin: parse the request, call one :class:`signing.service.SigningService` method, render.
The service opens its CA and TSA (and pyHanko) on the first request that needs them, so the
application starts as fast without signing as with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from evidence_chain.errors import ValidationError
from web.auth import current_tenant, require_tenant
from web.bodies import json_object
from web.context import services
from web.params import int_arg

if TYPE_CHECKING:
    pass

bp = Blueprint("signing", __name__)
MULTIPART_OVERHEAD = 1024 * 1024
MAX_PAGE = 1000


def _multipart(limit: int) -> tuple[dict[str, FileStorage], dict[str, str]]:
    """Parse a multipart body of at most ``limit`` bytes of file plus form overhead."""
    request.max_content_length = limit + MULTIPART_OVERHEAD
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise ValidationError(
            "send the request as multipart/form-data",
            details={"content_type": request.content_type},
        )
    try:
        files, form = request.files, request.form
    except RequestEntityTooLarge:
        from signing.errors import PdfTooLargeError

        raise PdfTooLargeError(
            f"the upload is larger than the limit of {limit} bytes", details={"limit": limit}
        ) from None
    return dict(files.items()), dict(form.items())


def _file(files: dict[str, FileStorage], name: str) -> bytes:
    item = files.get(name)
    if item is None:
        raise ValidationError(f"the file field {name!r} is required", details={"field": name})
    return item.read()


def _flag(form: dict[str, str], name: str) -> bool | None:
    raw = form.get(name)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValidationError(f"{name} must be true or false", details={"field": name})


def _float(raw: Any, name: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValidationError(f"{name} must be a number", details={"field": name})
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a number", details={"field": name}) from None


# --- seals ---------------------------------------------------------------------------------


@bp.post("/api/v1/seals")
@require_tenant
def create_seal() -> tuple[Response, int]:
    """Draw a seal (JSON) or keep an uploaded picture of one (multipart with ``image``)."""
    service = services().signing
    tenant = current_tenant()
    if (request.mimetype or "").startswith("multipart/form-data"):
        files, form = _multipart(10 * 1024 * 1024)
        width = _float(form.get("width_mm", "40"), "width_mm")
        record = service.create_uploaded_seal(
            tenant.id,
            _file(files, "image"),
            kind=form.get("kind") or "official",
            text=form.get("text") or None,
            width_mm=width,
        )
        return jsonify(record.to_json()), 201
    if not request.is_json:
        raise ValidationError(
            "send JSON (a drawn seal) or multipart/form-data with an 'image' file",
            details={"content_type": request.content_type},
        )
    body = json_object()
    allowed = {"kind", "text", "subtext", "code", "size_mm", "colour"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
    for name in ("kind", "text", "subtext", "code", "colour"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ValidationError(f"{name} must be a string", details={"field": name})
    size = body.get("size_mm")
    size_mm: tuple[float, float] | None = None
    if size is not None:
        if isinstance(size, list) and len(size) == 2:
            size_mm = (_float(size[0], "size_mm"), _float(size[1], "size_mm"))
        else:
            side = _float(size, "size_mm")
            size_mm = (side, side)
    kind = body.get("kind") or "official"
    if kind == "handwritten":
        raise ValidationError(
            "handwritten seals are uploaded as an image", details={"field": "kind"}
        )
    record = service.create_drawn_seal(
        tenant.id,
        kind=kind,
        text=body.get("text") or "",
        subtext=body.get("subtext"),
        code=body.get("code"),
        size_mm=size_mm,
        colour=body.get("colour") or "#d40000",
    )
    return jsonify(record.to_json()), 201


@bp.get("/api/v1/seals")
@require_tenant
def list_seals() -> Response:
    """The tenant's seals, oldest first, paged with ``?after=<seal id>&limit=``."""
    limit = int_arg("limit", default=100, minimum=1, maximum=MAX_PAGE) or 100
    items = services().signing.list_seals(
        current_tenant().id, after=request.args.get("after") or None, limit=limit
    )
    body: dict[str, Any] = {"seals": [s.to_json() for s in items], "next_after": None}
    if len(items) == limit:
        body["next_after"] = items[-1].id
    return jsonify(body)


@bp.get("/api/v1/seals/<seal_id>")
@require_tenant
def get_seal(seal_id: str) -> Response:
    """One of the tenant's seals."""
    return jsonify(services().signing.get_seal(current_tenant().id, seal_id).to_json())


@bp.get("/api/v1/seals/<seal_id>/preview.png")
@require_tenant
def seal_preview(seal_id: str) -> Response:
    """The seal as a transparent PNG."""
    png = services().signing.seal_preview(current_tenant().id, seal_id)
    return Response(png, mimetype="image/png")


# --- documents -----------------------------------------------------------------------------


@bp.post("/api/v1/documents/sign")
@require_tenant
def sign_document() -> Response:
    """Sign a PDF with one of the tenant's seals; the signed PDF is the response body."""
    from web.signing_bodies import parse_identity, parse_placements, parse_reservations

    service = services().signing
    tenant = current_tenant()
    files, form = _multipart(service.max_document_bytes)
    pdf = _file(files, "document")
    seal_id = form.get("seal_id")
    if not seal_id:
        raise ValidationError("seal_id is required", details={"field": "seal_id"})
    signed = service.sign_document(
        tenant,
        pdf,
        seal_id=seal_id,
        placements=parse_placements(form.get("placements")),
        identity=parse_identity(form.get("signer"), tenant),
        level=form.get("level") or "B-LT",
        watermark=form.get("watermark") or None,
        qr=bool(_flag(form, "qr")),
        subject=form.get("subject") or None,
        certify=_flag(form, "certify"),
        reserve_fields=parse_reservations(form.get("reserve_fields")),
        reason=form.get("reason") or None,
    )
    result = signed.result
    response = Response(result.signed_pdf, mimetype="application/pdf")
    response.headers["X-Sealtrail-Sha256-Before"] = result.sha256_before
    response.headers["X-Sealtrail-Sha256-After"] = result.sha256_after
    response.headers["X-Sealtrail-Event-Id"] = signed.event_id
    response.headers["X-Sealtrail-Field"] = result.field_name
    response.headers["X-Sealtrail-Certificate-Serial"] = signed.certificate_serial
    response.headers["Content-Disposition"] = 'attachment; filename="signed.pdf"'
    return response


@bp.post("/api/v1/documents/validate")
@require_tenant
def validate_document() -> Response:
    """Validate every signature and document time-stamp of a PDF (ours or anyone's)."""
    from signing.service import report_to_json

    service = services().signing
    files, _form = _multipart(service.max_document_bytes)
    report = service.validate_document(_file(files, "document"))
    return jsonify(report_to_json(report))


# --- public PKI and TSA --------------------------------------------------------------------


@bp.post("/tsa")
def timestamp() -> Response:
    """RFC 3161 over HTTP: a DER TimeStampReq in, a DER TimeStampResp out."""
    if request.mimetype != "application/timestamp-query":
        raise UnsupportedMediaType("send Content-Type: application/timestamp-query")
    reply = services().signing.timestamp_reply(request.get_data(cache=False))
    return Response(reply, mimetype="application/timestamp-reply")


@bp.get("/pki/ca")
def ca_bundle() -> Response:
    """The root and issuing CA certificates (PEM)."""
    return Response(services().signing.ca_bundle_pem(), mimetype="application/x-pem-file")


@bp.get("/pki/crl")
def crl() -> Response:
    """The issuing CA's certificate revocation list (DER)."""
    return Response(services().signing.crl(), mimetype="application/pkix-crl")


@bp.get("/pki/root-crl")
def root_crl() -> Response:
    """The root CA's certificate revocation list (DER)."""
    return Response(services().signing.root_crl(), mimetype="application/pkix-crl")


def init_app(app: Flask) -> None:
    """Register the signing blueprint."""
    app.register_blueprint(bp)
