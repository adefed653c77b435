"""The signing engine as a service of one instance: PKI and TSA on disk, seals and signer
certificates in the database, every signature recorded in the evidence log.

Files under ``EVIDENCE_HOME``::

    keys/master.key     the master key (0600), unless EVIDENCE_MASTER_KEY is set (which wins)
    pki/                root and issuing CA (signing.pki), the TSA key and certificate, the
                        service signer

They are made once, before any worker starts, by :func:`signing.authority.create_authority`
(``flask --app app init``, gunicorn's ``on_starting``); :class:`SigningService` only opens
them (:func:`signing.authority.load_authority`), on first use. ``EVIDENCE_TSA_URL`` replaces
the in-process TSA by an external RFC 3161 service (pyHanko's HTTP client); ``/tsa`` is then
still served by our own TSA.

Multi-party signing through the API: the first signature certifies the document (DocMDP,
"fill forms and sign") unless ``certify`` is false. After a certifying signature, later
signers sign into fields the certifying signature reserved (``reserve_fields``, then a
``{"kind": "field", "name": ...}`` placement); after an approval (non-certifying) first
signature, later signers place their seals freely. Anything else is refused with
``certified_document`` before any work is done.

The heavy libraries (pyHanko, pdfium, ReportLab) are imported on first use only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import Engine, insert, select, update

from evidence_chain import db
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import utcnow as _utcnow
from evidence_chain.config import Settings
from evidence_chain.errors import NotFoundError, ValidationError
from evidence_chain.events import SUBJECT_RULE, check_subject, format_time, parse_event
from evidence_chain.keystore import (
    MasterKey,
    decrypt_private_key,
    encrypt_private_key,
)
from evidence_chain.ledger import Ledger
from evidence_chain.tenants import TenantRef
from signing.authority import current_service_signer, load_authority
from signing.models import Seal, SignerCertificate
from signing.pki import CertificateAuthority, Identity, SignerIdentity, new_signer_key

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import TimeStamper

    from signing.pades import FieldReservation, Placement, SignResult
    from signing.tsa import TimeStampAuthority
    from signing.validate import ValidationReport

__all__ = [
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "SealRecord",
    "SignedDocument",
    "SigningService",
    "report_to_json",
]

SEAL = Seal.__table__  # type: ignore[attr-defined]
SIGNER_CERT = SignerCertificate.__table__  # type: ignore[attr-defined]

DEFAULT_MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
EVENT_TYPE = "document.signed"
LEVELS = ("B-LT", "B-LTA")
SEAL_KINDS = (
    "official",
    "contract",
    "finance",
    "invoice",
    "legal_representative",
    "personal",
    "handwritten",
)


# --- rendering ----------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def report_to_json(report: ValidationReport) -> dict[str, Any]:
    """A validation report as the API returns it."""
    body: dict[str, Any] = _jsonable(report)
    body["all_valid"] = report.all_valid
    body["summary"] = report.summary()
    for sig, data in zip(report.signatures, body["signatures"], strict=True):
        data["summary"] = sig.summary()
    for ts, data in zip(report.doc_timestamps, body["doc_timestamps"], strict=True):
        data["summary"] = ts.summary()
    return body


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealRecord:
    """A stored seal (without its bytes)."""

    id: str
    kind: str
    text: str | None
    subtext: str | None
    spec: dict[str, Any]
    source: str
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """The seal as the API returns it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "subtext": self.subtext,
            "source": self.source,
            "spec": self.spec,
            "created_at": format_time(_aware(self.created_at)),
            "preview_url": f"/api/v1/seals/{self.id}/preview.png",
        }


def _seal_record(row: Any) -> SealRecord:
    return SealRecord(
        id=row.public_id,
        kind=row.kind,
        text=row.text,
        subtext=row.subtext,
        spec=json.loads(row.spec),
        source=row.source,
        created_at=row.created_at,
    )


@dataclass(frozen=True)
class SignedDocument:
    """The outcome of one signature through the service."""

    result: SignResult
    event_id: str
    certificate_serial: str
    certificate_sha256: str


