from __future__ import annotations

import hashlib
import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.errors import CertifiedDocumentError, SigningFailedError
from signing.pades import FieldReservation, Placement
from signing.pki import Identity, SignerIdentity
from tests.signing.conftest import Pki
from tests.signing.helpers import check, colours, sign, widgets_per_page

SEAL_PT = 40 * 72 / 25.4


def test_explicit_placement_b_lt(
    pki: Pki, alice: SignerIdentity, contract: bytes, simple_seal: bytes
) -> None:
    result = sign(pki, contract, alice, simple_seal, [Placement.explicit(2, 100, 120)])
    assert result.signed_pdf.startswith(contract)  # incremental update
    assert result.sha256_before == hashlib.sha256(contract).hexdigest()
    assert result.sha256_after == hashlib.sha256(result.signed_pdf).hexdigest()
    assert result.level == "B-LT" and result.certified
    assert result.certificate == alice.certificate
    (applied,) = result.placements
    assert applied.page == 2
    assert applied.width == pytest.approx(SEAL_PT)
    report = check(pki, result.signed_pdf)
    (sig,) = report.signatures
    assert sig.field == result.field_name
    assert sig.signer_cn == "Alice Zhang"
    assert sig.pades_level == "B-LT"
    assert sig.timestamp is not None and sig.timestamp.trusted
    assert sig.docmdp == "FILL_FORMS"
    assert sig.modification_level == "LTA_UPDATES"  # only the DSS came after it
    assert report.has_dss
    rects = widgets_per_page(result.signed_pdf, result.field_name)
    assert rects[0] == [] and rects[2] == []
    assert rects[1][0][:2] == pytest.approx([100, 120])


def test_levels_b_b_and_b_t(
    pki: Pki, alice: SignerIdentity, one_page: bytes, simple_seal: bytes
) -> None:
    for level in ("B-B", "B-T"):
        result = sign(
            pki, one_page, alice, simple_seal, [Placement.explicit(1, 72, 72)], level=level
        )
        (sig,) = check(pki, result.signed_pdf).signatures
        assert sig.pades_level == level
        assert (sig.timestamp is None) == (level == "B-B")


def test_invisible_signature(pki: Pki, alice: SignerIdentity, one_page: bytes) -> None:
    result = sign(pki, one_page, alice, None, [])
    assert result.placements == ()
    check(pki, result.signed_pdf)


def test_b_lta_has_a_document_timestamp(
    pki: Pki, acme: SignerIdentity, one_page: bytes, simple_seal: bytes
) -> None:
    result = sign(pki, one_page, acme, simple_seal, [Placement.explicit(1, 72, 72)], level="B-LTA")
    report = check(pki, result.signed_pdf)
    (sig,) = report.signatures
    assert sig.pades_level == "B-LTA"
    (ts,) = report.doc_timestamps
    assert ts.intact and ts.valid and ts.trusted and ts.time is not None
    assert report.all_valid
    assert "INTACT:TRUSTED" in report.summary()


def test_named_field_reserved_by_certification(
    pki: Pki, alice: SignerIdentity, acme: SignerIdentity, contract: bytes, simple_seal: bytes
) -> None:
    first = sign(
        pki,
        contract,
        alice,
        simple_seal,
        [Placement.explicit(3, 72, 72)],
        reserve_fields=(FieldReservation("PartyB", 3, 350, 72, SEAL_PT, SEAL_PT),),
    )
    second = sign(pki, first.signed_pdf, acme, simple_seal, [Placement.named_field("PartyB")])
    assert second.field_name == "PartyB"
    assert second.placements[0].page == 3
    report = check(pki, second.signed_pdf)
    assert [s.field for s in report.signatures] == [first.field_name, "PartyB"]
    assert report.signatures[0].modification_level == "FORM_FILLING"


def test_certified_document_refuses_new_visible_fields(
    pki: Pki, alice: SignerIdentity, acme: SignerIdentity, one_page: bytes, simple_seal: bytes
) -> None:
    first = sign(pki, one_page, alice, simple_seal, [Placement.explicit(1, 72, 72)])
    with pytest.raises(CertifiedDocumentError):
        sign(pki, first.signed_pdf, acme, simple_seal, [Placement.explicit(1, 300, 72)])
    with pytest.raises(CertifiedDocumentError):
        sign(pki, first.signed_pdf, acme, simple_seal, [], certify=True)


def test_every_page(pki: Pki, acme: SignerIdentity, contract: bytes, simple_seal: bytes) -> None:
    result = sign(
        pki, contract, acme, simple_seal, [Placement.every_page(400, 60, 80, 80)], certify=False
    )
    assert [p.page for p in result.placements] == [1, 2, 3]
    rects = widgets_per_page(result.signed_pdf, result.field_name)
    assert all(r == [[400, 60, 480, 140]] for r in rects)
    check(pki, result.signed_pdf)


def test_riding_seal_slices(
    pki: Pki, acme: SignerIdentity, contract: bytes, simple_seal: bytes
) -> None:
    result = sign(pki, contract, acme, simple_seal, [Placement.riding()])
    slice_w = SEAL_PT / 3
    assert [p.slice_index for p in result.placements] == [0, 1, 2]
    rects = widgets_per_page(result.signed_pdf, result.field_name)
    for page_rects in rects:
        ((x1, y1, x2, y2),) = page_rects
        assert x2 == pytest.approx(595.2756, abs=0.01)  # A4 right edge
        assert x2 - x1 == pytest.approx(slice_w, abs=0.01)
        assert (y1 + y2) / 2 == pytest.approx(841.8898 / 2, abs=0.01)  # vertically centred
    check(pki, result.signed_pdf)


