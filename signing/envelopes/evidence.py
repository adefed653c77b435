"""Each step of an envelope as evidence: its log event, its webhooks and its status; expiry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from evidence_chain import db
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import iso as _iso
from evidence_chain.events import format_time, parse_event
from signing.envelopes import rules
from signing.envelopes.rules import OPEN, EnvelopeAction, EnvelopeStatus, PartyAction, PartyStatus
from signing.envelopes.store import ENVELOPE, PARTY, _Loaded
from signing.envelopes.views import SYSTEM_ACTOR, EnvelopeViews, RequestContext
from webhooks import delivery as webhooks


class EnvelopeEvidence(EnvelopeViews):
    """Records each step of an envelope in the caller's transaction, and expires overdue ones."""

    def _event(
        self,
        conn: Connection,
        loaded: _Loaded,
        etype: str,
        actor: dict[str, Any],
        ctx: RequestContext | None,
        data: dict[str, Any],
    ) -> str:
        """Append one evidence event of the envelope in the caller's transaction.

        Atomicity: the ledger's sequencer runs inside this same transaction
        (``Ledger.append_in``), so a state change and its event commit together or not at
        all; nothing is acknowledged before the commit, and a retried request simply finds
        the state it left (or repeats the whole step).
        """
        body = {
            "envelope": loaded.env.public_id,
            **data,
            "ip": ctx.ip if ctx else None,
            "user_agent": ctx.user_agent if ctx else None,
        }
        event = parse_event(
            {
                "type": etype,
                "subject": f"envelope:{loaded.env.public_id}",
                "occurred_at": format_time(self.clock()),
                "actor": actor,
                "data": body,
            }
        )
        (receipt,) = self.ledger.append_in(
            conn, int(loaded.env.tenant_id), loaded.tenant_public_id, [event]
        )
        return receipt.event_id

    def _webhook(self, conn: Connection, loaded: _Loaded, event: str, **extra: Any) -> None:
        """Queue the tenant's webhook deliveries in the caller's transaction."""
        env = conn.execute(select(ENVELOPE).where(ENVELOPE.c.id == loaded.env.id)).one()
        payload: dict[str, Any] = {
            "envelope": {
                "id": env.public_id,
                "status": env.status,
                "title": env.title,
                "completed_at": _iso(env.completed_at),
            },
            **extra,
        }
        webhooks.enqueue(conn, int(env.tenant_id), event, payload)

    def _advance(
        self, conn: Connection, env_id: int, status: str, action: EnvelopeAction, **values: Any
    ) -> EnvelopeStatus:
        """Take the envelope from ``status`` by ``action`` to the state the table gives.

        The one way an envelope's status changes: IllegalTransitionError (naming the allowed
        actions) when the table has no such transition, or when the stored status is no
        longer ``status``. Bumps the version, and sets ``values`` (timestamps, reasons).
        """
        target = rules.advance(status, action)
        assert target is not None, "deleting a draft removes its rows; it sets no status"
        changed = conn.execute(
            update(ENVELOPE)
            .where(ENVELOPE.c.id == env_id, ENVELOPE.c.status == str(status))
            .values(status=target.value, version=ENVELOPE.c.version + 1, **values)
        ).rowcount
        if changed != 1:
            now = conn.execute(select(ENVELOPE.c.status).where(ENVELOPE.c.id == env_id)).scalar()
            rules.advance(str(now), action)  # raises from the state actually stored
            raise AssertionError(f"envelope {env_id} changed from {status} to {now} meanwhile")
        return target

    def _advance_party(
        self, conn: Connection, party_id: int, status: str, action: PartyAction, **values: Any
    ) -> PartyStatus:
        """Take a party from ``status`` by ``action`` to the state the party table gives.

        The one way a party's status changes; IllegalTransitionError as for an envelope.
        """
        target = rules.advance_party(status, action)
        changed = conn.execute(
            update(PARTY)
            .where(PARTY.c.id == party_id, PARTY.c.status == str(status))
            .values(status=target.value, **values)
        ).rowcount
        if changed != 1:
            now = conn.execute(select(PARTY.c.status).where(PARTY.c.id == party_id)).scalar()
            rules.advance_party(str(now), action)  # raises from the state actually stored
            raise AssertionError(f"party {party_id} changed from {status} to {now} meanwhile")
        return target

    def _expire_if_due(self, env_row: Any) -> Any:
        """Expire an open envelope past its expiry (lazily, on access); return the fresh row."""
        now = self.clock()
        expires = _aware(env_row.expires_at)
        if env_row.status not in OPEN or expires is None or expires > now:
            return env_row
        with self.engine.begin() as conn:
            row = self._lock_envelope(conn, int(env_row.id))
            if rules.allows(row.status, EnvelopeAction.EXPIRE):
                loaded = self._load(conn, row)
                self._advance(conn, int(row.id), row.status, EnvelopeAction.EXPIRE, finished_at=now)
                self._event(
                    conn,
                    loaded,
                    "envelope.expired",
                    SYSTEM_ACTOR,
                    None,
                    {"expires_at": _iso(expires), "status_before": row.status},
                )
                self._webhook(conn, loaded, "envelope.expired")
            return conn.execute(select(ENVELOPE).where(ENVELOPE.c.id == row.id)).one()

    def expire_due(self) -> int:
        """The expiry job: expire every open envelope past its expiry; return how many."""
        now = self.clock()
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(ENVELOPE).where(ENVELOPE.c.status.in_(OPEN), ENVELOPE.c.expires_at <= now)
            ).all()
        done = 0
        for row in rows:
            if self._expire_if_due(row).status == EnvelopeStatus.EXPIRED:
                done += 1
        return done

    def expire_due_for(self, tenant_id: int) -> None:
        """Expire the tenant's overdue open envelopes (so a listing shows them as expired)."""
        now = self.clock()
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(ENVELOPE).where(
                    ENVELOPE.c.tenant_id == tenant_id,
                    ENVELOPE.c.status.in_(OPEN),
                    ENVELOPE.c.expires_at <= now,
                )
            ).all()
        for row in rows:
            self._expire_if_due(row)
