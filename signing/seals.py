"""Electronic seal appearances, drawn with ReportLab as one-page vector PDFs.

Every seal is a single page exactly ``size_mm`` large with no background (transparent when
placed on a document), in the seal colour (default ``#d40000``, the red of seal ink). The
kinds follow what users of Chinese e-contract platforms know from paper seals:

* ``official`` (公章): round, 42 mm; the organisation name along the upper edge, a five-point
  star in the centre, the purpose text (if any) under the star, an optional code number along
  the bottom edge;
* ``contract`` (合同专用章): as ``official``, purpose "合同专用章";
* ``finance`` (财务专用章): round 38 mm with star, purpose "财务专用章" (also made square or
  oval elsewhere; round is the form issued in most provinces today);
* ``invoice`` (发票专用章): oval 40 x 30 mm, name along the upper edge, the taxpayer number
  (unified social credit code) across the middle, "发票专用章" below;
* ``legal_representative`` / ``personal`` (名章): square 20 mm; a name is laid out in a 2x2
  grid read in columns from the right (2 characters become "X Y 之印", 3 become "X Y Z 印");
* ``handwritten``: not drawn here; see :func:`seal_from_image` for an uploaded picture.

CJK text uses an embedded TrueType face: ReportLab can embed only TrueType (glyf) outlines,
not the CFF outlines of the OpenType Noto CJK fonts, hence AR PL UMing (Debian package
``fonts-arphic-uming``, a Ming/Song face like real seals) with WenQuanYi Zen Hei as fallback.
"""

from __future__ import annotations

import io
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Literal

import pypdfium2 as pdfium
from PIL import Image, ImageChops, UnidentifiedImageError
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from evidence_chain.errors import ConfigurationError, ValidationError
from signing.errors import SealImageError, SealImageTooLargeError

__all__ = [
    "CJK_FONT_NAME",
    "MM",
    "SealImage",
    "SealKind",
    "SealSpec",
    "cjk_font",
    "draw_seal",
    "page_overlay",
    "render_png",
    "seal_from_image",
]

MM = 72.0 / 25.4

SealKind = Literal[
    "official", "contract", "finance", "invoice", "legal_representative", "personal", "handwritten"
]

_DEFAULT_SIZE_MM: dict[str, tuple[float, float]] = {
    "official": (42.0, 42.0),
    "contract": (42.0, 42.0),
    "finance": (38.0, 38.0),
    "invoice": (40.0, 30.0),
    "legal_representative": (20.0, 20.0),
    "personal": (20.0, 20.0),
}
_DEFAULT_PURPOSE: dict[str, str | None] = {
    "official": None,
    "contract": "合同专用章",
    "finance": "财务专用章",
    "invoice": "发票专用章",
}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_TEXT = 40

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class SealSpec:
    """What to draw: kind, main text (name), purpose text, code number, size and colour."""

    kind: SealKind
    text: str
    subtext: str | None = None
    """Purpose text under the star (official kinds), or None for the kind's default."""
    code: str | None = None
    """Code number along the bottom edge (round seals) or the taxpayer number (invoice)."""
    size_mm: tuple[float, float] | None = None
    colour: str = "#d40000"

    def __post_init__(self) -> None:
        if self.kind not in (*_DEFAULT_SIZE_MM, "handwritten"):
            raise ValidationError(f"unknown seal kind {self.kind!r}")
        if not self.text.strip() and self.kind != "handwritten":
            raise ValidationError("a seal needs text")
        for label, value in (("text", self.text), ("subtext", self.subtext), ("code", self.code)):
            if value is not None and len(value) > MAX_TEXT:
                raise ValidationError(f"seal {label} is longer than {MAX_TEXT} characters")
        if not _HEX.match(self.colour):
            raise ValidationError("colour must be #rrggbb")
        if self.size_mm is not None:
            w, h = self.size_mm
            if not (10 <= w <= 80 and 10 <= h <= 80):
                raise ValidationError("seal size must be between 10 and 80 mm")

    @property
    def size(self) -> tuple[float, float]:
        """Width and height in millimetres."""
        return self.size_mm or _DEFAULT_SIZE_MM[self.kind]

    @property
    def purpose(self) -> str | None:
        """The purpose text actually drawn."""
        return self.subtext if self.subtext is not None else _DEFAULT_PURPOSE.get(self.kind)