def test_two_and_three_successive_signatures(
    pki: Pki,
    alice: SignerIdentity,
    acme: SignerIdentity,
    bob: SignerIdentity,
    contract: bytes,
    simple_seal: bytes,
) -> None:
    first = sign(pki, contract, alice, simple_seal, [Placement.explicit(3, 60, 60)], certify=False)
    second = sign(pki, first.signed_pdf, acme, simple_seal, [Placement.riding(y=300)])
    report = check(pki, second.signed_pdf)
    assert len(report.signatures) == 2
    third = sign(
        pki, second.signed_pdf, bob, simple_seal, [Placement.explicit(3, 400, 60)], level="B-LTA"
    )
    report = check(pki, third.signed_pdf)
    assert [s.signer_cn for s in report.signatures] == [
        "Alice Zhang",
        "示例科技有限公司",
        "Bob Li",
    ]
    assert [s.modification_level for s in report.signatures] == [
        "FORM_FILLING",
        "FORM_FILLING",
        "LTA_UPDATES",
    ]
    assert len(report.doc_timestamps) == 1
    assert report.all_valid


def test_byte_flip_in_signed_range_breaks_integrity(
    pki: Pki, alice: SignerIdentity, one_page: bytes, simple_seal: bytes
) -> None:
    result = sign(pki, one_page, alice, simple_seal, [Placement.explicit(1, 72, 72)], level="B-T")
    reader = PdfFileReader(io.BytesIO(result.signed_pdf))
    (emb,) = reader.embedded_signatures
    start, length = emb.byte_range[0], emb.byte_range[1]
    # flip one bit in the middle of the first signed range
    offset = start + length // 2
    assert start <= offset < start + length
    tampered = bytearray(result.signed_pdf)
    tampered[offset] ^= 0x01
    from signing.validate import validate_pdf

    (sig,) = validate_pdf(bytes(tampered), pki.ca.trust_roots()).signatures
    assert not sig.intact
    assert not sig.bottom_line
    assert sig.reason and "changed" in sig.reason


def test_revoked_signer_cannot_sign_at_b_lt(pki: Pki, one_page: bytes, simple_seal: bytes) -> None:
    signer = pki.ca.new_signer(Identity("Mallory"))
    pki.ca.revoke(signer.certificate.serial_number)
    with pytest.raises(SigningFailedError):
        sign(pki, one_page, signer, simple_seal, [Placement.explicit(1, 72, 72)])


def test_untrusted_without_our_root(
    pki: Pki, alice: SignerIdentity, one_page: bytes, simple_seal: bytes
) -> None:
    from signing.validate import validate_pdf

    result = sign(pki, one_page, alice, simple_seal, [Placement.explicit(1, 72, 72)])
    (sig,) = validate_pdf(result.signed_pdf, []).signatures
    assert sig.intact and sig.valid and not sig.trusted
    assert sig.reason == "no trusted path to a given trust anchor"


def test_watermark_and_qr_code_before_the_first_signature(
    pki: Pki, alice: SignerIdentity, bob: SignerIdentity, contract: bytes, simple_seal: bytes
) -> None:
    from PIL import Image

    from signing.seals import render_png

    first = sign(
        pki,
        contract,
        alice,
        simple_seal,
        [Placement.explicit(1, 72, 72)],
        watermark="仅供合同签署使用",
        qr_url="https://sealtrail.test/verify/abc123",
        certify=False,
    )
    second = sign(pki, first.signed_pdf, bob, simple_seal, [Placement.explicit(1, 250, 72)])
    check(pki, second.signed_pdf)
    page = Image.open(io.BytesIO(render_png(second.signed_pdf, 72))).convert("RGBA")
    # QR code: 20 mm square, 10 mm from the right and bottom edges; dark modules inside
    qr = page.crop((page.width - 85, page.height - 85, page.width - 29, page.height - 29))
    dark = sum(1 for p in colours(qr) if p[3] == 255 and max(p[:3]) < 60)
    assert dark > 0
    grey = [
        p
        for p in colours(page.crop((150, 300, 450, 550)))
        if p[3] > 0 and abs(p[0] - p[1]) < 10 and 100 < p[0] < 250
    ]
    assert grey, "watermark not visible in the middle of the page"


def test_countersigning_a_third_party_signed_pdf_keeps_its_signature(
    pki: Pki, acme: SignerIdentity, simple_seal: bytes
) -> None:
    from signing.validate import validate_pdf
    from tests.signing.conftest import VECTORS

    theirs = (VECTORS / "node-signpdf" / "signed-once.pdf").read_bytes()
    result = sign(pki, theirs, acme, simple_seal, [Placement.explicit(1, 300, 100)])
    assert not result.certified  # a later signature never certifies
    report = validate_pdf(result.signed_pdf, pki.ca.trust_roots())
    earlier, ours = report.signatures
    assert earlier.intact and earlier.valid and not earlier.trusted  # self-signed, not ours
    assert earlier.modification_level == "FORM_FILLING" and earlier.docmdp_ok
    assert ours.intact and ours.valid and ours.trusted and ours.bottom_line


def test_one_given_side_keeps_the_seal_aspect_ratio(
    pki: Pki, acme: SignerIdentity, one_page: bytes
) -> None:
    from signing.seals import MM, SealSpec, draw_seal

    invoice = draw_seal(SealSpec("invoice", "示例科技有限公司", code="91440300MA5FXXXX2K"))
    result = sign(pki, one_page, acme, invoice, [Placement.explicit(1, 72, 72, width=80 * MM)])
    (applied,) = result.placements
    assert applied.height == pytest.approx(60 * MM)  # 40 x 30 mm scaled to 80 mm wide
    check(pki, result.signed_pdf)
