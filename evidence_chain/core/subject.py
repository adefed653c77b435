"""What a subject's records say about it: its lifecycle status and the versions of its files.

Pure, like the rest of the core: records in, facts out. The command, the service (the verify
page, ``POST /api/v1/verify``, the certificate of evidence) and the browser verifier's own
implementation (``verifier_web/src/lifecycle.js``) derive the status by this one rule, so they
agree on every bundle (tests/verifier_web/cases.py holds the cases both must pass).

The rule (documented in ``docs/evidence-bundle.md``): a record's type ends in a word (the last
of its ``.``, ``:``, ``/``, ``_`` or ``-`` separated parts). The words below set the subject's
state; the latest record with one of them wins, and a subject whose records set none is
``in_progress``. The time is that record's ``occurred_at``; the reason its ``data.reason``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from evidence_chain.core.bundle import document_mentions

__all__ = [
    "STATES",
    "Lifecycle",
    "RecordedVersion",
    "lifecycle_of",
    "recorded_versions",
    "verdict_line",
]

STATES = ("completed", "voided", "withdrawn", "declined", "expired", "in_progress")

_WORDS = {
    "completed": "completed",
    "complete": "completed",
    "finalized": "completed",
    "finalised": "completed",
    "voided": "voided",
    "void": "voided",
    "cancelled": "voided",
    "canceled": "voided",
    "withdrawn": "withdrawn",
    "declined": "declined",
    "rejected": "declined",
    "expired": "expired",
}
_SEPARATORS = re.compile(r"[.:/_-]")
MAX_REASON = 300
"""Longer reasons are shortened in sentences (the record keeps them whole)."""

_EN = {
    "completed": "was COMPLETED on {at}",
    "voided": "was VOIDED on {at}",
    "withdrawn": "was WITHDRAWN on {at}",
    "declined": "was DECLINED on {at}",
    "expired": "EXPIRED on {at}",
    "in_progress": "is IN PROGRESS (not completed; last step {at})",
}
_ZH = {
    "completed": "已于 {at} 完成签署（COMPLETED）",
    "voided": "已于 {at} 作废（VOIDED）",
    "withdrawn": "已于 {at} 撤回（WITHDRAWN）",
    "declined": "已于 {at} 被拒签（DECLINED）",
    "expired": "已于 {at} 过期（EXPIRED）",
    "in_progress": "签署进行中（IN PROGRESS，尚未完成；最后一步 {at}）",
}
_NOUN = {
    "envelope": ("the contract", "该合同"),
    "contract": ("the contract", "该合同"),
    "document": ("the document", "该文件"),
}
_VERDICT = {
    "VERIFIED": ("VERIFIED: the evidence is intact", "已核验（VERIFIED）：证据完整"),
    "INCOMPLETE": (
        "INCOMPLETE: nothing failed, but not every check could be made",
        "未完成（INCOMPLETE）：没有检查失败，但并非所有检查都已完成",
    ),
    "FAILED": (
        "FAILED: a check failed; the file cannot be relied on as it stands",
        "失败（FAILED）：有检查未通过；该文件现状不可采信",
    ),
}


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _time_text(value: Any) -> str:
    """``2026-11-23T10:00:00.000000Z`` as ``2026-11-23 10:00 UTC`` (other text as it is)."""
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", value):
        return f"{value[:10]} {value[11:16]} UTC"
    return "an unstated time" if value is None else str(value)


def _actor_name(actor: Any) -> str | None:
    if isinstance(actor, str) and actor:
        return actor
    if isinstance(actor, Mapping):
        for key in ("name", "organisation", "organization", "email", "common_name"):
            value = actor.get(key)
            if isinstance(value, str) and value:
                return value
    return None


@dataclass(frozen=True)
class Lifecycle:
    """A subject's status as its records state it: the state, when, why, by which record."""

    subject: str | None
    state: str
    at: str | None
    """``occurred_at`` of the record that set the state (of the last record: in progress)."""
    reason: str | None = None
    event_type: str | None = None
    subject_seq: int | None = None
    by: str | None = None
    """Who took the step, when its record names a person or an organisation."""

    @property
    def noun(self) -> tuple[str, str]:
        """How to call the subject, in English and Chinese."""
        kind = (self.subject or "").split(":", 1)[0]
        return _NOUN.get(kind, ("the subject", "该事项"))

    def sentence(self, lang: str = "en", quote: Callable[[str], str] = _quote) -> str:
        """e.g. ``the contract was VOIDED on 2026-11-23 10:00 UTC (reason: "...")``."""
        at = _time_text(self.at)
        reason = self.reason
        if reason is not None and len(reason) > MAX_REASON:
            reason = reason[: MAX_REASON - 1] + "\u2026"
        if lang == "zh":
            text = self.noun[1] + _ZH[self.state].format(at=at)
            if self.by and self.state == "declined":
                text += f"，拒签方 {quote(self.by)}"
            if reason is not None:
                text += f"（原因：{quote(reason)}）"
            return text
        text = f"{self.noun[0]} {_EN[self.state].format(at=at)}"
        if self.by and self.state == "declined":
            text += f" by {quote(self.by)}"
        if reason is not None:
            text += f" (reason: {quote(reason)})"
        return text

    def to_json(self) -> dict[str, Any]:
        """The status as the command's ``--json`` and ``POST /api/v1/verify`` state it."""
        return {
            "state": self.state,
            "at": self.at,
            "reason": self.reason,
            "event_type": self.event_type,
            "subject_seq": self.subject_seq,
            "by": self.by,
            "text": {"en": self.sentence("en"), "zh": self.sentence("zh")},
        }


