"""Envelope tables and how they are read: the rows of one envelope, its lock, link tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select

from evidence_chain.blobs import BlobStore, blob_store_for
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import iso as _iso
from evidence_chain.clock import utcnow as _utcnow
from evidence_chain.config import Settings
from evidence_chain.errors import NotFoundError
from evidence_chain.ledger import Ledger
from evidence_chain.models import Tenant
from messages.service import Notifier, notifier_for
from signing.envelopes.models import (
    Envelope,
    EnvelopeDocument,
    EnvelopeField,
    EnvelopeParty,
    EnvelopeSupersededLink,
)
from signing.envelopes.rules import OPEN, PartyStatus
from signing.errors import LinkSupersededError
from signing.models import Seal

if TYPE_CHECKING:
    from signing.service import SigningService


ENVELOPE = Envelope.__table__  # type: ignore[attr-defined]
DOCUMENT = EnvelopeDocument.__table__  # type: ignore[attr-defined]
PARTY = EnvelopeParty.__table__  # type: ignore[attr-defined]
FIELD = EnvelopeField.__table__  # type: ignore[attr-defined]
SUPERSEDED = EnvelopeSupersededLink.__table__  # type: ignore[attr-defined]
TENANT = Tenant.__table__  # type: ignore[attr-defined]
SEAL = Seal.__table__  # type: ignore[attr-defined]

Clock = Callable[[], dt.datetime]


def hash_token(token: str) -> bytes:
    """The stored form of a signer link token (256 bits of randomness: a plain hash suffices)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class _Loaded:
    """One envelope with its tenant, documents, parties and fields, read in one go."""

    env: Any
    tenant_public_id: str
    documents: list[Any]
    parties: list[Any]
    fields: list[Any]

    def party_fields(self, party_id: int) -> list[Any]:
        """The fields of one party, in creation order."""
        return [f for f in self.fields if f.party_id == party_id]

    def turn(self) -> int | None:
        """The routing order whose parties may sign now (None when nobody may)."""
        if self.env.status not in OPEN:
            return None
        pending = [p.routing_order for p in self.parties if p.status == PartyStatus.PENDING]
        return min(pending) if pending else None


class EnvelopeStore:
    """Where envelopes live: the engine, the blob store and the readers of one envelope."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        ledger: Ledger,
        signing: Callable[[], SigningService],
        *,
        blobs: BlobStore | None = None,
        notifier: Notifier | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.ledger = ledger
        self._signing = signing
        self.blobs = blobs or blob_store_for(settings.home)
        self.notifier = notifier or notifier_for(settings)
        self.clock = clock
        self._postgres = engine.dialect.name == "postgresql"

    @property
    def signing(self) -> SigningService:
        """The signing engine (opened on first use)."""
        return self._signing()

    def _load(self, conn: Connection, env_row: Any) -> _Loaded:
        tenant = conn.execute(
            select(TENANT.c.public_id).where(TENANT.c.id == env_row.tenant_id)
        ).scalar_one()
        docs = conn.execute(
            select(DOCUMENT).where(DOCUMENT.c.envelope_id == env_row.id).order_by(DOCUMENT.c.n)
        ).all()
        parties = conn.execute(
            select(PARTY).where(PARTY.c.envelope_id == env_row.id).order_by(PARTY.c.id)
        ).all()
        fields_ = conn.execute(
            select(FIELD).where(FIELD.c.envelope_id == env_row.id).order_by(FIELD.c.id)
        ).all()
        return _Loaded(env_row, str(tenant), list(docs), list(parties), list(fields_))

    def _lock_envelope(self, conn: Connection, envelope_id: int) -> Any:
        # SQLite: every write transaction is BEGIN IMMEDIATE already (evidence_chain.db), so
        # it is serialised; PostgreSQL: a row lock on the envelope serialises its changes.
        query = select(ENVELOPE).where(ENVELOPE.c.id == envelope_id)
        if self._postgres:
            query = query.with_for_update()
        return conn.execute(query).one()

    def _tenant_envelope(self, conn: Connection, tenant_id: int, envelope_id: str) -> Any:
        row = conn.execute(
            select(ENVELOPE).where(
                ENVELOPE.c.public_id == envelope_id, ENVELOPE.c.tenant_id == tenant_id
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no envelope {envelope_id!r}", details={"envelope": envelope_id})
        return row

    def _party_by_token(self, conn: Connection, token: str) -> Any:
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            raise NotFoundError("unknown signing link")
        digest = hash_token(token)
        row = conn.execute(select(PARTY).where(PARTY.c.token_hash == digest)).first()
        if row is None:
            old = conn.execute(select(SUPERSEDED).where(SUPERSEDED.c.token_hash == digest)).first()
            if old is not None:
                raise LinkSupersededError(
                    "this signing link was replaced by a newer one; open the link in the most "
                    "recent message you received",
                    details={"superseded_at": _iso(_aware(old.superseded_at))},
                )
            raise NotFoundError("unknown signing link")
        return row
