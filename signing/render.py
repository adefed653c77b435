"""Pages of a PDF as PNG images for the signer's page, and the geometry that goes with them.

Rendering goes through pdfium (pypdfium2), which is not thread-safe: one lock serialises every
call into it in this process. Images are cached by the document's SHA-256, the page number and
the width, first in a small in-memory LRU and then on disk under ``EVIDENCE_HOME/cache/pages``,
so a document's pages are rendered once per width however many signers open it. Widths snap to
a few fixed steps so that a client cannot fill the cache with one image per pixel.

Geometry: PDF user space has its origin at the bottom-left of the page and counts in points
(1/72 in). :func:`box_to_percent` turns a box in those units into CSS percentages of the page
image (origin top-left, the page's ``/Rotate`` applied), and :func:`percent_to_point` goes back.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from evidence_chain.errors import NotFoundError, ValidationError
from evidence_chain.private_files import make_private_dir
from signing.errors import MalformedPdfError

__all__ = [
    "MAX_PIXELS",
    "WIDTHS",
    "PageGeometry",
    "PageRenderer",
    "box_to_percent",
    "page_geometry",
    "percent_to_point",
    "preset_position",
    "render_page",
    "snap_width",
]

# Widths (pixels) an image is rendered at; a requested width snaps up to the next one.
WIDTHS = (320, 480, 640, 800, 1000, 1200, 1600)
DEFAULT_WIDTH = 1000
# No page image larger than this many pixels, whatever the page's size in points: a 200-inch
# page at full width would otherwise be a gigabyte of bitmap.
MAX_PIXELS = 6_000_000
MAX_SIDE = 16_384  # pixels, on either side
# Position presets for the form that works without JavaScript.
PRESETS = ("bottom-right", "bottom-left", "bottom-center", "top-right", "top-left", "center")
MARGIN = 36.0  # points kept free around a preset position

_PDFIUM_LOCK = threading.Lock()


@dataclass(frozen=True)
class PageGeometry:
    """One page's visible box (the crop box) in PDF points, and its rotation in degrees."""

    left: float
    bottom: float
    width: float
    height: float
    rotation: int = 0

    @property
    def display_width(self) -> float:
        """Width of the page as shown (rotation applied), in points."""
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> float:
        """Height of the page as shown (rotation applied), in points."""
        return self.width if self.rotation in (90, 270) else self.height


def snap_width(width: int | None) -> int:
    """The rendering width for a requested one: the next step of :data:`WIDTHS`, clamped."""
    if width is None:
        return DEFAULT_WIDTH
    for step in WIDTHS:
        if width <= step:
            return step
    return WIDTHS[-1]


def _open(pdf: bytes):  # type: ignore[no-untyped-def]
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise MalformedPdfError(f"the document cannot be read as a PDF: {exc}") from None


def page_geometry(pdf: bytes) -> tuple[PageGeometry, ...]:
    """The geometry of every page of ``pdf``, in order."""
    with _PDFIUM_LOCK:
        doc = _open(pdf)
        try:
            out = []
            for i in range(len(doc)):
                page = doc[i]
                try:
                    left, bottom, right, top = page.get_cropbox()
                    rotation = int(page.get_rotation()) % 360
                finally:
                    page.close()
                out.append(
                    PageGeometry(
                        left=float(left),
                        bottom=float(bottom),
                        width=float(right - left),
                        height=float(top - bottom),
                        rotation=rotation,
                    )
                )
            return tuple(out)
        finally:
            doc.close()


def render_page(pdf: bytes, page: int, width: int) -> bytes:
    """Page ``page`` (1-based) of ``pdf`` as a PNG ``width`` pixels wide (fewer for huge pages)."""
    if width < 1:
        raise ValidationError("the image width must be positive", details={"width": width})
    with _PDFIUM_LOCK:
        doc = _open(pdf)
        try:
            if not 1 <= page <= len(doc):
                raise NotFoundError(
                    f"page {page} does not exist; the document has {len(doc)} pages",
                    details={"page": page, "pages": len(doc)},
                )
            doc.init_forms()  # so that form widgets (the signatures and seals) are drawn
            pdf_page = doc[page - 1]
            try:
                w_pt, h_pt = pdf_page.get_size()  # rotation applied: the page as shown
                if w_pt <= 0 or h_pt <= 0:
                    raise MalformedPdfError(f"page {page} has an empty page box")
                scale = min(width / w_pt, MAX_SIDE / max(w_pt, h_pt))
                if (w_pt * scale + 1) * (h_pt * scale + 1) > MAX_PIXELS:
                    # pdfium rounds each side up: leave room for a pixel on both.
                    scale = (MAX_PIXELS / (w_pt * h_pt)) ** 0.5 * 0.995
                bitmap = pdf_page.render(scale=scale, may_draw_forms=True)
                image = bitmap.to_pil()
            finally:
                pdf_page.close()
        finally:
            doc.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _to_display(geo: PageGeometry, x: float, y: float) -> tuple[float, float]:
    """A point in PDF user space as fractions (0..1) of the shown page from its top-left."""
    u = (x - geo.left) / geo.width
    v = (geo.bottom + geo.height - y) / geo.height
    if geo.rotation == 90:
        return 1.0 - v, u
    if geo.rotation == 180:
        return 1.0 - u, 1.0 - v
    if geo.rotation == 270:
        return v, 1.0 - u
    return u, v


def _from_display(geo: PageGeometry, du: float, dv: float) -> tuple[float, float]:
    """Inverse of :func:`_to_display`."""
    if geo.rotation == 90:
        u, v = dv, 1.0 - du
    elif geo.rotation == 180:
        u, v = 1.0 - du, 1.0 - dv
    elif geo.rotation == 270:
        u, v = 1.0 - dv, du
    else:
        u, v = du, dv
    return geo.left + u * geo.width, geo.bottom + geo.height - v * geo.height


