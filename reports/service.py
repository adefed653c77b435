"""Issue certificates of evidence and find them again by report id.

:func:`issue_report` builds the subject's evidence bundle, verifies it the way a court would
(reading the anchored root through the instance's own chain connection when anchoring is on),
draws the certificate, embeds the bundle's exact bytes (canonical JSON, RFC 8785) and signs the
whole PDF with the service's identity (PAdES B-LT). The report row keeps that same bundle, so
the public verify page can show what a report id stands for: :func:`get_report`.
"""

from __future__ import annotations

import base64
import ctypes
import datetime as dt
import gc
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography import x509
from sqlalchemy import Engine, insert, select

from evidence_chain import db
from evidence_chain.anchoring.chain import AnchorChainReader
from evidence_chain.clock import aware as _aware
from evidence_chain.core.bundle import (
    BUNDLE_ATTACHMENT,
    BundleVerdict,
    ChainReader,
    verify_bundle,
)
from evidence_chain.core.canonical import canonicalize
from evidence_chain.events import normalize_subject
from evidence_chain.tenants import TenantRef
from reports.bundle import build_bundle
from reports.models import EvidenceReport
from reports.sources import EvidenceSources
from verifier_web import VERIFIER_ATTACHMENT, verifier_html

if TYPE_CHECKING:
    from signing.service import SigningService

__all__ = [
    "IssuedReport",
    "StoredReport",
    "get_report",
    "instance_chain_reader",
    "issue_report",
    "new_report_id",
    "verify_url",
]

REPORT = EvidenceReport.__table__  # type: ignore[attr-defined]
REPORT_ID_PREFIX = "rpt_"


def new_report_id() -> str:
    """A public report id: ``rpt_`` and 26 base32 characters of 128 random bits."""
    raw = base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()
    return REPORT_ID_PREFIX + raw


def verify_url(public_base_url: str, report_id: str) -> str:
    """The public verify address of a report (its QR code)."""
    return f"{public_base_url.rstrip('/')}/verify?report={report_id}"


