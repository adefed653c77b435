"""Where seals go: placements, reserved fields, and their geometry on the document's pages.

A :class:`Placement` (explicit, every page, riding, or an existing field) is resolved against
the document into :class:`Widget` rectangles, one per seal picture, each checked to lie on its
page's media box; the signing (:mod:`signing.pades`) draws the seal into them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields

from evidence_chain.errors import ValidationError
from signing.errors import PageOutOfRangeError, PlacementOutOfPageError, UnknownFieldError
from signing.pdfcheck import media_box, page_count

_EPS = 0.01
PlacementKind = Literal["explicit", "field", "every_page", "riding"]


@dataclass(frozen=True)
class Placement:
    """Where a seal goes. Pages are numbered from 1; x, y (lower-left corner) are PDF points.

    * ``explicit``: one seal on ``page`` at (``x``, ``y``);
    * ``field``: the widget of an existing, empty signature field ``field_name``;
    * ``every_page``: the same seal at (``x``, ``y``) on every page (or on ``pages``);
    * ``riding``: the seal cut into one vertical slice per page, slice *i* at the right edge
      of page *i*, vertically centred unless ``y`` is given.

    ``width``/``height`` default to the seal's own size.
    """

    kind: PlacementKind
    page: int | None = None
    x: float | None = None
    y: float | None = None
    width: float | None = None
    height: float | None = None
    field_name: str | None = None
    pages: tuple[int, ...] | None = None

    @classmethod
    def explicit(
        cls, page: int, x: float, y: float, width: float | None = None, height: float | None = None
    ) -> Placement:
        """A seal on one page at (x, y)."""
        return cls("explicit", page=page, x=x, y=y, width=width, height=height)

    @classmethod
    def named_field(cls, name: str) -> Placement:
        """The widget of an existing empty signature field."""
        return cls("field", field_name=name)

    @classmethod
    def every_page(
        cls,
        x: float,
        y: float,
        width: float | None = None,
        height: float | None = None,
        pages: Sequence[int] | None = None,
    ) -> Placement:
        """The same seal at (x, y) on every page (or on the listed pages)."""
        return cls(
            "every_page",
            x=x,
            y=y,
            width=width,
            height=height,
            pages=tuple(pages) if pages is not None else None,
        )

    @classmethod
    def riding(
        cls,
        y: float | None = None,
        width: float | None = None,
        height: float | None = None,
        pages: Sequence[int] | None = None,
    ) -> Placement:
        """A cross-page seal split over the right edges of all pages (or the listed ones)."""
        return cls(
            "riding",
            y=y,
            width=width,
            height=height,
            pages=tuple(pages) if pages is not None else None,
        )


@dataclass(frozen=True)
class FieldReservation:
    """An empty signature field made by the certifying signature for a later signer."""

    name: str
    page: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class AppliedPlacement:
    """One seal picture as written: page (1-based) and rectangle in points."""

    page: int
    x: float
    y: float
    width: float
    height: float
    slice_index: int | None = None


@dataclass(frozen=True)
class Widget:
    """One seal picture to draw: page, rectangle, and the whole seal's size and offset in it."""

    page: int  # 1-based
    rect: tuple[float, float, float, float]  # x, y, w, h
    # how the whole seal is drawn inside this widget: size and horizontal offset
    seal_w: float
    seal_h: float
    # where the seal's lower-left corner sits inside the widget (negative: cut off)
    dx: float = 0.0
    dy: float = 0.0
    slice_index: int | None = None


def check_page(page: int | None, count: int) -> int:
    """``page`` when it is a page of the document (1-based); PageOutOfRangeError otherwise."""
    if page is None or not 1 <= page <= count:
        raise PageOutOfRangeError(
            f"page {page} does not exist; the document has {count} page(s)",
            details={"page": page, "page_count": count},
        )
    return page


def check_rect(reader: PdfFileReader, page: int, x: float, y: float, w: float, h: float) -> None:
    """Refuse a rectangle that is not finite, not positive, or not on the page."""
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise PlacementOutOfPageError("placement needs finite coordinates and a positive size")
    llx, lly, urx, ury = media_box(reader, page - 1)
    if x < llx - _EPS or y < lly - _EPS or x + w > urx + _EPS or y + h > ury + _EPS:
        raise PlacementOutOfPageError(
            f"rectangle ({x:g}, {y:g}, {w:g}x{h:g}) is outside page {page} "
            f"[{llx:g} {lly:g} {urx:g} {ury:g}]",
            details={"page": page, "rect": [x, y, w, h], "media_box": [llx, lly, urx, ury]},
        )