def box_to_percent(
    geo: PageGeometry, x: float, y: float, w: float, h: float
) -> tuple[float, float, float, float]:
    """A box (bottom-left `x`, `y`, `w` x `h` points) as CSS left/top/width/height in %."""
    a = _to_display(geo, x, y)
    b = _to_display(geo, x + w, y + h)
    left, right = sorted((a[0], b[0]))
    top, bottom = sorted((a[1], b[1]))
    return (
        round(left * 100, 3),
        round(top * 100, 3),
        round((right - left) * 100, 3),
        round((bottom - top) * 100, 3),
    )


def percent_to_point(
    geo: PageGeometry, left: float, top: float, width: float, height: float
) -> tuple[float, float]:
    """The bottom-left corner, in PDF points, of a box given as CSS percentages of the page."""
    a = _from_display(geo, left / 100, top / 100)
    b = _from_display(geo, (left + width) / 100, (top + height) / 100)
    return round(min(a[0], b[0]), 2), round(min(a[1], b[1]), 2)


def preset_position(geo: PageGeometry, preset: str, w: float, h: float) -> tuple[float, float]:
    """Bottom-left corner in PDF points of a ``w`` x ``h`` box at a named position on the page."""
    if preset not in PRESETS:
        raise ValidationError(
            f"unknown position {preset!r}", details={"position": preset, "allowed": list(PRESETS)}
        )
    dw, dh = geo.display_width, geo.display_height
    bw, bh = (h, w) if geo.rotation in (90, 270) else (w, h)  # the box as shown
    margin_x = min(MARGIN, max(0.0, (dw - bw) / 2))
    margin_y = min(MARGIN, max(0.0, (dh - bh) / 2))
    vertical, _, horizontal = preset.partition("-")
    if preset == "center":
        vertical, horizontal = "center", "center"
    left = {"left": margin_x, "center": (dw - bw) / 2, "right": dw - bw - margin_x}[horizontal]
    top = {"top": margin_y, "center": (dh - bh) / 2, "bottom": dh - bh - margin_y}[vertical]
    return percent_to_point(geo, left / dw * 100, top / dh * 100, bw / dw * 100, bh / dh * 100)


class PageRenderer:
    """Page images and geometry of documents, cached by SHA-256 in memory and on disk."""

    def __init__(self, cache_dir: Path | None, memory_bytes: int = 48 * 1024 * 1024) -> None:
        """Cache under ``cache_dir`` (None: memory only), at most ``memory_bytes`` in memory."""
        self.cache_dir = cache_dir
        self.memory_bytes = memory_bytes
        self._lru: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._geometry: dict[str, tuple[PageGeometry, ...]] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_home(cls, home: Path) -> PageRenderer:
        """A renderer caching under ``home/cache/pages``."""
        return cls(home / "cache" / "pages")

    # --- memory ---------------------------------------------------------------------------

    def _remember(self, key: str, data: bytes) -> None:
        if len(data) > self.memory_bytes // 4:
            return
        with self._lock:
            if key in self._lru:
                self._lru.move_to_end(key)
                return
            self._lru[key] = data
            self._size += len(data)
            while self._size > self.memory_bytes and self._lru:
                _, old = self._lru.popitem(last=False)
                self._size -= len(old)

    def _recall(self, key: str) -> bytes | None:
        with self._lock:
            data = self._lru.get(key)
            if data is not None:
                self._lru.move_to_end(key)
            return data

    # --- disk -----------------------------------------------------------------------------

    def _path(self, sha256: str, name: str) -> Path | None:
        if self.cache_dir is None:
            return None
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValidationError("a document hash must be 64 lowercase hex digits")
        return self.cache_dir / sha256[:2] / sha256 / name

    def _read(self, path: Path | None) -> bytes | None:
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def _write(self, path: Path | None, data: bytes) -> None:
        if path is None:
            return
        try:
            make_private_dir(path.parent)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)  # atomic: a reader sees the whole image or none
        except OSError:
            pass  # a cache that cannot be written is only slower

    # --- public ---------------------------------------------------------------------------

    def geometry(self, sha256: str, load: Callable[[], bytes]) -> tuple[PageGeometry, ...]:
        """Geometry of every page of the document ``sha256``; ``load`` is called on a miss."""
        cached = self._geometry.get(sha256)
        if cached is not None:
            return cached
        path = self._path(sha256, "pages.json")
        raw = self._read(path)
        geo: tuple[PageGeometry, ...] | None = None
        if raw is not None:
            try:
                geo = tuple(PageGeometry(**item) for item in json.loads(raw))
            except (ValueError, TypeError):
                geo = None
        if geo is None:
            pdf = load()
            geo = page_geometry(pdf)
            if hashlib.sha256(pdf).hexdigest() == sha256:
                self._write(path, json.dumps([asdict(g) for g in geo]).encode())
        with self._lock:
            self._geometry[sha256] = geo
        return geo

    def png(self, sha256: str, page: int, width: int | None, load: Callable[[], bytes]) -> bytes:
        """Page ``page`` of the document ``sha256`` as a PNG at about ``width`` pixels."""
        step = snap_width(width)
        name = f"p{page}-w{step}.png"
        key = f"{sha256}/{name}"
        data = self._recall(key)
        if data is not None:
            return data
        path = self._path(sha256, name)
        data = self._read(path)
        if data is None:
            pdf = load()
            data = render_page(pdf, page, step)
            # Cache only under the hash of what was really rendered.
            if hashlib.sha256(pdf).hexdigest() == sha256:
                self._write(path, data)
            else:
                return data
        self._remember(key, data)
        return data
