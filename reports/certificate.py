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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
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
from reports.certificate_facts import Party as _Party
from reports.certificate_facts import actor_name as _actor_name
from reports.certificate_facts import (
    collect_parties,
    contract_summary,
    document_versions,
    head_and_tail,
    record_ip,
    steps_by_kind,
)
from reports.certificate_facts import organisation as _organisation
from reports.certificate_style import MARGIN as _MARGIN
from reports.certificate_style import WIDTH as _WIDTH
from reports.certificate_style import fields as _fields
from reports.certificate_style import markup
from reports.certificate_style import numbered_canvas as _numbered_canvas
from reports.certificate_style import qr as _qr
from reports.certificate_style import short as _short
from reports.certificate_style import split_hex as _split_hex
from reports.certificate_style import styles as _styles
from reports.certificate_style import table as _table
from reports.certificate_text import Markup, Words, development_chain

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
    """What the report says about itself: its id, when and by whom it was issued, for whom,
    and in which language and time zone it is written."""

    report_id: str
    issued_at: dt.datetime
    verify_url: str
    service_url: str
    issuer: str
    """Who signs the report: the common name of its certificate and of the issuing CA."""
    organisation: str | None = None
    """The tenant's name (the account the evidence belongs to)."""
    language: str = "en"
    time_zone: str = "UTC"
    key_names: Mapping[str, str] = field(default_factory=dict)
    """API key prefix -> the key's name, so API actors read "API key <name>"."""


