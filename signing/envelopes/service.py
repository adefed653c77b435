"""Envelopes: a contract sent to several parties who sign it in order, every step as evidence.

An envelope holds one or more PDF documents, parties (people, or organisations that sign with
their tenant seal) with a routing order (parties with the same order number form a parallel
group) and fields per party (signature, seal, date, text; at a fixed place or "anywhere").

States (the table is ``rules.ENVELOPE_TABLE``; docs/envelopes.md draws it)::

    draft --send--> sent --first signature--> in_progress --last signature--> completed
    sent | in_progress --decline--> declined      (a party declines, with a reason)
    sent | in_progress --withdraw--> withdrawn    (the initiator, before completion)
    sent | in_progress --expiry--> expired        (the expiry job, or lazily on access)
    completed --void--> voided                    (the original is kept; a VOID copy issued)

A draft can be deleted; nothing else can. Every status change goes through the table, and an
illegal one is a :class:`~signing.envelopes.rules.IllegalTransitionError` (a conflict) that
names the actions allowed from the current state.

Signer side: each party gets a link with a high-entropy token (``secrets.token_urlsafe(32)``,
only its SHA-256 is stored) that expires with the envelope. A party opens it, asks for a
one-time code (6 digits, SHA-256 with a per-code salt stored, valid 10 minutes, resend
throttled, at most 5 wrong tries then locked), enters it (authenticated for 30 minutes),
confirms intent and signs: an incremental PAdES signature with its own certificate.

The signer-side methods take the raw link token from the URL; the initiator-side methods
take the tenant. All of them are on :class:`EnvelopeService`, the one object the rest of
the code uses; the work is done by the package's modules, one responsibility each:

    rules.py       the state machine: (state, action) -> state, one table
    store.py       the tables, and reading one envelope with its documents, parties, fields
    views.py       the initiator's JSON detail and the party's signer view
    evidence.py    each step as a log event, its webhooks, its status change; expiry
    codes.py       signing links and one-time codes
    intake.py      creating a draft from a spec and its PDF documents
    initiator.py   reading, sending, reminding, withdrawing, voiding, deleting
    signer.py      a party's signature on every document it has fields in; declining; VOID stamp
    appearance.py  page geometry and what a party's signature shows
"""

from __future__ import annotations

from signing.envelopes.initiator import EnvelopeInitiator
from signing.envelopes.intake import EnvelopeIntake
from signing.envelopes.signer import EnvelopeSigner
from signing.envelopes.views import (
    DocumentView,
    FieldView,
    InitiatorContext,
    RequestContext,
    SignerView,
)

__all__ = [
    "DocumentView",
    "EnvelopeService",
    "FieldView",
    "InitiatorContext",
    "RequestContext",
    "SignerView",
]


class EnvelopeService(EnvelopeIntake, EnvelopeInitiator, EnvelopeSigner):
    """Envelopes of every tenant of one instance: the initiator and the signer side."""
