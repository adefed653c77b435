"""PAdES signatures with visible seals, by pyHanko.

How a seal that shows on several pages stays covered by the signature
----------------------------------------------------------------------
pyHanko draws a visible appearance on exactly one widget. A seal on every page, or a riding
seal (骑缝章) split across the right edges of all pages, needs one picture per page. Those
pictures are **additional widget annotations of the same signature field** (``/Kids`` of the
field), each with its own ``/AP``: the seal, or one vertical slice of it.

* They are written in the same incremental update as the signature value, so the signature's
  ``/ByteRange`` covers every one of them: change any slice and the signature is broken.
* For the signatures before it, a new signature field with widgets is "form filling"; pyHanko's
  difference analysis walks every widget in the new field's ``/Kids``, so earlier signatures
  stay at modification level FORM_FILLING (not OTHER), and Acrobat and pdfsig accept them.
  Drawing into page content instead would be "OTHER" after the first signature.
* pyHanko looks up a field's single widget when it applies the appearance; the remaining
  widgets are therefore attached by our stamp style at that moment (:class:`_SealWidgets`),
  within pyHanko's own signing run, before the revision is written.

Watermarks and QR codes do go into page content: they are allowed only while the document
has no signature at all, and they are written in the first signature's own revision.

Certification: by default the first signature certifies the document (DocMDP, "fill forms
and sign"). pyHanko's default difference policy (stricter than Acrobat) does not accept a
*new visible* signature field after a certification signature, so later signers either sign
fields reserved by the certifying signature (``SignOptions.reserve_fields``) or, when the
first signature is an approval signature (``certify=False``), place their seals freely.
We refuse up front what would break an earlier certification, instead of producing it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.pdf_embedded import read_certification_data
from pyhanko.stamp.base import BaseStamp, BaseStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from evidence_chain.errors import ConfigurationError, ValidationError
from signing.errors import (
    AlreadySignedError,
    CertifiedDocumentError,
    SealImageError,
    SealImageTooLargeError,
    SigningFailedError,
    UnknownFieldError,
)
from signing.pdf_errors import PARSER_ERRORS, reads_pdf
from signing.pdf_lock import PDF_LOCK, serialised, unlocked_timestamper
from signing.pdfcheck import DEFAULT_MAX_BYTES, check_pdf, media_box, page_count
from signing.pki import SignerIdentity
from signing.placement import (
    AppliedPlacement,
    FieldReservation,
    Placement,
    Widget,
    check_page,
    check_rect,
    existing_field_widget,
    fit_into,
    resolve_placements,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PDF_LOCK",
    "AppliedPlacement",
    "FieldReservation",
    "Level",
    "Placement",
    "SignOptions",
    "SignResult",
    "check_pdf",
    "serialised",
    "sign_pdf",
    "unlocked_timestamper",
]

MAX_SEAL_BYTES = 5 * 1024 * 1024
MAX_SEAL_PIXELS = 4096 * 4096


class _OfflineRevinfoNotice(logging.Filter):
    """Drop pyHanko's per-signature warning that revocation data is not fetched.

    We hand pyHanko the CRLs ourselves and forbid network fetching on purpose, so the warning
    would be logged on every signature without telling an operator anything.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_OfflineRevinfoNotice())
MM = 72.0 / 25.4
# widget flags: Print (4) | Locked (128)
_WIDGET_FLAGS = 4 | 128

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]


@dataclass(frozen=True)
class SignOptions:
    """Everything about a signature except who signs and where the seal goes."""

    level: Level = "B-LT"
    field_name: str | None = None
    reason: str | None = None
    location: str | None = None
    contact_info: str | None = None
    certify: bool | None = None
    """None: certify when the document has no signature yet."""
    reserve_fields: tuple[FieldReservation, ...] = ()
    watermark: str | None = None
    qr_url: str | None = None
    qr_size_mm: float = 20.0
    seal_size_mm: tuple[float, float] = (40.0, 40.0)
    """Size of a raster (PNG/JPEG) seal; a PDF seal brings its own size."""
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class SignResult:
    """A signed document and what was done to it."""

    signed_pdf: bytes = field(repr=False)
    sha256_before: str
    sha256_after: str
    field_name: str
    certificate: x509.Certificate
    placements: tuple[AppliedPlacement, ...]
    level: Level
    certified: bool


