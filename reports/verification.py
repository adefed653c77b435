"""Verifying what a visitor brings to the public verify page, and the signature verification
report PDF that records the result.

What can be checked: a signed contract PDF (every signature and document time-stamp against
our CA, and whether this exact file is in the log, under which anchor), a certificate-of-evidence
PDF or an evidence bundle (the same checks as ``python -m evidence_chain.verify``), a stored
report found by its id, and a document hash (the QR code on signed contracts). Each yields a
:class:`Verification`: checks with a result (True, False, None for "not checked") and the
verdict rule of the bundle verifier (FAILED if any check failed, INCOMPLETE if any was not
made, VERIFIED otherwise).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from evidence_chain.core.bundle import ChainReader, Check, informative_json, verdict_of
from evidence_chain.core.onchain import ChainBlock, ChainReceipt
from evidence_chain.core.subject import Lifecycle, lifecycle_of, verdict_line
from evidence_chain.documents import DocumentPlacement, locate
from evidence_chain.errors import EvidenceError, NotFoundError, ValidationError
from evidence_chain.events import format_time
from reports.errors import UnsupportedFileError

if TYPE_CHECKING:
    from reports.sources import EvidenceSources
    from signing.service import SigningService

log = logging.getLogger(__name__)

__all__ = [
    "SERVICE_NAME",
    "UnsupportedFileError",
    "Verification",
    "render_report",
    "verify_document_hash",
    "verify_stored_report",
    "verify_upload",
]

SERVICE_NAME = "Sealtrail"
KINDS = {
    "signed_pdf": "Signed PDF",
    "contract": "Signed contract with its evidence",
    "report": "Certificate of evidence",
    "bundle": "Evidence bundle",
    "document": "Document hash",
}


@dataclass(frozen=True)
class Verification:
    """The outcome of one verification, as the page, the API and the report PDF show it."""

    kind: str
    sha256: str | None
    size: int | None
    checks: tuple[Check, ...]
    verdict: str
    verified_at: str
    signatures: tuple[dict[str, Any], ...] = ()
    doc_timestamps: tuple[dict[str, Any], ...] = ()
    placements: tuple[DocumentPlacement, ...] = ()
    bundle: Mapping[str, Any] | None = None
    report_id: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    informative: tuple[tuple[str, Any], ...] = ()
    """Fields of the bundle no check covers, as it states them (shown as informative)."""
    status: Lifecycle | None = None
    """The subject's lifecycle status, from its records (None: no record was read)."""

    def line(self, lang: str = "en") -> str:
        """The verdict with the subject's status beside it."""
        return verdict_line(self.verdict, self.status, lang)

    @property
    def kind_label(self) -> str:
        """What was checked, in words."""
        return KINDS.get(self.kind, self.kind)

    def failed(self) -> list[Check]:
        """The checks that did not hold."""
        return [c for c in self.checks if c.ok is False]

    def bundle_summary(self) -> dict[str, Any] | None:
        """The bundle's subject, tenant, events, checkpoint and anchor (no records)."""
        b = self.bundle
        if not isinstance(b, Mapping):
            return None
        raw_events = b.get("events")
        events: list[Any] = raw_events if isinstance(raw_events, list) else []
        raw_cp = b.get("checkpoint")
        checkpoint: Mapping[str, Any] = raw_cp if isinstance(raw_cp, Mapping) else {}
        anchor = b.get("anchor")
        documents = b.get("documents")
        return {
            "subject": b.get("subject"),
            "tenant": b.get("tenant"),
            "generated_at": b.get("generated_at"),
            "events": len(events),
            "event_types": [
                e["record"].get("type")
                for e in events[:200]
                if isinstance(e, Mapping) and isinstance(e.get("record"), Mapping)
            ],
            "tree_size": checkpoint.get("tree_size"),
            "anchor": anchor if isinstance(anchor, Mapping) else None,
            "documents": documents if isinstance(documents, list) else [],
        }

    def to_json(self) -> dict[str, Any]:
        """The verification as ``POST /api/v1/verify`` returns it."""
        return {
            "kind": self.kind,
            "verdict": self.verdict,
            "status": self.status.to_json() if self.status is not None else None,
            "summary": {"en": self.line("en"), "zh": self.line("zh")},
            "sha256": self.sha256,
            "size": self.size,
            "verified_at": self.verified_at,
            "report_id": self.report_id,
            "checks": [c.to_json() for c in self.checks],
            "signatures": list(self.signatures),
            "doc_timestamps": list(self.doc_timestamps),
            "log": [p.to_json() for p in self.placements],
            "bundle": self.bundle_summary(),
            "notes": list(self.notes),
            "informative": informative_json(self.informative),
            "service": SERVICE_NAME,
        }