def _common_name(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else name.rfc4514_string()


@dataclass(frozen=True)
class StoredReport:
    """A certificate of evidence issued: which subject, which trees, and the exact bundle."""

    report_id: str
    tenant_id: int
    subject: str
    tree_size: int
    anchor_tree_size: int | None
    bundle_json: bytes
    bundle_sha256: str
    pdf_sha256: str
    created_at: dt.datetime

    @property
    def bundle(self) -> dict[str, Any]:
        """The bundle embedded in the report."""
        value: dict[str, Any] = json.loads(self.bundle_json)
        return value

    def to_json(self) -> dict[str, Any]:
        """What the verify page may show about the report (no tenant id)."""
        return {
            "report_id": self.report_id,
            "subject": self.subject,
            "tree_size": self.tree_size,
            "anchor_tree_size": self.anchor_tree_size,
            "bundle_sha256": self.bundle_sha256,
            "pdf_sha256": self.pdf_sha256,
            "created_at": _aware(self.created_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }


@dataclass(frozen=True)
class IssuedReport:
    """A report just issued: its record, the signed PDF and the verdict printed in it."""

    report: StoredReport
    pdf: bytes
    verdict: BundleVerdict


def instance_chain_reader(instance: EvidenceSources) -> ChainReader | None:
    """The instance's own chain connection as a chain reader (None: anchoring is off)."""
    anchorer = instance.anchorer
    if anchorer is None:
        return None
    return AnchorChainReader(anchorer.chain)


def issue_report(
    instance: EvidenceSources,
    signing: SigningService,
    tenant: TenantRef,
    subject: str,
    *,
    chain: ChainReader | None = None,
    now: dt.datetime | None = None,
    language: str | None = None,
) -> IssuedReport:
    """Issue, sign and record a certificate of evidence for one of the tenant's subjects.

    It is written in ``language`` (``zh`` or ``en``; by default the tenant's), with times in
    the tenant's time zone, and logged: the event ``report.issued`` of the subject
    ``report:<report id>`` carries the signed PDF's SHA-256, so anyone can later learn from
    the log that this service issued exactly that file.
    """
    from evidence_chain.tenant_settings import get_settings
    from evidence_chain.tenants import list_keys
    from reports.certificate import BUNDLE_MIME, ReportInfo, render_certificate
    from signing.pades import attach_file

    subject = normalize_subject(subject)  # recorded with the report as the records have it
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    bundle = build_bundle(instance, tenant, subject, now=moment)
    bundle_json = canonicalize(bundle)
    reader = chain if chain is not None else instance_chain_reader(instance)
    verdict = verify_bundle(bundle, chain=reader)

    report_id = new_report_id()
    settings = get_settings(instance.engine, tenant.id)
    signer = signing.service_signer()
    base = instance.settings.public_base_url
    info = ReportInfo(
        report_id=report_id,
        issued_at=moment,
        verify_url=verify_url(base, report_id),
        service_url=base.rstrip("/"),
        issuer=f"{_common_name(signer.certificate.subject)} (certificate issued by "
        f"{_common_name(signer.certificate.issuer)})",
        organisation=tenant.name,
        language=language if language in ("zh", "en") else settings.language,
        time_zone=settings.time_zone,
        key_names={k.prefix: k.name for k in list_keys(instance.engine, tenant.id) if k.name},
    )
    pdf = attach_file(
        render_certificate(bundle, verdict, info),
        bundle_json,
        BUNDLE_ATTACHMENT,
        mime_type=BUNDLE_MIME,
        description="Sealtrail evidence bundle (JSON) this certificate was drawn from",
    )
    pdf = attach_file(
        pdf,
        verifier_html(),
        VERIFIER_ATTACHMENT,
        mime_type="text/html",
        description="Sealtrail offline verifier: open it in a browser and drop this PDF on it",
    )
    signed = sign_as_service(
        signing, pdf, reason=f"Certificate of evidence {report_id}", location=base
    )

    anchor = bundle.get("anchor")
    stored = StoredReport(
        report_id=report_id,
        tenant_id=tenant.id,
        subject=subject,
        tree_size=int(bundle["checkpoint"]["tree_size"]),
        anchor_tree_size=int(anchor["tree_size"]) if anchor else None,
        bundle_json=bundle_json,
        bundle_sha256=hashlib.sha256(bundle_json).hexdigest(),
        pdf_sha256=hashlib.sha256(signed).hexdigest(),
        created_at=moment,
    )
    with instance.engine.begin() as conn:
        conn.execute(
            insert(REPORT).values(
                report_id=stored.report_id,
                tenant_id=stored.tenant_id,
                subject=stored.subject,
                tree_size=stored.tree_size,
                anchor_tree_size=stored.anchor_tree_size,
                bundle=bundle_json.decode("utf-8"),
                bundle_sha256=stored.bundle_sha256,
                pdf_sha256=stored.pdf_sha256,
                created_at=moment,
            )
        )
        instance.ledger.append_in(conn, tenant.id, tenant.public_id, [_issued_event(stored)])
    return_memory()
    return IssuedReport(stored, signed, verdict)


def return_memory() -> None:
    """Give the memory a certificate's drawing used back to the system.

    Drawing a large subject's certificate makes tens of MiB of short-lived objects; CPython
    frees them, but glibc keeps the freed pages in the process. A collection and
    ``malloc_trim`` return them, so a worker that issued ten 1,000-event certificates is
    within a few MiB of its size after the first (bench ``reports``)."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def sign_as_service(signing: SigningService, pdf: bytes, *, reason: str, location: str) -> bytes:
    """``pdf`` certified and signed by the service's own identity, time-stamped, with the
    revocation data inside (PAdES B-LT): what Sealtrail issues (certificates of evidence,
    verification reports) is signed this one way."""
    from signing.pades import SignOptions, sign_pdf

    return sign_pdf(
        pdf,
        signing.service_signer(),
        None,
        (),
        SignOptions(
            level="B-LT",
            certify=True,
            reason=reason,
            location=location,
            max_bytes=max(signing.max_document_bytes, len(pdf) + 1),
        ),
        timestamper=signing.timestamper(),
        crls=signing.ca.crls(),
        trust_roots=signing.ca.trust_roots(),
    ).signed_pdf


SERVICE_TENANT = "tn_sealtrail"
"""The service's own account: it holds the log entries of what the service issues to anyone
(verification reports of the public verify page), which belong to no customer."""


def issue_verification_report(
    instance: EvidenceSources, signing: SigningService, result: dict[str, Any]
) -> tuple[str, bytes]:
    """Draw, sign and log a verification report of a ``/verify`` result; its id and PDF.

    The event ``verification_report.issued`` of the subject ``verification-report:<id>``, in
    the service's own account, carries the PDF's SHA-256 and the verified file's: uploaded to
    ``/verify`` later, the report is found in the log as issued by this service.
    """
    from evidence_chain.events import format_time, parse_event
    from reports.verification import render_report

    base = instance.settings.public_base_url
    report_id = "vrp_" + new_report_id().removeprefix(REPORT_ID_PREFIX)
    pdf = sign_as_service(
        signing,
        render_report(result, base_url=base, report_id=report_id),
        reason=f"Verification report {report_id}",
        location=base,
    )
    event = parse_event(
        {
            "type": "verification_report.issued",
            "subject": f"verification-report:{report_id}",
            "occurred_at": format_time(dt.datetime.now(dt.UTC)),
            "actor": {"role": "system", "name": "Sealtrail"},
            "data": {
                "report_id": report_id,
                "sha256": hashlib.sha256(pdf).hexdigest(),
                "role": "verification_report",
                "verified_sha256": result.get("sha256"),
                "verdict": result.get("verdict"),
            },
        }
    )
    tenant = _service_tenant(instance.engine)
    instance.ledger.append(tenant.id, tenant.public_id, [event])
    return report_id, pdf


def _service_tenant(engine: Engine) -> TenantRef:
    """The service's own account, made on first use (two makers at once: one wins)."""
    from sqlalchemy.exc import IntegrityError

    from evidence_chain.tenants import TENANT

    for _ in range(2):
        with db.reading(engine) as conn:
            row = conn.execute(
                select(TENANT.c.id, TENANT.c.name).where(TENANT.c.public_id == SERVICE_TENANT)
            ).first()
        if row is not None:
            return TenantRef(int(row.id), SERVICE_TENANT, str(row.name))
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(TENANT).values(
                        public_id=SERVICE_TENANT,
                        name="Sealtrail (the service's own records)",
                        created_at=dt.datetime.now(dt.UTC),
                    )
                )
        except IntegrityError:
            continue
    raise RuntimeError("the service's own account could not be made")


def report_subject(report_id: str) -> str:
    """The log subject that records the issue of a report."""
    return f"report:{report_id}"


def _issued_event(report: StoredReport) -> Any:
    from evidence_chain.events import format_time, parse_event

    return parse_event(
        {
            "type": "report.issued",
            "subject": report_subject(report.report_id),
            "occurred_at": format_time(report.created_at),
            "actor": {"role": "system", "name": "Sealtrail"},
            "data": {
                "report_id": report.report_id,
                "of_subject": report.subject,
                "sha256": report.pdf_sha256,
                "role": "certificate",
                "bundle_sha256": report.bundle_sha256,
                "tree_size": report.tree_size,
                "anchor_tree_size": report.anchor_tree_size,
            },
        }
    )


def get_report(engine: Engine, report_id: str) -> StoredReport | None:
    """The report issued under ``report_id`` (any tenant: the id is the capability), or None."""
    if not report_id.startswith(REPORT_ID_PREFIX) or len(report_id) > 40:
        return None
    with db.reading(engine) as conn:
        row = conn.execute(select(REPORT).where(REPORT.c.report_id == report_id)).first()
    if row is None:
        return None
    return StoredReport(
        report_id=row.report_id,
        tenant_id=row.tenant_id,
        subject=row.subject,
        tree_size=int(row.tree_size),
        anchor_tree_size=None if row.anchor_tree_size is None else int(row.anchor_tree_size),
        bundle_json=row.bundle.encode("utf-8"),
        bundle_sha256=row.bundle_sha256,
        pdf_sha256=row.pdf_sha256,
        created_at=_aware(row.created_at),
    )
