"""The certificate of evidence as a reader and a machine see it: pdftotext, zbarimg, pdfdetach,
pdfsig, pyHanko and the offline verifier, on a real instance (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from evidence_chain.core.bundle import verify_bundle
from evidence_chain.core.onchain import ANCHOR_CHAIN_CHECKS
from evidence_chain.events import parse_event
from evidence_chain.verify import Web3ChainReader, verify_file, web3_reader
from reports.service import IssuedReport, get_report, issue_report, verify_url
from signing.pades import Placement
from signing.pki import Identity
from tests.anchoring.conftest import Rig, make_rig
from tests.signing.conftest import make_pdf

SUBJECT = "envelope:env_7Hq2kXz"
SEAL_NAME = "上海某某科技有限公司"
PERSON = "张三"


def push_contract(app: Any, instance: Any, tenant: Any, subject: str = SUBJECT) -> list[Any]:
    """An envelope: created, a code sent and checked, signed by the company with its seal."""
    from web.context import services

    service = services(app).signing
    person = {"name": PERSON, "email": "zhangsan@example.cn", "kind": "person"}
    company = {"name": SEAL_NAME, "kind": "organization"}
    events = [
        {
            "type": "envelope.created",
            "actor": company,
            "data": {
                "title": "采购合同 Purchase agreement 2026-17",
                "parties": [{**person, "role": "signer"}, {**company, "role": "sender"}],
                "documents": [
                    {"sha256": hashlib.sha256(b"original").hexdigest(), "name": "采购合同.pdf"}
                ],
            },
        },
        {
            "type": "party.code_verified",
            "actor": person,
            "data": {
                "code_channel": "sms",
                "ip": "203.0.113.7",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            },
        },
    ]
    receipts = instance.ledger.append(
        tenant.id,
        tenant.public_id,
        [
            parse_event({"subject": subject, "occurred_at": "2026-11-20T08:30:00Z", **e})
            for e in events
        ],
    )
    seal = service.create_drawn_seal(tenant.id, kind="official", text=SEAL_NAME)
    signed = service.sign_document(
        tenant,
        make_pdf(2),
        seal_id=seal.id,
        placements=[Placement.explicit(1, 380, 80)],
        identity=Identity(SEAL_NAME, kind="organization"),
        subject=subject,
    )
    instance.ledger.sign_checkpoint()
    return [*receipts, signed]


def push_steps(instance: Any, tenant: Any, subject: str, n: int) -> None:
    """``n`` events of one party, each from an address, then a signed checkpoint."""
    events = [
        parse_event(
            {
                "type": "party.viewed" if i % 2 else "party.code_verified",
                "subject": subject,
                "occurred_at": f"2026-11-20T09:{i // 60:02d}:{i % 60:02d}Z",
                "actor": {"name": PERSON, "email": "zhangsan@example.cn"},
                "data": {"ip": f"198.51.100.{i % 7}", "code_channel": "email"},
            }
        )
        for i in range(n)
    ]
    instance.ledger.append(tenant.id, tenant.public_id, events)
    instance.ledger.sign_checkpoint()


def issue(app: Any, instance: Any, tenant: Any, subject: str = SUBJECT, **kw: Any) -> IssuedReport:
    """Issue a report through the app's signing service."""
    from web.context import services

    return issue_report(instance, services(app).signing, tenant, subject, **kw)


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of every page, as pdftotext extracts it."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    pages = out.stdout.decode("utf-8").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def extract_attachment(pdf: bytes, tmp_path: Path) -> bytes:
    """The embedded evidence-bundle.json, extracted with poppler's pdfdetach."""
    path = tmp_path / "attached.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True)
    assert "evidence-bundle.json" in listing.stdout
    target = tmp_path / "extracted.json"
    subprocess.run(
        ["pdfdetach", "-save", "1", "-o", str(target), str(path)], check=True, capture_output=True
    )
    return target.read_bytes()


@pytest.fixture
def tenant_ref(tenant: tuple[Any, str]) -> Any:
    """The test tenant."""
    return tenant[0]