def _now() -> str:
    return format_time(dt.datetime.now(dt.UTC))


# --- the chain --------------------------------------------------------------------------------


def _anchor_check(chain: ChainReader | None) -> Callable[[Mapping[str, Any]], bool | None]:
    """Whether the chain holds an anchor's root; None when no chain is configured or reachable."""

    def check(anchor: Mapping[str, Any]) -> bool | None:
        if chain is None:
            return None
        try:
            if chain.chain_id() != int(anchor["chain_id"]):
                return False
            on_chain = chain.root_at(
                str(anchor["contract"]),
                bytes.fromhex(str(anchor["log_id"]).removeprefix("0x")),
                int(anchor["tree_size"]),
            )
        except EvidenceError as exc:  # the chain is down: not checked, not failed
            log.warning("verify: chain not readable: %s", exc.message)
            return None
        return on_chain is not None and on_chain.hex() == str(anchor["root"]).removeprefix("0x")

    return check


# --- what the visitor brings -------------------------------------------------------------------


def classify(data: bytes) -> str:
    """``pdf`` or ``json`` from the first bytes; UnsupportedFileError for anything else."""
    if not data:
        raise ValidationError("the file is empty")
    if b"%PDF-" in data[:1024]:
        return "pdf"
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "json"
    raise UnsupportedFileError(
        "this is neither a PDF nor an evidence bundle (JSON): upload a signed contract, "
        "a certificate of evidence or an evidence bundle",
        details={"accepted": ["application/pdf", "application/json"]},
    )


def verify_upload(
    data: bytes,
    *,
    instance: EvidenceSources,
    signing: SigningService,
    chain: ChainReader | None = None,
    max_bytes: int | None = None,
    evidence: bytes | None = None,
) -> Verification:
    """Verify an uploaded signed PDF, report PDF or JSON bundle; with ``evidence`` (a
    certificate of evidence or a bundle), a signed contract and whether it is recorded there."""
    limit = max_bytes if max_bytes is not None else signing.max_document_bytes
    for item in (data, evidence or b""):
        if len(item) > limit:
            from signing.errors import PdfTooLargeError

            raise PdfTooLargeError(
                f"the file is {len(item)} bytes, the limit is {limit}",
                details={"size": len(item), "limit": limit},
            )
    if evidence is not None:
        if classify(data) != "pdf":
            raise UnsupportedFileError(
                "with evidence, the file is a signed contract (PDF)",
                details={"accepted": ["application/pdf"]},
            )
        classify(evidence)
        return _verify_contract(data, evidence, signing=signing, chain=chain)
    if classify(data) == "json":
        return _verify_bundle_bytes(data, chain=chain)
    return _verify_pdf(data, instance=instance, signing=signing, chain=chain)


def _verify_bundle_bytes(
    data: bytes, *, chain: ChainReader | None, kind: str = "bundle", **extra: Any
) -> Verification:
    from evidence_chain.verify import verify_file

    verdict = verify_file(data, chain=chain)
    return Verification(
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        checks=tuple(verdict.checks),
        verdict=verdict.verdict,
        verified_at=_now(),
        bundle=verdict.bundle,
        notes=_chain_note(chain),
        informative=verdict.informative,
        status=verdict.status,
        **extra,
    )


def _chain_note(chain: ChainReader | None) -> tuple[str, ...]:
    if chain is None:
        return (
            "this service reads no chain: the anchor on chain (root, transaction, block) was "
            "not checked",
        )
    return ()