def resolve_placements(
    reader: PdfFileReader,
    placements: Sequence[Placement],
    natural: tuple[float, float],
) -> list[Widget]:
    """The widgets of ``placements`` (none of kind ``field``), each checked against its page."""
    count = page_count(reader)
    widgets: list[Widget] = []
    for pl in placements:
        w, h = placement_size(pl, natural)
        if pl.kind == "explicit":
            page = check_page(pl.page, count)
            if pl.x is None or pl.y is None:
                raise ValidationError("an explicit placement needs x and y")
            check_rect(reader, page, pl.x, pl.y, w, h)
            widgets.append(Widget(page, (pl.x, pl.y, w, h), w, h))
        elif pl.kind == "every_page":
            if pl.x is None or pl.y is None:
                raise ValidationError("an every-page placement needs x and y")
            pages = pl.pages if pl.pages is not None else tuple(range(1, count + 1))
            for p in pages:
                check_page(p, count)
                check_rect(reader, p, pl.x, pl.y, w, h)
                widgets.append(Widget(p, (pl.x, pl.y, w, h), w, h))
        elif pl.kind == "riding":
            pages = pl.pages if pl.pages is not None else tuple(range(1, count + 1))
            if not pages:
                raise ValidationError("a riding seal needs at least one page")
            n = len(pages)
            slice_w = w / n
            for i, p in enumerate(pages):
                check_page(p, count)
                _llx, lly, urx, ury = media_box(reader, p - 1)
                y = pl.y if pl.y is not None else lly + (ury - lly - h) / 2
                x = urx - slice_w
                check_rect(reader, p, x, y, slice_w, h)
                widgets.append(Widget(p, (x, y, slice_w, h), w, h, dx=-i * slice_w, slice_index=i))
        elif pl.kind == "field":
            raise ValidationError("a field placement cannot be combined with other placements")
        else:
            raise ValidationError(f"unknown placement kind {pl.kind!r}")
    return widgets


def placement_size(pl: Placement, natural: tuple[float, float]) -> tuple[float, float]:
    """Requested size; one missing side follows the seal's aspect ratio."""
    nw, nh = natural
    if pl.width is not None and pl.height is not None:
        return pl.width, pl.height
    if pl.width is not None:
        return pl.width, pl.width * nh / nw if nw else pl.width
    if pl.height is not None:
        return pl.height * nw / nh if nh else pl.height, pl.height
    return nw, nh


def fit_into(rect: tuple[float, float, float, float], natural: tuple[float, float]) -> Widget:
    """A widget for an existing field: the seal scaled uniformly and centred in its rectangle."""
    _, _, w, h = rect
    nw, nh = natural
    scale = min(w / nw, h / nh) if nw and nh else 1.0
    sw, sh = nw * scale, nh * scale
    return Widget(0, rect, sw, sh, dx=(w - sw) / 2, dy=(h - sh) / 2)


def _page_of_annotation(reader: PdfFileReader, annot_ref: generic.IndirectObject) -> int:
    """The 1-based page whose /Annots lists ``annot_ref`` (its /P entry is only a hint)."""
    target = annot_ref.reference
    for ix in range(page_count(reader)):
        page = reader.find_page_for_modification(ix)[0].get_object()
        annots = page.get("/Annots", generic.ArrayObject())
        for item in annots:
            if isinstance(item, generic.IndirectObject) and item.reference == target:
                return ix + 1
    raise UnknownFieldError("the signature field's widget is not on any page")


def existing_field_widget(
    reader: PdfFileReader, name: str
) -> tuple[int, tuple[float, float, float, float]]:
    """Return (page, rect) of the single widget of the empty signature field ``name``."""
    for fq_name, value, ref in fields.enumerate_sig_fields(reader, filled_status=None):
        if fq_name != name:
            continue
        if value is not None:
            raise UnknownFieldError(f"signature field {name!r} is already signed")
        fd = ref.get_object()
        kids = fd.get("/Kids")
        if kids is not None and len(kids) != 1:
            raise UnknownFieldError(f"signature field {name!r} must have exactly one widget")
        annot_ref = kids.raw_get(0) if kids is not None else ref
        annot = annot_ref.get_object()
        rect = [float(v) for v in annot.get("/Rect", [0, 0, 0, 0])]
        x1, y1, x2, y2 = (
            min(rect[0], rect[2]),
            min(rect[1], rect[3]),
            max(rect[0], rect[2]),
            max(rect[1], rect[3]),
        )
        return _page_of_annotation(reader, annot_ref), (x1, y1, x2 - x1, y2 - y1)
    raise UnknownFieldError(f"there is no signature field named {name!r}")


__all__ = [
    "AppliedPlacement",
    "FieldReservation",
    "Placement",
    "PlacementKind",
    "Widget",
    "check_page",
    "check_rect",
    "existing_field_widget",
    "fit_into",
    "placement_size",
    "resolve_placements",
]
