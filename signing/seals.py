"""Seal appearances and page overlays, drawn with ReportLab as vector PDF."""

from __future__ import annotations

import io
import os
import threading

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from evidence_chain.errors import ConfigurationError

__all__ = ["MM", "cjk_font", "page_overlay"]

MM = 72.0 / 25.4


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
    c = canvas.Canvas(buf, pagesize=(width, height))
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


# A Ming/Song (serif) face, as on real seals. ReportLab embeds only TrueType outlines, so the
# OpenType/CFF Noto CJK fonts cannot be used; fonts-arphic-uming ships a TrueType collection.
CJK_FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # AR PL UMing CN (Debian fonts-arphic-uming)
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
