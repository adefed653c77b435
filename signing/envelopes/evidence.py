"""Each step of an envelope as evidence: its log event, its webhooks and its status; expiry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from evidence_chain import db
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import iso as _iso
from evidence_chain.events import format_time, parse_event
from signing.envelopes.store import ENVELOPE, OPEN, _Loaded
from signing.envelopes.views import SYSTEM_ACTOR, EnvelopeViews, RequestContext
from webhooks import service as webhooks


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

    def _set_status(self, conn: Connection, env_id: int, status: str, **values: Any) -> None:
        conn.execute(
            update(ENVELOPE)
            .where(ENVELOPE.c.id == env_id)
            .values(status=status, version=ENVELOPE.c.version + 1, **values)
        )

    def _expire_if_due(self, env_row: Any) -> Any:
        """Expire an open envelope past its expiry (lazily, on access); return the fresh row."""
        now = self.clock()
        expires = _aware(env_row.expires_at)
        if env_row.status not in OPEN or expires is None or expires > now:
            return env_row
        with self.engine.begin() as conn:
            row = self._lock_envelope(conn, int(env_row.id))
            if row.status in OPEN:
                loaded = self._load(conn, row)
                self._set_status(conn, int(row.id), "expired", finished_at=now)
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
            if self._expire_if_due(row).status == "expired":
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
