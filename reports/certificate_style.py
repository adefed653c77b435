"""The look of a certificate of evidence: text helpers (markup with the CJK face, times,
hashes), paragraph styles, tables, the QR code and the page furniture (report id and
"page x of y" on every page). :mod:`reports.certificate` lays out the sections with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    LongTable,
    Paragraph,
    Table,
    TableStyle,
)

from signing.seals import cjk_font

MARGIN = 16 * mm
WIDTH = A4[0] - 2 * MARGIN
GRID = colors.HexColor("#b8bec6")
HEAD_BG = colors.HexColor("#e8ecf1")


# --- text helpers ---------------------------------------------------------------------------


def needs_cjk(ch: str) -> bool:
    # The standard PDF fonts carry Latin-1 (WinAnsi) only; anything beyond goes to the CJK face.
    return ord(ch) > 0xFF


def markup(value: Any) -> str:
    """Paragraph markup of ``value``: XML-escaped, non-Latin-1 runs set in the CJK font."""
    text = "" if value is None else str(value)
    parts = []
    for cjk, run in groupby(text, key=needs_cjk):
        chunk = escape("".join(run))
        parts.append(f'<font name="{cjk_font()}">{chunk}</font>' if cjk else chunk)
    return "".join(parts)


def split_hex(value: str, width: int = 32) -> str:
    """A long hex string cut into lines of ``width`` (Paragraphs wrap only at spaces)."""
    return "<br/>".join(escape(value[i : i + width]) for i in range(0, len(value), width)) or "-"


def short(value: str | None, n: int = 16) -> str:
    if not value:
        return "-"
    return value if len(value) <= n else value[:n] + "…"


def show_time(value: Any) -> str:
    """``2026-11-21T10:00:00.000000Z`` shown as ``2026-11-21 10:00:00 UTC``."""
    if not isinstance(value, str) or len(value) < 19:
        return "-" if value is None else str(value)
    return f"{value[:10]} {value[11:19]} UTC"


# --- styles ------------------------------------------------------------------------------------


def styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle(
        "body",
        parent=base["BodyText"],
        fontName="Helvetica",
        fontSize=9.5,
        leading=12.5,
        spaceAfter=4,
    )
    return {
        "title": ParagraphStyle(
            "title",
            parent=base["Title"],
            fontName="Helvetica-Bold",
            fontSize=22,
            leading=26,
            alignment=0,
            spaceAfter=4,
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base["Heading1"],
            fontName="Helvetica-Bold",
            fontSize=14,
            leading=17,
            spaceBefore=8,
            spaceAfter=6,
            keepWithNext=1,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            fontName="Helvetica-Bold",
            fontSize=11,
            leading=14,
            spaceBefore=6,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10, spaceAfter=2),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.2, spaceAfter=0),
        "head": ParagraphStyle(
            "head", parent=body, fontName="Helvetica-Bold", fontSize=7.5, leading=9.2, spaceAfter=0
        ),
        "mono": ParagraphStyle(
            "mono", parent=body, fontName="Courier", fontSize=6.5, leading=8.2, spaceAfter=0
        ),
        "code": ParagraphStyle(
            "code",
            parent=body,
            fontName="Courier",
            fontSize=7.5,
            leading=9.5,
            leftIndent=8,
            backColor=colors.HexColor("#f4f6f8"),
            borderPadding=4,
            spaceBefore=2,
            spaceAfter=6,
        ),
        "verdict": ParagraphStyle(
            "verdict",
            parent=body,
            fontName="Helvetica-Bold",
            fontSize=18,
            leading=22,
            textColor=colors.white,
            alignment=TA_CENTER,
        ),
        "verdict_text": ParagraphStyle(
            "verdict_text", parent=body, textColor=colors.white, fontSize=9.5, leading=12.5
        ),
    }


def table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    repeat: bool = True,
    long: bool = False,
) -> Table:
    cls = LongTable if long else Table
    table = cls(list(rows), colWidths=list(widths), repeatRows=1 if repeat else 0)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def fields(rows: Sequence[tuple[str, str]], st: dict[str, ParagraphStyle]) -> Table:
    """A two-column key/value table (values are markup already)."""
    data = [[Paragraph(markup(k), st["head"]), Paragraph(v, st["cell"])] for k, v in rows]
    table = Table(data, colWidths=[38 * mm, WIDTH - 38 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (0, -1), HEAD_BG),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def qr(url: str, side: float) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(side, side, transform=[side / (x2 - x1), 0, 0, side / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


# --- page furniture --------------------------------------------------------------------------


def numbered_canvas(footer: str, words: Any) -> type[canvas.Canvas]:
    """A canvas class that writes ``footer`` (the report id, when it was issued) and "page x
    of y" in the certificate's language (``words``) once all pages are known."""

    def draw(c: canvas.Canvas, x: float, y: float, text: str, *, right: bool = False) -> None:
        # Latin-1 runs in Helvetica, the rest in the seals' CJK face
        runs = [(needs_cjk(ch), ch) for ch in text]
        pieces = [
            (cjk, "".join(ch for _, ch in group))
            for cjk, group in groupby(runs, key=lambda item: item[0])
        ]
        widths = [
            c.stringWidth(piece, cjk_font() if cjk else "Helvetica", 7.5) for cjk, piece in pieces
        ]
        x = x - sum(widths) if right else x
        for (cjk, piece), width in zip(pieces, widths, strict=True):
            c.setFont(cjk_font() if cjk else "Helvetica", 7.5)
            c.drawString(x, y, piece)
            x += width

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(GRID)
            self.setLineWidth(0.5)
            self.line(MARGIN, 12 * mm, A4[0] - MARGIN, 12 * mm)
            self.setFillColor(colors.HexColor("#4a5360"))
            draw(self, MARGIN, 8 * mm, footer)
            page = words.t("page_of", n=self._pageNumber, total=total)
            draw(self, A4[0] - MARGIN, 8 * mm, page, right=True)
            self.restoreState()

    return NumberedCanvas