class _Layout:
    """The sections of one certificate: its bundle, verdict, report facts and words."""

    def __init__(self, bundle: Mapping[str, Any], verdict: BundleVerdict, info: ReportInfo):
        self.bundle = bundle
        self.verdict = verdict
        self.info = info
        self.st = _styles()
        self.w = Words(info.language, _zone(info.time_zone))
        self.records = {
            str(e.get("event_id")): e.get("record", {}) for e in bundle.get("events", [])
        }
        self.parties = collect_parties(bundle)
        self.dev_chain = development_chain(bundle.get("anchor"))

    # -- helpers --------------------------------------------------------------------------

    def p(self, text: str, style: str = "body") -> Paragraph:
        return Paragraph(text, self.st[style])

    def actor(self, actor: Any) -> str:
        """Who acted, as markup: an API actor by its key's name."""
        if isinstance(actor, dict) and isinstance(actor.get("api_key_prefix"), str):
            prefix = actor["api_key_prefix"]
            name = self.info.key_names.get(prefix)
            text = (
                self.w.t("api_key", name=name)
                if name
                else self.w.t("api_key_prefix", prefix=prefix)
            )
            return markup(text)
        return markup(_actor_name(actor))

    def party_name(self, party: _Party) -> str:
        if isinstance(party.identity.get("api_key_prefix"), str):
            return self.actor(party.identity)
        return markup(party.name)

    def event_name(self, value: Any, width: float, style: str = "cell") -> str:
        """An event type that never breaks inside a word: when it does not fit on one line
        it is broken after a dot or an underscore."""
        text = str(value or "-")
        st = self.st[style]
        if stringWidth(text, st.fontName, st.fontSize) <= width:
            return markup(text)
        lines: list[str] = []
        line = ""
        for piece in re.split(r"(?<=[._])", text):
            if line and stringWidth(line + piece, st.fontName, st.fontSize) > width:
                lines.append(line)
                line = piece
            else:
                line += piece
        lines.append(line)
        return "<br/>".join(markup(x) for x in lines)

    # -- the first page -------------------------------------------------------------------

    def verdict_box(self) -> Flowable:
        w, verdict, bundle = self.w, self.verdict, self.bundle
        anchor = bundle.get("anchor")
        failed = [c for c in verdict.checks if c.ok is False]
        unchecked = [c for c in verdict.checks if c.ok is None]
        total = len(verdict.checks)
        texts: list[str] = []
        values: dict[str, Any]
        for lang in ("zh", "en"):
            if verdict.verdict == "FAILED":
                names = ", ".join(c.name for c in failed[:6]) + (" ..." if len(failed) > 6 else "")
                key, values = "verdict_failed", {"failed": len(failed), "total": total}
                values["names"] = names
            elif anchor is None:
                key, values = "verdict_pending", {"made": total - len(unchecked)}
            elif verdict.verdict == "INCOMPLETE":
                why = "; ".join(f"{c.name}: {c.detail}" for c in unchecked[:3])
                key = "verdict_incomplete"
                values = {"made": total - len(unchecked), "unchecked": len(unchecked), "why": why}
            else:
                key = "verdict_verified"
                values = {
                    "total": total,
                    "chain_id": anchor.get("chain_id"),
                    "block": anchor.get("block_number"),
                }
            texts.append(w.rich(key, lang, **values))
        if verdict.verdict == "FAILED":
            label = "label_failed"
        elif anchor is None:
            label = "label_pending"
        elif verdict.verdict == "INCOMPLETE":
            label = "label_incomplete"
        else:
            label = "label_verified"
        rows = [[Paragraph(w.both(label), self.st["verdict"])]]
        status = bundle_lifecycle(bundle)
        if status is not None:  # the contract's status, beside the verdict, in both languages
            for lang in ("zh", "en"):
                line = markup(verdict_line(verdict.verdict, status, lang))
                rows.append([Paragraph(f"<b>{line}</b>", self.st["verdict_text"])])
        rows += [[Paragraph(text, self.st["verdict_text"])] for text in texts]
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

    def dev_warning(self) -> list[Flowable]:
        if self.dev_chain is None:
            return []
        chain_id = (self.bundle.get("anchor") or {}).get("chain_id")
        rows = [
            [
                Paragraph(
                    self.w.rich("dev_warning", lang, chain_id=chain_id, name=self.dev_chain),
                    self.st["small"],
                )
            ]
            for lang in ("zh", "en")
        ]
        box = Table(rows, colWidths=[_WIDTH])
        box.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff4d6")),
                    ("BOX", (0, 0), (-1, -1), 1, colors.HexColor("#9a6700")),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ]
            )
        )
        return [Spacer(1, 2 * mm), box]

    def anchor_rows(self, *, both: bool = False) -> list[tuple[str, str]]:
        w = self.w
        label = w.both_text if both else w.t
        anchor = self.bundle.get("anchor")
        if not anchor:
            return [(label("anchor"), w.rich("anchor_pending"))]
        return [
            (
                label("chain_id"),
                escape(str(anchor.get("chain_id")))
                + (f" ({escape(self.dev_chain)})" if self.dev_chain else ""),
            ),
            (label("contract"), escape(str(anchor.get("contract")))),
            (label("transaction"), escape(str(anchor.get("tx_hash")))),
            (
                label("block"),
                f"{anchor.get('block_number')} ({escape(str(anchor.get('block_hash')))})",
            ),
            (label("block_time"), w.when(anchor.get("block_time"))),
            (
                label("anchored_tree"),
                w.rich(
                    "anchored_tree_value", size=anchor.get("tree_size"), root=anchor.get("root")
                ),
            ),
            (label("log_id"), escape(str(anchor.get("log_id")))),
            (
                label("status"),
                w.rich("status_value", status=anchor.get("status"), n=anchor.get("confirmations")),
            ),
        ]

    def first_page(self) -> list[Flowable]:
        w, st, info, bundle = self.w, self.st, self.info, self.bundle
        events = bundle.get("events", [])
        summary = contract_summary(bundle)
        issued = w.moment(info.issued_at)
        header = Table(
            [
                [
                    [
                        Paragraph(w.both("title"), st["title"]),
                        Paragraph(
                            w.rich("report_issued", "zh", id=info.report_id, when=Markup(issued))
                            + "<br/>"
                            + w.rich("report_issued", "en", id=info.report_id, when=Markup(issued)),
                            st["small"],
                        ),
                        Paragraph(
                            w.rich("issued_by", "zh", issuer=info.issuer, url=info.service_url)
                            + "<br/>"
                            + w.rich("issued_by", "en", issuer=info.issuer, url=info.service_url),
                            st["small"],
                        ),
                    ],
                    [
                        _qr(info.verify_url, 32 * mm),
                        Paragraph(
                            markup(f"{Words('zh').t('scan')} / {Words('en').t('scan')}"),
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
        chain_key = "chain_dev" if self.dev_chain else "chain_public"
        what = [w.rich("what_text", lang, chain=Words(lang).t(chain_key)) for lang in ("zh", "en")]
        rows: list[tuple[str, str]] = [(w.both_text("subject"), markup(bundle.get("subject")))]
        if summary["title"]:
            rows.append((w.both_text("contract_title"), markup(summary["title"])))
        name = info.organisation or str(bundle.get("tenant"))
        org = "<br/>".join(
            w.rich("organisation_value", lang, name=name, id=bundle.get("tenant"))
            for lang in ("zh", "en")
        )
        rows.append((w.both_text("organisation"), org))
        if events:
            first = events[0].get("record", {})
            last = events[-1].get("record", {})
            values = {
                "n": len(events),
                "first": Markup(w.when(first.get("occurred_at"))),
                "last": Markup(w.when(last.get("occurred_at"))),
            }
            rows.append(
                (
                    w.both_text("steps"),
                    w.rich("steps_value", "zh", **values)
                    + "<br/>"
                    + w.rich("steps_value", "en", **values),
                )
            )
        docs, versions = document_versions(bundle)
        counts = {
            "docs": docs,
            "versions": versions,
            "docs_s": w.plural(docs),
            "versions_s": w.plural(versions),
        }
        rows.append(
            (
                w.both_text("documents"),
                w.rich("documents_value", "zh", **counts)
                + "<br/>"
                + w.rich("documents_value", "en", **counts),
            )
        )
        names = "<br/>".join(
            self.party_name(p)
            + markup(f" ({p.role})" if p.role else "")
            + markup(f", {_organisation(p.identity)}" if _organisation(p.identity) else "")
            for p in self.parties[:12]
        )
        if len(self.parties) > 12:
            names += "<br/>" + w.rich("and_more", n=len(self.parties) - 12)
        rows.append((w.both_text("parties"), names or "-"))
        return [
            header,
            Spacer(1, 3 * mm),
            Paragraph(w.both("what_this_is"), st["h2"]),
            *[Paragraph(text, st["body"]) for text in what],
            *self.dev_warning(),
            Spacer(1, 2 * mm),
            self.verdict_box(),
            Paragraph(w.both("the_contract"), st["h2"]),
            _fields(rows, st),
            Paragraph(w.both("the_anchor"), st["h2"]),
            _fields(self.anchor_rows(both=True), st),
            Spacer(1, 2 * mm),
            Paragraph(
                w.rich("verify_online", "zh", url=info.verify_url)
                + "<br/>"
                + w.rich("verify_online", "en", url=info.verify_url),
                st["small"],
            ),
            PageBreak(),
        ]

    # -- 1. documents ---------------------------------------------------------------------

    def documents(self) -> list[Flowable]:
        w = self.w
        out: list[Flowable] = [self.p(markup(w.t("s1")), "h1")]
        documents = self.bundle.get("documents", [])
        if not documents:
            out.append(self.p(markup(w.t("no_documents"))))
            return out
        out.append(self.p(markup(w.t("documents_intro"))))
        head = ["role", "document_sha", "step", "time", "leaf"]
        rows: list[list[Any]] = [[self.p(markup(w.t(h)), "head") for h in head]]
        widths = [22 * mm, 62 * mm, 42 * mm, 35 * mm]
        widths.append(_WIDTH - sum(widths))
        for doc in documents:
            record = self.records.get(str(doc.get("event_id")), {})
            name = doc.get("name")
            sha = str(doc.get("sha256", ""))
            rows.append(
                [
                    self.p(markup(doc.get("role")), "cell"),
                    self.p(_split_hex(sha) + (f"<br/>{markup(name)}" if name else ""), "mono"),
                    self.p(self.event_name(record.get("type", "-"), widths[2] - 6), "cell"),
                    self.p(w.when(record.get("occurred_at"), cell=True), "cell"),
                    self.p(escape(str(doc.get("leaf_index"))), "cell"),
                ]
            )
        out.append(_table(rows, widths, long=True))
        return out

    # -- 2. parties -----------------------------------------------------------------------

    def parties_section(self) -> list[Flowable]:
        w, st = self.w, self.st
        out: list[Flowable] = [self.p(markup(w.t("s2")), "h1")]
        certs = {str(c.get("sha256")): c for c in self.bundle.get("certificates", [])}
        shown: set[str] = set()

        def listed(items: list[str] | None, translate: bool = False) -> str:
            if not items:
                return markup(w.t("not_recorded"))
            shown_items = [w.method(i) if translate else i for i in items[:_MAX_PER_PARTY]]
            text = "<br/>".join(markup(i) for i in shown_items)
            if len(items) > _MAX_PER_PARTY:
                text += "<br/>" + w.rich("and_more", n=len(items) - _MAX_PER_PARTY)
            return text

        if not self.parties:
            out.append(self.p(markup(w.t("no_actor"))))
        for i, party in enumerate(self.parties, 1):
            identity = "<br/>".join(
                f"{markup(k)}: {markup(v)}"
                for k, v in party.identity.items()
                if isinstance(v, str | int | float) and not isinstance(v, bool)
            )
            rows = [
                (w.t("identity"), identity or self.party_name(party)),
                (w.t("steps_taken"), str(party.events)),
                (w.t("authentication"), listed(party.methods, translate=True)),
                (w.t("ip_addresses"), listed(party.ips)),
                (w.t("browsers"), listed(party.agents)),
            ]
            for sha in party.certificates or []:
                shown.add(sha)
                rows.append((w.t("certificate"), self.cert_text(certs.get(sha), sha)))
            out.append(
                KeepTogether([self.p(f"2.{i} {self.party_name(party)}", "h2"), _fields(rows, st)])
            )
        others = [c for sha, c in certs.items() if sha not in shown]
        if others:
            out.append(self.p(markup(w.t("other_certificates")), "h2"))
            out.append(
                _fields(
                    [(w.t("certificate"), self.cert_text(c, str(c.get("sha256")))) for c in others],
                    st,
                )
            )
        return out

    def cert_text(self, cert: Mapping[str, Any] | None, sha: str) -> str:
        w = self.w
        if cert is None:
            return w.rich("cert_missing", sha=sha)
        return (
            f"{markup(w.t('cert_subject'))}: {markup(cert.get('subject'))}<br/>"
            f"{markup(w.t('cert_issuer'))}: {markup(cert.get('issuer'))}<br/>"
            f"{markup(w.t('cert_serial'))}: {escape(str(cert.get('serial')))}<br/>"
            f"SHA-256: {escape(str(cert.get('sha256')))}"
        )

    # -- 3. timeline ----------------------------------------------------------------------

    def timeline(self) -> list[Flowable]:
        w = self.w
        events = self.bundle.get("events", [])
        out: list[Flowable] = [
            self.p(markup(w.t("s3")), "h1"),
            self.p(markup(w.t("timeline_intro", n=len(events)))),
        ]
        head = [
            "#",
            w.t("occurred"),
            w.t("actor"),
            "IP",
            w.t("action"),
            w.t("event_hash"),
            w.t("leaf"),
        ]
        widths = [8 * mm, 24 * mm, 28 * mm, 21 * mm, 31 * mm, 48 * mm]
        widths.append(_WIDTH - sum(widths))

        def row(n: int) -> list[Any]:
            event = events[n]
            record = event.get("record", {})
            return [
                self.p(str(n + 1), "cell"),
                self.p(w.when(record.get("occurred_at"), cell=True), "cell"),
                self.p(self.actor(record.get("actor")), "cell"),
                self.p(markup(record_ip(record) or "-"), "cell"),
                self.p(self.event_name(record.get("type"), widths[4] - 6), "cell"),
                self.p(_split_hex(str(event.get("leaf_hash", ""))), "mono"),
                self.p(escape(str(event.get("leaf_index"))), "cell"),
            ]

        header = [self.p(markup(h), "head") for h in head]
        first, last = head_and_tail(len(events))
        out.append(_table([header, *(row(n) for n in first)], widths, long=True))
        if last:
            gap = w.t(
                "timeline_gap",
                first=first.stop + 1,
                last=last.start,
                n=last.start - first.stop,
                total=len(events),
            )
            out.append(self.p(markup(gap), "small"))
            out.append(_table([header, *(row(n) for n in last)], widths, long=True))
            out.append(self.p(markup(w.t("by_kind")), "h2"))
            kinds = [[self.p(markup(w.t(h)), "head") for h in ("kind", "count", "first", "last")]]
            kinds += [
                [
                    self.p(self.event_name(kind, 70 * mm), "cell"),
                    self.p(str(count), "cell"),
                    self.p(w.when(a, cell=True), "cell"),
                    self.p(w.when(b, cell=True), "cell"),
                ]
                for kind, count, a, b in steps_by_kind(events)
            ]
            out.append(_table(kinds, [76 * mm, 18 * mm, 40 * mm, _WIDTH - 134 * mm]))
        return out

    # -- 4. proofs ------------------------------------------------------------------------

    def proofs(self) -> list[Flowable]:
        w, st, bundle, verdict = self.w, self.st, self.bundle, self.verdict
        log = bundle.get("log", {})
        cp = bundle.get("checkpoint", {})

        def note(text: Any) -> str:
            return "<br/>".join(markup(line) for line in str(text or "").splitlines())

        out: list[Flowable] = [
            self.p(markup(w.t("s4")), "h1"),
            self.p(markup(w.t("proofs_intro"))),
            _fields(
                [
                    (w.t("log_origin"), markup(log.get("origin"))),
                    (w.t("log_key"), _split_hex(str(log.get("verifier_key", "")), 60)),
                    (w.t("log_id_chain"), escape(str(log.get("log_id")))),
                    (w.t("tree_size"), escape(str(cp.get("tree_size")))),
                    (w.t("root"), escape(str(cp.get("root")))),
                    (w.t("signed_checkpoint"), note(cp.get("note"))),
                ],
                st,
            ),
        ]
        if bundle.get("anchor_checkpoint"):
            acp = bundle["anchor_checkpoint"]
            proof = bundle.get("consistency_proof") or []
            out += [
                self.p(markup(w.t("consistency")), "h2"),
                self.p(markup(w.t("consistency_text", size=acp.get("tree_size"), n=len(proof)))),
                _fields(
                    [
                        (w.t("anchored_root"), escape(str(acp.get("root")))),
                        (w.t("signed_checkpoint"), note(acp.get("note"))),
                        (
                            w.t("consistency_proof"),
                            "<br/>".join(escape(str(h)) for h in proof) or "-",
                        ),
                    ],
                    st,
                ),
            ]
        out.append(self.p(markup(w.t("inclusion")), "h2"))
        out.append(self.p(markup(w.t("inclusion_intro", size=cp.get("tree_size")))))
        header = [self.p(markup(w.t(h)), "head") for h in ("leaf", "leaf_hash", "hashes", "path")]
        events = bundle.get("events", [])

        def row(event: Mapping[str, Any]) -> list[Any]:
            path = [str(h) for h in event.get("inclusion_proof", [])]
            return [
                self.p(escape(str(event.get("leaf_index"))), "cell"),
                self.p(escape(str(event.get("leaf_hash"))), "mono"),
                self.p(str(len(path)), "cell"),
                self.p(
                    " ".join(escape(h[:8]) for h in path) or markup(w.t("leaf_is_root")), "mono"
                ),
            ]

        widths = [12 * mm, 92 * mm, 12 * mm]
        widths.append(_WIDTH - sum(widths))
        first, last = head_and_tail(len(events))
        out.append(_table([header, *(row(events[n]) for n in first)], widths, long=True))
        if last:
            gap = w.t(
                "proofs_gap",
                first=events[first.stop].get("leaf_index"),
                last=events[last.start - 1].get("leaf_index"),
                n=last.start - first.stop,
            )
            out.append(self.p(markup(gap), "small"))
            out.append(_table([header, *(row(events[n]) for n in last)], widths, long=True))

        out.append(self.p(markup(w.t("checks_made")), "h2"))
        groups: dict[str, list[Check]] = {}
        for check in verdict.checks:
            groups.setdefault(_check_group(check.name), []).append(check)
        heads = ("check", "count", "holds", "fails", "not_checked", "detail")
        crow: list[list[Any]] = [[self.p(markup(w.t(h)), "head") for h in heads]]
        for name, items in groups.items():
            sample = next((c for c in items if c.ok is not True), items[0])
            crow.append(
                [
                    self.p(escape(name), "mono"),
                    self.p(str(len(items)), "cell"),
                    self.p(str(sum(c.ok is True for c in items)), "cell"),
                    self.p(str(sum(c.ok is False for c in items)), "cell"),
                    self.p(str(sum(c.ok is None for c in items)), "cell"),
                    self.p(markup(sample.detail), "cell"),
                ]
            )
        widths = [42 * mm, 12 * mm, 12 * mm, 12 * mm, 16 * mm]
        widths.append(_WIDTH - sum(widths))
        out.append(_table(crow, widths, long=True))
        bad = [c for c in verdict.checks if c.ok is not True]
        if bad:
            out.append(self.p(markup(w.t("checks_bad")), "h2"))
            for c in bad:
                state = w.t("state_failed") if c.ok is False else w.t("state_unchecked")
                out.append(
                    self.p(f"<b>{escape(c.name)}</b> {markup(state)}: {markup(c.detail)}", "small")
                )
        return out

    # -- 5. how to check ------------------------------------------------------------------

    def how_to_check(self) -> list[Flowable]:
        w, info, bundle = self.w, self.info, self.bundle
        anchor = bundle.get("anchor") or {}
        log = bundle.get("log", {})
        size = anchor.get("tree_size", "N")
        contract = anchor.get("contract", "0x<contract>")
        chain_id = anchor.get("chain_id", "<chain id>")
        subject = str(bundle.get("subject", ""))
        courier = "<font name='Courier'>{}</font>".format
        cast = courier(
            f"cast call {escape(str(contract))} 'rootAt(bytes32,uint64)(bytes32)' 0x&lt;logId&gt; "
            f"{escape(str(size))} --rpc-url URL"
        )
        steps = [
            (
                "how1_head",
                w.rich(
                    "how1",
                    pdfdetach=Markup(courier("pdfdetach -saveall report.pdf")),
                    bundle_url=Markup(
                        f"{escape(info.service_url)}/api/v1/subjects/{markup(subject)}/bundle"
                    ),
                ),
            ),
            (
                "how2_head",
                w.rich(
                    "how2",
                    pdfsig=Markup(courier("pdfsig report.pdf")),
                    issuer=info.issuer,
                    ca_url=f"{info.service_url}/pki/ca",
                ),
            ),
            (
                "how3_head",
                w.rich(
                    "how3",
                    command=Markup(courier("sealtrail-verify report.pdf --rpc URL")),
                    chain_id=chain_id,
                    document_option=Markup(courier("--document F")),
                ),
            ),
            ("how4_head", w.rich("how4")),
            ("how5_head", w.rich("how5", key=_short(str(log.get("verifier_key")), 48))),
            (
                "how6_head",
                w.rich(
                    "how6",
                    contract=contract,
                    chain_id=chain_id,
                    log_id=log.get("log_id"),
                    size=size,
                    cast=Markup(cast),
                )
                if anchor
                else w.rich("how6_pending"),
            ),
            (
                "how7_head",
                w.rich("how7", verify_url=info.verify_url, page=f"{info.service_url}/verify"),
            ),
        ]
        out: list[Flowable] = [
            self.p(markup(w.t("s5")), "h1"),
            _fields(self.anchor_rows(), self.st),
            Spacer(1, 3 * mm),
        ]
        for n, (head, text) in enumerate(steps, 1):
            out.append(self.p(f"<b>{markup(w.t('step_n', n=n))} {markup(w.t(head))}</b> {text}"))
        return out


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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


# --- entry points -----------------------------------------------------------------------------


def render_certificate(
    bundle: Mapping[str, Any], verdict: BundleVerdict, info: ReportInfo
) -> bytes:
    """The certificate of evidence for ``bundle`` as an (unsigned) A4 PDF."""
    layout = _Layout(bundle, verdict, info)
    w = layout.w
    story: list[Flowable] = []
    story += layout.first_page()
    story += layout.documents()
    story += layout.parties_section()
    story += layout.timeline()
    story += layout.proofs()
    story += layout.how_to_check()
    buf = io.BytesIO()
    title = w.t("title")
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=18 * mm,
        title=f"{title} {info.report_id}",
        author=info.issuer,
        subject=str(bundle.get("subject", "")),
        creator="Sealtrail",
        lang="zh-CN" if w.lang == "zh" else "en",
    )
    footer = w.t("footer", title=title, id=info.report_id, when=_plain(w.moment(info.issued_at)))
    doc.build(story, canvasmaker=_numbered_canvas(footer, w))
    return buf.getvalue()


def _plain(markup_text: str) -> str:
    return re.sub(r"<[^>]+>", " ", markup_text).replace("&amp;", "&")
