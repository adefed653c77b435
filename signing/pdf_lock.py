"""The process-wide PDF lock, and a time-stamper that steps out of it for its network call.

pyHanko and asn1crypto share lazily parsed ASN.1 objects that concurrent threads corrupt, so
PDF work is done by one thread at a time per process (gunicorn workers run threads). The lock
covers in-memory work only: a thread waiting on a time-stamping authority or a chain node
gives it up meanwhile (:meth:`PdfLock.released`), so no thread ever waits on another one's
network call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from asn1crypto import tsp
from pyhanko.sign.timestamps import TimeStamper

__all__ = ["PDF_LOCK", "PdfLock", "serialised", "unlocked_timestamper"]


class PdfLock:
    """A re-entrant lock that its holder can step out of, whole, while it waits on the network.

    :meth:`released` is what ``Condition.wait`` does with an ``RLock``: every level this thread
    holds is given up, and all of them are taken back afterwards.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        """Take the lock (again, if this thread holds it already)."""
        me = threading.get_ident()
        if self._owner == me:  # only this thread ever stores its own ident here
            self._depth += 1
            return
        self._mutex.acquire()
        self._owner, self._depth = me, 1

    def release(self) -> None:
        """Give up one level; the last one frees the lock."""
        if self._owner != threading.get_ident():
            raise RuntimeError("the PDF lock is released by a thread that does not hold it")
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._mutex.release()

    def __enter__(self) -> PdfLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self._owner == threading.get_ident()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Run the block without the lock if this thread holds it, then take it back as it was.

        For network I/O in the middle of PDF work (a time-stamp request, a chain read): the
        thread touches no shared PDF or ASN.1 object while it waits, so others may work then.
        """
        me = threading.get_ident()
        if self._owner != me:
            yield
            return
        depth = self._depth
        self._owner, self._depth = None, 0
        self._mutex.release()
        try:
            yield
        finally:
            self._mutex.acquire()
            self._owner, self._depth = me, depth


PDF_LOCK = PdfLock()
"""One thread at a time per process works on PDFs with pyHanko.

pyHanko and asn1crypto share lazily parsed ASN.1 objects (certificates, algorithm
identifiers) that concurrent threads corrupt, and gunicorn workers run threads: every
signing, validating or PDF-writing entry point holds this lock. It covers in-memory work
only: time-stamp requests (:func:`unlocked_timestamper`) and chain reads step out of it, so
no thread waits on another one's network call.
"""

_F = TypeVar("_F", bound=Callable[..., Any])


def serialised(func: _F) -> _F:
    """Run ``func`` under :data:`PDF_LOCK`."""

    @wraps(func)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with PDF_LOCK:
            return func(*args, **kwargs)

    return cast(_F, locked)


class _RequestOutsidePdfLock(TimeStamper):
    """A time-stamper whose server round trip runs outside :data:`PDF_LOCK`.

    pyHanko asks for time-stamps in the middle of signing, under the lock. The request is
    built and the reply checked under it (in-memory ASN.1 work, delegated to the wrapped
    time-stamper); only the exchange with the authority, over HTTP or with the in-process
    one, happens with the lock released.
    """

    def __init__(self, inner: TimeStamper) -> None:
        super().__init__(include_nonce=inner.include_nonce)
        self._inner = inner

    def request_cms(self, message_digest: bytes, md_algorithm: str) -> Any:
        """The wrapped time-stamper's request (nonce and all)."""
        return self._inner.request_cms(message_digest, md_algorithm)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """Send ``req`` through the wrapped time-stamper with the PDF lock released."""
        req.dump()  # encoded here, under the lock: only finished bytes are read outside it
        with PDF_LOCK.released():
            return await self._inner.async_request_tsa_response(req)


def unlocked_timestamper(timestamper: TimeStamper) -> TimeStamper:
    """``timestamper`` with its requests made outside :data:`PDF_LOCK` (see above).

    One that does not talk to an authority (no ``async_request_tsa_response`` of its own) is
    returned as it is.
    """
    own = type(timestamper).async_request_tsa_response
    if (
        isinstance(timestamper, _RequestOutsidePdfLock)
        or own is TimeStamper.async_request_tsa_response
    ):
        return timestamper
    return _RequestOutsidePdfLock(timestamper)
