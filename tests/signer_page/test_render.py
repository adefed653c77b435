"""Page rendering and page geometry for the signer page (signing/render.py)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from evidence_chain.errors import NotFoundError, ValidationError
from signing.errors import MalformedPdfError
from signing.render import (
    MAX_PIXELS,
    PageGeometry,
    PageRenderer,
    box_to_percent,
    page_geometry,
    percent_to_point,
    preset_position,
    render_page,
    snap_width,
)
from tests.signer_page.conftest import contract_pdf


def pdf_of_size(width: float, height: float, rotate: int = 0) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    c.rect(10, 10, 50, 20, fill=1)  # a black box at the bottom-left
    c.showPage()
    c.save()
    data = buf.getvalue()
    if rotate:
        data = data.replace(b"/Type /Page\n", f"/Type /Page /Rotate {rotate}\n".encode(), 1)
    return data


def grey(image: Image.Image, x: int, y: int) -> int:
    value = image.getpixel((x, y))
    assert isinstance(value, int)
    return value


def test_geometry_and_render_of_a4() -> None:
    pdf = contract_pdf(pages=3)
    geo = page_geometry(pdf)
    assert len(geo) == 3
    assert geo[0].width == pytest.approx(595.28, abs=0.01)
    assert geo[0].height == pytest.approx(841.89, abs=0.01)
    image = Image.open(io.BytesIO(render_page(pdf, 3, 800)))
    assert image.width == 800
    assert abs(image.height - 800 * 841.89 / 595.28) <= 1


def test_render_draws_the_page_where_pdf_points_say() -> None:
    pdf = pdf_of_size(200, 100)
    image = Image.open(io.BytesIO(render_page(pdf, 1, 400))).convert("L")
    assert image.size == (400, 200)
    # The box at x 10-60, y 10-30 (bottom-left origin) is at px 20-120, 140-180 from the top.
    left, top, width, height = box_to_percent(page_geometry(pdf)[0], 10, 10, 50, 20)
    assert (left, top, width, height) == (5.0, 70.0, 25.0, 20.0)
    assert grey(image, 70, 160) < 50  # inside: black
    assert grey(image, 200, 60) > 200  # elsewhere: white


def test_missing_page_and_not_a_pdf() -> None:
    with pytest.raises(NotFoundError):
        render_page(contract_pdf(pages=1), 2, 400)
    with pytest.raises(NotFoundError):
        render_page(contract_pdf(pages=1), 0, 400)
    with pytest.raises(MalformedPdfError):
        page_geometry(b"%PDF-1.7 this is not really a PDF")


def test_huge_page_is_capped_in_pixels() -> None:
    pdf = pdf_of_size(200, 14_400)  # 200 inches tall: the PDF maximum
    image = Image.open(io.BytesIO(render_page(pdf, 1, 1600)))
    assert image.width * image.height <= MAX_PIXELS
    assert image.height <= 16_384
    assert image.height / image.width == pytest.approx(72, rel=0.02)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_percent_and_points_round_trip_on_rotated_pages(rotation: int) -> None:
    geo = PageGeometry(left=10, bottom=20, width=595, height=842, rotation=rotation)
    box = box_to_percent(geo, 100, 200, 150, 50)
    assert all(0 <= v <= 100 for v in box)
    assert percent_to_point(geo, *box) == pytest.approx((100, 200), abs=0.05)


def test_rotated_page_shows_the_box_where_the_image_has_it() -> None:
    pdf = pdf_of_size(200, 100, rotate=90)
    geo = page_geometry(pdf)[0]
    assert geo.rotation == 90
    image = Image.open(io.BytesIO(render_page(pdf, 1, 200))).convert("L")
    assert image.size == (200, 400)  # shown upright: 100 x 200 points
    left, top, width, height = box_to_percent(geo, 10, 10, 50, 20)
    cx = (left + width / 2) / 100 * image.width
    cy = (top + height / 2) / 100 * image.height
    assert grey(image, int(cx), int(cy)) < 50


def test_presets_keep_the_box_on_the_page() -> None:
    geo = PageGeometry(0, 0, 595.28, 841.89)
    assert preset_position(geo, "bottom-right", 180, 60) == pytest.approx(
        (595.28 - 36 - 180, 36), abs=0.01
    )
    assert preset_position(geo, "top-left", 180, 60) == pytest.approx(
        (36, 841.89 - 36 - 60), abs=0.01
    )
    x, y = preset_position(geo, "center", 180, 60)
    assert (x + 90, y + 30) == pytest.approx((595.28 / 2, 841.89 / 2), abs=0.01)
    with pytest.raises(ValidationError):
        preset_position(geo, "somewhere", 180, 60)


def test_widths_snap_to_steps() -> None:
    assert snap_width(None) == 1000
    assert snap_width(1) == 320
    assert snap_width(481) == 640
    assert snap_width(99_999) == 1600


def test_cache_renders_once_then_serves_from_memory_and_disk(tmp_path: Path) -> None:
    pdf = contract_pdf(pages=2)
    sha = hashlib.sha256(pdf).hexdigest()
    loads = []

    def load() -> bytes:
        loads.append(1)
        return pdf

    first = PageRenderer(tmp_path)
    png = first.png(sha, 2, 700, load)
    assert first.png(sha, 2, 800, load) == png  # same step: from memory
    assert len(loads) == 1
    assert (tmp_path / sha[:2] / sha / "p2-w800.png").read_bytes() == png
    second = PageRenderer(tmp_path)  # another worker: from disk, no PDF needed
    assert second.png(sha, 2, 800, load) == png
    assert second.geometry(sha, load) == first.geometry(sha, load)
    assert len(loads) == 2  # one render, one geometry read
    # A document whose bytes do not match the claimed hash is never cached under it.
    other = "0" * 64
    PageRenderer(tmp_path).png(other, 1, 320, load)
    assert not (tmp_path / "00").exists()
    with pytest.raises(ValidationError):
        PageRenderer(tmp_path).png("../../etc", 1, 320, load)
