"""The signing API: seals, signing and validation through HTTP, the public TSA and PKI, the
``pki`` CLI; every signature in the evidence log, every bad input a 4xx and no event."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import algos, tsp
from cryptography import x509
from PIL import Image, ImageDraw

from evidence_chain.tenants import create_tenant
from tests.signing.conftest import make_pdf
from tests.signing.test_bad_inputs import encrypted_pdf
from tests.test_api import assert_error

CJK_NAME = "上海示例科技有限公司"


@pytest.fixture(scope="module")
def three_pages() -> bytes:
    return make_pdf(3)


def seal_png() -> bytes:
    img = Image.new("RGB", (200, 200), "white")
    draw = ImageDraw.Draw(img)
    draw.ellipse((10, 10, 190, 190), outline=(200, 0, 0), width=8)
    draw.text((70, 90), "SEAL", fill=(200, 0, 0))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def make_seal(client: Any, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    body = {"kind": "official", "text": CJK_NAME, **body}
    response = client.post("/api/v1/seals", json=body, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def sign(
    client: Any, auth: dict[str, str], pdf: bytes, seal_id: str, placements: Any, **form: Any
) -> Any:
    data: dict[str, Any] = {
        "document": (io.BytesIO(pdf), "contract.pdf", "application/pdf"),
        "seal_id": seal_id,
        "placements": placements if isinstance(placements, str) else json.dumps(placements),
    }
    for key, value in form.items():
        data[key] = value if isinstance(value, str) else json.dumps(value)
    return client.post(
        "/api/v1/documents/sign", data=data, headers=auth, content_type="multipart/form-data"
    )


def validate(client: Any, auth: dict[str, str], pdf: bytes) -> dict[str, Any]:
    response = client.post(
        "/api/v1/documents/validate",
        data={"document": (io.BytesIO(pdf), "signed.pdf", "application/pdf")},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def assert_all_good(report: dict[str, Any], count: int) -> None:
    assert len(report["signatures"]) == count, report
    for sig in report["signatures"]:
        assert sig["intact"] and sig["valid"] and sig["trusted"], sig["summary"]
        assert sig["bottom_line"], sig["summary"]
    assert report["all_valid"]


# -- public PKI and TSA -----------------------------------------------------------------------


def test_ca_bundle_and_crls_parse(client):
    ca = client.get("/pki/ca")
    assert ca.status_code == 200
    root, issuing = x509.load_pem_x509_certificates(ca.data)
    assert issuing.issuer == root.subject
    issuing.verify_directly_issued_by(root)
    for path, issuer in (("/pki/crl", issuing), ("/pki/root-crl", root)):
        response = client.get(path)
        assert response.status_code == 200
        assert response.mimetype == "application/pkix-crl"
        crl = x509.load_der_x509_crl(response.data)
        assert crl.issuer == issuer.subject
        assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]


def test_tsa_answers_rfc3161_requests(client):
    digest = hashlib.sha256(b"contract").digest()
    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": digest,
            },
            "nonce": 123456789,
            "cert_req": True,
        }
    )
    response = client.post(
        "/tsa", data=req.dump(), headers={"Content-Type": "application/timestamp-query"}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/timestamp-reply"
    reply = tsp.TimeStampResp.load(response.data)
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 123456789
    assert info["message_imprint"]["hashed_message"].native == digest

    garbage = client.post(
        "/tsa", data=b"not der", headers={"Content-Type": "application/timestamp-query"}
    )
    from signing.tsa import TimeStampResponse  # the token is optional in a rejection

    assert TimeStampResponse.load(garbage.data)["status"]["status"].native == "rejection"
    assert_error(client.post("/tsa", data=req.dump()), 415, "unsupported_media_type")


# -- seals ---------------------------------------------------------------------------------


def test_drawn_cjk_seal_and_its_preview(client, auth, instance):
    seal = make_seal(client, auth, subtext="合同专用章", size_mm=40, colour="#c00000")
    assert seal["id"].startswith("sl_") and seal["source"] == "drawn"
    assert seal["text"] == CJK_NAME and seal["spec"]["size_mm"] == [40.0, 40.0]
    preview = client.get(seal["preview_url"], headers=auth)
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    img = Image.open(io.BytesIO(preview.data))
    assert img.format == "PNG" and img.width > 100
    # red ink was drawn (the CJK text and the ring), on a transparent background
    raw = img.convert("RGBA").tobytes()
    pixels = [raw[i : i + 4] for i in range(0, len(raw), 4)]
    reds = [p for p in pixels if p[3] > 200 and p[0] > 150 and p[1] < 80]
    assert len(reds) > 500
    assert client.get(f"/api/v1/seals/{seal['id']}", headers=auth).get_json() == seal
    listed = client.get("/api/v1/seals?limit=1", headers=auth).get_json()
    assert [s["id"] for s in listed["seals"]] == [seal["id"]]
    assert listed["next_after"] == seal["id"]
    after = client.get(f"/api/v1/seals?after={seal['id']}", headers=auth).get_json()
    assert after == {"seals": [], "next_after": None}

    _other, key = create_tenant(instance.engine, "Someone Else")
    other = {"Authorization": f"Bearer {key}"}
    assert_error(client.get(f"/api/v1/seals/{seal['id']}", headers=other), 404, "not_found")
    assert_error(client.get(seal["preview_url"], headers=other), 404, "not_found")
    assert client.get("/api/v1/seals", headers=other).get_json()["seals"] == []
    assert_error(
        client.post("/api/v1/seals", json={"kind": "round"}, headers=auth), 400, "invalid_request"
    )
    assert_error(client.get("/api/v1/seals"), 401, "unauthorized")


def test_uploaded_seal_picture(client, auth):
    response = client.post(
        "/api/v1/seals",
        data={"image": (io.BytesIO(seal_png()), "seal.png"), "kind": "contract", "text": "ACME"},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    seal = response.get_json()
    assert seal["source"] == "uploaded" and seal["kind"] == "contract"
    img = Image.open(io.BytesIO(client.get(seal["preview_url"], headers=auth).data))
    corner = img.getpixel((0, 0))
    assert img.mode == "RGBA" and isinstance(corner, tuple) and corner[3] == 0  # transparent
    bad = client.post(
        "/api/v1/seals",
        data={"image": (io.BytesIO(b"GIF89a nope"), "seal.gif")},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert_error(bad, 400, "invalid_seal_image")


# -- signing -------------------------------------------------------------------------------


def _pdfsig(path: Path) -> str | None:
    tool = shutil.which("pdfsig")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("pdfsig is required in CI (Debian package poppler-utils)")
        return None
    return subprocess.run(
        [tool, str(path)], capture_output=True, text=True, timeout=60, check=False
    ).stdout


def test_sign_at_an_explicit_position(client, auth, instance, three_pages, tmp_path):
    seal = make_seal(client, auth)
    signer = {"name": "张三", "organization": CJK_NAME, "email": "zhang@example.com"}
    response = sign(
        client,
        auth,
        three_pages,
        seal["id"],
        [{"kind": "explicit", "page": 2, "x": 350, "y": 100}],
        signer=signer,
        subject="contract-7",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    signed = response.data
    after = hashlib.sha256(signed).hexdigest()
    before = hashlib.sha256(three_pages).hexdigest()
    assert response.headers["X-Sealtrail-Sha256-After"] == after
    assert response.headers["X-Sealtrail-Sha256-Before"] == before

    report = validate(client, auth, signed)
    assert_all_good(report, 1)
    (sig,) = report["signatures"]
    assert sig["signer_cn"] == "张三" and sig["pades_level"] == "B-LT"
    assert sig["timestamp"]["trusted"] and sig["docmdp"] == "FILL_FORMS"

    events = client.get("/api/v1/subjects/contract-7/events", headers=auth).get_json()["events"]
    (event,) = events
    assert event["event_id"] == response.headers["X-Sealtrail-Event-Id"]
    record = event["record"]
    assert record["type"] == "document.signed"
    data = record["data"]
    assert data["sha256_before"] == before and data["sha256_after"] == after
    assert data["seal"] == {"id": seal["id"], "kind": "official"}
    assert data["certificate"]["sha256"] == sig["signer_cert_sha256"]
    assert data["certificate"]["serial"] == response.headers["X-Sealtrail-Certificate-Serial"]
    assert data["level"] == "B-LT" and data["field"] == "Signature1"
    assert [p["page"] for p in data["placements"]] == [2]

    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    output = _pdfsig(path)
    if output is None:
        pytest.skip("pdfsig not installed (Debian package poppler-utils)")
    assert "Signature Validation: Signature is Valid." in output, output


def test_second_signature_into_a_reserved_field(client, auth, instance, three_pages):
    """First signature certifies and reserves a field; the second signer signs that field."""
    seal = make_seal(client, auth)
    name_seal = make_seal(client, auth, kind="personal", text="李四")
    first = sign(
        client,
        auth,
        three_pages,
        seal["id"],
        [{"kind": "explicit", "page": 3, "x": 80, "y": 80}],
        reserve_fields=[{"name": "Buyer", "page": 3, "x": 350, "y": 80, "width": 80, "height": 80}],
        subject="contract-8",
    )
    assert first.status_code == 200, first.get_data(as_text=True)
    size = instance.ledger.tree_size()
    # after a certifying signature a free placement would break it: refused, nothing logged
    refused = sign(
        client, auth, first.data, name_seal["id"], [{"kind": "explicit", "page": 1, "x": 9, "y": 9}]
    )
    assert_error(refused, 400, "certified_document")
    assert instance.ledger.tree_size() == size

    second = sign(
        client,
        auth,
        first.data,
        name_seal["id"],
        [{"kind": "field", "name": "Buyer"}],
        signer={"name": "李四"},
        subject="contract-8",
    )
    assert second.status_code == 200, second.get_data(as_text=True)
    assert second.headers["X-Sealtrail-Sha256-Before"] == first.headers["X-Sealtrail-Sha256-After"]
    report = validate(client, auth, second.data)
    assert_all_good(report, 2)
    assert report["signatures"][0]["modification_level"] == "FORM_FILLING"
    events = client.get("/api/v1/subjects/contract-8/events", headers=auth).get_json()["events"]
    assert [e["record"]["data"]["field"] for e in events] == ["Signature1", "Buyer"]
    assert events[1]["prev_leaf_hash"] == events[0]["leaf_hash"]


def test_every_page_and_riding_seals_with_watermark_and_qr(client, auth, three_pages):
    seal = make_seal(client, auth, kind="contract")
    response = sign(
        client,
        auth,
        three_pages,
        seal["id"],
        [{"kind": "every_page", "x": 300, "y": 60}, {"kind": "riding", "y": 400}],
        level="B-LTA",
        watermark="DRAFT",
        qr="true",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    report = validate(client, auth, response.data)
    assert_all_good(report, 1)
    assert report["signatures"][0]["pades_level"] == "B-LTA"
    assert len(report["doc_timestamps"]) == 1
    before = response.headers["X-Sealtrail-Sha256-Before"]
    events = client.get(f"/api/v1/subjects/document:{before}/events", headers=auth).get_json()
    data = events["events"][0]["record"]["data"]
    assert sorted(p["page"] for p in data["placements"]) == [1, 1, 2, 2, 3, 3]
    assert sorted(p["slice_index"] for p in data["placements"] if p["slice_index"] is not None) == [
        0,
        1,
        2,
    ]
    assert data["qr_url"].endswith(f"/verify?document={before}")


def test_bad_inputs_are_4xx_and_log_nothing(app, client, auth, instance, three_pages):
    instance.signing.max_document_bytes = 20_000
    seal = make_seal(client, auth)["id"]
    ok = [{"kind": "explicit", "page": 1, "x": 100, "y": 100}]
    _other, key = create_tenant(instance.engine, "Someone Else")
    foreign = make_seal(client, {"Authorization": f"Bearer {key}"})["id"]
    cases: list[tuple[str, bytes, str, Any, dict[str, Any], int, str]] = [
        ("not a pdf", b"PK\x03\x04 zip", seal, ok, {}, 400, "not_a_pdf"),
        ("encrypted", encrypted_pdf(), seal, ok, {}, 400, "encrypted_pdf"),
        ("malformed", b"%PDF-1.7\n" + b"\x00" * 200, seal, ok, {}, 400, "malformed_pdf"),
        ("too large", three_pages + b"\n%" + b"x" * 20_000, seal, ok, {}, 413, "pdf_too_large"),
        (
            "far too large",
            three_pages + b"\n%" + b"x" * 2_000_000,
            seal,
            ok,
            {},
            413,
            "pdf_too_large",
        ),
        (
            "no page 9",
            three_pages,
            seal,
            [{"kind": "explicit", "page": 9, "x": 1, "y": 1}],
            {},
            400,
            "page_out_of_range",
        ),
        (
            "off the page",
            three_pages,
            seal,
            [{"kind": "explicit", "page": 1, "x": 5000, "y": 1}],
            {},
            400,
            "position_out_of_page",
        ),
        (
            "no field",
            three_pages,
            seal,
            [{"kind": "field", "name": "Nope"}],
            {},
            400,
            "unknown_signature_field",
        ),
        ("unknown seal", three_pages, "sl_0000000000000000", ok, {}, 404, "not_found"),
        ("another tenant's seal", three_pages, foreign, ok, {}, 404, "not_found"),
        ("placements not json", three_pages, seal, "[{", {}, 400, "invalid_request"),
        ("placements empty", three_pages, seal, [], {}, 400, "invalid_request"),
        ("placement kind", three_pages, seal, [{"kind": "diagonal"}], {}, 400, "invalid_request"),
        (
            "placement x",
            three_pages,
            seal,
            [{"kind": "explicit", "page": 1, "x": "a", "y": 1}],
            {},
            400,
            "invalid_request",
        ),
        ("level", three_pages, seal, ok, {"level": "B-B"}, 400, "invalid_request"),
        (
            "subject",
            three_pages,
            seal,
            ok,
            {"subject": "a control\u0007character"},
            400,
            "invalid_request",
        ),
        ("signer", three_pages, seal, ok, {"signer": {"nom": "x"}}, 400, "invalid_request"),
        ("qr", three_pages, seal, ok, {"qr": "perhaps"}, 400, "invalid_request"),
    ]
    for name, pdf, seal_id, placements, form, status, code in cases:
        response = sign(client, auth, pdf, seal_id, placements, **form)
        assert response.status_code == status, (name, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == code, name
    assert_error(
        client.post(
            "/api/v1/documents/sign",
            data={"seal_id": seal},
            headers=auth,
            content_type="multipart/form-data",
        ),
        400,
        "invalid_request",
    )
    assert_error(
        client.post("/api/v1/documents/sign", json={}, headers=auth), 400, "invalid_request"
    )
    assert instance.ledger.tree_size() == 0


def test_validate_reports_tampering_and_unsigned_documents(client, auth, three_pages):
    seal = make_seal(client, auth)
    signed = sign(
        client, auth, three_pages, seal["id"], [{"kind": "explicit", "page": 1, "x": 99, "y": 99}]
    ).data
    flipped = bytearray(signed)
    at = signed.index(b"stream\n") + 20  # inside the first (compressed) stream
    flipped[at] ^= 0x01
    report = validate(client, auth, bytes(flipped))
    assert not report["all_valid"]
    assert not report["signatures"][0]["intact"]
    assert validate(client, auth, three_pages)["signatures"] == []


def test_pki_cli_status_and_revoke(app, client, auth, three_pages):
    seal = make_seal(client, auth)
    response = sign(
        client, auth, three_pages, seal["id"], [{"kind": "explicit", "page": 1, "x": 99, "y": 99}]
    )
    serial = response.headers["X-Sealtrail-Certificate-Serial"]
    runner = app.test_cli_runner()
    status = runner.invoke(args=["pki", "status"])
    assert status.exit_code == 0, status.output
    assert "Sealtrail Root CA" in status.output and "revoked: 0" in status.output
    revoked = runner.invoke(args=["pki", "revoke", serial, "--json"])
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(revoked.stdout) == {"serial": serial, "revoked": True, "known": True}
    crl = x509.load_der_x509_crl(client.get("/pki/crl").data)
    assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
    assert "revoked: 1" in runner.invoke(args=["pki", "status"]).output
    status_json = json.loads(runner.invoke(args=["pki", "status", "--json"]).stdout)
    assert status_json["revoked"]["issuing"] == 1 and status_json["revoked"]["root"] == 0
    # the next signature for the same identity gets a fresh certificate
    again = sign(
        client, auth, three_pages, seal["id"], [{"kind": "explicit", "page": 1, "x": 99, "y": 99}]
    )
    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.headers["X-Sealtrail-Certificate-Serial"] != serial


def test_openapi_documents_the_signing_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/seals", "/api/v1/documents/sign", "/tsa", "/pki/crl"):
        assert path in paths