@dataclass(frozen=True)
class SealImage:
    """An uploaded seal picture with its background removed, as PNG and as a PDF appearance."""

    png: bytes
    pdf: bytes
    width_mm: float
    height_mm: float


# --- fonts ------------------------------------------------------------------------------

CJK_FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # AR PL UMing CN (fonts-arphic-uming)
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # WenQuanYi Zen Hei (fonts-wqy-zenhei)
)
CJK_FONT_NAME = "SealtrailCJK"
_cjk_lock = threading.Lock()
_cjk_registered = False


def cjk_font() -> str:
    """Register (once) and return the name of the embedded CJK TrueType font."""
    global _cjk_registered
    with _cjk_lock:
        if not _cjk_registered:
            for path, index in CJK_FONT_CANDIDATES:
                if os.path.exists(path):
                    pdfmetrics.registerFont(TTFont(CJK_FONT_NAME, path, subfontIndex=index))
                    _cjk_registered = True
                    break
            else:
                raise ConfigurationError(
                    "no TrueType CJK font found; install the Debian package fonts-arphic-uming"
                )
    return CJK_FONT_NAME


def _rgb(colour: str) -> tuple[float, float, float]:
    return (int(colour[1:3], 16) / 255, int(colour[3:5], 16) / 255, int(colour[5:7], 16) / 255)


# --- drawing primitives -------------------------------------------------------------------


def _star(c: canvas.Canvas, cx: float, cy: float, r_outer: float) -> None:
    r_inner = r_outer * math.sin(math.radians(18)) / math.sin(math.radians(54))
    path = c.beginPath()
    for i in range(10):
        r = r_outer if i % 2 == 0 else r_inner
        a = math.radians(90 + i * 36)
        x, y = cx + r * math.cos(a), cy + r * math.sin(a)
        if i == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    path.close()
    c.drawPath(path, stroke=0, fill=1)


def _glyph(
    c: canvas.Canvas, ch: str, x: float, y: float, angle: float, size: float, x_scale: float
) -> None:
    """Draw one character centred at (x, y), its up direction rotated by ``angle`` degrees."""
    font = cjk_font() if ord(ch) > 127 else "Helvetica-Bold"
    c.saveState()
    c.translate(x, y)
    c.rotate(angle)
    c.scale(x_scale, 1)
    c.setFont(font, size)
    # centre vertically: CJK glyphs sit on the baseline with ~0.88 em ascent
    c.drawCentredString(0, -size * 0.36, ch)
    c.restoreState()


def _advance(ch: str, size: float) -> float:
    font = cjk_font() if ord(ch) > 127 else "Helvetica-Bold"
    return pdfmetrics.stringWidth(ch, font, size) + size * 0.08


def _arc_text(
    c: canvas.Canvas,
    text: str,
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    size: float,
    max_span_deg: float,
    *,
    bottom: bool = False,
    x_scale: float = 1.0,
) -> None:
    """Lay ``text`` out along an elliptical arc centred on the top (or the bottom) of the seal.

    Upper text has its tops pointing outwards; bottom text is read left to right with tops
    pointing towards the centre, as on a paper seal.
    """
    if not text:
        return
    mean_r = (rx + ry) / 2
    advances = [_advance(ch, size) * x_scale for ch in text]
    # centre of each glyph measured along the arc from the first glyph's centre
    centres = [sum(advances[:i]) + advances[i] / 2 - advances[0] / 2 for i in range(len(text))]
    total = centres[-1]
    span = math.degrees(total / mean_r) if total else 0.0
    stretch = min(1.0, max_span_deg / span) if span else 1.0
    for ch, offset in zip(text, centres, strict=True):
        delta = math.degrees(offset / mean_r) * stretch
        if bottom:
            a = math.radians(270 - span * stretch / 2 + delta)
        else:
            a = math.radians(90 + span * stretch / 2 - delta)
        x, y = cx + rx * math.cos(a), cy + ry * math.sin(a)
        # the normal of the ellipse at parameter a points along (cos a / rx, sin a / ry)
        normal = math.degrees(math.atan2(math.sin(a) / ry, math.cos(a) / rx))
        _glyph(c, ch, x, y, normal - 90 if not bottom else normal + 90, size, x_scale)


