"""What a PDF parser raises on a hostile or damaged file, mapped once to ``MalformedPdfError``.

pyHanko (and the zlib, struct and codec layers under it) does not confine itself to
``PdfReadError``: a damaged cross-reference section or trailer surfaces as an
``AssertionError`` (a trailer whose ``/Root`` is not a dictionary, an xref stream without
``/Type /XRef``), an ``IndexError`` or ``KeyError`` (a missing entry), ``NotImplementedError``
(an unknown stream filter), ``zlib.error`` (a corrupt Flate stream) or ``RecursionError`` (a
self-referencing page tree). Every place that reads an uploaded PDF (signing, validation,
envelopes, the verify page) does it inside :func:`reading_pdf`, so each answers the same 400
``malformed_pdf`` and none lets a parser's exception become a 500.
"""

from __future__ import annotations

import binascii
import logging
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from pyhanko.pdf_utils.misc import PdfError

from evidence_chain.errors import EvidenceError
from signing.errors import MalformedPdfError

log = logging.getLogger(__name__)

PARSER_ERRORS: tuple[type[BaseException], ...] = (
    PdfError,
    AssertionError,
    ArithmeticError,
    AttributeError,
    LookupError,
    NotImplementedError,
    TypeError,
    ValueError,
    binascii.Error,
    struct.error,
    zlib.error,
)
"""The exceptions a parser raises on bad input (``LookupError`` covers ``IndexError`` and
``KeyError``, ``ValueError`` covers codec errors, ``ArithmeticError`` a division or overflow
on a nonsensical number)."""

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def reading_pdf(what: str = "the PDF") -> Iterator[None]:
    """Run a block that reads an uploaded PDF: a parser's failure is ``MalformedPdfError``.

    The project's own errors pass through unchanged; the parser's exception is logged (its
    type and first words) so that a bug of ours mistaken for a bad file stays visible.
    """
    try:
        yield
    except EvidenceError:
        raise
    except RecursionError:
        raise MalformedPdfError(f"{what} is nested too deeply to be read") from None
    except PARSER_ERRORS as exc:
        kind = type(exc).__name__
        text = str(exc)[:200]
        log.warning("PDF refused: %s: %s", kind, text)
        message = f"{what} cannot be read: {text}" if text else f"{what} cannot be read ({kind})"
        raise MalformedPdfError(message, details={"reason": kind}) from None


def reads_pdf(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function that reads an uploaded PDF with :func:`reading_pdf`."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with reading_pdf():
            return func(*args, **kwargs)

    return wrapper