def test_the_report_tells_a_judge_what_was_signed_by_whom_and_how(
    app: Any, instance: Any, tenant_ref: Any, tmp_path: Path
) -> None:
    signed = push_contract(app, instance, tenant_ref)[-1]
    issued = issue(app, instance, tenant_ref)
    pages = pdf_pages(issued.pdf, tmp_path)
    text = "\n".join(pages)
    first = pages[0]
    assert "Certificate of evidence" in first and "What this is" in first
    # No anchor in this instance: the verdict says so rather than claim more.
    assert issued.verdict.verdict == "INCOMPLETE"
    assert "INCOMPLETE - anchoring pending" in first
    assert SUBJECT in first and "采购合同 Purchase agreement 2026-17" in first
    assert PERSON in first and SEAL_NAME in first
    assert first.count(SEAL_NAME) == 1, "the company declared and the company signing are one"
    assert "pending: no on-chain anchor" in first
    # Every page: the report id and "page x of y".
    report_id = issued.report.report_id
    for n, page in enumerate(pages, 1):
        assert f"page {n} of {len(pages)}" in page
        assert report_id in page
    # Every event hash in full, and every event's leaf index.
    bundle = issued.report.bundle
    assert len(bundle["events"]) == 3
    for event in bundle["events"]:
        assert event["leaf_hash"] in text
    # Authentication, addresses and the browser of the person.
    assert "one-time code by sms" in text and "203.0.113.7" in text
    assert "Firefox/128.0" in text
    # The documents at each step and the signer's certificate.
    result = signed.result
    for sha in (result.sha256_before, result.sha256_after):
        assert sha[:32] in text and sha[32:] in text
    assert "采购合同.pdf" in text
    cert = result.certificate
    assert signed.certificate_sha256 in text
    assert signed.certificate_serial in text
    assert f"Issuer: {cert.issuer.rfc4514_string()}" in text
    flowing = " ".join(text.split())
    assert "sealtrail-verify report.pdf --rpc URL" in flowing
    assert "python -m evidence_chain.verify" in flowing