def _fit_arc(text: str, mean_r: float, span_deg: float, max_size: float) -> tuple[float, float]:
    """Font size and horizontal squeeze so that ``text`` fits ``span_deg`` of the arc."""
    arc = math.radians(span_deg) * mean_r
    unit = sum(_advance(ch, 1.0) for ch in text) or 1.0
    size = min(max_size, arc / unit)
    squeeze = 1.0
    min_size = max_size * 0.7
    if size < min_size:  # long names: narrower glyphs rather than tiny ones, like real seals
        squeeze = max(0.55, size / min_size)
        size = min(max_size, arc / (unit * squeeze))
    return size, squeeze


def _draw_round(c: canvas.Canvas, spec: SealSpec, w: float, h: float) -> None:
    cx, cy = w / 2, h / 2
    r = min(w, h) / 2
    border = r * 0.058
    c.setLineWidth(border)
    c.ellipse(border / 2, border / 2, w - border / 2, h - border / 2, stroke=1, fill=0)
    name_size, squeeze = _fit_arc(spec.text, r * 0.7, 240, r * 0.23)
    text_r = r - border * 1.8 - name_size * 0.5
    _arc_text(
        c,
        spec.text,
        cx,
        cy,
        text_r * w / (2 * r),
        text_r * h / (2 * r),
        name_size,
        240,
        x_scale=squeeze,
    )
    _star(c, cx, cy + r * 0.02, r * 0.3)
    purpose = spec.purpose
    if purpose:
        size = min(r * 0.17, (r * 1.3) / max(len(purpose), 1))
        c.setFont(cjk_font(), size)
        c.drawCentredString(cx, cy - r * 0.58, purpose)
    if spec.code:
        code_size = r * 0.1
        code_r = r - border * 1.6 - code_size * 0.5
        _arc_text(c, spec.code, cx, cy, code_r, code_r, code_size, 80, bottom=True, x_scale=0.8)


def _draw_invoice(c: canvas.Canvas, spec: SealSpec, w: float, h: float) -> None:
    cx, cy = w / 2, h / 2
    border = min(w, h) * 0.035
    c.setLineWidth(border)
    c.ellipse(border / 2, border / 2, w - border / 2, h - border / 2, stroke=1, fill=0)
    rx, ry = w / 2, h / 2
    name_size, squeeze = _fit_arc(spec.text, (rx + ry) / 2 * 0.75, 200, ry * 0.26)
    _arc_text(
        c,
        spec.text,
        cx,
        cy,
        rx - border * 1.8 - name_size * 0.5,
        ry - border * 1.8 - name_size * 0.5,
        name_size,
        200,
        x_scale=squeeze,
    )
    if spec.code:
        size = min(ry * 0.17, (w * 0.56) / max(len(spec.code) * 0.62, 1))
        c.setFont("Helvetica-Bold", size)
        c.drawCentredString(cx, cy - size * 0.35, spec.code)
    purpose = spec.purpose
    if purpose:
        size = min(ry * 0.24, (w * 0.5) / max(len(purpose), 1))
        c.setFont(cjk_font(), size)
        c.drawCentredString(cx, cy - ry * 0.62, purpose)


def _name_grid(name: str) -> str:
    name = name.strip()
    if len(name) == 2:
        return name + "之印"
    if len(name) == 3:
        return name + "印"
    return name


