"""Creating an envelope: the spec of its parties and fields checked against its PDF documents."""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from evidence_chain.clock import iso as _iso
from evidence_chain.errors import EvidenceError, ValidationError
from evidence_chain.events import parse_rfc3339
from evidence_chain.tenants import TenantRef
from signing.envelopes.appearance import MARK_KINDS, page_boxes
from signing.envelopes.evidence import EnvelopeEvidence
from signing.envelopes.rules import EnvelopeStatus, PartyStatus
from signing.envelopes.search import index_envelope
from signing.envelopes.store import DOCUMENT, ENVELOPE, FIELD, PARTY
from signing.envelopes.views import InitiatorContext, _actor_initiator

ORDER_MODES = ("sequential", "parallel", "custom")
FIELD_KINDS = ("signature", "seal", "date", "text")
DEFAULT_EXPIRY = dt.timedelta(days=14)
MAX_EXPIRY = dt.timedelta(days=365)
MAX_DOCUMENTS = 10
MAX_PARTIES = 20
MAX_FIELDS_PER_PARTY = 20
DEFAULT_SIZES = {
    "signature": (150.0, 50.0),
    "seal": (120.0, 120.0),
    "date": (100.0, 16.0),
    "text": (150.0, 16.0),
}


def checked_text(value: Any, label: str, limit: int, *, required: bool = False) -> str | None:
    """A trimmed string of at most ``limit`` characters, or None; ValidationError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"{label} is required", details={"field": label})
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(
            f"{label} must be a string of at most {limit} characters", details={"field": label}
        )
    return value.strip()


def _inum(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"{label} must be a number", details={"field": label})
    return float(value)


def _reminders(value: Any) -> int | None:
    """``reminders: {"every_days": N}`` (1 to 30) or null: how often the parties whose turn it
    is are reminded until they sign."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"every_days"}:
        raise ValidationError(
            'reminders is {"every_days": N} or null', details={"field": "reminders"}
        )
    return _iint(value["every_days"], "reminders.every_days", 1, 30)


def _iint(value: Any, label: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"{label} must be a whole number from {low} to {high}", details={"field": label}
        )
    return value


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


_PHONE = re.compile(r"^\+?[0-9]{6,20}$")


