"""Damaged PDFs through every endpoint that takes one: each is a 400 ``malformed_pdf`` in the
error envelope (an HTML page on /verify), never a 500, and nothing is logged as signed.

The damage is what made pyHanko raise something other than ``PdfReadError``: an
``AssertionError`` (a trailer ``/Root`` that is not a dictionary, a cross-reference stream
that is not ``/Type /XRef``), ``NotImplementedError`` (an unknown stream filter),
``zlib.error`` (a corrupt Flate stream), a ``RecursionError`` (a page tree that contains itself),
and the audit's case, a cross-reference section whose ``/Prev`` points to itself.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from tests.envelopes.helpers import one_party_spec
from tests.signing.conftest import make_pdf
from tests.test_api import assert_error
from tests.test_signing_api import make_seal, sign


def _startxref(pdf: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])


def _xref_stream_pdf() -> bytes:
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(make_pdf(1))))
    writer.stream_xrefs = True
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def self_prev_table() -> bytes:
    """An incremental update whose xref table's trailer has /Prev = its own offset."""
    pdf = make_pdf(1)
    offset = len(pdf) + 1
    update = (
        b"\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Root 1 0 R /Prev %d >>\n"
        b"startxref\n%d\n%%%%EOF\n" % (offset, offset)
    )
    return pdf + update


def self_prev_stream() -> bytes:
    """A cross-reference stream whose /Prev is its own offset."""
    pdf = _xref_stream_pdf()
    at = _startxref(pdf)
    tail = re.sub(rb"/Type\s*/XRef", b"/Type /XRef /Prev %d" % at, pdf[at:], count=1)
    return pdf[:at] + tail


def root_not_a_dictionary() -> bytes:
    """The trailer's /Root names an object that does not exist (pyHanko asserts a dict)."""
    return re.sub(rb"/Root \d+ 0 R", b"/Root 99 0 R", make_pdf(1), count=1)


def xref_stream_wrong_type() -> bytes:
    """The object startxref points to is a stream, but not /Type /XRef (pyHanko asserts it)."""
    pdf = _xref_stream_pdf()
    at = _startxref(pdf)
    return pdf[:at] + re.sub(rb"/Type\s*/XRef", b"/Type /XRaf", pdf[at:], count=1)


def unknown_filter() -> bytes:
    """The cross-reference stream is encoded with a filter no reader knows."""
    pdf = _xref_stream_pdf()
    at = _startxref(pdf)
    return pdf[:at] + pdf[at:].replace(b"/FlateDecode", b"/FlateDec0de", 1)


def corrupt_flate() -> bytes:
    """The cross-reference stream's Flate data fails its checksum."""
    pdf = _xref_stream_pdf()
    at = _startxref(pdf)
    start = pdf.index(b"stream", at) + len(b"stream\n")
    end = pdf.index(b"endstream", start)
    data = bytearray(pdf[start:end])
    assert zlib.decompress(bytes(data))
    data[-3] ^= 0xFF  # the Adler-32 at the end no longer matches
    return pdf[:start] + bytes(data) + pdf[end:]


def page_tree_loop() -> bytes:
    """The page tree's /Kids contains the tree itself."""
    pdf = make_pdf(1)
    pages = re.search(rb"(\d+) 0 obj\s*<<\s*/Count 1 /Kids \[ (\d+) 0 R \]", pdf)
    assert pages is not None
    own = pages.group(1)
    fixed = pdf.replace(
        pages.group(0),
        pages.group(0)
        .replace(b"/Count 1", b"/Count 2")
        .replace(b"/Kids [ " + pages.group(2) + b" 0 R ]", b"/Kids [ " + own + b" 0 R ]"),
    )
    assert fixed != pdf
    return fixed


DAMAGED: dict[str, Callable[[], bytes]] = {
    "self-prev-table": self_prev_table,
    "self-prev-stream": self_prev_stream,
    "root-not-a-dictionary": root_not_a_dictionary,
    "xref-stream-wrong-type": xref_stream_wrong_type,
    "unknown-filter": unknown_filter,
    "corrupt-flate": corrupt_flate,
    "page-tree-loop": page_tree_loop,
}


@pytest.fixture(params=sorted(DAMAGED))
def damaged(request: pytest.FixtureRequest) -> bytes:
    data = DAMAGED[request.param]()
    assert data.startswith(b"%PDF-")
    return data


def _upload(name: str, data: bytes) -> dict[str, Any]:
    return {name: (io.BytesIO(data), "damaged.pdf", "application/pdf")}


def test_validate(client: Any, auth: dict[str, str], damaged: bytes) -> None:
    response = client.post(
        "/api/v1/documents/validate",
        data=_upload("document", damaged),
        headers=auth,
        content_type="multipart/form-data",
    )
    assert_error(response, 400, "malformed_pdf")


def test_sign_logs_nothing(
    client: Any, auth: dict[str, str], instance: Any, damaged: bytes
) -> None:
    seal = make_seal(client, auth)
    before = instance.ledger.tree_size()
    response = sign(client, auth, damaged, seal["id"], [{"kind": "riding", "y": 400}])
    assert_error(response, 400, "malformed_pdf")
    assert instance.ledger.tree_size() == before


def test_envelope(client: Any, auth: dict[str, str], damaged: bytes) -> None:
    response = client.post(
        "/api/v1/envelopes",
        data={"spec": json.dumps(one_party_spec()), "documents": [(io.BytesIO(damaged), "d.pdf")]},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert_error(response, 400, "malformed_pdf")
    listed = client.get("/api/v1/envelopes", headers=auth).get_json()
    assert listed["envelopes"] == []


def test_verify_api(client: Any, damaged: bytes) -> None:
    response = client.post(
        "/api/v1/verify", data=_upload("file", damaged), content_type="multipart/form-data"
    )
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code == 200:  # read as a damaged signed PDF: a verdict, not a crash
        assert response.get_json()["verdict"] in ("FAILED", "INCOMPLETE")
    else:
        assert_error(response, 400, "malformed_pdf")


def test_verify_page(client: Any, damaged: bytes) -> None:
    response = client.post(
        "/verify", data=_upload("file", damaged), content_type="multipart/form-data"
    )
    assert response.status_code in (200, 400), response.status_code
    assert response.mimetype == "text/html"
    if response.status_code == 400:
        assert 'data-code="malformed_pdf"' in response.get_data(as_text=True)
