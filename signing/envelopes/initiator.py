"""The initiator's side: reading, listing, sending, reminding, withdrawing, voiding, deleting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update

from evidence_chain import db
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import iso as _iso
from evidence_chain.errors import ConflictError, NotFoundError, RateLimitedError, ValidationError
from evidence_chain.tenants import TenantRef
from signing.envelopes import rules, search
from signing.envelopes.codes import EnvelopeCodes
from signing.envelopes.intake import checked_text
from signing.envelopes.rules import STATUSES, EnvelopeAction, EnvelopeStatus, PartyStatus
from signing.envelopes.search import unindex_envelope
from signing.envelopes.signer import document_timestamp, stamp_void
from signing.envelopes.store import DOCUMENT, ENVELOPE, FIELD, PARTY
from signing.envelopes.views import InitiatorContext, _actor_initiator

REMIND_INTERVAL = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class SearchPage:
    """A page of envelopes: the summaries, the cursor of the next page (None on the last),
    the number of all matches when asked for, and whether more follow."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None
    more: bool


class EnvelopeInitiator(EnvelopeCodes):
    """What the tenant does with its envelopes after creating them."""

    def get(self, tenant: TenantRef, envelope_id: str) -> dict[str, Any]:
        """One of the tenant's envelopes with the status of every party."""
        with db.reading(self.engine) as conn:
            row = self._tenant_envelope(conn, tenant.id, envelope_id)
        row = self._expire_if_due(row)
        with db.reading(self.engine) as conn:
            return self._detail(self._load(conn, row))

    def list_envelopes(
        self,
        tenant: TenantRef,
        *,
        status: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The tenant's envelopes, newest first, optionally of one status; paged by ``after``."""
        if status is not None and status not in STATUSES:
            raise ValidationError(
                f"status is one of {', '.join(STATUSES)}", details={"field": "status"}
            )
        self.expire_due_for(tenant.id)
        page = self.search(
            tenant, search.Filters(status=(status,) if status else ()), cursor=after, limit=limit
        )
        return page.items, page.next_cursor

    def search(
        self,
        tenant: TenantRef,
        filters: search.Filters,
        *,
        cursor: str | None = None,
        page: int | None = None,
        limit: int = 50,
        total: bool = False,
        extra: Any = None,
    ) -> SearchPage:
        """The tenant's envelopes that match ``filters``, newest first: after the envelope
        ``cursor`` (stable while envelopes are added), or the ``page``-th page (from 1) of
        ``limit``. ``total`` counts every match as well; ``extra`` is one more condition."""
        self.expire_due_for(tenant.id)
        with db.reading(self.engine) as conn:
            query = search.query(conn, tenant.id, filters)
            if extra is not None:
                query = query.where(extra)
            counted = None
            if total:
                inner = query.with_only_columns(ENVELOPE.c.id).subquery()
                counted = int(conn.execute(select(func.count()).select_from(inner)).scalar_one())
            if cursor:
                anchor = self._tenant_envelope(conn, tenant.id, cursor)
                query = query.where(ENVELOPE.c.id < anchor.id)
            query = query.order_by(ENVELOPE.c.id.desc()).limit(limit + 1)
            if page is not None and page > 1:
                query = query.offset((page - 1) * limit)
            rows = conn.execute(query).all()
            more = len(rows) > limit
            rows = rows[:limit]
            items = self._summaries(conn, rows)
        return SearchPage(items, rows[-1].public_id if more and rows else None, counted, more)

    def _summaries(self, conn: Any, rows: Sequence[Any]) -> list[dict[str, Any]]:
        by_env: dict[int, list[Any]] = {int(r.id): [] for r in rows}
        if by_env:
            for p in conn.execute(
                select(PARTY.c.envelope_id, PARTY.c.name, PARTY.c.status)
                .where(PARTY.c.envelope_id.in_(list(by_env)))
                .order_by(PARTY.c.id)
            ):
                by_env[int(p.envelope_id)].append(p)
        return [
            {
                "id": row.public_id,
                "title": row.title,
                "status": row.status,
                "created_at": _iso(row.created_at),
                "sent_at": _iso(row.sent_at),
                "completed_at": _iso(row.completed_at),
                "expires_at": _iso(row.expires_at),
                "parties": len(by_env[int(row.id)]),
                "signed": sum(1 for p in by_env[int(row.id)] if p.status == PartyStatus.SIGNED),
                "party_names": [p.name for p in by_env[int(row.id)]],
            }
            for row in rows
        ]

    def send(self, tenant: TenantRef, envelope_id: str, who: InitiatorContext) -> dict[str, Any]:
        """Send a draft: the parties of the first group get their links."""
        with db.reading(self.engine) as conn:
            row = self._tenant_envelope(conn, tenant.id, envelope_id)
        row = self._expire_if_due(row)
        with self.engine.begin() as conn:
            row = self._lock_envelope(conn, int(row.id))
            rules.advance(row.status, EnvelopeAction.SEND)  # refuses anything but a draft
            if _aware(row.expires_at) <= self.clock():
                raise ConflictError("the envelope's expiry has passed; create a new one")
            now = self.clock()
            self._advance(conn, int(row.id), row.status, EnvelopeAction.SEND, sent_at=now)
            loaded = self._load(conn, self._lock_envelope(conn, int(row.id)))
            notified = self._notify_turn(conn, loaded)
            self._event(
                conn,
                loaded,
                "envelope.sent",
                _actor_initiator(who),
                who.request,
                {
                    "notified": notified,
                    "documents": [
                        {"n": int(d.n), "name": d.name, "sha256": d.sha256_current}
                        for d in loaded.documents
                    ],
                },
            )
            self._webhook(conn, loaded, "envelope.sent")
            return self._detail(self._load(conn, self._lock_envelope(conn, int(row.id))))

    def remind(
        self,
        tenant: TenantRef,
        envelope_id: str,
        who: InitiatorContext,
        party_ids: Sequence[str] | None = None,
    ) -> list[str]:
        """Send the parties whose turn it is a new link (the old one stops working).

        A reminder also unlocks a party locked out by wrong codes. At most one reminder per
        party a minute (RateLimitedError).
        """
        with db.reading(self.engine) as conn:
            row = self._tenant_envelope(conn, tenant.id, envelope_id)
        row = self._expire_if_due(row)
        with self.engine.begin() as conn:
            row = self._lock_envelope(conn, int(row.id))
            rules.advance(row.status, EnvelopeAction.REMIND)  # sent or in progress: unchanged
            loaded = self._load(conn, row)
            turn = loaded.turn()
            targets = [
                p
                for p in loaded.parties
                if p.status == PartyStatus.PENDING and p.routing_order == turn
            ]
            if party_ids:
                known = {p.public_id: p for p in loaded.parties}
                for pid in party_ids:
                    if pid not in known:
                        raise NotFoundError(f"no party {pid!r} in this envelope")
                    if known[pid] not in targets:
                        raise ConflictError(
                            f"party {pid} cannot be reminded: it is not its turn or it has finished"
                        )
                targets = [known[pid] for pid in party_ids]
            now = self.clock()
            for p in targets:
                last = _aware(p.reminded_at)
                if last is not None and now - last < REMIND_INTERVAL:
                    wait = int((REMIND_INTERVAL - (now - last)).total_seconds()) + 1
                    raise RateLimitedError(
                        f"party {p.public_id} was reminded less than a minute ago",
                        details={"retry_after": wait},
                    )
            for p in targets:
                channel = self._send_link(conn, loaded, p, reminder=True)
                conn.execute(update(PARTY).where(PARTY.c.id == p.id).values(reminded_at=now))
                self._event(
                    conn,
                    loaded,
                    "envelope.reminded",
                    _actor_initiator(who),
                    who.request,
                    {"party_id": p.public_id, "channel": channel},
                )
            return [p.public_id for p in targets]

    def remind_due(self) -> int:
        """The reminder job: remind every party whose turn it is in an envelope that asks for
        automatic reminders, once its ``every_days`` have passed since its turn began or it
        was last reminded (by hand or automatically); return how many were reminded.

        Each reminder is an ``envelope.reminded`` event (``automatic: true``, the service as
        actor) sent like a manual one; never more often than the envelope asks, whatever the
        job's own interval.
        """
        now = self.clock()
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(ENVELOPE.c.id).where(
                    ENVELOPE.c.remind_every_days.is_not(None),
                    ENVELOPE.c.status.in_(
                        (EnvelopeStatus.SENT.value, EnvelopeStatus.IN_PROGRESS.value)
                    ),
                    ENVELOPE.c.expires_at > now,
                )
            ).all()
        reminded = 0
        for (envelope_id,) in rows:
            with self.engine.begin() as conn:
                row = self._lock_envelope(conn, int(envelope_id))
                if row.status not in (EnvelopeStatus.SENT, EnvelopeStatus.IN_PROGRESS):
                    continue  # finished since it was read
                loaded = self._load(conn, row)
                every = dt.timedelta(days=int(row.remind_every_days))
                turn = loaded.turn()
                began = max(
                    [_aware(row.sent_at)]
                    + [
                        _aware(p.signed_at)
                        for p in loaded.parties
                        if p.routing_order < turn and p.signed_at is not None
                    ]
                )
                for p in loaded.parties:
                    if p.status != PartyStatus.PENDING or p.routing_order != turn:
                        continue
                    last = max(began, _aware(p.reminded_at) or began)
                    if now - last < every:
                        continue
                    channel = self._send_link(conn, loaded, p, reminder=True)
                    conn.execute(update(PARTY).where(PARTY.c.id == p.id).values(reminded_at=now))
                    self._event(
                        conn,
                        loaded,
                        "envelope.reminded",
                        {"role": "system", "name": "automatic reminder"},
                        None,
                        {"party_id": p.public_id, "channel": channel, "automatic": True},
                    )
                    reminded += 1
        return reminded

    def withdraw(
        self, tenant: TenantRef, envelope_id: str, reason: str | None, who: InitiatorContext
    ) -> dict[str, Any]:
        """Withdraw a sent or in-progress envelope; every link stops working."""
        reason = checked_text(reason, "reason", 1000)
        with db.reading(self.engine) as conn:
            row = self._tenant_envelope(conn, tenant.id, envelope_id)
        row = self._expire_if_due(row)
        with self.engine.begin() as conn:
            row = self._lock_envelope(conn, int(row.id))
            loaded = self._load(conn, row)
            self._advance(
                conn,
                int(row.id),
                row.status,
                EnvelopeAction.WITHDRAW,
                finished_at=self.clock(),
                finished_reason=reason,
            )
            self._event(
                conn,
                loaded,
                "envelope.withdrawn",
                _actor_initiator(who),
                who.request,
                {"reason": reason, "status_before": row.status},
            )
            self._webhook(conn, loaded, "envelope.withdrawn", reason=reason)
            return self._detail(self._load(conn, self._lock_envelope(conn, int(row.id))))

    def void(
        self, tenant: TenantRef, envelope_id: str, reason: str | None, who: InitiatorContext
    ) -> dict[str, Any]:
        """Void a completed envelope: the signed originals stay; each document gets a VOID copy
        (``VOID`` and the reason on every page, then a document time-stamp)."""
        text = checked_text(reason, "reason", 1000, required=True)
        assert text is not None
        with db.reading(self.engine) as conn:
            row = self._tenant_envelope(conn, tenant.id, envelope_id)
            rules.advance(row.status, EnvelopeAction.VOID)  # before the VOID copies are made
            docs = conn.execute(
                select(DOCUMENT).where(DOCUMENT.c.envelope_id == row.id).order_by(DOCUMENT.c.n)
            ).all()
        copies = []
        for d in docs:
            pdf = self.blobs.get(d.sha256_current)
            banner = f"VOID - voided on {self.clock().date().isoformat()}: {text}"[:160]
            void_pdf = document_timestamp(stamp_void(pdf, banner), self.signing)
            copies.append((d, self.blobs.put(void_pdf)))
        with self.engine.begin() as conn:
            row = self._lock_envelope(conn, int(row.id))
            loaded = self._load(conn, row)
            for d, sha in copies:
                conn.execute(update(DOCUMENT).where(DOCUMENT.c.id == d.id).values(sha256_void=sha))
            self._advance(
                conn,
                int(row.id),
                row.status,
                EnvelopeAction.VOID,
                voided_at=self.clock(),
                voided_reason=text,
            )
            self._event(
                conn,
                loaded,
                "envelope.voided",
                _actor_initiator(who),
                who.request,
                {
                    "reason": text,
                    "documents": [
                        {
                            "n": int(d.n),
                            "name": d.name,
                            "sha256_before": d.sha256_current,
                            "sha256_after": sha,
                            "sha256_original_kept": d.sha256_current,
                        }
                        for d, sha in copies
                    ],
                },
            )
            self._webhook(conn, loaded, "envelope.voided", reason=text)
            return self._detail(self._load(conn, self._lock_envelope(conn, int(row.id))))

    def delete(self, tenant: TenantRef, envelope_id: str) -> None:
        """Delete a draft (never sent, so nothing of it is evidence beyond its creation)."""
        with self.engine.begin() as conn:
            row = self._tenant_envelope(conn, tenant.id, envelope_id)
            row = self._lock_envelope(conn, int(row.id))
            rules.advance(row.status, EnvelopeAction.DELETE)  # a draft only: its rows go
            conn.execute(delete(FIELD).where(FIELD.c.envelope_id == row.id))
            conn.execute(delete(PARTY).where(PARTY.c.envelope_id == row.id))
            conn.execute(delete(DOCUMENT).where(DOCUMENT.c.envelope_id == row.id))
            unindex_envelope(conn, int(row.id))
            conn.execute(delete(ENVELOPE).where(ENVELOPE.c.id == row.id))

    def document(
        self,
        tenant: TenantRef,
        envelope_id: str,
        n: int,
        version: str,
        who: InitiatorContext,
    ) -> tuple[str, bytes, str]:
        """A document's PDF: ``current`` (default), ``original`` or ``void``; records a download."""
        if version not in ("current", "original", "void"):
            raise ValidationError(
                "version is current, original or void", details={"field": "version"}
            )
        with db.reading(self.engine) as conn:
            row = self._tenant_envelope(conn, tenant.id, envelope_id)
            doc = conn.execute(
                select(DOCUMENT).where(DOCUMENT.c.envelope_id == row.id, DOCUMENT.c.n == n)
            ).first()
        if doc is None:
            raise NotFoundError(f"envelope {envelope_id} has no document {n}")
        sha = {
            "current": doc.sha256_current,
            "original": doc.sha256_original,
            "void": doc.sha256_void,
        }[version]
        if sha is None:
            raise NotFoundError(
                "there is no VOID copy: the envelope has not been voided",
                details={"version": version},
            )
        pdf = self.blobs.get(sha)
        if row.status != EnvelopeStatus.DRAFT:
            with self.engine.begin() as conn:
                loaded = self._load(conn, row)
                self._event(
                    conn,
                    loaded,
                    "envelope.downloaded",
                    _actor_initiator(who),
                    who.request,
                    {"document": n, "version": version, "sha256": sha},
                )
        name = doc.name if version == "current" else f"{version}-{doc.name}"
        return name, pdf, sha