def _validate(signing: SigningService, data: bytes) -> Any:
    """Run the signature validation; a parser's failure on hostile input is a 400."""
    from signing.pdf_errors import reading_pdf

    with reading_pdf():
        return signing.validate_document(data)


def _embedded_bundle(data: bytes) -> bytes | None:
    """The evidence bundle embedded in a certificate of evidence, None for other PDFs."""
    from evidence_chain.verify import extract_bundle
    from signing.pades import PDF_LOCK

    try:
        with PDF_LOCK:  # the offline verifier reads the PDF with pyHanko
            return extract_bundle(data)
    except EvidenceError:
        return None
    except Exception:  # a PDF that is not one of our reports
        return None


class _OutsidePdfLock:
    """A chain reader whose RPC calls are made outside the PDF lock: they are network I/O, and
    the lock must only ever cover in-memory PDF work."""

    def __init__(self, inner: ChainReader) -> None:
        self.inner = inner
        self.label = inner.label

    def _call(self, method: str, *args: Any) -> Any:
        from signing.pades import PDF_LOCK

        with PDF_LOCK.released():
            return getattr(self.inner, method)(*args)

    def chain_id(self) -> int:
        """The chain id the endpoint serves."""
        return int(self._call("chain_id"))

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes | None:
        """``rootAt`` of the contract (None: no code there)."""
        root: bytes | None = self._call("root_at", contract, log_id, tree_size)
        return root

    def receipt(self, tx_hash: bytes) -> ChainReceipt | None:
        """The transaction's receipt, None if there is none."""
        found: ChainReceipt | None = self._call("receipt", tx_hash)
        return found

    def block(self, number: int) -> ChainBlock | None:
        """The canonical block at ``number``, None if there is none."""
        found: ChainBlock | None = self._call("block", number)
        return found


def _verify_pdf(
    data: bytes,
    *,
    instance: EvidenceSources,
    signing: SigningService,
    chain: ChainReader | None,
) -> Verification:
    from signing.service import report_to_json

    report = _validate(signing, data)
    body = report_to_json(report)
    sig_checks = [
        Check(f"signature[{i}]", bool(s["bottom_line"]), _signature_detail(s))
        for i, s in enumerate(body["signatures"])
    ]
    sig_checks += [
        Check(
            f"doc_timestamp[{i}]", bool(t["intact"] and t["valid"] and t["trusted"]), t["summary"]
        )
        for i, t in enumerate(body["doc_timestamps"])
    ]
    if not body["signatures"]:
        sig_checks.insert(0, Check("signatures", None, "the file carries no signature"))
    sha = hashlib.sha256(data).hexdigest()
    if _embedded_bundle(data) is not None:
        from evidence_chain.verify import verify_file
        from signing.pades import PDF_LOCK

        roots = [c.public_bytes(_pem()) for c in (signing.ca.root_cert,)]
        reader = _OutsidePdfLock(chain) if chain is not None else None
        with PDF_LOCK:  # the offline verifier reads the PDF with pyHanko
            verdict = verify_file(data, chain=reader, trust_roots=roots)
        checks = tuple(verdict.checks)
        issued = _issue_records(instance, sha, chain)
        return Verification(
            kind="report",
            sha256=sha,
            size=len(data),
            checks=checks,
            verdict=verdict.verdict,
            verified_at=_now(),
            signatures=tuple(body["signatures"]),
            doc_timestamps=tuple(body["doc_timestamps"]),
            bundle=verdict.bundle,
            notes=_chain_note(chain) + _issue_note(issued),
            informative=verdict.informative,
            status=verdict.status,
            placements=issued,
        )
    placements = tuple(locate(instance, bytes.fromhex(sha), chain_check=_anchor_check(chain)))
    checks = tuple(sig_checks) + tuple(_log_checks(placements))
    return Verification(
        kind="signed_pdf",
        sha256=sha,
        size=len(data),
        checks=checks,
        verdict=verdict_of(checks),
        verified_at=_now(),
        signatures=tuple(body["signatures"]),
        doc_timestamps=tuple(body["doc_timestamps"]),
        placements=placements,
        notes=tuple(body.get("notes") or ()) + (_chain_note(chain) if placements else ()),
        status=_placement_status(placements),
    )


