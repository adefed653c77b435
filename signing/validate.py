"""Validation of every signature and document time-stamp in a PDF, ours or anyone's.

:func:`validate_pdf` never raises because a signature is bad: a broken, tampered, untrusted
or structurally forbidden signature is reported with ``valid``/``intact``/``trusted`` false
and a ``reason``. It raises :class:`~signing.errors.NotAPdfError` and friends only when the
input cannot be read as a PDF at all.

Beyond pyHanko's own checks we refuse (valid = False) EdDSA signatures whose message digest
is not the one the algorithm prescribes (RFC 8419 section 3: SHA-512 for Ed25519, SHAKE256
for Ed448): pyHanko 0.38 accepts Ed448 with SHA-512, which AdES treats as a cryptographic
constraint failure.

Trust is evaluated against the anchors given (never the operating system's store), with the
certificates, CRLs and OCSP responses of the document's DSS and of the CMS objects, without
network access, at ``moment`` (default: now).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from signing.pdf_errors import reads_pdf
from signing.pdf_lock import serialised
from signing.pdfcheck import DEFAULT_MAX_BYTES, check_pdf

__all__ = [
    "DocTimestampReport",
    "SignatureReport",
    "TimestampReport",
    "ValidationReport",
    "validate_pdf",
]

PadesLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]

_EDDSA_DIGEST = {"ed25519": "sha512", "ed448": "shake256"}


@dataclass(frozen=True)
class TimestampReport:
    """An RFC 3161 token attached to a signature (signature time-stamp)."""

    time: dt.datetime | None
    intact: bool
    valid: bool
    trusted: bool
    tsa: str | None = None


@dataclass(frozen=True)
class SignatureReport:
    """What is known about one ``/Sig`` signature."""

    index: int
    field: str
    signer_cn: str | None = None
    signer_o: str | None = None
    signer_cert_sha256: str | None = None
    signing_time: dt.datetime | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    revoked: bool = False
    timestamp: TimestampReport | None = None
    pades_level: PadesLevel | None = None
    coverage: str | None = None
    modification_level: str | None = None
    docmdp_ok: bool | None = None
    docmdp: str | None = None
    """Permission set by this signature if it certifies the document (e.g. FILL_FORMS)."""
    md_algorithm: str | None = None
    bottom_line: bool = False
    reason: str | None = None
    pyhanko_summary: str | None = None

    def summary(self) -> str:
        """One line in pyHanko's style, e.g. ``Signature1: INTACT:TRUSTED,UNTOUCHED``."""
        if self.pyhanko_summary is not None and self.valid:
            text = self.pyhanko_summary
        elif self.intact and self.valid:
            text = "INTACT"
        else:
            text = "INVALID"
        if self.reason:
            text += f" ({self.reason})"
        return f"{self.field}: {text}"


@dataclass(frozen=True)
class DocTimestampReport:
    """A ``/DocTimeStamp`` (PAdES B-LTA archive time-stamp)."""

    index: int
    field: str
    time: dt.datetime | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    coverage: str | None = None
    modification_level: str | None = None
    reason: str | None = None

    def summary(self) -> str:
        """One line, e.g. ``Timestamp-...: INTACT:TRUSTED at 2026-01-01T00:00:00+00:00``."""
        if not (self.intact and self.valid):
            state = "INVALID"
        else:
            state = "INTACT:" + ("TRUSTED" if self.trusted else "UNTRUSTED")
        when = f" at {self.time.isoformat()}" if self.time else ""
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.field}: {state}{when}{why}"


@dataclass(frozen=True)
class ValidationReport:
    """All signatures and document time-stamps of a PDF, in revision order."""

    sha256: str
    signatures: tuple[SignatureReport, ...] = ()
    doc_timestamps: tuple[DocTimestampReport, ...] = ()
    has_dss: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def all_valid(self) -> bool:
        """True if there is at least one signature and every one passes every check."""
        return (
            bool(self.signatures)
            and all(s.bottom_line for s in self.signatures)
            and all(t.intact and t.valid and t.trusted for t in self.doc_timestamps)
        )

    def summary(self) -> str:
        """Multi-line human summary, one line per signature and time-stamp."""
        lines = [s.summary() for s in self.signatures]
        lines += [t.summary() for t in self.doc_timestamps]
        if not lines:
            return "no signatures"
        return "\n".join(lines)