def _draw_square(c: canvas.Canvas, spec: SealSpec, w: float, h: float) -> None:
    border = min(w, h) * 0.07
    c.setLineWidth(border)
    c.rect(border / 2, border / 2, w - border, h - border, stroke=1, fill=0)
    text = _name_grid(spec.text)
    inner_w, inner_h = w - 2.6 * border, h - 2.6 * border
    x0, y0 = 1.3 * border, 1.3 * border
    if len(text) == 4:
        # columns from the right, each read top to bottom
        cell_w, cell_h = inner_w / 2, inner_h / 2
        size = min(cell_w, cell_h) * 0.92
        cells = [(1, 1), (1, 0), (0, 1), (0, 0)]  # (column, row) with row 1 = top
        for ch, (col, row) in zip(text, cells, strict=True):
            _glyph(
                c,
                ch,
                x0 + cell_w * (col + 0.5),
                y0 + cell_h * (row + 0.5),
                0,
                size,
                1.0,
            )
    else:
        # one column (1 char) or two right-to-left columns for longer names
        cols = 1 if len(text) <= 1 else 2
        per_col = math.ceil(len(text) / cols)
        cell_w, cell_h = inner_w / cols, inner_h / per_col
        size = min(cell_w, cell_h * 1.1) * 0.9
        squeeze = min(1.0, cell_h * 1.05 / size) if cell_h < size else 1.0
        for i, ch in enumerate(text):
            col = cols - 1 - i // per_col
            row = per_col - 1 - i % per_col
            _glyph(
                c,
                ch,
                x0 + cell_w * (col + 0.5),
                y0 + cell_h * (row + 0.5),
                0,
                size * min(1.0, cell_h / size * 1.05),
                squeeze,
            )


def draw_text_lines(
    width: float,
    height: float,
    lines: Sequence[tuple[float, float, float, str]],
    colour: tuple[float, float, float] = (0.05, 0.05, 0.3),
) -> bytes:
    """A one-page PDF of ``width`` x ``height`` points with text lines ``(x, y, size, text)``.

    Latin-1 runs are set in Helvetica, everything else (Chinese names, a text field filled in
    as 买方) in the embedded CJK face, so no character of what a party entered is lost.
    """
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height), pageCompression=1)
    c.setFillColorRGB(*colour)
    for x, y, size, text in lines:
        cursor = x
        for cjk, run in groupby(text, key=lambda ch: ord(ch) > 0xFF):
            chunk = "".join(run)
            font = cjk_font() if cjk else "Helvetica"
            c.setFont(font, size)
            c.drawString(cursor, y, chunk)
            cursor += pdfmetrics.stringWidth(chunk, font, size)
    c.showPage()
    c.save()
    return buf.getvalue()


def draw_seal(spec: SealSpec) -> bytes:
    """Draw ``spec`` as a one-page PDF exactly ``spec.size`` millimetres large."""
    if spec.kind == "handwritten":
        raise ValidationError("handwritten seals come from an image: use seal_from_image")
    w_mm, h_mm = spec.size
    w, h = w_mm * MM, h_mm * MM
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(w, h), pageCompression=1)
    c.setTitle(f"{spec.kind} seal")
    c.setAuthor("Sealtrail")
    red = _rgb(spec.colour)
    c.setStrokeColorRGB(*red)
    c.setFillColorRGB(*red)
    if spec.kind in ("official", "contract", "finance"):
        _draw_round(c, spec, w, h)
    elif spec.kind == "invoice":
        _draw_invoice(c, spec, w, h)
    else:
        _draw_square(c, spec, w, h)
    c.showPage()
    c.save()
    return buf.getvalue()


def render_png(pdf_bytes: bytes, dpi: float = 150.0) -> bytes:
    """Rasterise the first page of ``pdf_bytes`` (seals, widgets included) to a transparent PNG."""
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        doc.init_forms()  # so that signature widgets (the placed seals) are drawn too
        page = doc[0]
        bitmap = page.render(scale=dpi / 72.0, fill_color=(255, 255, 255, 0), may_draw_forms=True)
        img = bitmap.to_pil()
    finally:
        doc.close()
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


# --- uploaded pictures --------------------------------------------------------------------