def _placement_status(placements: Sequence[DocumentPlacement]) -> Lifecycle | None:
    """The status of the subject a document sits in, from its steps (types and times only:
    what a holder of the document may see)."""
    if not placements:
        return None
    first = placements[0]
    steps = [
        {"type": s.type, "occurred_at": s.occurred_at, "subject_seq": s.subject_seq}
        for s in first.steps
    ]
    return lifecycle_of(steps, first.hit.subject)


def _signature_checks(signing: SigningService, data: bytes) -> tuple[list[Check], Any]:
    """One check per signature and document time-stamp, against this service's CA."""
    from signing.service import report_to_json

    body = report_to_json(_validate(signing, data))
    checks = [
        Check(f"signature[{i}]", bool(s["bottom_line"]), _signature_detail(s))
        for i, s in enumerate(body["signatures"])
    ]
    checks += [
        Check(
            f"doc_timestamp[{i}]", bool(t["intact"] and t["valid"] and t["trusted"]), t["summary"]
        )
        for i, t in enumerate(body["doc_timestamps"])
    ]
    if not body["signatures"]:
        checks.insert(0, Check("signatures", False, "the file carries no signature"))
    return checks, body


def _verify_contract(
    data: bytes, evidence: bytes, *, signing: SigningService, chain: ChainReader | None
) -> Verification:
    """A signed contract and its certificate of evidence (or bundle): every signature, the
    evidence as the command checks it, and whether this exact file is a version in it."""
    from evidence_chain.verify import verify_file
    from evidence_chain.verify_contract import evidence_check
    from signing.pades import PDF_LOCK

    sig_checks, body = _signature_checks(signing, data)
    roots = [c.public_bytes(_pem()) for c in (signing.ca.root_cert,)]
    reader = _OutsidePdfLock(chain) if chain is not None else None
    with PDF_LOCK:  # the offline verifier reads a certificate's PDF with pyHanko
        verdict = verify_file(evidence, chain=reader, trust_roots=roots)
    if verdict.kind not in ("report", "bundle"):
        raise UnsupportedFileError(
            "the evidence is a certificate of evidence (PDF) or an evidence bundle (JSON)",
            details={"field": "evidence"},
        )
    sha = hashlib.sha256(data).hexdigest()
    checks = (*sig_checks, *verdict.checks, evidence_check(sha, verdict.bundle))
    return Verification(
        kind="contract",
        sha256=sha,
        size=len(data),
        checks=checks,
        verdict=verdict_of(checks),
        verified_at=_now(),
        signatures=tuple(body["signatures"]),
        doc_timestamps=tuple(body["doc_timestamps"]),
        bundle=verdict.bundle,
        notes=_chain_note(chain),
        informative=verdict.informative,
        status=verdict.status,
    )


def _pem() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM


def _signature_detail(sig: Mapping[str, Any]) -> str:
    who = sig.get("signer_cn") or "unknown signer"
    if sig.get("signer_o"):
        who += f" ({sig['signer_o']})"
    when = sig.get("signing_time") or "no signing time"
    state = "intact" if sig.get("intact") else "NOT intact"
    state += ", valid" if sig.get("valid") else ", NOT valid"
    state += ", trusted" if sig.get("trusted") else ", NOT trusted"
    reason = f": {sig['reason']}" if sig.get("reason") else ""
    return f"{who}, signed {when}: {state}{reason}"


def _log_checks(placements: Sequence[DocumentPlacement]) -> list[Check]:
    if not placements:
        return [Check("document.in_log", None, "this exact file is not found in the log")]
    checks = [
        Check(
            "document.in_log",
            True,
            f"this exact file is named by {len(placements)} log entr"
            + ("y" if len(placements) == 1 else "ies"),
        )
    ]
    for i, p in enumerate(placements):
        checks.append(Check(f"log[{i}].inclusion", p.proof_ok, p.proof_detail))
        if p.anchor is None:
            checks.append(Check(f"log[{i}].anchor", None, "not yet anchored on chain"))
        else:
            detail = {
                True: "the chain holds this anchor's root",
                False: "the chain does NOT hold this anchor's root",
                None: "the on-chain root was not read",
            }[p.anchor_on_chain]
            checks.append(Check(f"log[{i}].anchor.root_on_chain", p.anchor_on_chain, detail))
    return checks


