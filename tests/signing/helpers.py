"""Small helpers shared by the signing tests."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import cast

from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.pades import Placement, SignOptions, SignResult, sign_pdf
from signing.pki import SignerIdentity
from signing.validate import ValidationReport, validate_pdf
from tests.signing.conftest import Pki


def sign(
    pki: Pki,
    pdf: bytes,
    signer: SignerIdentity,
    seal: bytes | None,
    placements: Sequence[Placement],
    **options: object,
) -> SignResult:
    """Sign with the session TSA and CRLs (B-LT unless ``level`` is given)."""
    return sign_pdf(
        pdf,
        signer,
        seal,
        placements,
        SignOptions(**options),  # type: ignore[arg-type]
        timestamper=pki.timestamper(),
        crls=pki.ca.crls(),
    )


def check(pki: Pki, pdf: bytes) -> ValidationReport:
    """Validate against the session root and insist every signature is fully good."""
    report = validate_pdf(pdf, pki.ca.trust_roots())
    for sig in report.signatures:
        assert sig.intact and sig.valid and sig.trusted, sig.summary()
        assert sig.docmdp_ok, sig.summary()
        assert sig.bottom_line, sig.summary()
    return report


def widgets_per_page(pdf: bytes, field_name: str) -> list[list[list[float]]]:
    """Rectangles of the widgets of ``field_name`` on each page."""
    reader = PdfFileReader(io.BytesIO(pdf))
    pages: list[list[list[float]]] = []
    count = int(reader.root["/Pages"]["/Count"])
    for ix in range(count):
        page = reader.find_page_for_modification(ix)[0].get_object()
        rects = []
        for annot_ref in page.get("/Annots", []):
            annot = annot_ref.get_object()
            if annot.get("/Subtype") != "/Widget":
                continue
            owner = annot if "/T" in annot else None
            if owner is None:
                for f in reader.root["/AcroForm"]["/Fields"]:
                    fo = f.get_object()
                    if any(k.reference == annot_ref.reference for k in fo.get("/Kids", [])):
                        owner = fo
            if owner is not None and owner.get("/T") == field_name:
                rects.append([float(v) for v in annot["/Rect"]])
        pages.append(rects)
    return pages


def pixel(img: Image.Image, x: float, y: float) -> tuple[int, int, int, int]:
    """The RGBA value at (x, y) of an RGBA image."""
    return cast(tuple[int, int, int, int], img.getpixel((int(x), int(y))))


def colours(img: Image.Image) -> list[tuple[int, int, int, int]]:
    """The distinct RGBA values of an RGBA image."""
    return [cast(tuple[int, int, int, int], c) for _, c in img.getcolors(1 << 20) or []]