def test_the_qr_code_opens_the_reports_verify_address(
    app: Any, instance: Any, tenant_ref: Any, tmp_path: Path
) -> None:
    push_steps(instance, tenant_ref, SUBJECT, 2)
    issued = issue(app, instance, tenant_ref)
    path = tmp_path / "r.pdf"
    path.write_bytes(issued.pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "200",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            str(path),
            str(tmp_path / "page1"),
        ],
        check=True,
    )
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(tmp_path / "page1.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = verify_url(instance.settings.public_base_url, issued.report.report_id)
    assert out.stdout.strip() == expected
    assert re.fullmatch(r"rpt_[a-z2-7]{26}", issued.report.report_id)


def test_the_attachment_is_the_stored_bundle_and_the_signature_covers_it(
    app: Any, instance: Any, tenant_ref: Any, tmp_path: Path
) -> None:
    from web.context import services

    push_steps(instance, tenant_ref, SUBJECT, 3)
    issued = issue(app, instance, tenant_ref)
    stored = get_report(instance.engine, issued.report.report_id)
    assert stored is not None and stored.tenant_id == tenant_ref.id
    attached = extract_attachment(issued.pdf, tmp_path)
    assert attached == stored.bundle_json
    assert hashlib.sha256(attached).hexdigest() == stored.bundle_sha256
    assert hashlib.sha256(issued.pdf).hexdigest() == stored.pdf_sha256
    assert stored.tree_size == 3 and stored.anchor_tree_size is None
    assert get_report(instance.engine, "rpt_" + "a" * 26) is None

    path = tmp_path / "r.pdf"
    path.write_bytes(issued.pdf)
    sig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
    assert "Signature is Valid." in sig.stdout
    assert "Sealtrail evidence service" in sig.stdout
    # The signature covers the report as issued; the revision after it holds the validation
    # data (B-LT), which the verifier checks to the byte below.
    assert "Not total document signed" in sig.stdout

    service = services(app).signing
    report = service.validate_document(issued.pdf)
    (s,) = report.signatures
    assert s.intact and s.valid and s.trusted and s.signer_cn == "Sealtrail evidence service"
    assert s.pades_level is not None and "LT" in str(s.pades_level)

    root_pem = service.ca.root_cert.public_bytes(serialization.Encoding.PEM)
    verdict = verify_file(issued.pdf, trust_roots=[root_pem])
    checks = {c.name: c for c in verdict.checks}
    assert checks["report.signature"].ok is True and checks["report.attachment"].ok is True
    after = checks["report.after_signature"]
    assert after.ok is True and "DSS" in after.detail, after.detail
    assert not [c for c in verdict.checks if c.ok is False]
    assert verdict.verdict == "INCOMPLETE"  # not anchored yet

    # One byte of the bundle changed inside the PDF: the signature no longer holds.
    at = issued.pdf.index(b"/EmbeddedFile") + 2
    tampered = issued.pdf[:at] + bytes([issued.pdf[at] ^ 1]) + issued.pdf[at + 1 :]
    checks = {c.name: c for c in verify_file(tampered, trust_roots=[root_pem]).checks}
    assert checks["report.signature"].ok is False


def test_a_hundred_events_split_the_timeline_over_pages(
    app: Any, instance: Any, tenant_ref: Any, tmp_path: Path
) -> None:
    subject = "contract/2026/0100"
    push_steps(instance, tenant_ref, subject, 100)
    issued = issue(app, instance, tenant_ref, subject)
    pages = pdf_pages(issued.pdf, tmp_path)
    text = "\n".join(pages)
    timeline = [p for p in pages if "Action" in p and "Event hash" in p]
    assert len(timeline) >= 2, "the timeline's header repeats on every page it covers"
    assert len(pages) >= 5
    assert f"page {len(pages)} of {len(pages)}" in pages[-1]
    events = issued.report.bundle["events"]
    assert len(events) == 100
    for event in events:
        assert event["leaf_hash"] in text
    assert "198.51.100.6" in text and "one-time code by email" in text


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    """An instance anchoring to an in-process chain."""
    yield from make_rig(database_url, tmp_path / "home")


def _anchor(rig: Rig) -> None:
    rig.instance.ledger.sign_checkpoint()
    rig.anchorer.anchor_latest()
    rig.anchorer.watch()
    rig.mine(2)
    rig.anchorer.watch()


def test_an_anchored_report_is_verified_against_the_chain(rig: Rig, tmp_path: Path) -> None:
    from evidence_chain.tenants import authenticate

    tenant = authenticate(rig.instance.engine, rig.auth["Authorization"].split()[1])
    push_steps(rig.instance, tenant, SUBJECT, 4)
    _anchor(rig)
    issued = issue(rig.app, rig.instance, tenant)
    assert issued.verdict.verdict == "VERIFIED", [c for c in issued.verdict.checks if not c.ok]
    anchor = issued.report.bundle["anchor"]
    assert issued.report.anchor_tree_size == anchor["tree_size"] == 4
    text = "\n".join(pdf_pages(issued.pdf, tmp_path))
    assert "VERIFIED" in text
    assert anchor["tx_hash"] in text and rig.contract in text
    lines = [line.strip() for line in text.splitlines()]
    assert str(rig.chain.chain_id()) in lines, "the chain id stands as a value of its own"
    assert str(anchor["block_number"]) in lines, "and so does the block number"

    # A court's own reading of the chain agrees; a chain holding another root does not.
    offline = verify_file(issued.pdf, chain=web3_reader(rig.w3))
    results = {c.name: c.ok for c in offline.checks}
    for name in ANCHOR_CHAIN_CHECKS:
        assert results[name] is True, name
    assert offline.verdict in ("VERIFIED", "INCOMPLETE")  # INCOMPLETE only for trust roots
    assert not [c for c in offline.checks if c.ok is False]

    class OtherRoot(Web3ChainReader):
        def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes:
            return b"\x11" * 32

    wrong = issue(rig.app, rig.instance, tenant, chain=OtherRoot(rig.w3))
    assert wrong.verdict.verdict == "FAILED"
    first = pdf_pages(wrong.pdf, tmp_path)[0]
    assert "FAILED" in first and "anchor.root_on_chain" in first
    assert verify_bundle(wrong.report.bundle).verdict == "INCOMPLETE"


def test_markup_and_odd_values_in_records_are_printed_as_text(
    app: Any, instance: Any, tenant_ref: Any, tmp_path: Path
) -> None:
    name = 'Eve <b>bold</b> & "quotes" 𠀋'
    instance.ledger.append(
        tenant_ref.id,
        tenant_ref.public_id,
        [
            parse_event(
                {
                    "type": "party.viewed",
                    "subject": SUBJECT,
                    "occurred_at": "2026-11-20T08:30:00Z",
                    "actor": {"name": name, "nested": {"deep": [1, 2]}},
                    "data": {"ip": ["not", "a", "string"], "user_agent": None, "n": 1.5},
                }
            ),
            parse_event(
                {
                    "type": "note",
                    "subject": SUBJECT,
                    "occurred_at": "2026-11-20T08:31:00Z",
                    "actor": "plain string actor",
                    "data": {},
                }
            ),
        ],
    )
    instance.ledger.sign_checkpoint()
    issued = issue(app, instance, tenant_ref)
    text = "\n".join(pdf_pages(issued.pdf, tmp_path))
    assert 'Eve <b>bold</b> & "quotes"' in text and "plain string actor" in text
    assert "not recorded" in text  # the list is not taken for an IP address


def test_a_long_subject_prints_its_first_and_last_steps_and_counts_them_all(
    app: Any, instance: Any, tenant_ref: Any, tmp_path: Path
) -> None:
    subject = "contract/2026/0250"
    push_steps(instance, tenant_ref, subject, 250)
    issued = issue(app, instance, tenant_ref, subject)
    text = "\n".join(pdf_pages(issued.pdf, tmp_path))
    flowing = " ".join(text.split())
    events = issued.report.bundle["events"]
    assert len(events) == 250
    for shown in (events[0], events[99], events[150], events[249]):
        assert shown["leaf_hash"][:32] in text
    assert events[120]["leaf_hash"][:32] not in text  # in the bundle, not in the pages
    assert "steps #101 to #150 (50 of them) are not printed here: all 250 are in the attached" in (
        flowing
    )
    assert "Every step by kind" in text
    assert "party.code_verified 125" in flowing and "party.viewed 125" in flowing
    # the attached bundle still holds every step, and the certificate verifies as before
    assert len(json.loads(extract_attachment(issued.pdf, tmp_path))["events"]) == 250
    assert not [c for c in verify_file(issued.pdf).checks if c.ok is False]