def verify_document_hash(
    instance: EvidenceSources, sha256: bytes, *, chain: ChainReader | None = None
) -> Verification:
    """Where a document with this hash sits in the log; NotFoundError when nowhere."""
    placements = tuple(locate(instance, sha256, chain_check=_anchor_check(chain)))
    if not placements:
        raise NotFoundError(
            "this document is not found in the log: no entry names this SHA-256",
            details={"document": sha256.hex()},
        )
    checks = tuple(_log_checks(placements))
    return Verification(
        kind="document",
        sha256=sha256.hex(),
        size=None,
        checks=checks,
        verdict=verdict_of(checks),
        verified_at=_now(),
        placements=placements,
        notes=_chain_note(chain),
        status=_placement_status(placements),
    )


def verify_stored_report(
    stored: Any, *, chain: ChainReader | None = None, instance: EvidenceSources | None = None
) -> Verification:
    """Verify the bundle kept for a report id (what its QR code points at), and, given the
    instance, show where the log recorded that this service issued that report's PDF."""
    data: bytes = stored.bundle_json
    result = _verify_bundle_bytes(data, chain=chain, kind="report", report_id=str(stored.report_id))
    if instance is None:
        return result
    issued = _issue_records(instance, str(stored.pdf_sha256), chain)
    return replace(result, placements=issued, notes=result.notes + _issue_note(issued))


def _issue_records(
    instance: EvidenceSources, pdf_sha256: str, chain: ChainReader | None
) -> tuple[DocumentPlacement, ...]:
    """The log entries that record the issue of the certificate whose PDF has this hash."""
    found = locate(instance, bytes.fromhex(pdf_sha256), chain_check=_anchor_check(chain))
    return tuple(p for p in found if p.event_type == "report.issued")


def _issue_note(issued: Sequence[DocumentPlacement]) -> tuple[str, ...]:
    if not issued:
        return ()
    first = issued[0]
    return (
        f"this service logged the issue of this certificate (event report.issued at leaf "
        f"{first.hit.leaf_index}, {first.received_at})",
    )


# --- the signature verification report (PDF) ----------------------------------------------------

_RESULT = {True: "PASS", False: "FAIL", None: "not checked"}


