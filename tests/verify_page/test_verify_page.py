"""The public verify page and POST /api/v1/verify through the Flask test client: each kind of
input, each bad input, the QR links, and the signature verification report PDF."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from reports.bundle import build_bundle
from reports.service import issue_report
from tests.test_api import assert_error
from tests.verify_page.helpers import (
    compression_bomb_pdf,
    deeply_nested_pdf,
    signed_contract,
    upload,
)
from web.context import services

SUBJECT = "envelope:verify-1"


def no_login(client: Any) -> None:
    """The page and the API need no credentials: nothing here sends any."""


@pytest.fixture
def signed(client, auth, instance) -> tuple[bytes, list[Any]]:
    pdf, responses = signed_contract(client, auth, signatures=2, subject=SUBJECT)
    instance.ledger.sign_checkpoint()
    return pdf, responses


def api(client: Any, data: bytes, name: str = "file.pdf", query: str = "") -> Any:
    return upload(client, f"/api/v1/verify{query}", data, name)


def check(body: dict[str, Any], name: str) -> dict[str, Any]:
    found = [c for c in body["checks"] if c["name"] == name]
    assert found, [c["name"] for c in body["checks"]]
    return dict(found[0])


def test_signed_contract_shows_signatures_and_place_in_log(client, signed, tenant):
    pdf, responses = signed
    sha = hashlib.sha256(pdf).hexdigest()
    body = api(client, pdf).get_json()
    assert body["kind"] == "signed_pdf" and body["sha256"] == sha
    assert [s["signer_cn"] for s in body["signatures"]] == ["张三", "Bob Li"]
    for sig in body["signatures"]:
        assert sig["intact"] and sig["valid"] and sig["trusted"], sig["summary"]
    assert check(body, "signature[0]")["ok"] is True
    assert check(body, "signature[1]")["ok"] is True
    (place,) = body["log"]
    assert place["role"] == "signed" and place["event_type"] == "document.signed"
    assert place["event_id"] == responses[1].headers["X-Sealtrail-Event-Id"]
    # the tenant has not made its detail public: the holder learns that the file is
    # recorded, when, by whom, under which checkpoint, and the status; not the contract
    # number nor its timeline
    assert place["detail"] == "withheld" and place["subject"] is None and place["steps"] == []
    assert place["tenant"]["name"] == tenant[0].name and SUBJECT not in json.dumps(body)
    assert place["proof_ok"] is True and place["tree_size"] == 2
    assert check(body, "log[0].inclusion")["ok"] is True
    # not anchored in this instance (anchoring off): complete only once anchored
    assert check(body, "log[0].anchor")["ok"] is None
    assert body["verdict"] == "INCOMPLETE"

    page = upload(client, "/verify", pdf)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "张三" in html and "Bob Li" in html and sha in html
    assert html.count('<span class="ok">yes</span>') >= 6  # intact, valid, trusted x 2
    assert "In the evidence log" in html and "document.signed" in html


def test_unsigned_original_is_found_as_the_original(client, signed, instance):
    _pdf, responses = signed
    before = responses[0].headers["X-Sealtrail-Sha256-Before"]
    body = client.get(f"/verify?document={before}")
    assert body.status_code == 200
    html = body.get_data(as_text=True)
    assert "original document" in html and SUBJECT not in html
    assert "keeps its contract number and timeline private" in html
    assert "Upload it to check its signatures too" in html


def test_public_detail_shows_the_subject_and_its_timeline(client, auth, signed, tenant):
    pdf, _responses = signed
    changed = client.patch("/api/v1/tenant", json={"public_detail": True}, headers=auth)
    assert changed.status_code == 200 and changed.get_json()["public_detail"] is True
    (place,) = api(client, pdf).get_json()["log"]
    assert place["detail"] == "public" and place["subject"] == SUBJECT
    assert [s["type"] for s in place["steps"]] == ["document.signed", "document.signed"]
    html = client.get(f"/verify?document={hashlib.sha256(pdf).hexdigest()}").get_data(as_text=True)
    assert SUBJECT in html and "Steps of this subject (2)" in html
    # and back off: withheld again at once
    client.patch("/api/v1/tenant", json={"public_detail": False}, headers=auth)
    (place,) = api(client, pdf).get_json()["log"]
    assert place["subject"] is None and place["steps"] == []


def test_document_lookup_shows_only_its_subject(client, auth, signed, instance, tenant):
    from evidence_chain.events import parse_event

    instance.ledger.append(
        tenant[0].id,
        tenant[0].public_id,
        [
            parse_event(
                {
                    "type": "secret.other",
                    "subject": "envelope:someone-else",
                    "occurred_at": "2026-11-21T09:00:00Z",
                    "data": {"private": "do not show"},
                }
            )
        ],
    )
    pdf, _ = signed
    html = client.get(f"/verify?document={hashlib.sha256(pdf).hexdigest()}").get_data(as_text=True)
    assert "secret.other" not in html and "someone-else" not in html
    assert "do not show" not in html and "X-Sealtrail" not in html


def test_unknown_and_malformed_document_hashes(client):
    missing = client.get(f"/verify?document={'ab' * 32}")
    assert missing.status_code == 404
    assert "not found in the log" in missing.get_data(as_text=True)
    bad = client.get("/verify?document=xyz")
    assert bad.status_code == 400
    assert "64 hexadecimal digits" in bad.get_data(as_text=True)


def test_bundle_verifies_and_a_broken_proof_fails_naming_the_check(
    client, signed, instance, tenant
):
    bundle = build_bundle(instance, tenant[0], SUBJECT)
    data = json.dumps(bundle).encode()
    body = api(client, data, "bundle.json").get_json()
    assert body["kind"] == "bundle"
    assert body["verdict"] == "INCOMPLETE"  # no anchor in this instance: the rest holds
    assert not [c for c in body["checks"] if c["ok"] is False], body["checks"]
    assert body["bundle"]["subject"] == SUBJECT and body["bundle"]["events"] == 2

    broken = json.loads(data)
    proof = broken["events"][0]["inclusion_proof"]
    proof[0] = ("0" if proof[0][0] != "0" else "1") + proof[0][1:]
    response = api(client, json.dumps(broken).encode(), "bundle.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["verdict"] == "FAILED"
    failed = [c["name"] for c in body["checks"] if c["ok"] is False]
    assert any(name.startswith("inclusion[") for name in failed), failed

    page = upload(client, "/verify", json.dumps(broken).encode(), "bundle.json")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "FAILED" in html and re.search(r"<code>inclusion\[\d+\]</code>", html)


def test_report_pdf_and_its_qr_link(app, client, signed, instance, tenant):
    with app.app_context():
        issued = issue_report(instance, services(app).signing, tenant[0], SUBJECT)
    body = api(client, issued.pdf, "report.pdf").get_json()
    assert body["kind"] == "report"
    assert check(body, "report.signature")["ok"] is True
    assert check(body, "report.attachment")["ok"] is True
    assert not [c for c in body["checks"] if c["ok"] is False], body["checks"]

    page = client.get(f"/verify?report={issued.report.report_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert issued.report.report_id in html and "Certificate of evidence" in html
    assert "FAILED" not in html

    tampered = bytearray(issued.pdf)
    at = tampered.index(b"Certificate of evidence")
    tampered[at] ^= 0x20
    body = api(client, bytes(tampered), "report.pdf").get_json()
    assert body["verdict"] == "FAILED" and check(body, "report.signature")["ok"] is False


def test_unknown_report_id_is_a_404_page(client):
    for report_id in ("rpt_" + "A" * 26, "nonsense"):
        response = client.get(f"/verify?report={report_id}")
        assert response.status_code == 404
        assert "Not found" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"PK\x03\x04 this is a zip archive", "x.zip", 415, "unsupported_file"),
        (b"\x89PNG\r\n\x1a\n", "seal.png", 415, "unsupported_file"),
        (b"", "empty.pdf", 400, "invalid_request"),
        (b'{"hello": "world"}', "x.json", 400, "invalid_request"),
        (b"{not json", "x.json", 400, "invalid_request"),
        (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "deep.json", 400, "invalid_request"),
        (b"%PDF-1.7\n" + b"\x00" * 300, "broken.pdf", 400, "malformed_pdf"),
    ],
    ids=["zip", "png", "empty", "json-not-bundle", "broken-json", "deep-json", "broken-pdf"],
)
def test_bad_inputs_are_clear_errors(client, data, name, status, code):
    error = assert_error(api(client, data, name), status, code)
    page = upload(client, "/verify", data, name)
    assert page.status_code == status and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'role="alert"' in html and error["message"] in unescape(html)


def test_pdf_bombs_are_refused(client):
    deep = api(client, deeply_nested_pdf())
    assert_error(deep, 400, "malformed_pdf")
    bomb = compression_bomb_pdf()
    assert len(bomb) < 1024 * 1024
    error = assert_error(api(client, bomb), 400, "malformed_pdf")
    assert "compression bomb" in error["message"]


def test_uploads_over_the_document_limit(app, client, signed):
    services(app).signing.max_document_bytes = 20_000
    pdf, _ = signed
    assert len(pdf) > 20_000
    assert_error(api(client, pdf), 413, "payload_too_large")
    raw = client.post("/api/v1/verify", data=pdf, content_type="application/pdf")
    assert_error(raw, 413, "payload_too_large")
    page = upload(client, "/verify", pdf)
    assert page.status_code == 413 and "20000 bytes" in page.get_data(as_text=True)


def test_raw_body_and_the_report_pdf(client, signed, tmp_path, instance):
    pdf, _ = signed
    raw = client.post("/api/v1/verify", data=pdf, content_type="application/pdf")
    assert raw.status_code == 200 and raw.get_json()["kind"] == "signed_pdf"
    report = api(client, pdf, query="?format=pdf")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    text = pdftotext(report.data, tmp_path)
    assert "Signature verification report" in text and "INCOMPLETE" in text
    assert "张三" in text and hashlib.sha256(pdf).hexdigest() in text.replace("\n", "")
    # signed by the service like a certificate: poppler and this service's validation agree
    path = tmp_path / "verification.pdf"
    path.write_bytes(report.data)
    sig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
    assert "Signature is Valid." in sig.stdout and "Sealtrail evidence service" in sig.stdout
    (s,) = instance.signing.validate_document(report.data).signatures
    assert s.intact and s.valid and s.trusted
    # and logged: the report, uploaded later, is found as issued by this service
    report_id = report.headers["X-Report-Id"]
    assert report_id.startswith("vrp_") and report_id in text
    instance.ledger.sign_checkpoint()
    again = api(client, report.data).get_json()
    assert again["kind"] == "signed_pdf"
    (entry,) = again["log"]
    assert entry["event_type"] == "verification_report.issued" and entry["proof_ok"] is True
    assert entry["tenant"]["id"] == "tn_sealtrail"

    page = upload(client, "/verify", pdf).get_data(as_text=True)
    token = re.search(r'name="result" value="([^"]+)"', page)
    assert token
    button = client.post("/verify/report.pdf", data={"result": token.group(1)})
    assert button.status_code == 200 and button.mimetype == "application/pdf"
    assert "Bob Li" in pdftotext(button.data, tmp_path)
    forged = client.post("/verify/report.pdf", data={"result": token.group(1)[:-3] + "abc"})
    assert forged.status_code == 400
    assert_error(api(client, pdf, query="?format=xml"), 400, "invalid_request")


def test_the_form_needs_no_login(client):
    page = client.get("/verify")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'type="file"' in html and 'name="file"' in html and "<label" in html
    css = client.get("/static/verify/verify.css")
    assert css.status_code == 200 and b"@media" in css.data
    assert client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/verify"]["post"]


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