_WHITE = 235  # at or above on every channel: background
_PAPER = 200  # between _PAPER and _WHITE: faded edge, partly transparent


def seal_from_image(
    data: bytes,
    *,
    width_mm: float = 40.0,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> SealImage:
    """Turn a photographed or scanned seal/signature (PNG or JPEG) into a transparent seal."""
    if len(data) > max_bytes:
        raise SealImageTooLargeError(
            f"seal image is {len(data)} bytes, the limit is {max_bytes}",
            details={"size": len(data), "limit": max_bytes},
        )
    try:
        img = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError) as exc:
        raise SealImageError("the seal image must be a PNG or JPEG") from exc
    if img.format not in ("PNG", "JPEG"):
        raise SealImageError("the seal image must be a PNG or JPEG")
    if img.width * img.height > max_pixels or img.width < 8 or img.height < 8:
        raise SealImageTooLargeError(
            f"seal image is {img.width}x{img.height} pixels; allowed 8x8 up to {max_pixels} pixels",
            details={"width": img.width, "height": img.height, "limit": max_pixels},
        )
    try:
        rgba = img.convert("RGBA")
    except (OSError, ValueError) as exc:
        raise SealImageError("the seal image cannot be decoded") from exc
    if not 5 <= width_mm <= 200:
        raise ValidationError("seal width must be between 5 and 200 mm")

    r, g, b, a = rgba.split()
    lightest = ImageChops.darker(r, ImageChops.darker(g, b))  # min over channels

    def ramp(v: int) -> int:
        if v >= _WHITE:
            return 0
        if v <= _PAPER:
            return 255
        return (_WHITE - v) * 255 // (_WHITE - _PAPER)

    keep = lightest.point(ramp)
    rgba.putalpha(ImageChops.multiply(a, keep))
    # crop to the ink; faint compression noise around it does not count
    bbox = rgba.getchannel("A").point(lambda v: 255 if v >= 64 else 0).getbbox()
    if bbox is None:
        raise SealImageError("the seal image is blank once its background is removed")
    rgba = rgba.crop(bbox)

    png = io.BytesIO()
    rgba.save(png, format="PNG", optimize=True)
    height_mm = width_mm * rgba.height / rgba.width
    w, h = width_mm * MM, height_mm * MM
    pdf = io.BytesIO()
    c = canvas.Canvas(pdf, pagesize=(w, h), pageCompression=1)
    c.drawImage(ImageReader(rgba), 0, 0, w, h, mask="auto")
    c.showPage()
    c.save()
    return SealImage(png=png.getvalue(), pdf=pdf.getvalue(), width_mm=width_mm, height_mm=height_mm)


# --- page overlays (watermark, QR code) -------------------------------------------------


def page_overlay(
    width: float,
    height: float,
    *,
    watermark: str | None = None,
    qr_url: str | None = None,
    qr_size_mm: float = 20.0,
) -> bytes:
    """One transparent page of ``width`` x ``height`` points with a watermark and/or QR code."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height), pageCompression=1)
    if watermark:
        c.saveState()
        c.setFillColorRGB(0.5, 0.5, 0.5, alpha=0.18)
        c.translate(width / 2, height / 2)
        c.rotate(35)
        size = 0.9 * min(width, height) / max(len(watermark), 4)
        c.setFont(_font_for(watermark), size)
        c.drawCentredString(0, -size / 3, watermark)
        c.restoreState()
    if qr_url:
        side = qr_size_mm * MM
        widget = QrCodeWidget(qr_url, barLevel="M")
        x1, y1, x2, y2 = widget.getBounds()
        drawing = Drawing(side, side, transform=[side / (x2 - x1), 0, 0, side / (y2 - y1), 0, 0])
        drawing.add(widget)
        margin = 10 * MM
        renderPDF.draw(drawing, c, width - side - margin, margin)
    c.showPage()
    c.save()
    return buf.getvalue()


def _font_for(text: str) -> str:
    if all(ord(ch) < 128 for ch in text):
        return "Helvetica-Bold"
    return cjk_font()