# --- helpers -----------------------------------------------------------------------------


def _asn1(cert: x509.Certificate | asn1_x509.Certificate) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _name_part(cert: asn1_x509.Certificate, key: str) -> str | None:
    value = cert.subject.native.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value is not None else None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _context(
    roots: list[asn1_x509.Certificate],
    dss: DocumentSecurityStore | None,
    moment: dt.datetime | None,
    extra_certs: Sequence[asn1_x509.Certificate] = (),
) -> ValidationContext:
    kwargs: dict[str, Any] = {
        "trust_roots": roots,
        "allow_fetching": False,
        "revocation_mode": "soft-fail",
        "other_certs": list(extra_certs),
    }
    if moment is not None:
        kwargs["moment"] = moment
    if dss is not None:
        try:
            return dss.as_validation_context(kwargs)
        except Exception:  # noqa: S110 - an unreadable DSS only costs us its revocation data
            pass
    return ValidationContext(**kwargs)


def _eddsa_problem(emb: EmbeddedPdfSignature) -> str | None:
    sig_alg = emb.signer_info["signature_algorithm"]["algorithm"].native
    required = _EDDSA_DIGEST.get(sig_alg)
    if required is not None and emb.md_algorithm != required:
        return (
            f"{sig_alg} requires the {required} message digest, not {emb.md_algorithm} "
            "(RFC 8419): disallowed algorithm combination"
        )
    return None


def _ts_report(ts: TimestampSignatureStatus | None) -> TimestampReport | None:
    if ts is None:
        return None
    tsa = None
    with contextlib.suppress(Exception):  # the TSA name is informative only
        tsa = _name_part(ts.signing_cert, "common_name")
    return TimestampReport(
        time=ts.timestamp, intact=ts.intact, valid=ts.valid, trusted=ts.trusted, tsa=tsa
    )


def _level(
    status: PdfSignatureStatus, emb: EmbeddedPdfSignature, dss_ok: bool, later_doc_ts: bool
) -> PadesLevel:
    if status.timestamp_validity is None:
        return "B-B"
    if not dss_ok:
        return "B-T"
    return "B-LTA" if later_doc_ts else "B-LT"


def _dss_covers(dss: DocumentSecurityStore | None, cert: asn1_x509.Certificate) -> bool:
    """Whether the DSS holds revocation data and the signer's certificate."""
    if dss is None or not (dss.crls or dss.ocsps):
        return False
    try:
        return any(c.sha256 == cert.sha256 for c in dss.load_certs())
    except Exception:
        return False


# --- entry point -------------------------------------------------------------------------


