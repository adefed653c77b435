"""An RFC 3161 time-stamping authority, and pyHanko time-stampers that use it.

:class:`TimeStampAuthority` turns a DER ``TimeStampReq`` into a DER ``TimeStampResp``: it is
pure apart from the clock it is given, so the HTTP edge only has to pass bytes through
(``Content-Type: application/timestamp-query`` in, ``application/timestamp-reply`` out).

Policy, in the words of RFC 3161 section 2.4.2:

* hash algorithms SHA-256/384/512 and SHA3-256/384/512 are accepted; anything else (SHA-1
  included) is rejected with ``badAlg``; an imprint whose length does not fit its algorithm,
  or bytes that do not parse, with ``badDataFormat``;
* a requested policy other than ours gets ``unacceptedPolicy``, request extensions get
  ``unacceptedExtension`` (we support none);
* the nonce is echoed; the TSA certificate is included only when ``certReq`` is true;
* serial numbers are random 159-bit integers, unique without shared state between workers.

The token is signed with ECDSA P-256/SHA-256 and carries an ESS signing-certificate-v2
attribute (RFC 5816), which pyHanko and Adobe both check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pyhanko.sign.timestamps import TimeStamper

from evidence_chain.errors import ConfigurationError
from signing.pki import CertificateAuthority, new_serial

__all__ = [
    "DEFAULT_POLICY_OID",
    "InProcessTimeStamper",
    "TimeStampAuthority",
    "TimeStampResponse",
]

# The service's time-stamping policy. A UUID-derived OID (ITU-T X.667, arc 2.25) needs no
# registration; replace it with one under the operator's own enterprise arc if it has one.
# It must stay stable once tokens have been issued, because validators may pin it.
DEFAULT_POLICY_OID = "2.25.114963593192510926984674717123212878313"

_DIGEST_LENGTHS = {
    "sha256": 32,
    "sha384": 48,
    "sha512": 64,
    "sha3_256": 32,
    "sha3_384": 48,
    "sha3_512": 64,
}

Clock = Callable[[], dt.datetime]

_classes_lock = threading.Lock()
_classes_ready = False


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TimeStampResponse(core.Sequence):
    """``TimeStampResp`` with the token OPTIONAL, as RFC 3161 defines it (asn1crypto does not)."""

    _fields = [  # noqa: RUF012 - asn1crypto's declarative schema
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class _Rejection(Exception):
    def __init__(self, fail_info: str, text: str) -> None:
        super().__init__(text)
        self.fail_info = fail_info
        self.text = text


class TimeStampAuthority:
    """Issues RFC 3161 time-stamp tokens with its own key and certificate."""

    def __init__(
        self,
        certificate: x509.Certificate,
        private_key: PrivateKeyTypes,
        chain: Sequence[x509.Certificate] = (),
        *,
        policy_oid: str = DEFAULT_POLICY_OID,
        clock: Clock = _utcnow,
        accuracy_ms: int = 1000,
    ) -> None:
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise ConfigurationError("the time-stamping key must be an ECDSA key")
        self.certificate = certificate
        self.chain = tuple(chain)
        self.policy_oid = policy_oid
        self.clock = clock
        self._key = private_key
        self._accuracy_ms = accuracy_ms
        # Requests are answered by many threads at once. asn1crypto objects parse and cache
        # their contents lazily, so one shared between threads can be corrupted by two of them
        # at once (a token whose ESS hash OID read 2.16.840.1.101.3.4.2.1.96.840.1.101.3.4.2.1).
        # Only immutable DER bytes are kept here; every token is built from fresh objects.
        self._cert_der = certificate.public_bytes(serialization.Encoding.DER)
        self._chain_der = tuple(c.public_bytes(serialization.Encoding.DER) for c in self.chain)
        self._ess_der = self._signing_certificate_v2(
            asn1_x509.Certificate.load(self._cert_der)
        ).dump()
        self._prepare_classes()

    def _prepare_classes(self) -> None:
        """Answer a request and a malformed one, and parse both replies, once per process.

        asn1crypto sets each class up (its field maps, on the class itself) the first time an
        object of it is made, and not thread-safely: two threads making the first token of a
        process at once can both half-build the same map. After this, every class a token, a
        rejection or their parsing uses is set up before any request comes in. The flag is
        process-wide like the classes it stands for; the lock makes one thread do the work.
        """
        global _classes_ready
        with _classes_lock:
            if _classes_ready:
                return
            digest = hashlib.sha256(b"sealtrail time-stamping authority").digest()
            request = tsp.TimeStampReq(
                {
                    "version": "v1",
                    "message_imprint": {
                        "hash_algorithm": {"algorithm": "sha256"},
                        "hashed_message": digest,
                    },
                    "nonce": 1,
                    "cert_req": True,
                }
            ).dump()
            granted = self.respond(request)
            tsp.TimeStampResp.load(granted).native  # noqa: B018 - parses every field
            for reply in (granted, self.respond(b"")):
                TimeStampResponse.load(reply).native  # noqa: B018
            _classes_ready = True

    @classmethod
    def create(cls, ca: CertificateAuthority, **kwargs: Any) -> TimeStampAuthority:
        """Make a fresh TSA key and have ``ca`` certify it (not persisted)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = ca.issue_tsa_certificate(key.public_key())
        return cls(cert, key, ca.chain, **kwargs)

    # --- protocol -----------------------------------------------------------------------

    def respond(self, request_der: bytes) -> bytes:
        """Answer one DER ``TimeStampReq`` with a DER ``TimeStampResp`` (granted or rejected)."""
        try:
            req = self._parse(request_der)
        except _Rejection as rej:
            return self._reject(rej.fail_info, rej.text)
        token = self._token(req)
        return TimeStampResponse(
            {
                "status": tsp.PKIStatusInfo({"status": "granted"}),
                "time_stamp_token": token,
            }
        ).dump()

    def _parse(self, request_der: bytes) -> tsp.TimeStampReq:
        try:
            req = tsp.TimeStampReq.load(request_der, strict=True)
            # asn1crypto parses lazily: touch every field so bad encodings surface here
            req.native  # noqa: B018
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise _Rejection("bad_data_format", "malformed TimeStampReq") from exc
        if req["version"].native != "v1":
            raise _Rejection("bad_data_format", "unsupported TimeStampReq version")
        imprint = req["message_imprint"]
        alg = imprint["hash_algorithm"]["algorithm"].native
        if alg not in _DIGEST_LENGTHS:
            raise _Rejection("bad_alg", f"hash algorithm {alg} is not accepted")
        params = imprint["hash_algorithm"]["parameters"].native
        if params is not None:
            raise _Rejection("bad_alg", "hash algorithm parameters must be absent or NULL")
        if len(imprint["hashed_message"].native) != _DIGEST_LENGTHS[alg]:
            raise _Rejection(
                "bad_data_format", "message imprint length does not match its algorithm"
            )
        policy = req["req_policy"].native
        if policy is not None and policy != self.policy_oid:
            raise _Rejection("unaccepted_policy", f"policy {policy} is not offered")
        if req["extensions"].native:
            raise _Rejection("unaccepted_extensions", "no request extensions are supported")
        return req

    def _reject(self, fail_info: str, text: str) -> bytes:
        status = tsp.PKIStatusInfo(
            {
                "status": "rejection",
                "status_string": [text],
                "fail_info": tsp.PKIFailureInfo({fail_info}),
            }
        )
        return TimeStampResponse({"status": status}).dump()

    @staticmethod
    def _signing_certificate_v2(cert: asn1_x509.Certificate) -> tsp.SigningCertificateV2:
        return tsp.SigningCertificateV2(
            {
                "certs": [
                    {
                        "hash_algorithm": {"algorithm": "sha256"},
                        "cert_hash": hashlib.sha256(cert.dump()).digest(),
                        "issuer_serial": {
                            "issuer": [
                                asn1_x509.GeneralName(name="directory_name", value=cert.issuer)
                            ],
                            "serial_number": cert.serial_number,
                        },
                    }
                ]
            }
        )

    def _token(self, req: tsp.TimeStampReq) -> cms.ContentInfo:
        # fresh objects for this token only (see __init__)
        cert = asn1_x509.Certificate.load(self._cert_der)
        ess = tsp.SigningCertificateV2.load(self._ess_der)
        now = self.clock()
        if now.tzinfo is None:
            raise ConfigurationError("the TSA clock must return timezone-aware datetimes")
        seconds, millis = divmod(self._accuracy_ms, 1000)
        accuracy: dict[str, int] = {}
        if seconds:
            accuracy["seconds"] = seconds
        if millis:
            accuracy["millis"] = millis
        tst_fields: dict[str, Any] = {
            "version": "v1",
            "policy": self.policy_oid,
            "message_imprint": req["message_imprint"],
            "serial_number": new_serial(),
            "gen_time": now.astimezone(dt.UTC),
            "accuracy": accuracy,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=cert.subject),
        }
        if req["nonce"].native is not None:
            tst_fields["nonce"] = req["nonce"].native
        tst_der = tsp.TSTInfo(tst_fields).dump()

        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]}
                ),
                cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}),
            ]
        )
        signature = self._key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    name="issuer_and_serial_number",
                    value={
                        "issuer": cert.issuer,
                        "serial_number": cert.serial_number,
                    },
                ),
                "digest_algorithm": {"algorithm": "sha256"},
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed_data: dict[str, Any] = {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tst_der),
            },
            "signer_infos": [signer_info],
        }
        if req["cert_req"].native:
            signed_data["certificates"] = [
                cert,
                *(asn1_x509.Certificate.load(der) for der in self._chain_der),
            ]
        return cms.ContentInfo({"content_type": "signed_data", "content": signed_data})


class InProcessTimeStamper(TimeStamper):
    """A pyHanko ``TimeStamper`` that calls :meth:`TimeStampAuthority.respond` directly."""

    def __init__(self, tsa: TimeStampAuthority, include_nonce: bool = True) -> None:
        super().__init__(include_nonce=include_nonce)
        self.tsa = tsa

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """Submit ``req`` to the in-process authority (same bytes as over HTTP)."""
        return tsp.TimeStampResp.load(self.tsa.respond(req.dump()))
