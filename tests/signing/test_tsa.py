from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
from asn1crypto import algos, cms, tsp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.timestamps import HTTPTimeStamper

from signing.pades import Placement, SignOptions, sign_pdf
from signing.pki import SignerIdentity
from signing.tsa import DEFAULT_POLICY_OID, TimeStampAuthority, TimeStampResponse
from signing.validate import validate_pdf
from tests.signing.conftest import Pki
from tests.signing.slow_tsa import serve_slow_tsa

FIXED = dt.datetime(2026, 3, 1, 8, 30, 0, tzinfo=dt.UTC)


def request(
    digest: bytes | None = None,
    alg: str = "sha256",
    nonce: int | None = 12345,
    cert_req: bool = True,
    policy: str | None = None,
) -> bytes:
    fields: dict[str, object] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": alg},
            "hashed_message": digest if digest is not None else hashlib.sha256(b"doc").digest(),
        },
        "cert_req": cert_req,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    if policy is not None:
        fields["req_policy"] = policy
    return tsp.TimeStampReq(fields).dump()


@pytest.fixture(scope="module")
def fixed_tsa(pki: Pki) -> TimeStampAuthority:
    return TimeStampAuthority(pki.tsa.certificate, pki.tsa._key, pki.ca.chain, clock=lambda: FIXED)


def granted(resp_der: bytes) -> tuple[tsp.TSTInfo, cms.SignedData]:
    resp = TimeStampResponse.load(resp_der)
    assert resp["status"]["status"].native == "granted"
    token = resp["time_stamp_token"]
    assert token["content_type"].native == "signed_data"
    sd = token["content"]
    return sd["encap_content_info"]["content"].parsed, sd


def test_granted_token_fields(fixed_tsa: TimeStampAuthority) -> None:
    digest = hashlib.sha256(b"contract").digest()
    tst, _ = granted(fixed_tsa.respond(request(digest, nonce=987654321)))
    assert tst["nonce"].native == 987654321
    assert tst["message_imprint"]["hashed_message"].native == digest
    assert tst["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert tst["gen_time"].native == FIXED
    assert tst["policy"].native == DEFAULT_POLICY_OID
    assert tst["accuracy"]["seconds"].native == 1


def test_token_signature_verifies(fixed_tsa: TimeStampAuthority, pki: Pki) -> None:
    tst, sd = granted(fixed_tsa.respond(request()))
    si = sd["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0] for a in si["signed_attrs"]}
    assert attrs["content_type"].native == "tst_info"
    tst_der = sd["encap_content_info"]["content"].contents
    assert attrs["message_digest"].native == hashlib.sha256(tst_der).digest()
    ess = attrs["signing_certificate_v2"]["certs"][0]
    tsa_der = pki.tsa.certificate.public_bytes(serialization.Encoding.DER)
    assert any(c.chosen.dump() == tsa_der for c in sd["certificates"])
    cert_der = tsa_der
    assert ess["cert_hash"].native == hashlib.sha256(cert_der).digest()
    public_key = pki.tsa.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    signed = si["signed_attrs"].untag().dump()  # signed as SET OF, stored as [0]
    public_key.verify(si["signature"].native, signed, ec.ECDSA(hashes.SHA256()))
    assert tst["serial_number"].native > 0


def test_cert_req_is_honoured(fixed_tsa: TimeStampAuthority) -> None:
    _, with_certs = granted(fixed_tsa.respond(request(cert_req=True)))
    _, without = granted(fixed_tsa.respond(request(cert_req=False)))
    assert len(with_certs["certificates"]) == 3  # TSA, issuing CA, root
    assert not without["certificates"]


def test_no_nonce_means_no_nonce(fixed_tsa: TimeStampAuthority) -> None:
    tst, _ = granted(fixed_tsa.respond(request(nonce=None)))
    assert tst["nonce"].native is None


def test_serial_numbers_are_unique(fixed_tsa: TimeStampAuthority) -> None:
    serials = {granted(fixed_tsa.respond(request()))[0]["serial_number"].native for _ in range(40)}
    assert len(serials) == 40


@pytest.mark.parametrize(
    ("req", "fail_info"),
    [
        (request(hashlib.sha1(b"x").digest(), alg="sha1"), "bad_alg"),  # noqa: S324
        (request(hashlib.md5(b"x").digest(), alg="md5"), "bad_alg"),  # noqa: S324
        (request(b"\x00" * 20, alg="sha256"), "bad_data_format"),
        (b"\x30\x03\x02\x01", "bad_data_format"),
        (b"not asn.1 at all", "bad_data_format"),
        (b"", "bad_data_format"),
        (request(policy="1.2.3.4"), "unaccepted_policy"),
    ],
    ids=["sha1", "md5", "short-imprint", "truncated", "garbage", "empty", "policy"],
)
def test_bad_requests_are_rejected(
    fixed_tsa: TimeStampAuthority, req: bytes, fail_info: str
) -> None:
    resp = TimeStampResponse.load(fixed_tsa.respond(req))
    status = resp["status"]
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {fail_info}
    assert status["status_string"].native
    assert resp["time_stamp_token"].native is None


def test_sha512_imprint_is_accepted(fixed_tsa: TimeStampAuthority) -> None:
    tst, _ = granted(fixed_tsa.respond(request(hashlib.sha512(b"x").digest(), alg="sha512")))
    assert tst["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha512"


@pytest.fixture
def tsa_url(pki: Pki) -> Iterator[str]:
    with serve_slow_tsa(pki.tsa.respond) as server:
        server.go.set()  # answered at once
        yield server.url


def test_pyhanko_http_timestamper_accepts_our_tsa(
    tsa_url: str, pki: Pki, alice: SignerIdentity, one_page: bytes, simple_seal: bytes
) -> None:
    stamper = HTTPTimeStamper(tsa_url)
    result = sign_pdf(
        one_page,
        alice,
        simple_seal,
        [Placement.explicit(1, 72, 72)],
        SignOptions(level="B-LT"),
        timestamper=stamper,
        crls=pki.ca.crls(),
    )
    report = validate_pdf(result.signed_pdf, pki.ca.trust_roots())
    (sig,) = report.signatures
    assert sig.timestamp is not None
    assert sig.timestamp.valid and sig.timestamp.trusted
    assert sig.timestamp.tsa == pki.tsa.certificate.subject.rfc4514_string().split(",")[0][3:]
    assert sig.pades_level == "B-LT"


def test_digest_algorithm_object_is_plain(fixed_tsa: TimeStampAuthority) -> None:
    # parameters NULL is fine (some clients send it), other parameters are not
    alg = algos.DigestAlgorithm({"algorithm": "sha256", "parameters": None})
    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": alg, "hashed_message": b"\x01" * 32},
        }
    ).dump()
    granted(fixed_tsa.respond(req))
