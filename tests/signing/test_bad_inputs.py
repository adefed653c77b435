from __future__ import annotations

import io
import math

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from evidence_chain.errors import PayloadTooLargeError, ValidationError
from signing.errors import (
    AlreadySignedError,
    EncryptedPdfError,
    MalformedPdfError,
    NotAPdfError,
    PageOutOfRangeError,
    PdfTooLargeError,
    PlacementOutOfPageError,
    SealImageError,
    UnknownFieldError,
)
from signing.pades import Placement, check_pdf
from signing.pki import SignerIdentity
from signing.validate import validate_pdf
from tests.signing.conftest import Pki
from tests.signing.helpers import sign
from web.errors import status_of


def encrypted_pdf() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt="secret")
    c.drawString(72, 720, "confidential")
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (b"PK\x03\x04 this is a zip", NotAPdfError, "not_a_pdf"),
        (b"", NotAPdfError, "not_a_pdf"),
        (b"%PDF-1.7\n" + b"\x00" * 200, MalformedPdfError, "malformed_pdf"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n", MalformedPdfError, "malformed_pdf"),
    ],
    ids=["zip", "empty", "header-only", "no-xref"],
)
def test_unreadable_inputs(data: bytes, error: type[Exception], code: str) -> None:
    with pytest.raises(error) as info:
        check_pdf(data)
    assert isinstance(info.value, ValidationError)
    assert info.value.code == code
    assert status_of(info.value) == 400


def test_truncated_pdf(contract: bytes) -> None:
    with pytest.raises(MalformedPdfError):
        check_pdf(contract[: len(contract) // 2])


def test_encrypted_pdf() -> None:
    with pytest.raises(EncryptedPdfError) as info:
        check_pdf(encrypted_pdf())
    assert info.value.code == "encrypted_pdf"


def test_too_large(contract: bytes) -> None:
    with pytest.raises(PdfTooLargeError) as info:
        check_pdf(contract, max_bytes=len(contract) - 1)
    assert isinstance(info.value, PayloadTooLargeError)
    assert status_of(info.value) == 413
    assert info.value.details["limit"] == len(contract) - 1


def test_validate_refuses_non_pdf_only() -> None:
    with pytest.raises(NotAPdfError):
        validate_pdf(b"hello")
    assert validate_pdf(_plain()).signatures == ()


def _plain() -> bytes:
    from tests.signing.conftest import make_pdf

    return make_pdf(1)


@pytest.mark.parametrize(
    ("placement", "error"),
    [
        (Placement.explicit(0, 72, 72), PageOutOfRangeError),
        (Placement.explicit(4, 72, 72), PageOutOfRangeError),
        (Placement.explicit(-1, 72, 72), PageOutOfRangeError),
        (Placement.explicit(1, 590, 72), PlacementOutOfPageError),
        (Placement.explicit(1, 72, 830), PlacementOutOfPageError),
        (Placement.explicit(1, -5, 72), PlacementOutOfPageError),
        (Placement.explicit(1, math.nan, 72), PlacementOutOfPageError),
        (Placement.explicit(1, 72, 72, width=0, height=10), PlacementOutOfPageError),
        (Placement.every_page(72, 72, pages=[1, 5]), PageOutOfRangeError),
        (Placement.riding(y=800), PlacementOutOfPageError),
        (Placement.named_field("NoSuchField"), UnknownFieldError),
    ],
    ids=[
        "page-0",
        "page-beyond",
        "page-negative",
        "right-edge",
        "top-edge",
        "left-edge",
        "nan",
        "zero-size",
        "every-page-beyond",
        "riding-too-high",
        "unknown-field",
    ],
)
def test_bad_placements(
    pki: Pki,
    alice: SignerIdentity,
    contract: bytes,
    simple_seal: bytes,
    placement: Placement,
    error: type[Exception],
) -> None:
    with pytest.raises(error) as info:
        sign(pki, contract, alice, simple_seal, [placement])
    assert status_of(info.value) == 400  # type: ignore[arg-type]


def test_watermark_after_a_signature_is_refused(
    pki: Pki, alice: SignerIdentity, one_page: bytes, simple_seal: bytes
) -> None:
    signed = sign(pki, one_page, alice, simple_seal, [], certify=False).signed_pdf
    with pytest.raises(AlreadySignedError) as info:
        sign(pki, signed, alice, simple_seal, [], watermark="COPY")
    assert info.value.code == "already_signed"
    with pytest.raises(AlreadySignedError):
        sign(pki, signed, alice, simple_seal, [], qr_url="https://sealtrail.test/v/1")


def test_seal_must_be_pdf_png_or_jpeg(pki: Pki, alice: SignerIdentity, one_page: bytes) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(gif, format="GIF")
    for data in (b"not an image", gif.getvalue()):
        with pytest.raises(SealImageError):
            sign(pki, one_page, alice, data, [Placement.explicit(1, 72, 72)])


def test_placements_need_an_appearance(pki: Pki, alice: SignerIdentity, one_page: bytes) -> None:
    with pytest.raises(ValidationError):
        sign(pki, one_page, alice, None, [Placement.explicit(1, 72, 72)])


def test_oversized_seal_images_are_refused_before_any_work(
    pki: Pki, alice: SignerIdentity, one_page: bytes
) -> None:
    from signing.errors import SealImageTooLargeError

    huge = io.BytesIO()
    Image.new("1", (5000, 5000)).save(huge, format="PNG")  # small file, 25 M pixels
    with pytest.raises(SealImageTooLargeError) as info:
        sign(pki, one_page, alice, huge.getvalue(), [Placement.explicit(1, 72, 72)])
    assert info.value.code == "seal_image_too_large"
    with pytest.raises(SealImageTooLargeError):
        sign(pki, one_page, alice, b"%PDF-" + b"0" * (5 * 1024 * 1024), [])
