"""Many threads stamping and signing at once on a fresh authority: every token and every
signature verifies, and the signing-certificate attribute is the same bytes every time."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.reader import PdfFileReader

from evidence_chain.config import Settings
from signing.authority import create_authority
from signing.tsa import TimeStampAuthority
from signing.validate import validate_pdf
from tests.signing.conftest import make_pdf

THREADS = 8
ROUNDS = 25
SHA256_OID = "2.16.840.1.101.3.4.2.1"


def tsa_request(i: int) -> bytes:
    """A DER TimeStampReq for a digest and nonce of its own."""
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(b"request %d" % i).digest(),
            },
            "nonce": 7000 + i,
            "cert_req": True,
        }
    ).dump()


def der_set(contents: bytes) -> bytes:
    """``contents`` as a DER SET (how CMS signs signed attributes it stores as [0])."""
    n = len(contents)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)])
    if n >= 0x80:
        length += n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\x31" + length + contents


def verify_token(reply: bytes, request: bytes, tsa_cert: x509.Certificate) -> bytes:
    """Check a TimeStampResp as a relying party would; return the bytes of its ESS
    signing-certificate-v2 attribute, as received."""
    resp = tsp.TimeStampResp.load(reply)
    assert resp["status"]["status"].native == "granted"
    signed_data = resp["time_stamp_token"]["content"]
    tst_der = signed_data["encap_content_info"]["content"].contents
    info = tsp.TSTInfo.load(tst_der)
    asked = tsp.TimeStampReq.load(request)
    for part in ("hash_algorithm", "hashed_message"):
        assert info["message_imprint"][part].native == asked["message_imprint"][part].native
    assert info["nonce"].native == asked["nonce"].native
    (signer_info,) = signed_data["signer_infos"]
    # the bytes as received: read before any field is parsed (asn1crypto re-encodes after)
    signed = der_set(signer_info["signed_attrs"].contents)
    received = {}
    for attr in cms.CMSAttributes.load(signed):
        raw = attr.contents
        received[attr["type"].native] = (raw, attr)
    assert received["message_digest"][1]["values"][0].native == hashlib.sha256(tst_der).digest()
    ess_raw, ess_attr = received["signing_certificate_v2"]
    (ess,) = ess_attr["values"][0]["certs"]
    tsa_der = tsa_cert.public_bytes(serialization.Encoding.DER)
    assert ess["hash_algorithm"]["algorithm"].dotted == SHA256_OID
    assert ess["cert_hash"].native == hashlib.sha256(tsa_der).digest()
    assert ess["issuer_serial"]["serial_number"].native == tsa_cert.serial_number
    public_key = tsa_cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signer_info["signature"].native, signed, ec.ECDSA(hashes.SHA256()))
    return bytes(ess_raw)


def signature_token_ess(pdf: bytes) -> bytes:
    """The bytes of the ESS signing-certificate-v2 attribute of the time-stamp token on the
    PDF's one signature."""
    (embedded,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    (signer_info,) = embedded.signed_data["signer_infos"]
    (token,) = [
        a["values"][0]
        for a in signer_info["unsigned_attrs"]
        if a["type"].native == "signature_time_stamp_token"
    ]
    (token_signer,) = token["content"]["signer_infos"]
    signed = der_set(token_signer["signed_attrs"].contents)
    for attr in cms.CMSAttributes.load(signed):
        raw = attr.contents  # read before its fields are parsed, as in verify_token
        if attr["type"].native == "signing_certificate_v2":
            return bytes(raw)
    raise AssertionError("the signature's time-stamp token has no signing certificate")


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run ``jobs`` on one thread each, released at the same moment; results or exceptions."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # the caller reports every failure
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


def test_threads_stamping_on_a_fresh_tsa_get_tokens_that_verify(tmp_path: Path) -> None:
    # a fresh instance's authority, with the default names
    authority = create_authority(Settings(home=tmp_path / "home", database_url="sqlite://"))
    cert, key, chain = authority.tsa_certificate, authority.tsa_key, authority.ca.chain
    attributes: set[bytes] = set()
    failures: list[str] = []
    for r in range(ROUNDS):
        # a fresh authority each round: its first requests are the ones that raced
        tsa = TimeStampAuthority(cert, key, chain)
        requests = [tsa_request(r * THREADS + i) for i in range(THREADS)]
        replies = run_together([partial(tsa.respond, req) for req in requests])
        for req, reply in zip(requests, replies, strict=True):
            try:
                if isinstance(reply, Exception):
                    raise reply
                attributes.add(verify_token(reply, req, cert))
            except Exception as exc:
                failures.append(f"round {r}: {type(exc).__name__}: {exc}"[:200])
    assert not failures, f"{len(failures)} of {ROUNDS * THREADS} tokens failed: {failures[:5]}"
    assert len(attributes) == 1


def test_stamping_and_signing_at_once_on_a_fresh_instance(app: Any, client: Any, auth: Any) -> None:
    seal = client.post("/api/v1/seals", json={"kind": "official", "text": "Acme"}, headers=auth)
    assert seal.status_code == 201
    pdf = make_pdf(1)

    def stamp(i: int) -> tuple[str, bytes, Any]:
        body = tsa_request(i)
        r = app.test_client().post(
            "/tsa", data=body, headers={"Content-Type": "application/timestamp-query"}
        )
        return "tsa", body, r

    def sign(i: int) -> tuple[str, bytes, Any]:
        data = {
            "document": (io.BytesIO(pdf), "contract.pdf", "application/pdf"),
            "seal_id": seal.get_json()["id"],
            "placements": json.dumps([{"kind": "explicit", "page": 1, "x": 300, "y": 100}]),
            "subject": f"together-{i}",
        }
        r = app.test_client().post(
            "/api/v1/documents/sign", data=data, headers=auth, content_type="multipart/form-data"
        )
        return "sign", b"", r

    # The signing service (CA, TSA) is opened by these requests: none came before them.
    jobs: list[Callable[[], Any]] = [partial(stamp, i) for i in range(THREADS)]
    jobs += [partial(sign, i) for i in range(3)]
    results = run_together(jobs)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors

    pki = app.config["SEALTRAIL_SETTINGS"].home / "pki"
    root = x509.load_pem_x509_certificate((pki / "root.pem").read_bytes())
    tsa_cert = x509.load_pem_x509_certificate((pki / "tsa.pem").read_bytes())
    attributes = set()
    for kind, body, response in results:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        if kind == "tsa":
            attributes.add(verify_token(response.data, body, tsa_cert))
        else:
            report = validate_pdf(response.data, [root])
            (sig,) = report.signatures
            assert sig.bottom_line, sig.summary()
            assert sig.timestamp is not None and sig.timestamp.trusted, sig.summary()
            attributes.add(signature_token_ess(response.data))
    assert len(attributes) == 1