@serialised
@reads_pdf
def validate_pdf(
    pdf: bytes,
    trust_roots: Sequence[x509.Certificate | asn1_x509.Certificate] = (),
    *,
    moment: dt.datetime | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ValidationReport:
    """Validate every signature and document time-stamp in ``pdf`` against ``trust_roots``."""
    reader = check_pdf(pdf, max_bytes)
    roots = [_asn1(c) for c in trust_roots]
    notes: list[str] = []
    try:
        dss: DocumentSecurityStore | None = DocumentSecurityStore.read_dss(reader)
    except Exception:
        dss = None

    # Build each embedded signature on its own: one unparsable /Contents must not hide others.
    found: list[tuple[int, str, EmbeddedPdfSignature | None, str | None]] = []
    try:
        sig_fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:
        sig_fields = []
        notes.append(f"form fields cannot be read: {_describe(exc)}")
    for order, (fq_name, _value, field_ref) in enumerate(sig_fields):
        try:
            emb = EmbeddedPdfSignature(reader, field_ref, fq_name)
            found.append((emb.signed_revision, fq_name, emb, None))
        except Exception as exc:
            found.append((10**9 + order, fq_name, None, _describe(exc)))
    found.sort(key=lambda item: item[0])

    doc_ts_revisions = [
        emb.signed_revision
        for _, _, emb, _ in found
        if emb is not None and emb.sig_object_type == "/DocTimeStamp"
    ]
    sigs: list[SignatureReport] = []
    stamps: list[DocTimestampReport] = []
    for index, (_rev, fq_name, maybe_emb, error) in enumerate(found):
        if maybe_emb is None:
            sigs.append(SignatureReport(index=index, field=fq_name, reason=error))
            continue
        ctx = _context(roots, dss, moment, maybe_emb.other_embedded_certs)
        if maybe_emb.sig_object_type == "/DocTimeStamp":
            stamps.append(_validate_doc_ts(index, fq_name, maybe_emb, ctx))
            continue
        sigs.append(
            _validate_sig(
                index,
                fq_name,
                maybe_emb,
                ctx,
                dss,
                later_doc_ts=any(r > maybe_emb.signed_revision for r in doc_ts_revisions),
            )
        )
    return ValidationReport(
        sha256=hashlib.sha256(pdf).hexdigest(),
        signatures=tuple(sigs),
        doc_timestamps=tuple(stamps),
        has_dss=dss is not None,
        notes=tuple(notes),
    )


def _validate_doc_ts(
    index: int, fq_name: str, emb: EmbeddedPdfSignature, ctx: ValidationContext
) -> DocTimestampReport:
    try:
        st = validate_pdf_timestamp(emb, validation_context=ctx)
    except Exception as exc:
        return DocTimestampReport(index=index, field=fq_name, reason=_describe(exc))
    return DocTimestampReport(
        index=index,
        field=fq_name,
        time=st.timestamp,
        intact=st.intact,
        valid=st.valid,
        trusted=st.trusted,
        coverage=st.coverage.name if st.coverage is not None else None,
        modification_level=(
            st.modification_level.name if st.modification_level is not None else None
        ),
    )


def _validate_sig(
    index: int,
    fq_name: str,
    emb: EmbeddedPdfSignature,
    ctx: ValidationContext,
    dss: DocumentSecurityStore | None,
    *,
    later_doc_ts: bool,
) -> SignatureReport:
    base: dict[str, Any] = {"index": index, "field": fq_name}
    try:
        cert = emb.signer_cert
        base.update(
            signer_cn=_name_part(cert, "common_name"),
            signer_o=_name_part(cert, "organization_name"),
            signer_cert_sha256=cert.sha256.hex(),
        )
    except Exception as exc:
        return SignatureReport(**base, reason=_describe(exc))
    base["signing_time"] = emb.self_reported_timestamp
    base["md_algorithm"] = emb.md_algorithm
    try:
        docmdp = emb.docmdp_level
        base["docmdp"] = docmdp.name if docmdp is not None else None
    except Exception:  # noqa: S110 - a malformed /Reference only loses this detail
        pass
    try:
        st = validate_pdf_signature(emb, signer_validation_context=ctx)
    except Exception as exc:
        return SignatureReport(**base, reason=_describe(exc))

    valid = st.valid
    reason: str | None = None
    eddsa = _eddsa_problem(emb)
    if eddsa is not None:
        valid, reason = False, eddsa
    elif not st.intact:
        reason = "the signed bytes were changed (digest mismatch)"
    elif not st.valid:
        reason = "the cryptographic signature does not verify"
    elif st.revoked:
        reason = "the signer's certificate is revoked"
    elif not st.trusted:
        reason = "no trusted path to a given trust anchor"
    elif st.docmdp_ok is False:
        reason = "the document was modified in a way its signatures do not allow"
    trusted = st.trusted and valid
    return SignatureReport(
        **base,
        intact=st.intact,
        valid=valid,
        trusted=trusted,
        revoked=st.revoked,
        timestamp=_ts_report(st.timestamp_validity),
        pades_level=_level(st, emb, _dss_covers(dss, emb.signer_cert), later_doc_ts),
        coverage=st.coverage.name if st.coverage is not None else None,
        modification_level=(
            st.modification_level.name if st.modification_level is not None else None
        ),
        docmdp_ok=st.docmdp_ok,
        bottom_line=st.bottom_line and valid,
        reason=reason,
        pyhanko_summary=st.summary(),
    )
