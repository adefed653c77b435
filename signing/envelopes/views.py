"""What the API and the signer page show of an envelope: the JSON detail and the party's view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evidence_chain.clock import aware as _aware
from evidence_chain.clock import iso as _iso
from evidence_chain.errors import NotFoundError
from signing.envelopes.rules import EnvelopeStatus, PartyStatus
from signing.envelopes.store import EnvelopeStore, _Loaded


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from, recorded with every evidence event."""

    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class FieldView:
    """A field of a party: where it is and what it holds (PDF points, origin bottom-left).

    ``kind`` is "signature", "seal", "date" or "text". An ``anywhere`` field has no page, x
    or y until its party places it; ``w`` and ``h`` are always known.
    """

    id: str
    kind: str
    document: int
    page: int | None
    x: float | None
    y: float | None
    w: float
    h: float
    anywhere: bool
    label: str | None
    value: str | None


@dataclass(frozen=True)
class DocumentView:
    """A document of an envelope: its number (from 1), name, page count and current SHA-256."""

    n: int
    name: str
    pages: int
    sha256: str


@dataclass(frozen=True)
class SignerView:
    """What a party sees on its signer page.

    ``party_status`` is "waiting" (an earlier group has not finished), "ready", "signed" or
    "declined". ``code_channel`` says where the code goes ("email" or "sms"), and
    ``code_destination`` the masked address (``a***@example.com``, ``+86******1234``).
    """

    envelope_id: str
    title: str
    message: str | None
    envelope_status: str
    party_id: str
    party_name: str
    party_kind: str
    organisation: str | None
    party_status: str
    your_turn: bool
    code_verified: bool
    code_locked: bool
    code_channel: str | None
    code_destination: str | None
    documents: tuple[DocumentView, ...]
    fields: tuple[FieldView, ...]
    can_download: bool
    waiting_for: tuple[str, ...] = ()  # names of the parties whose turn comes first


def mask_email(email: str) -> str:
    """``alice@example.com`` -> ``a***@example.com``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """``+8613800001234`` -> ``+86******1234``."""
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:]


@dataclass(frozen=True)
class InitiatorContext:
    """Who acts for the tenant: the API key prefix, and where the request came from."""

    key_prefix: str | None
    request: RequestContext
    person_id: str | None = None  # a person of the tenant acting in the console


def _field_view(row: Any) -> FieldView:
    return FieldView(
        id=row.public_id,
        kind=row.kind,
        document=int(row.document_n),
        page=row.page,
        x=row.x,
        y=row.y,
        w=float(row.w),
        h=float(row.h),
        anywhere=bool(row.anywhere),
        label=row.label,
        value=row.value,
    )


def _field_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "kind": row.kind,
        "document": int(row.document_n),
        "page": row.page,
        "x": row.x,
        "y": row.y,
        "width": float(row.w),
        "height": float(row.h),
        "anywhere": bool(row.anywhere),
        "label": row.label,
        "value": row.value,
    }


def _actor_party(party: Any) -> dict[str, Any]:
    return {
        "role": "party",
        "party_id": party.public_id,
        "name": party.name,
        "email": party.email,
        "phone": party.phone,
        "kind": party.kind,
        "organisation": party.organisation,
    }


def _actor_initiator(who: InitiatorContext) -> dict[str, Any]:
    if who.person_id is not None:
        return {"role": "initiator", "api_key_prefix": None, "person_id": who.person_id}
    return {"role": "initiator", "api_key_prefix": who.key_prefix}


SYSTEM_ACTOR = {"role": "system", "name": "sealtrail"}


class EnvelopeViews(EnvelopeStore):
    """Envelope rows as the initiator's JSON and as the party's signer view."""

    def _destination(self, party: Any) -> tuple[str, str]:
        if party.email:
            return "email", str(party.email)
        return "sms", str(party.phone)

    def _detail(self, loaded: _Loaded) -> dict[str, Any]:
        env = loaded.env
        turn = loaded.turn()
        base = f"/api/v1/envelopes/{env.public_id}"
        return {
            "id": env.public_id,
            "title": env.title,
            "message": env.message,
            "status": env.status,
            "order": env.order_mode,
            "created_at": _iso(env.created_at),
            "sent_at": _iso(env.sent_at),
            "completed_at": _iso(env.completed_at),
            "expires_at": _iso(env.expires_at),
            "reminders": (
                {"every_days": int(env.remind_every_days)} if env.remind_every_days else None
            ),
            "finished_at": _iso(env.finished_at),
            "finished_reason": env.finished_reason,
            "voided_at": _iso(env.voided_at),
            "voided_reason": env.voided_reason,
            "documents": [
                {
                    "n": int(d.n),
                    "name": d.name,
                    "pages": int(d.pages),
                    "sha256_original": d.sha256_original,
                    "sha256_current": d.sha256_current,
                    "sha256_void": d.sha256_void,
                    "url": f"{base}/documents/{int(d.n)}",
                }
                for d in loaded.documents
            ],
            "parties": [
                {
                    "id": p.public_id,
                    "name": p.name,
                    "email": p.email,
                    "phone": p.phone,
                    "kind": p.kind,
                    "organisation": p.organisation,
                    "seal_id": p.seal_id,
                    "role": p.role,
                    "order": int(p.routing_order),
                    "status": p.status,
                    "your_turn": p.status == PartyStatus.PENDING and p.routing_order == turn,
                    "notified": p.token_hash is not None,
                    "code_locked": bool(p.otp_locked),
                    "signed_at": _iso(p.signed_at),
                    "declined_at": _iso(p.declined_at),
                    "decline_reason": p.decline_reason,
                    "fields": [_field_json(f) for f in loaded.party_fields(int(p.id))],
                }
                for p in loaded.parties
            ],
        }

    def _view(self, party: Any, loaded: _Loaded) -> SignerView:
        now = self.clock()
        turn = loaded.turn()
        if party.status == PartyStatus.PENDING:
            status = "ready" if party.routing_order == turn else "waiting"
        else:
            status = party.status
        until = _aware(party.authenticated_until)
        channel, to = self._destination(party)
        return SignerView(
            envelope_id=loaded.env.public_id,
            title=loaded.env.title,
            message=loaded.env.message,
            envelope_status=loaded.env.status,
            party_id=party.public_id,
            party_name=party.name,
            party_kind=party.kind,
            organisation=party.organisation,
            party_status=status,
            your_turn=status == "ready",
            code_verified=until is not None and until > now,
            code_locked=bool(party.otp_locked),
            code_channel=channel,
            code_destination=mask_email(to) if channel == "email" else mask_phone(to),
            documents=tuple(
                DocumentView(int(d.n), d.name, int(d.pages), d.sha256_current)
                for d in loaded.documents
            ),
            fields=tuple(_field_view(f) for f in loaded.party_fields(int(party.id))),
            can_download=loaded.env.status == EnvelopeStatus.COMPLETED,
            waiting_for=tuple(
                p.name
                for p in loaded.parties
                if status == "waiting"
                and p.status == PartyStatus.PENDING
                and p.routing_order == turn
            ),
        )

    def _doc(self, loaded: _Loaded, document: int) -> Any:
        for d in loaded.documents:
            if int(d.n) == document:
                return d
        raise NotFoundError(
            f"the envelope has no document {document}", details={"document": document}
        )