# --- seal appearance ---------------------------------------------------------------------


def _seal_natural_size(
    appearance: bytes, raster_size_mm: tuple[float, float]
) -> tuple[float, float]:
    """Check the seal before any work and return its size in points."""
    if len(appearance) > MAX_SEAL_BYTES:
        raise SealImageTooLargeError(
            f"the seal is {len(appearance)} bytes, the limit is {MAX_SEAL_BYTES}",
            details={"size": len(appearance), "limit": MAX_SEAL_BYTES},
        )
    if appearance.startswith(b"%PDF"):
        try:
            r = PdfFileReader(io.BytesIO(appearance), strict=False)
            x1, y1, x2, y2 = media_box(r, 0)
        except RecursionError:
            raise SealImageError("the seal PDF is nested too deeply to be read") from None
        except PARSER_ERRORS as exc:
            raise SealImageError(f"the seal PDF cannot be read: {exc}") from exc
        if x2 - x1 <= 0 or y2 - y1 <= 0:
            raise SealImageError("the seal PDF page has no area")
        return x2 - x1, y2 - y1
    try:
        img = Image.open(io.BytesIO(appearance))  # reads the header only
    except (UnidentifiedImageError, OSError) as exc:
        raise SealImageError("the seal must be a PDF, PNG or JPEG") from exc
    if img.format not in ("PNG", "JPEG"):
        raise SealImageError("the seal must be a PDF, PNG or JPEG")
    if img.width * img.height > MAX_SEAL_PIXELS:
        raise SealImageTooLargeError(
            f"the seal image is {img.width}x{img.height} pixels, over {MAX_SEAL_PIXELS}",
            details={"width": img.width, "height": img.height, "limit": MAX_SEAL_PIXELS},
        )
    w_mm, h_mm = raster_size_mm
    if not (0 < w_mm <= 300 and 0 < h_mm <= 300):
        raise ValidationError("seal_size_mm must be positive and at most 300 mm")
    return w_mm * MM, h_mm * MM


def _seal_xobject(
    writer: BasePdfFileWriter, appearance: bytes, size: tuple[float, float]
) -> generic.IndirectObject:
    """Put the seal in the document once, as a form XObject of its natural size at the origin."""
    if appearance.startswith(b"%PDF"):
        reader = PdfFileReader(io.BytesIO(appearance), strict=False)
        ref = writer.import_page_as_xobject(reader, 0)
        xobj = ref.get_object()
        x1, y1, _, _ = (float(v) for v in xobj["/BBox"])
        if x1 or y1:
            xobj["/Matrix"] = generic.ArrayObject(
                [generic.FloatObject(v) for v in (1, 0, 0, 1, -x1, -y1)]
            )
        return ref
    try:
        img: Image.Image = Image.open(io.BytesIO(appearance))
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise SealImageError("the seal must be a PDF, PNG or JPEG") from exc
    if img.format not in ("PNG", "JPEG"):
        raise SealImageError("the seal must be a PDF, PNG or JPEG")
    if img.mode not in ("RGB", "RGBA", "L", "LA", "P", "PA"):
        img = img.convert("RGBA")
    pdf_img = PdfImage(img, writer=writer)
    w, h = size
    return _form_xobject(
        writer, (w, h), "/Im0", pdf_img.image_ref, b"q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q" % (w, h)
    )


def _form_xobject(
    writer: BasePdfFileWriter,
    size: tuple[float, float],
    name: str,
    ref: generic.IndirectObject,
    content: bytes,
) -> generic.IndirectObject:
    """A Form XObject of ``size`` whose ``content`` draws the one XObject ``ref`` as ``name``."""
    w, h = size
    stream = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(
                [
                    generic.FloatObject(0),
                    generic.FloatObject(0),
                    generic.FloatObject(w),
                    generic.FloatObject(h),
                ]
            ),
            pdf_name("/Resources"): generic.DictionaryObject(
                {pdf_name("/XObject"): generic.DictionaryObject({pdf_name(name): ref})}
            ),
        },
        stream_data=content,
    )
    return writer.add_object(stream)