def render_report(
    result: Mapping[str, Any], *, base_url: str, report_id: str | None = None
) -> bytes:
    """The signature verification report PDF of a result (:meth:`Verification.to_json`).

    The file's hash, each signature and check with its result, the verdict, the time and the
    service; CJK names are drawn with the embedded CJK font of the seals.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from reports.certificate import markup

    font = "Helvetica"  # runs beyond Latin-1 are set in the seals' CJK font by ``markup``
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=font, fontSize=9, leading=12)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5)
    mono = ParagraphStyle("mono", parent=small, fontName="Courier", fontSize=7, leading=9)
    h1 = ParagraphStyle("h1", parent=base["Title"], fontName="Helvetica-Bold", fontSize=18)
    h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName="Helvetica-Bold", fontSize=12)
    verdict = str(result.get("verdict"))
    palette = {"VERIFIED": "#0a6b2d", "FAILED": "#b00020"}
    verdict_style = ParagraphStyle(
        "verdict",
        parent=h1,
        textColor=colors.HexColor(palette.get(verdict, "#8a5a00")),
        fontSize=22,
        leading=26,
    )
    when = str(result.get("verified_at") or _now())

    def p(text: Any, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(markup(text), style)

    def table(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
        t = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1 if header else 0)
        commands: list[Any] = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b9c0c8")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if header:
            commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")))
        t.setStyle(TableStyle(commands))
        return t

    checks = [c for c in result.get("checks", []) if isinstance(c, Mapping)]
    story: list[Any] = [
        p("签名验证报告 / Signature verification report", h1),
        p(
            (f"Report {report_id}, issued" if report_id else "Issued")
            + f" by {SERVICE_NAME} ({base_url}) at {when}",
            small,
        ),
        Spacer(1, 4 * mm),
        p(verdict, verdict_style),
        p(_verdict_words(verdict, checks)),
        *[p(line) for line in _summary_lines(result)],
        Spacer(1, 3 * mm),
    ]
    size = result.get("size")
    facts = [
        [p("What was checked"), p(KINDS.get(str(result.get("kind")), str(result.get("kind"))))],
        [p("SHA-256"), p(result.get("sha256") or "-", mono)],
        [p("Size"), p(f"{size:,} bytes" if isinstance(size, int) else "-")],
    ]
    if result.get("report_id"):
        facts.append([p("Report id"), p(result["report_id"], mono)])
    story.append(table(facts, [40, 134], header=False))

    signatures = [s for s in result.get("signatures", []) if isinstance(s, Mapping)]
    if signatures:
        story += [Spacer(1, 4 * mm), p("Signatures", h2)]
        rows = [[p(h, small) for h in ("#", "Signer", "Time", "Intact", "Valid", "Trusted")]]
        for i, s in enumerate(signatures):
            who = str(s.get("signer_cn") or "-")
            if s.get("signer_o"):
                who += f" / {s['signer_o']}"
            rows.append(
                [p(i + 1, small), p(who, small), p(s.get("signing_time") or "-", small)]
                + [p(_yes(s.get(k)), small) for k in ("intact", "valid", "trusted")]
            )
        story.append(table(rows, [8, 66, 52, 16, 16, 16]))

    placements = [pl for pl in result.get("log", []) if isinstance(pl, Mapping)]
    if placements:
        story += [Spacer(1, 4 * mm), p("In the evidence log", h2)]
        rows = [[p(h, small) for h in ("Step", "Role", "Leaf", "Recorded", "Anchor")]]
        for pl in placements:
            anchor = pl.get("anchor")
            where = "not yet anchored"
            if isinstance(anchor, Mapping):
                where = (
                    f"chain {anchor.get('chain_id')}, block {anchor.get('block_number')}, "
                    f"tree {anchor.get('tree_size')}"
                )
            rows.append(
                [
                    p(pl.get("event_type"), small),
                    p(pl.get("role"), small),
                    p(pl.get("leaf_index"), small),
                    p(pl.get("received_at"), small),
                    p(where, small),
                ]
            )
        story.append(table(rows, [40, 18, 14, 46, 56]))

    story += [Spacer(1, 4 * mm), p("Checks", h2)]
    rows = [[p(h, small) for h in ("Check", "Result", "Detail")]]
    for c in checks:
        rows.append(
            [
                p(c.get("name"), mono),
                p(_RESULT.get(c.get("ok"), "?"), small),
                p(c.get("detail"), small),
            ]
        )
    story.append(table(rows, [46, 20, 108]))
    for note in result.get("notes", []):
        story += [Spacer(1, 2 * mm), p(f"Note: {note}", small)]
    story += [
        Spacer(1, 6 * mm),
        p(
            "Signatures are validated against the certificate authority of this service; the "
            "log's proofs are recomputed from its records. Check it yourself at "
            f"{base_url}/verify, or offline with: sealtrail-verify FILE",
            small,
        ),
    ]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(18 * mm, 10 * mm, f"{SERVICE_NAME} signature verification report, {when}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title="Signature verification report",
        author=SERVICE_NAME,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _verdict_words(verdict: str, checks: Sequence[Mapping[str, Any]]) -> str:
    if verdict == "VERIFIED":
        return "Every check holds."
    failed = [str(c.get("name")) for c in checks if c.get("ok") is False]
    if failed:
        return "Failed: " + ", ".join(failed[:8])
    return "Nothing failed, but some checks could not be made (see below)."


def _summary_lines(result: Mapping[str, Any]) -> list[str]:
    """The verdict with the subject's status beside it, in English and Chinese."""
    summary = result.get("summary")
    if not isinstance(summary, Mapping) or not isinstance(result.get("status"), Mapping):
        return []
    return [str(summary.get(lang)) for lang in ("en", "zh") if summary.get(lang)]


def _yes(value: Any) -> str:
    return "yes" if value else "NO"
