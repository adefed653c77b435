"""Building what visitors bring to the verify page: signed PDFs, bundles, reports, bombs."""

from __future__ import annotations

import io
import zlib
from typing import Any

from tests.signing.conftest import make_pdf
from tests.test_signing_api import make_seal, sign

SIGNERS = ("张三", "Bob Li", "Carol Wu")


def signed_contract(
    client: Any, auth: dict[str, str], *, signatures: int = 1, subject: str = "envelope:verify-1"
) -> tuple[bytes, list[Any]]:
    """A contract signed ``signatures`` times through the API; the PDF and each response."""
    pdf = make_pdf(2)
    responses = []
    seal = make_seal(client, auth)["id"]
    for i in range(signatures):
        response = sign(
            client,
            auth,
            pdf,
            seal,
            [{"kind": "explicit", "page": 1, "x": 60 + 150 * i, "y": 80}],
            signer={"name": SIGNERS[i % len(SIGNERS)], "email": f"s{i}@example.com"},
            subject=subject,
            certify="false",
            qr="true" if i == 0 else "false",
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        pdf = response.data
        responses.append(response)
    return pdf, responses


def build_pdf(objects: list[bytes]) -> bytes:
    """A classic PDF (cross-reference table) from object bodies numbered 1..n; 1 is the root."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


PAGES = [
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
]


def deeply_nested_pdf(depth: int = 100_000) -> bytes:
    """A PDF whose catalog holds an array nested ``depth`` levels deep."""
    nested = b"[" * depth + b"]" * depth
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R /Junk " + nested + b" >>", *PAGES])


def compression_bomb_pdf(inflated: int = 200 * 1024 * 1024) -> bytes:
    """A small PDF with a Flate stream that inflates to ``inflated`` bytes."""
    packer = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    data = b"".join(packer.compress(chunk) for _ in range(inflated >> 20)) + packer.flush()
    stream = (
        (
            f"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {len(data)} >>\nstream\n"
        ).encode()
        + data
        + b"\nendstream"
    )
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *PAGES, stream])


def upload(client: Any, path: str, data: bytes, name: str = "file.pdf", **form: Any) -> Any:
    """POST ``data`` as the multipart field ``file``."""
    return client.post(
        path,
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )
