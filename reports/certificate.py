"""The certificate of evidence: a PDF a judge reads and a machine checks, drawn with ReportLab
(the facts it states come from :mod:`reports.certificate_facts`, its look from
:mod:`reports.certificate_style`).

:func:`render_certificate` lays out an evidence bundle (see ``docs/evidence-bundle.md``) and
the verdict of its verification: a first page that says what this is, the verdict, the
contract, its parties and the anchor; then the documents, the parties with their
authentication and certificates, the full timeline, the proofs, the anchor and how to check
everything yourself. Every page carries the report id and "page x of y". Text outside Latin-1
(Chinese names, seal names) is set in the CJK TrueType face the seals use.

:func:`signing.pades.attach_file` embeds the bundle's exact bytes as ``evidence-bundle.json``;
the caller then signs the result, so the signature covers the attachment too.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from evidence_chain.core.subject import bundle_lifecycle, verdict_line
from reports.certificate_facts import (
    Party as _Party,
)
from reports.certificate_facts import (
    actor_name as _actor_name,
)
from reports.certificate_facts import (
    collect_parties,
    contract_summary,
    record_ip,
)
from reports.certificate_facts import (
    organisation as _organisation,
)
from reports.certificate_style import (
    MARGIN as _MARGIN,
)
from reports.certificate_style import (
    TITLE,
    markup,
)
from reports.certificate_style import (
    WIDTH as _WIDTH,
)
from reports.certificate_style import (
    fields as _fields,
)
from reports.certificate_style import (
    numbered_canvas as _numbered_canvas,
)
from reports.certificate_style import (
    qr as _qr,
)
from reports.certificate_style import (
    short as _short,
)
from reports.certificate_style import (
    show_time as _time,
)
from reports.certificate_style import (
    split_hex as _split_hex,
)
from reports.certificate_style import (
    styles as _styles,
)
from reports.certificate_style import (
    table as _table,
)

if TYPE_CHECKING:
    from evidence_chain.core.bundle import BundleVerdict, Check

__all__ = ["BUNDLE_MIME", "ReportInfo", "render_certificate"]

BUNDLE_MIME = "application/json"
_VERDICT_COLOURS = {
    "VERIFIED": colors.HexColor("#1b7a33"),
    "FAILED": colors.HexColor("#b00020"),
    "INCOMPLETE": colors.HexColor("#9a6700"),
}
_MAX_PER_PARTY = 8
"""Distinct IPs, user agents or methods listed per party before "and N more"."""


@dataclass(frozen=True)
class ReportInfo:
    """What the report says about itself: its id, when and by whom it was issued."""

    report_id: str
    issued_at: dt.datetime
    verify_url: str
    service_url: str
    issuer: str
    """Who signs the report: the common name of its certificate and of the issuing CA."""


# --- sections ----------------------------------------------------------------------------------


def _verdict_box(
    verdict: BundleVerdict,
    bundle: Mapping[str, Any],
    info: ReportInfo,
    st: dict[str, ParagraphStyle],
) -> Flowable:
    anchor = bundle.get("anchor")
    failed = [c for c in verdict.checks if c.ok is False]
    unchecked = [c for c in verdict.checks if c.ok is None]
    total = len(verdict.checks)
    if verdict.verdict == "FAILED":
        names = ", ".join(c.name for c in failed[:6]) + (" ..." if len(failed) > 6 else "")
        text = (
            f"{len(failed)} of {total} checks failed when this report was issued: {names}. "
            "The evidence below cannot be relied on as it stands; see the checks section."
        )
        label = "FAILED"
    elif anchor is None:
        label = "INCOMPLETE - anchoring pending"
        text = (
            f"All {total - len(unchecked)} checks that can be made hold: every record, its "
            "hash, its inclusion proof and the log's signed checkpoint. No on-chain anchor "
            "covers these events yet, so for now the evidence rests on the log's signed "
            "checkpoint. Issue a new certificate once the log is anchored (normally within a "
            "minute) to have the chain's confirmation."
        )
    elif verdict.verdict == "INCOMPLETE":
        label = "INCOMPLETE"
        why = "; ".join(f"{c.name}: {c.detail}" for c in unchecked[:3])
        text = (
            f"All {total - len(unchecked)} checks that could be made hold, but "
            f"{len(unchecked)} could not be made when this report was issued ({why}). Anyone "
            "can complete them with the steps at the end of this report."
        )
    else:
        label = "VERIFIED"
        text = (
            f"All {total} checks hold: every record was recomputed from its content, every "
            "proof leads to the log's signed checkpoint, and the root anchored on chain "
            f"{anchor.get('chain_id')} in block {anchor.get('block_number')} is the same root."
        )
    rows = [[Paragraph(escape(label), st["verdict"])]]
    status = bundle_lifecycle(bundle)
    if status is not None:  # the contract's status, beside the verdict, in both languages
        for lang in ("en", "zh"):
            line = markup(verdict_line(verdict.verdict, status, lang))
            rows.append([Paragraph(f"<b>{line}</b>", st["verdict_text"])])
    rows.append([Paragraph(escape(text), st["verdict_text"])])
    box = Table(rows, colWidths=[_WIDTH])
    box.setStyle(
        TableStyle(
            [
                (
                    "BACKGROUND",
                    (0, 0),
                    (-1, -1),
                    _VERDICT_COLOURS.get(verdict.verdict, colors.grey),
                ),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, 0), 6),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 8),
            ]
        )
    )
    return box


def _anchor_rows(bundle: Mapping[str, Any]) -> list[tuple[str, str]]:
    anchor = bundle.get("anchor")
    if not anchor:
        return [("Anchor", "pending: no on-chain anchor covers these events yet")]
    return [
        ("Chain id", escape(str(anchor.get("chain_id")))),
        ("Contract", escape(str(anchor.get("contract")))),
        ("Transaction", escape(str(anchor.get("tx_hash")))),
        ("Block", f"{anchor.get('block_number')} ({escape(str(anchor.get('block_hash')))})"),
        ("Block time", escape(_time(anchor.get("block_time")))),
        (
            "Anchored tree",
            f"size {anchor.get('tree_size')}, root {escape(str(anchor.get('root')))}",
        ),
        ("Log id", escape(str(anchor.get("log_id")))),
        (
            "Status",
            f"{escape(str(anchor.get('status')))}, "
            f"{anchor.get('confirmations')} confirmations when the bundle was built",
        ),
    ]


def _first_page(
    bundle: Mapping[str, Any],
    verdict: BundleVerdict,
    info: ReportInfo,
    st: dict[str, ParagraphStyle],
    parties: list[_Party],
) -> list[Flowable]:
    events = bundle.get("events", [])
    summary = contract_summary(bundle)
    issued = info.issued_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    header = Table(
        [
            [
                [
                    Paragraph(TITLE, st["title"]),
                    Paragraph(
                        f"Report <b>{escape(info.report_id)}</b>, issued {issued}", st["small"]
                    ),
                    Paragraph(
                        f"Issued and signed by {markup(info.issuer)} ({escape(info.service_url)})",
                        st["small"],
                    ),
                ],
                [
                    _qr(info.verify_url, 32 * mm),
                    Paragraph(
                        "Scan to verify",
                        ParagraphStyle("q", parent=st["small"], alignment=TA_CENTER),
                    ),
                ],
            ]
        ],
        colWidths=[_WIDTH - 36 * mm, 36 * mm],
    )
    header.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    what = (
        "This certificate records, for the contract named below, every step that was taken "
        "with it: what was signed, by whom, how each person was identified, and when. Each "
        "step was written, when it happened, into a public-verifiable log that can only grow: "
        "each step is fingerprinted (SHA-256), the fingerprints are combined into one value "
        "(the root) that the log signs, and that root is recorded on a public blockchain, where "
        "nobody, not even the issuer of this certificate, can change it afterwards. A change "
        "to any step, even of one character, would give a different root. The complete "
        "evidence is attached inside this PDF (file evidence-bundle.json), and this PDF is "
        "digitally signed, so any change to it shows. Anyone can check it without trusting "
        "the issuer: see the last section, or scan the code above."
    )
    contract_rows: list[tuple[str, str]] = [("Subject", markup(bundle.get("subject")))]
    if summary["title"]:
        contract_rows.append(("Title", markup(summary["title"])))
    contract_rows.append(("Account (tenant)", markup(bundle.get("tenant"))))
    if events:
        first = events[0].get("record", {})
        last = events[-1].get("record", {})
        contract_rows.append(
            (
                "Steps",
                f"{len(events)} recorded, from {escape(_time(first.get('occurred_at')))}"
                f" to {escape(_time(last.get('occurred_at')))}",
            )
        )
    count = len(bundle.get("documents", []))
    contract_rows.append(("Documents", f"{count} fingerprint{'' if count == 1 else 's'}"))
    names = "<br/>".join(
        markup(
            p.name
            + (f" ({p.role})" if p.role else "")
            + (f", {_organisation(p.identity)}" if _organisation(p.identity) else "")
        )
        for p in parties[:12]
    )
    if len(parties) > 12:
        names += f"<br/>and {len(parties) - 12} more"
    contract_rows.append(("Parties", names or "-"))
    return [
        header,
        Spacer(1, 3 * mm),
        Paragraph("What this is", st["h2"]),
        Paragraph(escape(what), st["body"]),
        Spacer(1, 2 * mm),
        _verdict_box(verdict, bundle, info, st),
        Paragraph("The contract", st["h2"]),
        _fields(contract_rows, st),
        Paragraph("The anchor", st["h2"]),
        _fields(_anchor_rows(bundle), st),
        Spacer(1, 2 * mm),
        Paragraph(f"Verify online: {escape(info.verify_url)}", st["small"]),
        PageBreak(),
    ]


def _documents(
    bundle: Mapping[str, Any], st: dict[str, ParagraphStyle], records: dict[str, Any]
) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("1. Documents", st["h1"])]
    documents = bundle.get("documents", [])
    if not documents:
        out.append(Paragraph("No document fingerprint was recorded for this subject.", st["body"]))
        return out
    out.append(
        Paragraph(
            "The SHA-256 fingerprint of each document at each step. A file whose SHA-256 is one of "
            "these is exactly the document of that step; any other file is not.",
            st["body"],
        )
    )
    head = ["Role", "Document SHA-256", "Step", "Time", "Leaf"]
    rows: list[list[Any]] = [[Paragraph(h, st["head"]) for h in head]]
    for doc in documents:
        record = records.get(str(doc.get("event_id")), {})
        name = doc.get("name")
        sha = str(doc.get("sha256", ""))
        rows.append(
            [
                Paragraph(markup(doc.get("role")), st["cell"]),
                Paragraph(_split_hex(sha) + (f"<br/>{markup(name)}" if name else ""), st["mono"]),
                Paragraph(markup(record.get("type", "-")), st["cell"]),
                Paragraph(escape(_time(record.get("occurred_at"))), st["cell"]),
                Paragraph(escape(str(doc.get("leaf_index"))), st["cell"]),
            ]
        )
    widths = [22 * mm, 62 * mm, 42 * mm, 35 * mm]
    widths.append(_WIDTH - sum(widths))
    out.append(_table(rows, widths, long=True))
    return out


def _parties(
    bundle: Mapping[str, Any], st: dict[str, ParagraphStyle], parties: list[_Party]
) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("2. Parties", st["h1"])]
    certs = {str(c.get("sha256")): c for c in bundle.get("certificates", [])}
    shown: set[str] = set()

    def listed(items: list[str] | None) -> str:
        if not items:
            return "not recorded"
        text = "<br/>".join(markup(i) for i in items[:_MAX_PER_PARTY])
        if len(items) > _MAX_PER_PARTY:
            text += f"<br/>and {len(items) - _MAX_PER_PARTY} more"
        return text

    if not parties:
        out.append(Paragraph("No event names an actor.", st["body"]))
    for i, party in enumerate(parties, 1):
        identity = "<br/>".join(
            f"{markup(k)}: {markup(v)}"
            for k, v in party.identity.items()
            if isinstance(v, str | int | float) and not isinstance(v, bool)
        )
        rows = [
            ("Identity", identity or markup(party.name)),
            ("Steps taken", str(party.events)),
            ("Authentication", listed(party.methods)),
            ("IP addresses", listed(party.ips)),
            ("Browsers", listed(party.agents)),
        ]
        for sha in party.certificates or []:
            shown.add(sha)
            rows.append(("Certificate", _cert_text(certs.get(sha), sha)))
        out.append(
            KeepTogether([Paragraph(f"2.{i} {markup(party.name)}", st["h2"]), _fields(rows, st)])
        )
    others = [c for sha, c in certs.items() if sha not in shown]
    if others:
        out.append(Paragraph("Other certificates in the evidence", st["h2"]))
        out.append(
            _fields([("Certificate", _cert_text(c, str(c.get("sha256")))) for c in others], st)
        )
    return out


def _cert_text(cert: Mapping[str, Any] | None, sha: str) -> str:
    if cert is None:
        return f"SHA-256 {escape(sha)} (not in the bundle)"
    return (
        f"Subject: {markup(cert.get('subject'))}<br/>Issuer: {markup(cert.get('issuer'))}<br/>"
        f"Serial: {escape(str(cert.get('serial')))}<br/>SHA-256: {escape(str(cert.get('sha256')))}"
    )


def _timeline(bundle: Mapping[str, Any], st: dict[str, ParagraphStyle]) -> list[Flowable]:
    events = bundle.get("events", [])
    out: list[Flowable] = [
        Paragraph("3. Timeline", st["h1"]),
        Paragraph(
            f"All {len(events)} steps in order. The event hash is the leaf hash "
            "SHA-256(0x00 || JCS(record)) of the exact record in the attached bundle; the leaf "
            "is its position in the log.",
            st["body"],
        ),
    ]
    head = ["#", "Time (occurred)", "Actor", "IP", "Action", "Event hash", "Leaf"]
    rows: list[list[Any]] = [[Paragraph(h, st["head"]) for h in head]]
    for n, event in enumerate(events):
        record = event.get("record", {})
        rows.append(
            [
                Paragraph(str(n + 1), st["cell"]),
                Paragraph(escape(_time(record.get("occurred_at"))), st["cell"]),
                Paragraph(markup(_actor_name(record.get("actor"))), st["cell"]),
                Paragraph(markup(record_ip(record) or "-"), st["cell"]),
                Paragraph(markup(record.get("type")), st["cell"]),
                Paragraph(_split_hex(str(event.get("leaf_hash", ""))), st["mono"]),
                Paragraph(escape(str(event.get("leaf_index"))), st["cell"]),
            ]
        )
    widths = [8 * mm, 22 * mm, 30 * mm, 22 * mm, 29 * mm, 49 * mm]
    widths.append(_WIDTH - sum(widths))
    out.append(_table(rows, widths, long=True))
    return out


def _check_group(name: str) -> str:
    """``record[3].leaf_hash`` -> ``record[].leaf_hash``: one row per kind of check."""
    out, depth = [], 0
    for ch in name:
        if ch == "[":
            depth += 1
            out.append("[]")
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _proofs(
    bundle: Mapping[str, Any], verdict: BundleVerdict, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    log = bundle.get("log", {})
    cp = bundle.get("checkpoint", {})
    out: list[Flowable] = [
        Paragraph("4. Proofs", st["h1"]),
        Paragraph(
            "The log is an RFC 9162 Merkle tree. Its state is a checkpoint: tree size and root, "
            "signed by the log's Ed25519 key (C2SP signed note). Each event's inclusion proof "
            "leads from its leaf hash to that root.",
            st["body"],
        ),
        _fields(
            [
                ("Log origin", markup(log.get("origin"))),
                ("Log public key", _split_hex(str(log.get("verifier_key", "")), 60)),
                ("Log id (on chain)", escape(str(log.get("log_id")))),
                ("Tree size", escape(str(cp.get("tree_size")))),
                ("Root", escape(str(cp.get("root")))),
                (
                    "Signed checkpoint",
                    "<br/>".join(markup(line) for line in str(cp.get("note", "")).splitlines()),
                ),
            ],
            st,
        ),
    ]
    if bundle.get("anchor_checkpoint"):
        acp = bundle["anchor_checkpoint"]
        proof = bundle.get("consistency_proof") or []
        out += [
            Paragraph("Consistency with the anchored tree", st["h2"]),
            Paragraph(
                f"The anchored tree (size {acp.get('tree_size')}) extends the tree above: this "
                f"consistency proof of {len(proof)} hashes shows the log only grew.",
                st["body"],
            ),
            _fields(
                [
                    ("Anchored root", escape(str(acp.get("root")))),
                    (
                        "Signed checkpoint",
                        "<br/>".join(
                            markup(line) for line in str(acp.get("note", "")).splitlines()
                        ),
                    ),
                    ("Consistency proof", "<br/>".join(escape(str(h)) for h in proof) or "-"),
                ],
                st,
            ),
        ]
    out.append(Paragraph("Inclusion proofs", st["h2"]))
    out.append(
        Paragraph(
            f"Abbreviated (first 8 hex digits of each hash, leaf to root) against the tree of size "
            f"{cp.get('tree_size')}; the full proofs are in the attached evidence-bundle.json.",
            st["body"],
        )
    )
    rows: list[list[Any]] = [
        [Paragraph(h, st["head"]) for h in ("Leaf", "Leaf hash", "Hashes", "Path")]
    ]
    for event in bundle.get("events", []):
        path = [str(h) for h in event.get("inclusion_proof", [])]
        rows.append(
            [
                Paragraph(escape(str(event.get("leaf_index"))), st["cell"]),
                Paragraph(escape(str(event.get("leaf_hash"))), st["mono"]),
                Paragraph(str(len(path)), st["cell"]),
                Paragraph(
                    " ".join(escape(h[:8]) for h in path) or "(the leaf is the root)", st["mono"]
                ),
            ]
        )
    widths = [12 * mm, 92 * mm, 12 * mm]
    widths.append(_WIDTH - sum(widths))
    out.append(_table(rows, widths, long=True))

    out.append(Paragraph("Checks made when this report was issued", st["h2"]))
    groups: dict[str, list[Check]] = {}
    for check in verdict.checks:
        groups.setdefault(_check_group(check.name), []).append(check)
    crow: list[list[Any]] = [
        [
            Paragraph(h, st["head"])
            for h in ("Check", "Count", "Holds", "Fails", "Not checked", "Detail")
        ]
    ]
    for name, items in groups.items():
        sample = next((c for c in items if c.ok is not True), items[0])
        crow.append(
            [
                Paragraph(escape(name), st["mono"]),
                Paragraph(str(len(items)), st["cell"]),
                Paragraph(str(sum(c.ok is True for c in items)), st["cell"]),
                Paragraph(str(sum(c.ok is False for c in items)), st["cell"]),
                Paragraph(str(sum(c.ok is None for c in items)), st["cell"]),
                Paragraph(markup(sample.detail), st["cell"]),
            ]
        )
    widths = [42 * mm, 12 * mm, 12 * mm, 12 * mm, 16 * mm]
    widths.append(_WIDTH - sum(widths))
    out.append(_table(crow, widths, long=True))
    bad = [c for c in verdict.checks if c.ok is not True]
    if bad:
        out.append(Paragraph("Checks that failed or were not made", st["h2"]))
        for c in bad:
            state = "FAILED" if c.ok is False else "not checked"
            out.append(
                Paragraph(f"<b>{escape(c.name)}</b> {state}: {markup(c.detail)}", st["small"])
            )
    return out


def _how_to_check(
    bundle: Mapping[str, Any], info: ReportInfo, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    anchor = bundle.get("anchor") or {}
    log = bundle.get("log", {})
    size = anchor.get("tree_size", "N")
    contract = anchor.get("contract", "0x<contract>")
    chain_id = anchor.get("chain_id", "<chain id>")
    subject = str(bundle.get("subject", ""))
    steps = [
        (
            "Get the evidence.",
            "It is attached to this PDF as <b>evidence-bundle.json</b> (in a PDF reader: the "
            "attachments or paper-clip panel; or on the command line: "
            "<font name='Courier'>pdfdetach -saveall report.pdf</font>). The same bundle is "
            f"served to the account holder at {escape(info.service_url)}/api/v1/subjects/"
            f"{markup(subject)}/bundle.",
        ),
        (
            "Check this PDF's signature.",
            "Any PDF reader shows it (or <font name='Courier'>pdfsig report.pdf</font>): it is "
            f"signed by {markup(info.issuer)}, with a time-stamp and the revocation data inside "
            "(PAdES B-LT). Any change to the PDF, its attachment included, breaks it. The issuing "
            f"authority's certificates are at {escape(info.service_url)}/pki/ca.",
        ),
        (
            "Run the open verifier (no account, no service needed).",
            "<font name='Courier'>sealtrail-verify report.pdf --rpc URL</font> (installed by "
            "pip from the Sealtrail repository; or python -m evidence_chain.verify) "
            f"where URL is any JSON-RPC endpoint of chain {escape(str(chain_id))}. It checks the "
            "signature, extracts the bundle and recomputes every step below; it prints each check "
            "and exits 0 only if all hold (<font name='Courier'>--document F</font>: is F in it?). "
            "Or open the attached <b>sealtrail-verifier.html</b> in a browser; drop this PDF in.",
        ),
        (
            "Or check by hand: the records.",
            "For each event in the bundle compute SHA-256(0x00 || JCS(record)) (JCS is RFC 8785) "
            "and compare it with its leaf hash and with the timeline above. Each record's "
            "prev_leaf_hash is the previous record's leaf hash: none is missing or reordered.",
        ),
        (
            "The proofs.",
            "Verify each inclusion proof from the leaf hash at its leaf index to the checkpoint "
            "root (RFC 9162 section 2.1.3), the consistency proof if there is one (2.1.4), and "
            "the checkpoint's Ed25519 signature with the log key "
            f"{escape(_short(str(log.get('verifier_key')), 48))}.",
        ),
        (
            "The chain.",
            f"Call rootAt(logId, treeSize) on contract {escape(str(contract))} of chain "
            f"{escape(str(chain_id))} with logId {escape(str(log.get('log_id')))} = "
            f"SHA-256(log origin) and treeSize {escape(str(size))}, e.g. "
            f"<font name='Courier'>cast call {escape(str(contract))} "
            "'rootAt(bytes32,uint64)(bytes32)' 0x&lt;logId&gt; "
            f"{escape(str(size))} --rpc-url URL</font>. It must return the anchored root; the "
            "transaction and block above show when it was written."
            if anchor
            else "No anchor yet: once the log is anchored, a new certificate or bundle names the "
            "contract and tree size to read with rootAt(logId, treeSize).",
        ),
        (
            "Or online.",
            f"Open {escape(info.verify_url)} (the QR code on the first page) or upload this PDF at "
            f"{escape(info.service_url)}/verify.",
        ),
    ]
    out: list[Flowable] = [
        Paragraph("5. The anchor and how to check it yourself", st["h1"]),
        _fields(_anchor_rows(bundle), st),
        Spacer(1, 3 * mm),
    ]
    for n, (head, text) in enumerate(steps, 1):
        out.append(Paragraph(f"<b>Step {n}. {head}</b> {text}", st["body"]))
    return out


# --- entry points -----------------------------------------------------------------------------


def render_certificate(
    bundle: Mapping[str, Any], verdict: BundleVerdict, info: ReportInfo
) -> bytes:
    """The certificate of evidence for ``bundle`` as an (unsigned) A4 PDF."""
    st = _styles()
    records = {str(e.get("event_id")): e.get("record", {}) for e in bundle.get("events", [])}
    parties = collect_parties(bundle)
    issued = info.issued_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    story: list[Flowable] = []
    story += _first_page(bundle, verdict, info, st, parties)
    story += _documents(bundle, st, records)
    story += _parties(bundle, st, parties)
    story += _timeline(bundle, st)
    story += _proofs(bundle, verdict, st)
    story += _how_to_check(bundle, info, st)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=18 * mm,
        title=f"{TITLE} {info.report_id}",
        author=info.issuer,
        subject=str(bundle.get("subject", "")),
        creator="Sealtrail",
    )
    doc.build(story, canvasmaker=_numbered_canvas(info.report_id, issued))
    return buf.getvalue()