def _widget_appearance(
    writer: BasePdfFileWriter,
    seal_ref: generic.IndirectObject,
    natural: tuple[float, float],
    wd: Widget,
) -> generic.IndirectObject:
    _, _, w, h = wd.rect
    sx, sy = wd.seal_w / natural[0], wd.seal_h / natural[1]
    return _form_xobject(
        writer,
        (w, h),
        "/Seal",
        seal_ref,
        b"q %.5f 0 0 %.5f %.4f %.4f cm /Seal Do Q" % (sx, sy, wd.dx, wd.dy),
    )


def _rect_array(rect: tuple[float, float, float, float]) -> generic.ArrayObject:
    x, y, w, h = rect
    return generic.ArrayObject([generic.FloatObject(round(v, 4)) for v in (x, y, x + w, y + h)])


@dataclass(frozen=True)
class _SealWidgets(BaseStampStyle):
    """Stamp style that installs prepared appearances instead of drawing text.

    pyHanko calls it with the field's (single) widget while it fills the signature field;
    we give that widget the first appearance and attach the remaining widgets to the same
    field, so they become part of the signed revision.
    """

    first_appearance: generic.IndirectObject | None = None
    field_ref: generic.IndirectObject | None = None
    extra: tuple[tuple[generic.IndirectObject, Widget, generic.IndirectObject], ...] = ()

    def create_stamp(
        self, writer: BasePdfFileWriter, box: BoxConstraints, text_params: dict[str, Any]
    ) -> BaseStamp | None:
        return _InstallWidgets(writer, self, box)


class _InstallWidgets(BaseStamp):
    def __init__(self, writer: BasePdfFileWriter, style: _SealWidgets, box: BoxConstraints):
        super().__init__(writer=writer, style=style, box=box)
        self._seal_style = style

    def apply_appearance(self, annot_dict: generic.DictionaryObject) -> None:
        style = self._seal_style
        if style.first_appearance is not None:
            annot_dict["/AP"] = generic.DictionaryObject({pdf_name("/N"): style.first_appearance})
            if "/AS" in annot_dict:
                del annot_dict["/AS"]
        if not style.extra:
            return
        parent_ref = style.field_ref
        assert parent_ref is not None
        field_dict = parent_ref.get_object()
        kids = field_dict["/Kids"]
        writer = self.writer
        assert writer is not None
        for page_ref, wd, ap_ref in style.extra:
            widget = generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Annot"),
                    pdf_name("/Subtype"): pdf_name("/Widget"),
                    pdf_name("/F"): generic.NumberObject(_WIDGET_FLAGS),
                    pdf_name("/Rect"): _rect_array(wd.rect),
                    pdf_name("/P"): page_ref,
                    pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): ap_ref}),
                }
            )
            widget_ref = writer.add_object(widget)
            kids.append(widget_ref)
            writer.register_annotation(page_ref, widget_ref)


# --- signing -------------------------------------------------------------------------------


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _pyhanko_signer(identity: SignerIdentity) -> signers.SimpleSigner:
    key_der = identity.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return signers.SimpleSigner(
        signing_cert=_asn1_cert(identity.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in identity.chain]),
    )


def _signing_context(
    identity: SignerIdentity, crls: Sequence[bytes], trust_roots: Sequence[x509.Certificate]
) -> ValidationContext:
    roots = list(trust_roots) or [c for c in identity.chain if c.subject == c.issuer]
    if not roots:
        raise ConfigurationError("B-LT signing needs a trust root (a self-signed CA in the chain)")
    return ValidationContext(
        trust_roots=[_asn1_cert(c) for c in roots],
        other_certs=[_asn1_cert(c) for c in identity.chain],
        crls=list(crls),
        allow_fetching=False,
        revocation_mode="hard-fail",
    )


def _unique_field_name(reader: PdfFileReader) -> str:
    existing = {name for name, _, _ in fields.enumerate_sig_fields(reader, filled_status=None)}
    n = len(existing) + 1
    while f"Signature{n}" in existing:
        n += 1
    return f"Signature{n}"