def _identity_json(identity: Identity) -> dict[str, Any]:
    return {k: v for k, v in asdict(identity).items() if v is not None}


def _cert_sha256(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


# --- the service --------------------------------------------------------------------------


class SigningService:
    """PKI, TSA, seals, signing and validation for one instance; opened lazily."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        ledger: Ledger,
        *,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
        tsa_url: str | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.ledger = ledger
        self.max_document_bytes = max_document_bytes
        self.tsa_url = tsa_url
        self._lock = threading.Lock()
        self._master: MasterKey | None = None
        self._ca: CertificateAuthority | None = None
        self._tsa: TimeStampAuthority | None = None

    @classmethod
    def from_env(
        cls,
        settings: Settings,
        engine: Engine,
        ledger: Ledger,
        environ: Mapping[str, str] | None = None,
    ) -> SigningService:
        """Read EVIDENCE_MAX_DOCUMENT_BYTES and EVIDENCE_TSA_URL from the environment."""
        env = os.environ if environ is None else environ
        raw = env.get("EVIDENCE_MAX_DOCUMENT_BYTES") or ""
        try:
            limit = int(raw) if raw else DEFAULT_MAX_DOCUMENT_BYTES
        except ValueError:
            from evidence_chain.errors import ConfigurationError

            raise ConfigurationError(
                f"EVIDENCE_MAX_DOCUMENT_BYTES must be an integer, got {raw!r}"
            ) from None
        return cls(
            settings,
            engine,
            ledger,
            max_document_bytes=limit,
            tsa_url=env.get("EVIDENCE_TSA_URL") or None,
        )

    # --- PKI and TSA, opened on first use (never created here) -------------------------

    def _open(self) -> None:
        from signing.tsa import TimeStampAuthority

        # Threads of this process share the opened authority: the lock makes them open it
        # once; CertificateAuthority and TimeStampAuthority are safe to share (immutable
        # cryptography objects and DER bytes).
        with self._lock:
            if self._tsa is not None:
                return
            authority = load_authority(self.settings)
            ca = authority.ca
            tsa = TimeStampAuthority(authority.tsa_certificate, authority.tsa_key, ca.chain)
            self._master, self._ca, self._tsa = authority.master, ca, tsa

    @property
    def master(self) -> MasterKey:
        """The master key sealing every private key."""
        self._open()
        assert self._master is not None
        return self._master

    @property
    def ca(self) -> CertificateAuthority:
        """The instance's two-level certificate authority."""
        self._open()
        assert self._ca is not None
        return self._ca

    @property
    def tsa(self) -> TimeStampAuthority:
        """The instance's own RFC 3161 time-stamping authority."""
        self._open()
        assert self._tsa is not None
        return self._tsa

    def timestamper(self) -> TimeStamper:
        """The time-stamper signatures use: the external TSA if configured, else ours."""
        if self.tsa_url:
            from pyhanko.sign.timestamps import HTTPTimeStamper

            return HTTPTimeStamper(self.tsa_url)
        from signing.tsa import InProcessTimeStamper

        return InProcessTimeStamper(self.tsa)

    def timestamp_reply(self, request_der: bytes) -> bytes:
        """Answer an RFC 3161 TimeStampReq (DER) with a TimeStampResp (DER)."""
        return self.tsa.respond(request_der)

    def ca_bundle_pem(self) -> bytes:
        """The root and the issuing CA certificates as one PEM bundle."""
        return b"".join(
            c.public_bytes(serialization.Encoding.PEM)
            for c in (self.ca.root_cert, self.ca.issuing_cert)
        )

    def crl(self) -> bytes:
        """The issuing CA's CRL (DER)."""
        return self.ca.crl()

    def root_crl(self) -> bytes:
        """The root CA's CRL (DER)."""
        return self.ca.root_crl()

    def status(self) -> dict[str, Any]:
        """CA and TSA subjects and fingerprints, and how many certificates are revoked."""
        ca, tsa = self.ca, self.tsa
        with db.reading(self.engine) as conn:
            issued = conn.execute(select(SIGNER_CERT.c.id)).all()
            revoked = conn.execute(
                select(SIGNER_CERT.c.id).where(SIGNER_CERT.c.revoked_at.is_not(None))
            ).all()
        revocations = ca._load_revocations()
        return {
            "directory": str(ca.directory),
            "root": {
                "subject": ca.root_cert.subject.rfc4514_string(),
                "sha256": _cert_sha256(ca.root_cert),
                "not_after": ca.root_cert.not_valid_after_utc.isoformat(),
            },
            "issuing": {
                "subject": ca.issuing_cert.subject.rfc4514_string(),
                "sha256": _cert_sha256(ca.issuing_cert),
                "not_after": ca.issuing_cert.not_valid_after_utc.isoformat(),
            },
            "tsa": {
                "subject": tsa.certificate.subject.rfc4514_string(),
                "sha256": _cert_sha256(tsa.certificate),
                "external_url": self.tsa_url,
            },
            "signer_certificates": len(issued),
            "revoked": {
                "issuing": len(revocations["issuing"]),
                "root": len(revocations["root"]),
                "signer_certificates": len(revoked),
            },
        }

    def revoke(self, serial: str) -> bool:
        """Revoke a certificate of the issuing CA by serial (hex, as the evidence log shows it).

        Returns True when the serial is one of our signer certificates (marked revoked too).
        """
        text = serial.strip().lower().removeprefix("0x").replace(":", "")
        try:
            number = int(text, 16)
        except ValueError:
            raise ValidationError(f"{serial!r} is not a hexadecimal serial number") from None
        self.ca.revoke(number)
        key = format(number, "x")
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(SIGNER_CERT)
                .where(SIGNER_CERT.c.serial == key, SIGNER_CERT.c.revoked_at.is_(None))
                .values(revoked_at=_utcnow())
            ).rowcount
            known = conn.execute(
                select(SIGNER_CERT.c.id).where(SIGNER_CERT.c.serial == key)
            ).first()
        del changed
        return known is not None

    # --- seals -------------------------------------------------------------------------

    def _store_seal(
        self,
        tenant_id: int,
        *,
        kind: str,
        text: str | None,
        subtext: str | None,
        spec: dict[str, Any],
        appearance: bytes,
        preview: bytes,
        source: str,
    ) -> SealRecord:
        public_id = "sl_" + secrets.token_hex(8)
        now = _utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                insert(SEAL).values(
                    public_id=public_id,
                    tenant_id=tenant_id,
                    kind=kind,
                    text=text,
                    subtext=subtext,
                    spec=json.dumps(spec, ensure_ascii=False, sort_keys=True),
                    appearance=appearance,
                    preview=preview,
                    source=source,
                    created_at=now,
                )
            )
        return SealRecord(public_id, kind, text, subtext, spec, source, now)

    def create_drawn_seal(
        self,
        tenant_id: int,
        *,
        kind: str,
        text: str,
        subtext: str | None = None,
        code: str | None = None,
        size_mm: tuple[float, float] | None = None,
        colour: str = "#d40000",
    ) -> SealRecord:
        """Draw a seal with ReportLab and keep it (vector PDF and PNG preview)."""
        from signing.seals import SealSpec, draw_seal, render_png

        spec = SealSpec(kind, text, subtext, code, size_mm, colour)  # type: ignore[arg-type]
        appearance = draw_seal(spec)
        return self._store_seal(
            tenant_id,
            kind=kind,
            text=text,
            subtext=spec.purpose,
            spec={
                "kind": kind,
                "text": text,
                "subtext": spec.purpose,
                "code": code,
                "size_mm": list(spec.size),
                "colour": colour,
            },
            appearance=appearance,
            preview=render_png(appearance),
            source="drawn",
        )

    def create_uploaded_seal(
        self,
        tenant_id: int,
        image: bytes,
        *,
        kind: str = "official",
        text: str | None = None,
        width_mm: float = 40.0,
    ) -> SealRecord:
        """Keep an uploaded seal picture, its background made transparent."""
        from signing.seals import seal_from_image

        if kind not in SEAL_KINDS:
            raise ValidationError(f"unknown seal kind {kind!r}", details={"field": "kind"})
        if text is not None and len(text) > 200:
            raise ValidationError("text is at most 200 characters", details={"field": "text"})
        made = seal_from_image(image, width_mm=width_mm)
        return self._store_seal(
            tenant_id,
            kind=kind,
            text=text,
            subtext=None,
            spec={
                "kind": kind,
                "text": text,
                "size_mm": [round(made.width_mm, 2), round(made.height_mm, 2)],
            },
            appearance=made.pdf,
            preview=made.png,
            source="uploaded",
        )

    def list_seals(
        self, tenant_id: int, *, after: str | None = None, limit: int = 100
    ) -> list[SealRecord]:
        """The tenant's seals, oldest first, after the seal id ``after``."""
        query = select(SEAL).where(SEAL.c.tenant_id == tenant_id)
        with db.reading(self.engine) as conn:
            if after is not None:
                row = conn.execute(
                    select(SEAL.c.id).where(
                        SEAL.c.public_id == after, SEAL.c.tenant_id == tenant_id
                    )
                ).first()
                if row is None:
                    raise NotFoundError(f"no seal {after!r}", details={"seal_id": after})
                query = query.where(SEAL.c.id > row.id)
            rows = conn.execute(query.order_by(SEAL.c.id).limit(limit)).all()
        return [_seal_record(r) for r in rows]

    def _seal_row(self, tenant_id: int, seal_id: str) -> Any:
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(SEAL).where(SEAL.c.public_id == seal_id, SEAL.c.tenant_id == tenant_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no seal {seal_id!r}", details={"seal_id": seal_id})
        return row

    def get_seal(self, tenant_id: int, seal_id: str) -> SealRecord:
        """One of the tenant's seals; another tenant's is NotFoundError."""
        return _seal_record(self._seal_row(tenant_id, seal_id))

    def seal_preview(self, tenant_id: int, seal_id: str) -> bytes:
        """The seal's PNG preview (rendered now if it was not kept)."""
        row = self._seal_row(tenant_id, seal_id)
        if row.preview is not None:
            return bytes(row.preview)
        from signing.seals import render_png

        return render_png(bytes(row.appearance))

    # --- signer certificates -------------------------------------------------------------

    def signer_for(self, tenant_id: int, identity: Identity) -> SignerIdentity:
        """A key and certificate for ``identity``: the one on record, or a new one from our CA."""
        ident = _identity_json(identity)
        key = hashlib.sha256(
            json.dumps(ident, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()
        now = _utcnow()
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(SIGNER_CERT)
                .where(
                    SIGNER_CERT.c.tenant_id == tenant_id,
                    SIGNER_CERT.c.identity_key == key,
                    SIGNER_CERT.c.revoked_at.is_(None),
                )
                .order_by(SIGNER_CERT.c.id.desc())
                .limit(1)
            ).first()
        if (
            row is not None
            and _aware(row.not_after) > now + dt.timedelta(days=1)
            and not self.ca.is_revoked(int(row.serial, 16))
        ):
            cert = x509.load_pem_x509_certificate(row.certificate_pem.encode("ascii"))
            return SignerIdentity(
                decrypt_private_key(bytes(row.key_blob), self.master), cert, self.ca.chain
            )
        private_key = new_signer_key()
        try:
            cert = self.ca.issue_end_entity(identity, private_key.public_key())
        except ValueError as exc:  # e.g. an attribute x509 does not allow
            raise ValidationError(f"signer identity cannot be certified: {exc}") from None
        with self.engine.begin() as conn:
            conn.execute(
                insert(SIGNER_CERT).values(
                    tenant_id=tenant_id,
                    identity_key=key,
                    identity=json.dumps(ident, ensure_ascii=False, sort_keys=True),
                    certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                    key_blob=encrypt_private_key(private_key, self.master),
                    serial=format(cert.serial_number, "x"),
                    fingerprint_sha256=_cert_sha256(cert),
                    not_after=cert.not_valid_after_utc,
                    created_at=now,
                )
            )
        return SignerIdentity(private_key, cert, self.ca.chain)

    # --- signing and validation --------------------------------------------------------

    def sign_document(
        self,
        tenant: TenantRef,
        pdf: bytes,
        *,
        seal_id: str,
        placements: Sequence[Placement],
        identity: Identity,
        level: str = "B-LT",
        watermark: str | None = None,
        qr: bool = False,
        subject: str | None = None,
        certify: bool | None = None,
        reserve_fields: Sequence[FieldReservation] = (),
        reason: str | None = None,
    ) -> SignedDocument:
        """Sign ``pdf`` with the tenant's seal and record the signature in the evidence log."""
        from signing.pades import SignOptions, check_pdf, sign_pdf

        if level not in LEVELS:
            raise ValidationError(
                f"level must be one of {', '.join(LEVELS)}", details={"field": "level"}
            )
        if watermark is not None and len(watermark) > 60:
            raise ValidationError("watermark is at most 60 characters")
        check_pdf(pdf, self.max_document_bytes)
        before = hashlib.sha256(pdf).hexdigest()
        try:
            subject = check_subject(subject or f"document:{before}")
        except ValueError as exc:
            raise ValidationError(
                f"subject: {exc}; {SUBJECT_RULE}", details={"field": "subject"}
            ) from None
        seal = self._seal_row(tenant.id, seal_id)
        signer = self.signer_for(tenant.id, identity)
        qr_url = f"{self.settings.public_base_url}/verify?document={before}" if qr else None
        result = sign_pdf(
            pdf,
            signer,
            bytes(seal.appearance),
            placements,
            SignOptions(
                level=level,  # type: ignore[arg-type]
                certify=certify,
                reserve_fields=tuple(reserve_fields),
                watermark=watermark or None,
                qr_url=qr_url,
                reason=reason,
                max_bytes=self.max_document_bytes,
            ),
            timestamper=self.timestamper(),
            crls=self.ca.crls(),
            trust_roots=self.ca.trust_roots(),
        )
        cert = result.certificate
        serial = format(cert.serial_number, "x")
        fingerprint = _cert_sha256(cert)
        event = parse_event(
            {
                "type": EVENT_TYPE,
                "subject": subject,
                "occurred_at": format_time(_utcnow()),
                "actor": _identity_json(identity),
                "data": {
                    "sha256_before": result.sha256_before,
                    "sha256_after": result.sha256_after,
                    "seal": {"id": seal.public_id, "kind": seal.kind},
                    "certificate": {
                        "serial": serial,
                        "sha256": fingerprint,
                        "subject": cert.subject.rfc4514_string(),
                        "issuer": cert.issuer.rfc4514_string(),
                    },
                    "placements": [_jsonable(p) for p in result.placements],
                    "level": result.level,
                    "field": result.field_name,
                    "certified": result.certified,
                    "watermark": watermark or None,
                    "qr_url": qr_url,
                },
            }
        )
        (receipt,) = self.ledger.append(tenant.id, tenant.public_id, [event])
        return SignedDocument(result, receipt.event_id, serial, fingerprint)

    def validate_document(self, pdf: bytes) -> ValidationReport:
        """Validate every signature and document time-stamp, our root as the trust anchor."""
        from signing.validate import validate_pdf

        return validate_pdf(pdf, self.ca.trust_roots(), max_bytes=self.max_document_bytes)

    def service_signer(self) -> SignerIdentity:
        """The service's own signing identity (for its reports), made by ``init`` and renewed
        when it nears expiry or is revoked (:func:`signing.authority.current_service_signer`)."""
        return current_service_signer(self.settings, self.ca, self.master)