class EnvelopeIntake(EnvelopeEvidence):
    """Creates draft envelopes from a spec and their documents, refusing what cannot be signed."""

    def create(
        self,
        tenant: TenantRef,
        spec: Any,
        documents: Sequence[tuple[str, bytes]],
        who: InitiatorContext,
    ) -> dict[str, Any]:
        """Create a draft envelope from a spec (see docs/envelopes.md) and its PDF documents."""
        if not isinstance(spec, dict):
            raise ValidationError(
                "the envelope spec must be a JSON object", details={"field": "spec"}
            )
        allowed = {
            "title",
            "message",
            "order",
            "expires_at",
            "expires_in_days",
            "reminders",
            "parties",
        }
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
        title = checked_text(spec.get("title"), "title", 200, required=True)
        message = checked_text(spec.get("message"), "message", 4000)
        order = spec.get("order", "custom")
        if order not in ORDER_MODES:
            raise ValidationError(
                f"order is one of {', '.join(ORDER_MODES)}", details={"field": "order"}
            )
        remind_every_days = _reminders(spec.get("reminders"))
        now = self.clock()
        expires_at = now + DEFAULT_EXPIRY
        if spec.get("expires_at") is not None:
            raw = spec["expires_at"]
            try:
                expires_at = parse_rfc3339(raw) if isinstance(raw, str) else None  # type: ignore[assignment]
            except ValueError:
                expires_at = None  # type: ignore[assignment]
            if expires_at is None:
                raise ValidationError(
                    "expires_at must be an RFC 3339 date-time", details={"field": "expires_at"}
                )
        elif spec.get("expires_in_days") is not None:
            days = _iint(spec["expires_in_days"], "expires_in_days", 1, 365)
            expires_at = now + dt.timedelta(days=days)
        if not now < expires_at <= now + MAX_EXPIRY:
            raise ValidationError(
                "expires_at must be in the future and within 365 days",
                details={"field": "expires_at"},
            )
        if not documents:
            raise ValidationError(
                "at least one PDF document is required", details={"field": "documents"}
            )
        if len(documents) > MAX_DOCUMENTS:
            raise ValidationError(
                f"at most {MAX_DOCUMENTS} documents", details={"field": "documents"}
            )
        limit = self.signing.max_document_bytes
        docs: list[dict[str, Any]] = []
        for i, (name, pdf) in enumerate(documents, start=1):
            try:
                boxes = page_boxes(pdf, limit)
            except EvidenceError as exc:
                raise type(exc)(
                    f"document {i}: {exc.message}", details={**exc.details, "document": i}
                ) from None
            docs.append(
                {
                    "n": i,
                    "name": (name or f"document-{i}.pdf")[:200],
                    "pdf": pdf,
                    "boxes": boxes,
                }
            )
        parties_raw = spec.get("parties")
        if not isinstance(parties_raw, list) or not parties_raw:
            raise ValidationError("parties must be a non-empty list", details={"field": "parties"})
        if len(parties_raw) > MAX_PARTIES:
            raise ValidationError(f"at most {MAX_PARTIES} parties", details={"field": "parties"})
        parties = [
            self._parse_party(tenant, raw, i, order, docs) for i, raw in enumerate(parties_raw)
        ]
        env_public = "env_" + secrets.token_hex(10)
        stored = [(d, self.blobs.put(d["pdf"])) for d in docs]
        with self.engine.begin() as conn:
            env_id = conn.execute(
                insert(ENVELOPE)
                .values(
                    public_id=env_public,
                    tenant_id=tenant.id,
                    title=title,
                    message=message,
                    status=EnvelopeStatus.DRAFT.value,
                    order_mode=order,
                    version=0,
                    created_by=who.key_prefix,
                    expires_at=expires_at,
                    created_at=now,
                    remind_every_days=remind_every_days,
                )
                .returning(ENVELOPE.c.id)
            ).scalar_one()
            for d, sha in stored:
                conn.execute(
                    insert(DOCUMENT).values(
                        envelope_id=env_id,
                        n=d["n"],
                        name=d["name"],
                        pages=len(d["boxes"]),
                        sha256_original=sha,
                        sha256_current=sha,
                        certified=False,
                    )
                )
            for p in parties:
                party_id = conn.execute(
                    insert(PARTY)
                    .values(
                        public_id=p["public_id"],
                        envelope_id=env_id,
                        name=p["name"],
                        email=p["email"],
                        phone=p["phone"],
                        kind=p["kind"],
                        organisation=p["organisation"],
                        seal_id=p["seal_id"],
                        role=p["role"],
                        routing_order=p["order"],
                        status=PartyStatus.PENDING.value,
                        otp_tries=0,
                        otp_locked=False,
                    )
                    .returning(PARTY.c.id)
                ).scalar_one()
                for f in p["fields"]:
                    conn.execute(insert(FIELD).values(envelope_id=env_id, party_id=party_id, **f))
            index_envelope(conn, env_id)
            env_row = conn.execute(select(ENVELOPE).where(ENVELOPE.c.id == env_id)).one()
            loaded = self._load(conn, env_row)
            self._event(
                conn,
                loaded,
                "envelope.created",
                _actor_initiator(who),
                who.request,
                {
                    "title": title,
                    "documents": [
                        {"n": d["n"], "name": d["name"], "sha256": sha} for d, sha in stored
                    ],
                    "parties": [
                        {
                            "party_id": p.public_id,
                            "name": p.name,
                            "email": p.email,
                            "phone": p.phone,
                            "kind": p.kind,
                            "organisation": p.organisation,
                            "order": int(p.routing_order),
                        }
                        for p in loaded.parties
                    ],
                    "expires_at": _iso(expires_at),
                    "reminders": {"every_days": remind_every_days} if remind_every_days else None,
                },
            )
            return self._detail(loaded)

    def _parse_party(
        self, tenant: TenantRef, raw: Any, index: int, order_mode: str, docs: list[dict[str, Any]]
    ) -> dict[str, Any]:
        label = f"parties[{index}]"
        if not isinstance(raw, dict):
            raise ValidationError(f"{label} must be an object", details={"field": label})
        allowed = {
            "name",
            "email",
            "phone",
            "kind",
            "organisation",
            "seal_id",
            "role",
            "order",
            "fields",
        }
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ValidationError(
                f"{label}: unknown field {unknown[0]!r}", details={"field": f"{label}.{unknown[0]}"}
            )
        name = checked_text(raw.get("name"), f"{label}.name", 64, required=True)
        email = checked_text(raw.get("email"), f"{label}.email", 254)
        phone = checked_text(raw.get("phone"), f"{label}.phone", 32)
        if email is not None and not _EMAIL.match(email):
            raise ValidationError(
                f"{label}.email is not an email address", details={"field": f"{label}.email"}
            )
        if phone is not None:
            phone = phone.replace(" ", "").replace("-", "")
            if not _PHONE.match(phone):
                raise ValidationError(
                    f"{label}.phone is not a phone number", details={"field": f"{label}.phone"}
                )
        if email is None and phone is None:
            raise ValidationError(
                f"{label} needs an email or a phone number to receive the link and codes",
                details={"field": label},
            )
        kind = raw.get("kind", "person")
        if kind == "organization":
            kind = "organisation"
        if kind not in ("person", "organisation"):
            raise ValidationError(
                f"{label}.kind is person or organisation", details={"field": f"{label}.kind"}
            )
        organisation = checked_text(raw.get("organisation"), f"{label}.organisation", 64)
        seal_id = checked_text(raw.get("seal_id"), f"{label}.seal_id", 40)
        if kind == "organisation":
            if organisation is None or seal_id is None:
                raise ValidationError(
                    f"{label}: an organisation signs with its seal: "
                    "organisation and seal_id are required",
                    details={"field": label},
                )
            self.signing.get_seal(tenant.id, seal_id)  # NotFoundError for another tenant's
        elif seal_id is not None:
            raise ValidationError(
                f"{label}: seal_id is for organisations; a person signs with a personal mark",
                details={"field": f"{label}.seal_id"},
            )
        role = checked_text(raw.get("role"), f"{label}.role", 64)
        if order_mode == "sequential":
            order = index + 1
        elif order_mode == "parallel":
            order = 1
        else:
            order = _iint(raw.get("order", index + 1), f"{label}.order", 1, 100)
        fields_raw = raw.get("fields")
        if not isinstance(fields_raw, list) or not fields_raw:
            raise ValidationError(
                f"{label}.fields must be a non-empty list", details={"field": f"{label}.fields"}
            )
        if len(fields_raw) > MAX_FIELDS_PER_PARTY:
            raise ValidationError(f"{label}: at most {MAX_FIELDS_PER_PARTY} fields")
        fields_ = [
            self._parse_field(f, f"{label}.fields[{i}]", kind, docs)
            for i, f in enumerate(fields_raw)
        ]
        # One mark (signature or seal) per document; dates and texts go with it.
        for d in docs:
            on_doc = [f for f in fields_ if f["document_n"] == d["n"]]
            marks = [f for f in on_doc if f["kind"] in MARK_KINDS]
            if len(marks) > 1:
                raise ValidationError(
                    f"{label}: at most one signature or seal field per document",
                    details={"field": f"{label}.fields", "document": d["n"]},
                )
            if on_doc and not marks:
                raise ValidationError(
                    f"{label}: a date or text field needs a signature or seal field "
                    "on the same document",
                    details={"field": f"{label}.fields", "document": d["n"]},
                )
            if marks and not marks[0]["anywhere"]:
                for f in on_doc:
                    if not f["anywhere"] and f["page"] != marks[0]["page"]:
                        raise ValidationError(
                            f"{label}: date and text fields go on the page of the party's "
                            "signature or seal field (they are part of its signature)",
                            details={"field": f"{label}.fields", "document": d["n"]},
                        )
        return {
            "public_id": "pty_" + secrets.token_hex(8),
            "name": name,
            "email": email.lower() if email else None,
            "phone": phone,
            "kind": kind,
            "organisation": organisation,
            "seal_id": seal_id,
            "role": role,
            "order": order,
            "fields": fields_,
        }

    def _parse_field(
        self, raw: Any, label: str, party_kind: str, docs: list[dict[str, Any]]
    ) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ValidationError(f"{label} must be an object", details={"field": label})
        allowed = {
            "kind",
            "document",
            "page",
            "x",
            "y",
            "width",
            "height",
            "anywhere",
            "label",
            "value",
        }
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ValidationError(
                f"{label}: unknown field {unknown[0]!r}", details={"field": f"{label}.{unknown[0]}"}
            )
        kind = raw.get("kind")
        if kind not in FIELD_KINDS:
            raise ValidationError(
                f"{label}.kind is one of {', '.join(FIELD_KINDS)}",
                details={"field": f"{label}.kind"},
            )
        if kind == "seal" and party_kind != "organisation":
            raise ValidationError(
                f"{label}: a seal field belongs to an organisation party",
                details={"field": f"{label}.kind"},
            )
        if kind == "signature" and party_kind == "organisation":
            kind = "seal"
        n = _iint(raw.get("document", 1), f"{label}.document", 1, len(docs))
        boxes = docs[n - 1]["boxes"]
        dw, dh = DEFAULT_SIZES[kind]
        w = _inum(raw.get("width", dw), f"{label}.width")
        h = _inum(raw.get("height", dh), f"{label}.height")
        if not (8 <= w <= 600 and 8 <= h <= 600):
            raise ValidationError(
                f"{label}: width and height are 8-600 points", details={"field": label}
            )
        anywhere = raw.get("anywhere", False)
        if not isinstance(anywhere, bool):
            raise ValidationError(f"{label}.anywhere must be true or false")
        page = x = y = None
        if not anywhere:
            page = _iint(raw.get("page"), f"{label}.page", 1, len(boxes))
            x = _inum(raw.get("x"), f"{label}.x")
            y = _inum(raw.get("y"), f"{label}.y")
            llx, lly, urx, ury = boxes[page - 1]
            if x < llx or y < lly or x + w > urx or y + h > ury:
                raise ValidationError(
                    f"{label}: the field ({x:g}, {y:g}, {w:g}x{h:g}) is outside page {page}",
                    details={"field": label, "media_box": [llx, lly, urx, ury]},
                )
        elif any(raw.get(k) is not None for k in ("page", "x", "y")):
            raise ValidationError(
                f"{label}: an 'anywhere' field has no page, x or y: the signer places it",
                details={"field": label},
            )
        value = checked_text(raw.get("value"), f"{label}.value", 200)
        if value is not None and kind != "text":
            raise ValidationError(f"{label}: only a text field has a preset value")
        return {
            "public_id": "fld_" + secrets.token_hex(6),
            "kind": kind,
            "document_n": n,
            "page": page,
            "x": x,
            "y": y,
            "w": w,
            "h": h,
            "anywhere": anywhere,
            "label": checked_text(raw.get("label"), f"{label}.label", 200),
            "value": value,
        }
