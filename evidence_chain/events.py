"""Incoming events: validation, and the canonical record that becomes a leaf of the log.

The record format is frozen once released (see ``docs/evidence-record.md``). A record is the
exact object whose RFC 8785 canonical bytes are hashed into the leaf::

    {"v": 1, "tenant": ..., "event_id": ..., "type": ..., "subject": ..., "subject_seq": n,
     "prev_leaf_hash": hex | null, "occurred_at": ..., "received_at": ..., "actor": ...,
     "data": {...}}
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from evidence_chain.core.canonical import canonical_text, canonicalize
from evidence_chain.errors import CanonicalizationError, ValidationError

RECORD_VERSION = 1
TYPE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
MAX_SUBJECT_BYTES = 256
"""A subject's longest UTF-8 form: 256 ASCII characters as before, about 85 Chinese ones; it
fits the subject columns (256 characters) on every database."""
SUBJECT_RULE = (
    f"required; printable Unicode text, 1-{MAX_SUBJECT_BYTES} bytes in UTF-8 once NFC-normalised, "
    "no control or format characters, line or paragraph separators, unassigned code points "
    "or surrogates, and no whitespace at either end"
)
# Unicode general categories a subject must not contain: control (Cc), format (Cf, the
# invisible ones: zero-width joiners, bidi overrides), surrogate (Cs), private use (Co),
# unassigned (Cn), line and paragraph separators (Zl, Zp).
_NOT_IN_SUBJECTS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
IDEMPOTENCY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
ALLOWED_FIELDS = frozenset({"type", "subject", "occurred_at", "actor", "data", "idempotency_key"})
# RFC 3339 date-time: full date, "T" (any case), time with optional fraction, Z or offset.
RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
MAX_ACTOR_LENGTH = 512


@dataclass(frozen=True)
class EventInput:
    """One validated event as submitted by a client (before sequencing)."""

    type: str
    subject: str
    occurred_at: str
    actor: Any
    data: Any
    idempotency_key: str | None


def format_time(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with microseconds, the only form records use."""
    if moment.tzinfo is None:
        raise ValueError("format_time requires an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 date-time (with a zone) into an aware datetime; raise ValueError."""
    match = RFC3339.match(value)
    if not match:
        raise ValueError("not an RFC 3339 date-time with a time zone")
    text = value.upper().replace("Z", "+00:00")
    frac = match.group(7)
    if frac and len(frac) > 7:  # Python keeps microseconds; drop the digits beyond them.
        text = text.replace(frac, frac[:7], 1)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:  # pragma: no cover - the pattern requires a zone
        raise ValueError("a time zone is required")
    return parsed


def normalize_subject(value: str) -> str:
    """The NFC form of a subject, the form records carry and lookups use (not validated)."""
    return unicodedata.normalize("NFC", value)


def check_subject(value: object) -> str:
    """A submitted subject in its recorded form (NFC); ValueError (saying why) unless it is
    one (see :data:`SUBJECT_RULE`). The form is fixed here, at intake, so the record and its
    leaf hash never depend on how a client composed the characters."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    subject = normalize_subject(value)
    size = len(subject.encode("utf-8", "surrogatepass"))
    if not 0 < size <= MAX_SUBJECT_BYTES:
        raise ValueError(f"is {size} bytes in UTF-8, must be 1-{MAX_SUBJECT_BYTES}")
    for position, char in enumerate(subject):
        category = unicodedata.category(char)
        if category in _NOT_IN_SUBJECTS:
            raise ValueError(
                f"character U+{ord(char):04X} ({category}) at position {position} is not allowed"
            )
    if subject != subject.strip():
        raise ValueError("must not begin or end with whitespace")
    return subject


def _field_error(index: int | None, field: str, message: str) -> ValidationError:
    where = f"event {index}" if index is not None else "event"
    details: dict[str, Any] = {"field": field}
    if index is not None:
        details["index"] = index
    return ValidationError(f"{where}: {field}: {message}", details=details)


def parse_event(raw: Any, index: int | None = None) -> EventInput:
    """Validate one submitted event object; raise ValidationError naming the event and field."""
    if not isinstance(raw, Mapping):
        raise _field_error(index, "(event)", "must be a JSON object")
    unknown = sorted(set(raw) - ALLOWED_FIELDS)
    if unknown:
        raise _field_error(index, unknown[0], "unknown field")
    etype = raw.get("type")
    if not isinstance(etype, str) or not TYPE_PATTERN.match(etype):
        raise _field_error(
            index, "type", "required; 1-128 characters of letters, digits and . _ : / -"
        )
    try:
        subject = check_subject(raw.get("subject"))
    except ValueError as exc:
        raise _field_error(index, "subject", f"{exc}; {SUBJECT_RULE}") from None
    occurred = raw.get("occurred_at")
    if not isinstance(occurred, str):
        raise _field_error(index, "occurred_at", "required; an RFC 3339 date-time")
    try:
        occurred_at = format_time(parse_rfc3339(occurred))
    except ValueError as exc:
        raise _field_error(index, "occurred_at", f"{exc}: {occurred!r}") from None
    actor = raw.get("actor")
    if actor is not None and not isinstance(actor, str | dict):
        raise _field_error(index, "actor", "must be a string or an object")
    if isinstance(actor, str) and not 0 < len(actor) <= MAX_ACTOR_LENGTH:
        raise _field_error(index, "actor", f"must be 1-{MAX_ACTOR_LENGTH} characters")
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise _field_error(index, "data", "must be a JSON object")
    key = raw.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not IDEMPOTENCY_PATTERN.match(key)):
        raise _field_error(index, "idempotency_key", "must be 1-200 printable ASCII characters")
    return EventInput(
        type=etype,
        subject=subject,
        occurred_at=occurred_at,
        actor=actor,
        data=data,
        idempotency_key=key,
    )


def parse_events(body: Any, max_batch: int) -> list[EventInput]:
    """Validate a request body: one event object or ``{"events": [...]}`` of at most max_batch."""
    if isinstance(body, Mapping) and "events" in body:
        if set(body) != {"events"}:
            raise ValidationError(
                "a batch body holds only the key 'events'", details={"field": "events"}
            )
        items = body["events"]
        if not isinstance(items, list):
            raise ValidationError("'events' must be an array", details={"field": "events"})
        if not items:
            raise ValidationError("'events' must not be empty", details={"field": "events"})
        if len(items) > max_batch:
            raise ValidationError(
                f"at most {max_batch} events per request, got {len(items)}",
                details={"field": "events", "max": max_batch, "got": len(items)},
            )
        return [parse_event(item, i) for i, item in enumerate(items)]
    return [parse_event(body, None)]


def build_record(
    *,
    tenant: str,
    event_id: str,
    event: EventInput,
    subject_seq: int,
    prev_leaf_hash: bytes | None,
    received_at: str,
) -> dict[str, Any]:
    """The canonical record of one event, as hashed into its leaf (format v1)."""
    return {
        "v": RECORD_VERSION,
        "tenant": tenant,
        "event_id": event_id,
        "type": event.type,
        "subject": event.subject,
        "subject_seq": subject_seq,
        "prev_leaf_hash": prev_leaf_hash.hex() if prev_leaf_hash is not None else None,
        "occurred_at": event.occurred_at,
        "received_at": received_at,
        "actor": event.actor,
        "data": event.data,
    }


@dataclass(frozen=True)
class PreparedEvent:
    """An event made ready before it is sequenced: its id, the request fingerprint (for an
    idempotency key) and, already in canonical form, every part of its record that does not
    depend on its place in the log. Sequencing then only splices in the subject position, the
    previous leaf hash and the time of receipt (:func:`record_bytes`)."""

    event: EventInput
    event_id: str
    head: str
    """``{"actor":…,"data":…`` in canonical form: the members that sort before the rest."""
    quoted: tuple[str, str, str, str]
    """occurred_at, subject, tenant and type as canonical JSON strings."""
    fingerprint: bytes


def prepare(tenant: str, event: EventInput, event_id: str, index: int | None) -> PreparedEvent:
    """Canonicalize what an event's record takes from the request, in one pass of the encoder;
    ValidationError naming the event when its data has no canonical form."""
    try:
        whole = canonical_text(
            {
                "actor": event.actor,
                "data": event.data,
                "occurred_at": event.occurred_at,
                "subject": event.subject,
                "tenant": tenant,
                "type": event.type,
            }
        )
        quoted = (
            canonical_text(event.occurred_at),
            canonical_text(event.subject),
            canonical_text(tenant),
            canonical_text(event.type),
        )
    except CanonicalizationError as exc:
        raise _not_canonical(exc, index) from None
    occurred_at, subject, tenant_q, type_q = quoted
    tail = f',"occurred_at":{occurred_at},"subject":{subject},"tenant":{tenant_q},"type":{type_q}}}'
    if not whole.endswith(tail):  # cannot happen: the four members are the last, in order
        raise ValueError("the canonical record does not end with its string members")
    fingerprint = request_fingerprint(event, index) if event.idempotency_key is not None else b""
    return PreparedEvent(event, event_id, whole[: -len(tail)], quoted, fingerprint)


def record_bytes(
    prepared: PreparedEvent, subject_seq: int, prev_leaf_hash: bytes | None, received_at: str
) -> bytes:
    """The RFC 8785 bytes of the event's record (format v1), spliced: the members in their
    canonical order (all keys ASCII), the request's parts as prepared, the rest formatted
    here (a UUID, an integer, a hex hash or null, an RFC 3339 time: none needs escaping).
    Equal to ``canonicalize(build_record(...))``, which the tests check."""
    occurred_at, subject, tenant, type_ = prepared.quoted
    prev = f'"{prev_leaf_hash.hex()}"' if prev_leaf_hash is not None else "null"
    return (
        f'{prepared.head},"event_id":"{prepared.event_id}",'
        f'"occurred_at":{occurred_at},"prev_leaf_hash":{prev},"received_at":"{received_at}",'
        f'"subject":{subject},"subject_seq":{int(subject_seq)},"tenant":{tenant},'
        f'"type":{type_},"v":{RECORD_VERSION}}}'
    ).encode()


def _not_canonical(exc: CanonicalizationError, index: int | None) -> ValidationError:
    where = f"event {index}" if index is not None else "event"
    details: dict[str, Any] = {"field": "data", "reason": exc.message}
    if index is not None:
        details["index"] = index
    return ValidationError(f"{where}: {exc.message}", details=details)


def canonical_record(record: dict[str, Any], index: int | None = None) -> bytes:
    """The RFC 8785 bytes of a record; ValidationError naming the event if it has none."""
    try:
        return canonicalize(record)
    except CanonicalizationError as exc:
        raise _not_canonical(exc, index) from None


def request_fingerprint(event: EventInput, index: int | None = None) -> bytes:
    """SHA-256 of the canonical form of what the client sent; same key, other body: conflict."""
    payload = {
        "type": event.type,
        "subject": event.subject,
        "occurred_at": event.occurred_at,
        "actor": event.actor,
        "data": event.data,
    }
    try:
        return hashlib.sha256(canonicalize(payload)).digest()
    except CanonicalizationError as exc:
        raise _not_canonical(exc, index) from None
