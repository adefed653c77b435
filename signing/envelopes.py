"""Envelopes: a contract sent to several parties who sign it in order, every step as evidence.

An envelope holds one or more PDF documents, parties (people, or organisations that sign with
their tenant seal) with a routing order (parties with the same order number form a parallel
group) and fields per party (signature, seal, date, text; at a fixed place or "anywhere").

States::

    draft --send--> sent --first signature--> in_progress --last signature--> completed
    sent | in_progress --decline--> declined      (a party declines, with a reason)
    sent | in_progress --withdraw--> withdrawn    (the initiator, before completion)
    sent | in_progress --expiry--> expired        (the expiry job, or lazily on access)
    completed --void--> voided                    (the original is kept; a VOID copy issued)

A draft can be deleted; nothing else can. Every transition is checked here and an illegal one
is a :class:`ConflictError` saying why.

Signer side: each party gets a link with a high-entropy token (``secrets.token_urlsafe(32)``,
only its SHA-256 is stored) that expires with the envelope. A party opens it, asks for a
one-time code (6 digits, SHA-256 with a per-code salt stored, valid 10 minutes, resend
throttled, at most 5 wrong tries then locked), enters it (authenticated for 30 minutes),
confirms intent and signs: an incremental PAdES signature with its own certificate.

The signer-side methods take the raw link token from the URL; the initiator-side methods
take the tenant. All of them are on :class:`EnvelopeService`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "DocumentView",
    "EnvelopeService",
    "FieldView",
    "RequestContext",
    "SignerView",
]


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


class EnvelopeService:
    """Envelopes of every tenant of one instance: the initiator and the signer side."""

    @classmethod
    def for_app(cls, app: Flask) -> EnvelopeService:
        """The app's envelope service, made once and cached in ``app.extensions``."""
        raise NotImplementedError

    # --- signer side: ``token`` is the raw link token from the URL --------------------------
    # Unknown token: NotFoundError. Expired link or envelope, or an envelope that is no longer
    # open (withdrawn, declined, expired, voided): GoneError (410). A completed envelope stays
    # readable (signer_view, document_pdf, download) until the link expires.

    def signer_view(self, token: str) -> SignerView:
        """The party's view of its envelope, without recording anything."""
        raise NotImplementedError

    def open_link(self, token: str, ctx: RequestContext) -> SignerView:
        """The party's view, recording an ``envelope.link_opened`` event."""
        raise NotImplementedError

    def record_view(self, token: str, document: int, ctx: RequestContext) -> None:
        """Record that the party viewed document ``document`` (``envelope.document_viewed``)."""
        raise NotImplementedError

    def document_pdf(self, token: str, document: int) -> bytes:
        """The current PDF of document ``document`` (1-based) as the party may see it."""
        raise NotImplementedError

    def request_code(self, token: str, ctx: RequestContext) -> None:
        """Send the party a fresh one-time code; RateLimitedError if asked again too soon."""
        raise NotImplementedError

    def verify_code(self, token: str, code: str, ctx: RequestContext) -> None:
        """Check the party's code.

        Wrong: VerificationError (422) with ``details={"tries_left": k}``; the fifth wrong
        try locks the code (RateLimitedError, 429). Accepted: the party is authenticated for
        30 minutes (server-side, on the party row).
        """
        raise NotImplementedError

    def sign(
        self,
        token: str,
        ctx: RequestContext,
        *,
        placements: Mapping[str, tuple[int, float, float]],
        texts: Mapping[str, str],
        intent: bool,
    ) -> SignerView:
        """Sign every document the party has a signature or seal field in.

        ``placements``: field id -> (page, x, y) for the party's "anywhere" fields (PDF
        points, bottom-left corner of the field); ``texts``: values of its text fields.
        ForbiddenError before the code is accepted; ConflictError "not your turn" while an
        earlier group is signing; ValidationError if ``intent`` is false or a placement or
        text is missing.
        """
        raise NotImplementedError

    def decline(self, token: str, reason: str, ctx: RequestContext) -> SignerView:
        """Decline to sign, with a reason: the envelope becomes ``declined``."""
        raise NotImplementedError

    def download(self, token: str, ctx: RequestContext) -> tuple[str, bytes]:
        """The final PDF (file name, bytes) once the envelope is completed (one document),
        or a ZIP of all of them; ConflictError before completion."""
        raise NotImplementedError
