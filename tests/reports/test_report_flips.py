"""Single-byte changes anywhere in a signed certificate of evidence: in the signed range, in the
signature's bytes and its zero padding, and in the revision the DSS update appends after the
signature (its objects, cross-reference table and trailer). None verifies, none is taken for a
usage error; what follows the signature is reported, and anything but a DSS update or a document
time-stamp fails saying what it is."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from evidence_chain.errors import ValidationError
from evidence_chain.verify import verify_file
from tests.reports.bundle_fixtures import SUBJECT, checkpoint, push
from tests.reports.test_verify_cli import lines_of, verify


@pytest.fixture
def report(app: Any, instance: Any, tenant: Any) -> tuple[bytes, bytes]:
    """A certificate of evidence as the service issues it (PAdES B-LT: signature, then a DSS
    update) and the service's root certificate, PEM."""
    from cryptography.hazmat.primitives import serialization

    from reports.service import issue_report
    from web.context import services

    push(instance, tenant[0], 4)
    checkpoint(instance)
    service = services(app).signing
    pdf = issue_report(instance, service, tenant[0], SUBJECT).pdf
    root = service.ca.trust_roots()[-1].public_bytes(serialization.Encoding.PEM)
    return pdf, root


def _regions(pdf: bytes) -> dict[str, list[int]]:
    """Byte positions of each part of a signed report."""
    ranges = [
        tuple(int(x) for x in m.groups())
        for m in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    ]
    _, gap_start, gap_end, tail = ranges[0]
    signed_end = gap_end + tail
    hex_text = pdf[gap_start + 1 : gap_end - 1]
    der_end = gap_start + 1 + len(hex_text.rstrip(b"0"))
    trailer = pdf.rindex(b"\nxref")
    return {
        "signed": list(range(0, gap_start)) + list(range(gap_end, signed_end)),
        "signature": list(range(gap_start, der_end)),
        "padding": list(range(der_end, gap_end)),
        "update": list(range(signed_end, trailer)),
        "xref and trailer": list(range(trailer, len(pdf))),
    }


def _spread(positions: list[int], count: int) -> list[int]:
    """``count`` positions evenly spread over a region (deterministic)."""
    step = max(1, len(positions) // count)
    return positions[::step][:count]


SWEEP = {"signed": 60, "signature": 30, "padding": 30, "update": 40, "xref and trailer": 40}


def _outcome(data: bytes, root: bytes) -> tuple[str, Any]:
    try:
        result = verify_file(data, trust_roots=[root])
    except ValidationError as exc:  # the command's exit status 64
        return "EXIT 64", exc.message
    return result.verdict, result


@pytest.mark.slow
def test_no_single_byte_change_to_a_report_verifies_or_is_a_usage_error(
    report: tuple[bytes, bytes],
) -> None:
    pdf, root = report
    base_verdict, base = _outcome(pdf, root)
    assert base_verdict == "INCOMPLETE"  # not anchored: everything else holds
    assert [c.ok for c in base.checks if c.name.startswith("report.")] == [True, True, True]
    informative = dict(base.informative)
    (file_id,) = [k for k in informative if k.endswith("/ID[1]")]
    survivors = []
    flips = 0
    for region, count in SWEEP.items():
        for i, pos in enumerate(_spread(_regions(pdf)[region], count)):
            changed = bytearray(pdf)
            changed[pos] ^= 0x01 if i % 2 == 0 else 0x80
            verdict, result = _outcome(bytes(changed), root)
            flips += 1
            if verdict == "FAILED":
                continue
            if (
                verdict == base_verdict
                and dict(result.informative)[file_id] != informative[file_id]
            ):
                continue  # the random second /ID of the unsigned update: informative, printed
            survivors.append((region, pos, verdict, pdf[pos - 12 : pos + 12]))
    assert flips == sum(SWEEP.values())
    assert not survivors, survivors


def test_what_follows_the_signature_is_named(report: tuple[bytes, bytes]) -> None:
    pdf, root = report
    result = verify_file(pdf, trust_roots=[root])
    after = next(c for c in result.checks if c.name == "report.after_signature")
    assert after.ok is True
    assert "a DSS update (4 certificates, 2 CRLs" in after.detail
    assert "not covered by any signature, read byte by byte" in after.detail
    names = [name for name, _ in result.informative]
    # The report, its bundle, the browser verifier, the signature: the DSS update is revision 4.
    assert names[:2] == ["report revision 4 /ModDate", "report revision 4 /ID[1]"]


def _append_update(pdf: bytes, change: Any) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _new_title(writer: Any) -> None:
    from pyhanko.pdf_utils import generic

    info = writer.trailer["/Info"]
    info["/Title"] = generic.TextStringObject("Certificate of evidence (corrected)")
    writer.update_container(info)


def _new_object(writer: Any) -> None:
    from pyhanko.pdf_utils import generic

    note = generic.DictionaryObject({generic.NameObject("/Type"): generic.NameObject("/Annot")})
    ref = writer.add_object(note)
    writer.root["/Junk"] = ref
    writer.update_root()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_new_title, "/Info changes after the signature: /Title"),
        (_new_object, "(/Annot), which a DSS update does not"),
    ],
    ids=["another title", "an added annotation"],
)
def test_anything_but_a_dss_update_after_the_signature_fails_saying_what_it_is(
    report: tuple[bytes, bytes], change: Any, words: str
) -> None:
    pdf, root = report
    result = verify_file(_append_update(pdf, change), trust_roots=[root])
    assert result.verdict == "FAILED"
    after = next(c for c in result.checks if c.name == "report.after_signature")
    assert after.ok is False and words in after.detail, after.detail


def test_a_document_time_stamp_after_the_signature_is_accepted(
    app: Any, report: tuple[bytes, bytes]
) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

    from web.context import services

    pdf, root = report
    stamper = PdfTimeStamper(services(app).signing.timestamper())
    out = stamper.timestamp_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), "sha256")
    stamped = out.getvalue()
    result = verify_file(stamped, trust_roots=[root])
    assert result.verdict == "INCOMPLETE", [c for c in result.checks if c.ok is False]
    after = next(c for c in result.checks if c.name == "report.after_signature")
    assert after.ok is True and "a document time-stamp of" in after.detail
    assert "covered by the last time-stamp" in after.detail
    # The time-stamp covers the DSS update: a byte of it changed breaks the time-stamp.
    changed = bytearray(stamped)
    changed[len(pdf) - 100] ^= 0x01
    assert verify_file(bytes(changed), trust_roots=[root]).verdict == "FAILED"


def test_the_command_exits_1_on_a_damaged_table_or_padding(
    report: tuple[bytes, bytes], tmp_path: Path
) -> None:
    pdf, root = report
    root_file = tmp_path / "root.pem"
    root_file.write_bytes(root)
    startxref = pdf.rindex(b"startxref") + len(b"startxref\n")
    padding = _regions(pdf)["padding"][40]
    for pos, check in ((startxref, "report.signature"), (padding, "report.after_signature")):
        changed = bytearray(pdf)
        changed[pos] ^= 0x01
        path = tmp_path / "changed.pdf"
        path.write_bytes(bytes(changed))
        run = verify(path, "--trust", root_file)
        assert run.returncode == 1, run.stdout + run.stderr
        assert lines_of(run.stdout)[check].startswith("\u2717"), run.stdout
    # A PDF with no signature that cannot be read is still not a report: exit 64.
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    assert verify(broken).returncode == 64
