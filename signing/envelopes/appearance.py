"""What is drawn: the page geometry of a PDF and the appearance of a party's signature."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from evidence_chain.events import format_time
from signing.seals import draw_text_lines

MARK_KINDS = ("signature", "seal")


def page_boxes(pdf: bytes, max_bytes: int) -> list[tuple[float, float, float, float]]:
    """Media boxes of every page (llx, lly, urx, ury); refuses what the engine cannot sign."""
    from pyhanko.pdf_utils.rw_common import find_inherited_value_in_tree

    from signing.errors import MalformedPdfError
    from signing.pdf_errors import reading_pdf
    from signing.pdfcheck import check_pdf

    reader = check_pdf(pdf, max_bytes)
    boxes = []
    with reading_pdf():
        count = int(reader.root["/Pages"]["/Count"])
        for ix in range(count):
            page_ref, _ = reader.find_page_for_modification(ix)
            mb = find_inherited_value_in_tree(page_ref.get_object(), "/MediaBox", "/Parent")
            if mb is None:
                raise MalformedPdfError(f"page {ix + 1} has no /MediaBox")
            x1, y1, x2, y2 = (float(v) for v in mb)
            boxes.append((min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)))
    return boxes


def is_latin(text: str) -> bool:
    """Whether ``text`` fits the standard PDF fonts (cp1252), so it can be set as a name."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def compose_appearance(
    width: float,
    height: float,
    mark_pdf: bytes | None,
    mark_rect: tuple[float, float, float, float],
    texts: Sequence[tuple[float, float, float, str]],
    *,
    box: bool = False,
) -> bytes:
    """One page of ``width`` x ``height`` points: a mark (seal PDF) fitted into ``mark_rect``,
    an optional frame around it, and lines of text ``(x, y, size, text)`` (any script)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter()
    num = generic.FloatObject
    page = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): generic.ArrayObject([num(0), num(0), num(width), num(height)]),
        }
    )
    writer.insert_page(page)
    resources = generic.DictionaryObject({pdf_name("/XObject"): generic.DictionaryObject()})
    ops: list[bytes] = []
    mx, my, mw, mh = mark_rect
    if box:
        ops.append(
            b"q 0.1 0.2 0.6 RG 1.2 w %.3f %.3f %.3f %.3f re S Q" % (mx + 1, my + 1, mw - 2, mh - 2)
        )
    if mark_pdf is not None:
        xobj = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(mark_pdf)), 0)
        resources[pdf_name("/XObject")][pdf_name("/Mark")] = xobj
        bbox = xobj.get_object()["/BBox"]
        bw, bh = float(bbox[2]) - float(bbox[0]), float(bbox[3]) - float(bbox[1])
        scale = min(mw / bw, mh / bh)
        ops.append(
            b"q %.4f 0 0 %.4f %.3f %.3f cm /Mark Do Q"
            % (scale, scale, mx + (mw - bw * scale) / 2, my + (mh - bh * scale) / 2)
        )
    if texts:
        lines = draw_text_lines(width, height, texts)
        text_xobj = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(lines)), 0)
        resources[pdf_name("/XObject")][pdf_name("/Text")] = text_xobj
        ops.append(b"q /Text Do Q")
    page[pdf_name("/Contents")] = writer.add_object(
        generic.StreamObject(stream_data=b"\n".join(ops))
    )
    page[pdf_name("/Resources")] = resources
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def party_appearance(
    party: Any,
    on_doc: list[dict[str, Any]],
    mark: tuple[bytes | None, bool],
    signed_at: dt.datetime,
    bbox: tuple[float, float, float, float],
) -> bytes:
    """The picture in a party's signature box: its mark, and its date and text values."""
    bx, by, bw, bh = bbox
    mark_pdf, framed = mark
    texts: list[tuple[float, float, float, str]] = []
    mark_rect = (0.0, 0.0, bw, bh)
    for r in on_doc:
        rx, ry, rw, rh = r["x"] - bx, r["y"] - by, r["w"], r["h"]
        if r["kind"] in MARK_KINDS:
            mark_rect = (rx, ry, rw, rh)
            if framed:
                size = max(6.0, min(rh * 0.34, 14.0))
                texts.append((rx + 6, ry + rh - size - 5, size, str(party.name)))
                small = max(5.0, size * 0.55)
                texts.append(
                    (rx + 6, ry + 5, small, f"digitally signed {format_time(signed_at)[:16]}Z")
                )
        else:
            size = max(6.0, min(rh * 0.7, 14.0))
            texts.append((rx + 2, ry + (rh - size) / 2 + 1, size, str(r["value"] or "")))
    return compose_appearance(bw, bh, mark_pdf, mark_rect, texts, box=framed)