@serialised
@reads_pdf
def sign_pdf(
    pdf: bytes,
    signer: SignerIdentity,
    appearance_pdf_or_png: bytes | None,
    placements: Sequence[Placement],
    options: SignOptions = SignOptions(),
    *,
    timestamper: TimeStamper | None = None,
    crls: Sequence[bytes] = (),
    trust_roots: Sequence[x509.Certificate] = (),
) -> SignResult:
    """Sign ``pdf`` in a new incremental update, showing the seal at ``placements``."""
    reader = check_pdf(pdf, options.max_bytes)
    level = options.level
    if level not in ("B-B", "B-T", "B-LT", "B-LTA"):
        raise ValidationError(f"unknown PAdES level {level!r}")
    if level != "B-B" and timestamper is None:
        raise ConfigurationError(f"PAdES {level} needs a time-stamping authority")
    if level in ("B-LT", "B-LTA") and not crls:
        raise ConfigurationError(f"PAdES {level} needs the CRLs of the signer's chain")
    placements = list(placements)
    if placements and appearance_pdf_or_png is None:
        raise ValidationError("visible placements need a seal appearance")

    existing_sigs = list(reader.embedded_signatures)
    docmdp = read_certification_data(reader)
    certify = options.certify if options.certify is not None else not existing_sigs
    if certify and existing_sigs:
        raise CertifiedDocumentError("only the first signature of a document can certify it")
    if docmdp is not None and docmdp.permission == MDPPerm.NO_CHANGES:
        raise CertifiedDocumentError("the document is certified with 'no changes allowed'")
    if (options.watermark or options.qr_url) and existing_sigs:
        raise AlreadySignedError(
            "a watermark or QR code cannot be added after the first signature: "
            "it would invalidate the existing signatures"
        )
    if options.reserve_fields and not certify:
        raise ValidationError("fields for later signers are reserved by the certifying signature")

    field_placement = [p for p in placements if p.kind == "field"]
    if field_placement and len(placements) > 1:
        raise ValidationError("a field placement cannot be combined with other placements")

    count = page_count(reader)
    natural = (
        _seal_natural_size(appearance_pdf_or_png, options.seal_size_mm)
        if appearance_pdf_or_png is not None
        else (0.0, 0.0)
    )
    existing_field: tuple[int, tuple[float, float, float, float]] | None = None
    if field_placement:
        name = field_placement[0].field_name
        if not name:
            raise ValidationError("a field placement needs a field name")
        existing_field = existing_field_widget(reader, name)
        field_name = name
        page, rect = existing_field
        if rect[2] <= 0 or rect[3] <= 0:
            raise UnknownFieldError(f"signature field {name!r} is invisible (it has no area)")
        fitted = fit_into(rect, natural)
        widgets = [Widget(page, rect, fitted.seal_w, fitted.seal_h, fitted.dx, fitted.dy)]
    else:
        widgets = resolve_placements(reader, placements, natural)
        field_name = options.field_name or _unique_field_name(reader)
        if options.field_name and any(
            n == field_name for n, _, _ in fields.enumerate_sig_fields(reader, filled_status=None)
        ):
            raise ValidationError(f"signature field {field_name!r} already exists")
        if docmdp is not None and widgets:
            raise CertifiedDocumentError(
                "the document is certified: later signatures must use a reserved signature field",
                details={
                    "hint": "use Placement.named_field(...) with a field reserved at certification"
                },
            )
    for res in options.reserve_fields:
        check_page(res.page, count)
        check_rect(reader, res.page, res.x, res.y, res.width, res.height)

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    if options.watermark or options.qr_url:
        _stamp_pages(writer, count, options)

    for res in options.reserve_fields:
        fields.append_signature_field(
            writer,
            SigFieldSpec(
                sig_field_name=res.name,
                on_page=res.page - 1,
                box=(
                    round(res.x),
                    round(res.y),
                    round(res.x + res.width),
                    round(res.y + res.height),
                ),
            ),
        )

    first_ap: generic.IndirectObject | None = None
    field_ref: generic.IndirectObject | None = None
    extra: list[tuple[generic.IndirectObject, Widget, generic.IndirectObject]] = []
    if widgets:
        assert appearance_pdf_or_png is not None
        seal_ref = _seal_xobject(writer, appearance_pdf_or_png, natural)
        aps = [_widget_appearance(writer, seal_ref, natural, wd) for wd in widgets]
        first_ap = aps[0]
        if existing_field is None:
            first = widgets[0]
            x, y, w, h = first.rect
            fields.append_signature_field(
                writer,
                SigFieldSpec(
                    sig_field_name=field_name,
                    on_page=first.page - 1,
                    box=(math.floor(x), math.floor(y), math.ceil(x + w), math.ceil(y + h)),
                    combine_annotation=False,
                ),
            )
            field_ref = _find_field(writer, field_name)
            (kid,) = field_ref.get_object()["/Kids"]
            kid.get_object()["/Rect"] = _rect_array(first.rect)
            for wd, ap in zip(widgets[1:], aps[1:], strict=True):
                page_ref = writer.find_page_for_modification(wd.page - 1)[0]
                extra.append((page_ref, wd, ap))

    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        reason=options.reason,
        location=options.location,
        contact_info=options.contact_info,
        subfilter=SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=MDPPerm.FILL_FORMS,
        embed_validation_info=level in ("B-LT", "B-LTA"),
        use_pades_lta=level == "B-LTA",
        validation_context=(
            _signing_context(signer, crls, trust_roots) if level in ("B-LT", "B-LTA") else None
        ),
        signer_key_usage={"non_repudiation"},
    )
    style = _SealWidgets(
        border_width=0, first_appearance=first_ap, field_ref=field_ref, extra=tuple(extra)
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=_pyhanko_signer(signer),
        timestamper=unlocked_timestamper(timestamper) if timestamper and level != "B-B" else None,
        stamp_style=style,
    )
    try:
        out = pdf_signer.sign_pdf(writer, existing_fields_only=bool(widgets))
    except (ValidationError, ConfigurationError):
        raise
    except Exception as exc:  # pyHanko wraps many causes; the caller needs one error type
        raise SigningFailedError(f"signing failed: {type(exc).__name__}: {exc}") from exc
    signed = out.getvalue()
    applied = tuple(
        AppliedPlacement(wd.page, *wd.rect, slice_index=wd.slice_index) for wd in widgets
    )
    return SignResult(
        signed_pdf=signed,
        sha256_before=hashlib.sha256(pdf).hexdigest(),
        sha256_after=hashlib.sha256(signed).hexdigest(),
        field_name=field_name,
        certificate=signer.certificate,
        placements=applied,
        level=level,
        certified=certify,
    )


