from __future__ import annotations

import io
import math

import pytest
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader

from evidence_chain.errors import ValidationError
from signing.errors import SealImageError, SealImageTooLargeError
from signing.pades import Placement
from signing.pki import SignerIdentity
from signing.seals import MM, SealSpec, draw_seal, render_png, seal_from_image
from tests.signing.conftest import Pki
from tests.signing.helpers import check, colours, pixel, sign

SPECS = [
    SealSpec("official", "深圳市示例科技有限公司", code="4403051234567"),
    SealSpec("contract", "深圳市示例科技有限公司"),
    SealSpec("finance", "深圳市示例科技有限公司"),
    SealSpec("invoice", "深圳市示例科技有限公司", code="91440300MA5FXXXX2K"),
    SealSpec("legal_representative", "张三"),
    SealSpec("personal", "欧阳明月"),
]


def _fonts(pdf: bytes) -> list[dict[str, object]]:
    reader = PdfFileReader(io.BytesIO(pdf))
    page = reader.find_page_for_modification(0)[0].get_object()
    out = []
    for ref in page["/Resources"]["/Font"].values():
        font = ref.get_object()
        descriptor = font.get("/FontDescriptor")
        out.append(
            {
                "base": str(font["/BaseFont"]),
                "subtype": str(font["/Subtype"]),
                "file2": descriptor is not None and "/FontFile2" in descriptor.get_object(),
            }
        )
    return out


def _size(pdf: bytes) -> tuple[float, float]:
    reader = PdfFileReader(io.BytesIO(pdf))
    x1, y1, x2, y2 = (
        float(v) for v in reader.find_page_for_modification(0)[0].get_object()["/MediaBox"]
    )
    return x2 - x1, y2 - y1


@pytest.mark.parametrize("spec", SPECS, ids=[s.kind for s in SPECS])
def test_each_kind_draws_at_its_size_with_an_embedded_cjk_font(spec: SealSpec) -> None:
    pdf = draw_seal(spec)
    reader = PdfFileReader(io.BytesIO(pdf))
    assert int(reader.root["/Pages"]["/Count"]) == 1
    w, h = _size(pdf)
    assert w == pytest.approx(spec.size[0] * MM, abs=0.01)
    assert h == pytest.approx(spec.size[1] * MM, abs=0.01)
    cjk = [f for f in _fonts(pdf) if "UMing" in str(f["base"])]
    assert cjk, _fonts(pdf)
    assert all(f["file2"] and f["subtype"] == "/TrueType" for f in cjk)


def _px(img: Image.Image, x: float, y: float) -> tuple[int, int, int, int]:
    return pixel(img, x, y)


def _is_red(p: tuple[int, int, int, int]) -> bool:
    r, g, b, a = p
    return a > 128 and r > 150 and g < 90 and b < 90


def test_official_seal_renders_as_a_red_ring_with_a_star() -> None:
    spec = SealSpec("official", "深圳市示例科技有限公司", subtext="合同专用章")
    img = Image.open(io.BytesIO(render_png(draw_seal(spec), dpi=150))).convert("RGBA")
    size = 42 * 150 / 25.4
    assert abs(img.width - size) <= 1 and img.width == img.height
    c = img.width / 2
    border = c * 0.058
    ring = [
        _is_red(_px(img, c + (c - border / 2) * math.cos(t), c + (c - border / 2) * math.sin(t)))
        for t in (math.radians(d) for d in range(0, 360, 5))
    ]
    assert sum(ring) >= 0.95 * len(ring)
    assert _is_red(_px(img, c, c))  # star centre
    for corner in (
        (2, 2),
        (img.width - 3, 2),
        (2, img.height - 3),
        (img.width - 3, img.height - 3),
    ):
        assert _px(img, *corner)[3] == 0  # transparent outside the ring
    # inside the ring, between ring and text, nothing is drawn at 12 o'clock
    assert _px(img, c, border * 1.4)[3] < 64


def test_colour_is_honoured() -> None:
    img = Image.open(
        io.BytesIO(render_png(draw_seal(SealSpec("personal", "李四", colour="#0000ff"))))
    )
    seen = {p[:3] for p in colours(img.convert("RGBA")) if p[3] == 255}
    assert (0, 0, 255) in seen


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "official", "text": " "},
        {"kind": "official", "text": "x" * 41},
        {"kind": "official", "text": "A", "colour": "red"},
        {"kind": "official", "text": "A", "size_mm": (5.0, 5.0)},
        {"kind": "stamp", "text": "A"},
    ],
)
def test_bad_specs(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SealSpec(**kwargs)  # type: ignore[arg-type]


def test_handwritten_is_not_drawn() -> None:
    with pytest.raises(ValidationError):
        draw_seal(SealSpec("handwritten", "x"))


def _scanned_seal(fmt: str) -> bytes:
    img = Image.new("RGB", (300, 300), (250, 248, 245))  # off-white paper
    d = ImageDraw.Draw(img)
    d.ellipse((20, 20, 280, 280), outline=(200, 20, 30), width=14)
    d.rectangle((130, 130, 170, 170), fill=(190, 10, 20))
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_uploaded_image_background_becomes_transparent(fmt: str) -> None:
    seal = seal_from_image(_scanned_seal(fmt), width_mm=40)
    img = Image.open(io.BytesIO(seal.png))
    assert img.mode == "RGBA"
    assert pixel(img, 2, img.height // 2)[3] > 200  # the ring (cropped to the ink)
    centre = pixel(img, img.width // 2, img.height // 2)
    assert centre[3] == 255 and centre[0] > 150
    assert pixel(img, img.width // 4, img.height // 4 + 10)[3] == 0  # paper inside the ring
    assert seal.height_mm == pytest.approx(40.0, rel=0.02)
    assert _size(seal.pdf)[0] == pytest.approx(40 * MM, abs=0.01)
    rendered = Image.open(io.BytesIO(render_png(seal.pdf, 72))).convert("RGBA")
    assert pixel(rendered, rendered.width // 4, rendered.height // 4 + 5)[3] == 0


def test_uploaded_image_rejections() -> None:
    with pytest.raises(SealImageError):
        seal_from_image(b"%PDF-1.7 not an image")
    gif = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(gif, format="GIF")
    with pytest.raises(SealImageError):
        seal_from_image(gif.getvalue())
    with pytest.raises(SealImageTooLargeError):
        seal_from_image(_scanned_seal("PNG"), max_bytes=100)
    with pytest.raises(SealImageTooLargeError):
        seal_from_image(_scanned_seal("PNG"), max_pixels=100 * 100)
    white = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(white, format="PNG")
    with pytest.raises(SealImageError):
        seal_from_image(white.getvalue())


def test_sign_with_drawn_and_uploaded_seals(
    pki: Pki, acme: SignerIdentity, alice: SignerIdentity, contract: bytes
) -> None:
    official = draw_seal(SealSpec("contract", "示例科技有限公司"))
    first = sign(pki, contract, acme, official, [Placement.explicit(3, 300, 100)], certify=False)
    hand = seal_from_image(_scanned_seal("PNG"), width_mm=30)
    second = sign(
        pki,
        first.signed_pdf,
        alice,
        hand.png,
        [Placement.explicit(3, 100, 100)],
        seal_size_mm=(30, 30),
    )
    third = sign(pki, second.signed_pdf, alice, hand.pdf, [Placement.explicit(2, 100, 100)])
    report = check(pki, third.signed_pdf)
    assert len(report.signatures) == 3
    page3 = Image.open(io.BytesIO(render_png(third.signed_pdf, 36)))
    assert page3.size[0] > 0
