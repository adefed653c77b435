"""Input checks of a PDF before it is parsed for signing: size, header, compression bombs,
encryption, a readable page tree.

Every check raises one of the signing errors (:mod:`signing.errors`), so bad input is answered
with the JSON error envelope, never a stack trace.
"""

from __future__ import annotations

import io
import re
import zlib

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.rw_common import find_inherited_value_in_tree

from signing.errors import EncryptedPdfError, MalformedPdfError, NotAPdfError, PdfTooLargeError
from signing.pdf_errors import reading_pdf

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_STREAM = re.compile(rb"stream\r?\n")
INFLATE_FLOOR = 32 * 1024 * 1024
INFLATE_RATIO = 20


def check_inflation(data: bytes, budget: int | None = None) -> None:
    """Refuse a PDF whose Flate streams inflate to more than ``budget`` bytes in all.

    A compression bomb (a few kilobytes that inflate to gigabytes, typically an object
    stream the parser must read) is caught here, before any parser holds the inflated bytes:
    each stream is inflated in bounded chunks and the output discarded. The default budget is
    the larger of 32 MiB and 20 times the file's size.
    """
    limit = budget if budget is not None else max(INFLATE_FLOOR, INFLATE_RATIO * len(data))
    total = 0
    for match in _STREAM.finditer(data):
        inflater = zlib.decompressobj()
        pos = match.end()
        try:
            while not inflater.eof and pos < len(data):
                pending = data[pos : pos + 65536]
                pos += 65536
                while pending and not inflater.eof:
                    total += len(inflater.decompress(pending, 1 << 20))
                    if total > limit:
                        raise MalformedPdfError(
                            f"the PDF's streams inflate to more than {limit} bytes "
                            "(a compression bomb?)",
                            details={"limit": limit},
                        )
                    pending = inflater.unconsumed_tail
        except zlib.error:
            continue  # not a Flate stream (or not a stream at all): nothing to inflate


def check_pdf(pdf: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> PdfFileReader:
    """Refuse oversized, non-PDF, encrypted or unparsable input; return a reader otherwise."""
    if len(pdf) > max_bytes:
        raise PdfTooLargeError(
            f"PDF is {len(pdf)} bytes, the limit is {max_bytes}",
            details={"size": len(pdf), "limit": max_bytes},
        )
    # PDF 32000 7.5.2 lets the header sit anywhere in the first 1024 bytes
    if b"%PDF-" not in pdf[:1024]:
        raise NotAPdfError("the file is not a PDF (no %PDF- header)")
    check_inflation(pdf)
    with reading_pdf():
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        if reader.encrypted:
            raise EncryptedPdfError("encrypted PDFs cannot be signed; remove the password first")
        count = int(reader.root["/Pages"]["/Count"])
        if count < 1:
            raise MalformedPdfError("the PDF has no pages")
        reader.find_page_for_modification(count - 1)
    return reader


def page_count(reader: PdfFileReader) -> int:
    """The number of pages the page tree declares."""
    return int(reader.root["/Pages"]["/Count"])


def media_box(reader: PdfFileReader, page_ix: int) -> tuple[float, float, float, float]:
    """The normalised (llx, lly, urx, ury) of the 0-based page ``page_ix``."""
    page_ref, _ = reader.find_page_for_modification(page_ix)
    mb = find_inherited_value_in_tree(page_ref.get_object(), "/MediaBox", "/Parent")
    if mb is None:
        raise MalformedPdfError(f"page {page_ix + 1} has no /MediaBox")
    x1, y1, x2, y2 = (float(v) for v in mb)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


__all__ = [
    "DEFAULT_MAX_BYTES",
    "INFLATE_FLOOR",
    "INFLATE_RATIO",
    "check_inflation",
    "check_pdf",
    "media_box",
    "page_count",
]