def _find_field(writer: BasePdfFileWriter, name: str) -> generic.IndirectObject:
    for fq_name, _, ref in fields.enumerate_sig_fields(writer, filled_status=None):
        if fq_name == name:
            assert isinstance(ref, generic.IndirectObject)
            return ref
    raise UnknownFieldError(f"signature field {name!r} was not created")


def _stamp_pages(writer: IncrementalPdfFileWriter, count: int, options: SignOptions) -> None:
    """Draw the watermark and/or QR code into every page's content (first signature only)."""
    from signing import seals

    for ix in range(count):
        page_ref, _ = writer.find_page_for_modification(ix)
        llx, lly, urx, ury = media_box(writer, ix)  # type: ignore[arg-type]
        overlay = seals.page_overlay(
            urx - llx,
            ury - lly,
            watermark=options.watermark,
            qr_url=options.qr_url,
            qr_size_mm=options.qr_size_mm,
        )
        xobj = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(overlay)), 0)
        name = b"/SealtrailOverlay%d" % ix
        paint = b"q 1 0 0 1 %.4f %.4f cm %s Do Q" % (llx, lly, name)
        resources = generic.DictionaryObject(
            {pdf_name("/XObject"): generic.DictionaryObject({pdf_name(name.decode("ascii")): xobj})}
        )
        # isolate the original content's graphics state from ours
        writer.add_stream_to_page(
            ix, writer.add_object(generic.StreamObject(stream_data=b"q")), prepend=True
        )
        writer.add_stream_to_page(ix, writer.add_object(generic.StreamObject(stream_data=b"Q")))
        writer.add_stream_to_page(
            ix, writer.add_object(generic.StreamObject(stream_data=paint)), resources
        )
        del page_ref


@serialised
def attach_file(pdf: bytes, data: bytes, name: str, *, mime_type: str, description: str) -> bytes:
    """``pdf`` with ``data`` embedded as the file ``name``, an incremental update (sign after)."""
    from pyhanko.pdf_utils import embed

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    spec = embed.FileSpec(
        file_spec_string=name,
        file_name=name,
        embedded_data=embed.EmbeddedFileObject.from_file_data(
            writer, data=data, mime_type=mime_type
        ),
        description=description,
        af_relationship=pdf_name("/Data"),
    )
    embed.embed_file(writer, spec)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