def state_of_type(event_type: str) -> str | None:
    """The state a record of this type sets (None: it sets none)."""
    last = _SEPARATORS.split(event_type.lower())[-1]
    return _WORDS.get(last)


def lifecycle_of(records: Iterable[Mapping[str, Any]], subject: str | None = None) -> Lifecycle:
    """The subject's status from its records, in subject order (see the module's rule)."""
    found: Lifecycle | None = None
    last: Mapping[str, Any] | None = None
    for record in records:
        if not isinstance(record, Mapping):
            continue
        last = record
        etype = record.get("type")
        state = state_of_type(etype) if isinstance(etype, str) else None
        if state is None:
            continue
        data = record.get("data")
        reason = data.get("reason") if isinstance(data, Mapping) else None
        seq = record.get("subject_seq")
        found = Lifecycle(
            subject=subject,
            state=state,
            at=record.get("occurred_at") if isinstance(record.get("occurred_at"), str) else None,
            reason=reason if isinstance(reason, str) and reason else None,
            event_type=str(etype),
            subject_seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
            by=_actor_name(record.get("actor")),
        )
    if found is not None:
        return found
    at = last.get("occurred_at") if last is not None else None
    etype = last.get("type") if last is not None else None
    return Lifecycle(
        subject=subject,
        state="in_progress",
        at=at if isinstance(at, str) else None,
        event_type=etype if isinstance(etype, str) else None,
    )


def bundle_records(bundle: Any) -> list[Mapping[str, Any]]:
    """The records of a bundle's events, in order (whatever is not a record is skipped)."""
    events = bundle.get("events") if isinstance(bundle, Mapping) else None
    if not isinstance(events, list):
        return []
    return [
        e["record"]
        for e in events
        if isinstance(e, Mapping) and isinstance(e.get("record"), Mapping)
    ]


def bundle_lifecycle(bundle: Any) -> Lifecycle | None:
    """The status of a bundle's subject (None when the bundle has no records to read)."""
    records = bundle_records(bundle)
    if not records:
        return None
    subject = bundle.get("subject") if isinstance(bundle, Mapping) else None
    return lifecycle_of(records, subject if isinstance(subject, str) else None)


def verdict_line(
    verdict: str, status: Lifecycle | None, lang: str = "en", quote: Callable[[str], str] = _quote
) -> str:
    """The verdict with the status beside it, e.g. ``VERIFIED: the evidence is intact; the
    contract was VOIDED on 2026-11-23 10:00 UTC (reason: "...")``."""
    en, zh = _VERDICT.get(verdict, (verdict, verdict))
    head = zh if lang == "zh" else en
    if status is None:
        return head
    said = status.sentence(lang, quote)
    if verdict == "FAILED":
        if lang == "zh":
            return f"失败（FAILED）：有检查未通过；其记录称{said}，但不可采信"
        return f"FAILED: a check failed; its records say {said}, which cannot be relied on"
    return f"{head}{'；' if lang == 'zh' else '; '}{said}"


# --------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class RecordedVersion:
    """One place where a file's SHA-256 is named by a record: the step that produced or used
    it, who took it, when, and the certificate it names."""

    role: str
    event_type: str
    leaf_index: int
    occurred_at: str | None
    by: str | None
    certificate: str | None
    name: str | None

    def describe(self, quote: Callable[[str], str] = _quote) -> str:
        """One line: ``the signed version of step envelope.signed (leaf 12, ...) by ...``."""
        text = f"the {self.role} version"
        if self.name:
            text += f" of {quote(self.name)}"
        when = _time_text(self.occurred_at)
        text += f" in step {self.event_type} (leaf {self.leaf_index}, {when})"
        if self.by:
            text += f" by {quote(self.by)}"
        if self.certificate:
            text += f", certificate {quote(self.certificate)}"
        return text


def _certificate_of(data: Mapping[str, Any], sha256: str) -> str | None:
    """The subject of the certificate a record names for this file (or for the whole step)."""
    items = data.get("documents")
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and sha256 in (
                item.get("sha256_after"),
                item.get("sha256"),
                item.get("sha256_before"),
            ):
                cert = item.get("certificate")
                if isinstance(cert, Mapping) and isinstance(cert.get("subject"), str):
                    return str(cert["subject"])
    cert = data.get("certificate")
    if isinstance(cert, Mapping) and isinstance(cert.get("subject"), str):
        return str(cert["subject"])
    return None


def recorded_versions(
    records: Iterable[tuple[int, Mapping[str, Any]]], sha256: str
) -> list[RecordedVersion]:
    """Every record (``(leaf_index, record)``) naming a file of this SHA-256, in order."""
    digest = sha256.lower()
    out: list[RecordedVersion] = []
    for leaf_index, record in records:
        data = record.get("data")
        etype = record.get("type")
        if not isinstance(data, Mapping) or not isinstance(etype, str):
            continue
        for found, role, name in document_mentions(etype, data):
            if found != digest:
                continue
            at = record.get("occurred_at")
            out.append(
                RecordedVersion(
                    role=role,
                    event_type=etype,
                    leaf_index=leaf_index,
                    occurred_at=at if isinstance(at, str) else None,
                    by=_actor_name(record.get("actor")),
                    certificate=_certificate_of(data, digest),
                    name=name if isinstance(name, str) else None,
                )
            )
    return out
