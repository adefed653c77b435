"""Signing links and one-time codes: a party's link, opening it, sending and checking its code."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import Connection, insert, select, update

from evidence_chain import db
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import iso as _iso
from evidence_chain.errors import (
    ConflictError,
    EvidenceError,
    GoneError,
    RateLimitedError,
    VerificationError,
)
from messages.service import Message
from signing.envelopes.evidence import EnvelopeEvidence
from signing.envelopes.notices import Sender, code_notice, link_notice
from signing.envelopes.rules import FINAL, EnvelopeStatus, PartyStatus
from signing.envelopes.store import ENVELOPE, PARTY, SUPERSEDED, _Loaded, hash_token
from signing.envelopes.views import RequestContext, _actor_party

CODE_TTL = dt.timedelta(minutes=10)
CODE_MAX_TRIES = 5
CODE_RESEND = dt.timedelta(seconds=60)
AUTH_TTL = dt.timedelta(minutes=30)
LOCKED = "too many wrong codes: this link is locked; ask the sender for a new link"


def _code_hash(salt: bytes, code: str) -> bytes:
    return hashlib.sha256(salt + code.encode("ascii")).digest()


class EnvelopeCodes(EnvelopeEvidence):
    """A party's link (a token of which only the hash is kept) and its one-time codes."""

    def _send_link(self, conn: Connection, loaded: _Loaded, party: Any, *, reminder: bool) -> str:
        """Issue a fresh link token for ``party`` (replacing any earlier one) and send it.

        The replaced token's hash is kept, so that the old link says it was superseded."""
        token = secrets.token_urlsafe(32)
        if party.token_hash is not None:
            conn.execute(
                insert(SUPERSEDED).values(
                    token_hash=bytes(party.token_hash),
                    party_id=party.id,
                    superseded_at=self.clock(),
                )
            )
        conn.execute(
            update(PARTY)
            .where(PARTY.c.id == party.id)
            .values(
                token_hash=hash_token(token),
                token_expires_at=loaded.env.expires_at,
                otp_tries=0,
                otp_locked=False,
                otp_hash=None,
                otp_salt=None,
            )
        )
        link = f"{self.settings.public_base_url}/sign/{token}"
        channel, to = self._destination(party)
        subject, body = link_notice(
            channel=channel,
            party_name=party.name,
            title=loaded.env.title,
            message=loaded.env.message,
            link=link,
            expires_at=loaded.env.expires_at,
            sender=Sender.of(conn, loaded.env.tenant_id),
            reminder=reminder,
        )
        self.notifier.send(conn, Message(channel, to, subject, body))
        return channel

    def _notify_turn(self, conn: Connection, loaded: _Loaded) -> list[str]:
        """Send links to the parties whose turn it is and who have none yet."""
        turn = loaded.turn()
        sent = []
        for party in loaded.parties:
            if (
                party.routing_order == turn
                and party.status == PartyStatus.PENDING
                and party.token_hash is None
            ):
                self._send_link(conn, loaded, party, reminder=False)
                sent.append(party.public_id)
        return sent

    def _open(self, token: str, *, finished_ok: bool = True) -> tuple[Any, _Loaded]:
        """The party and its envelope for a link; GoneError when the link no longer works."""
        with db.reading(self.engine) as conn:
            party = self._party_by_token(conn, token)
            env = conn.execute(select(ENVELOPE).where(ENVELOPE.c.id == party.envelope_id)).one()
        env = self._expire_if_due(env)
        now = self.clock()
        expires = _aware(party.token_expires_at)
        if env.status in FINAL:
            raise GoneError(
                f"this envelope is {env.status}; the link no longer works",
                details={"status": env.status},
            )
        if expires is not None and expires <= now:
            raise GoneError("this signing link has expired", details={"status": env.status})
        if env.status == EnvelopeStatus.COMPLETED and not finished_ok:
            raise GoneError("this envelope is completed; nothing is left to do here")
        with db.reading(self.engine) as conn:
            party = conn.execute(select(PARTY).where(PARTY.c.id == party.id)).one()
            return party, self._load(conn, env)

    def _party_for_code(self, conn: Connection, loaded: _Loaded, party_id: int) -> Any:
        """The party's row, read under the envelope's lock; RateLimitedError if it is locked."""
        self._lock_envelope(conn, int(loaded.env.id))
        party = conn.execute(select(PARTY).where(PARTY.c.id == party_id)).one()
        if party.otp_locked:
            raise RateLimitedError(LOCKED, details={"locked": True})
        return party

    def request_code(self, token: str, ctx: RequestContext) -> None:
        """Send the party a fresh one-time code; RateLimitedError if asked again too soon."""
        party, loaded = self._open(token, finished_ok=False)
        if party.status != PartyStatus.PENDING:
            raise ConflictError(f"you have already {party.status}; no code is needed")
        code = f"{secrets.randbelow(10**6):06d}"
        salt = secrets.token_bytes(16)
        with self.engine.begin() as conn:
            party = self._party_for_code(conn, loaded, int(party.id))
            now = self.clock()
            last = _aware(party.otp_sent_at)
            if last is not None and now - last < CODE_RESEND:
                wait = int((CODE_RESEND - (now - last)).total_seconds()) + 1
                raise RateLimitedError(
                    f"a code was sent less than {int(CODE_RESEND.total_seconds())} seconds ago; "
                    f"try again in {wait} s",
                    details={"retry_after": wait},
                )
            conn.execute(
                update(PARTY)
                .where(PARTY.c.id == party.id)
                .values(
                    otp_hash=_code_hash(salt, code),
                    otp_salt=salt,
                    otp_expires_at=now + CODE_TTL,
                    otp_sent_at=now,
                )
            )
            channel, to = self._destination(party)
            self._event(
                conn,
                loaded,
                "envelope.code_sent",
                _actor_party(party),
                ctx,
                {"channel": channel, "to": to, "expires_at": _iso(now + CODE_TTL)},
            )
            # Queued in the transaction that records it, sent once it has committed (with
            # retries): a rolled-back request sends nothing, and a slow mail server holds up
            # only this message, never the database.
            minutes = int(CODE_TTL.total_seconds() // 60)
            subject, body = code_notice(
                channel=channel, title=loaded.env.title, code=code, minutes=minutes
            )
            self.notifier.send(conn, Message(channel, to, subject, body))

    def verify_code(self, token: str, code: str, ctx: RequestContext) -> None:
        """Check the party's code.

        Wrong: VerificationError (422) with ``details={"tries_left": k}``; the fifth wrong
        try locks the code (RateLimitedError, 429). Accepted: the party is authenticated for
        30 minutes (server-side, on the party row).
        """
        party, loaded = self._open(token, finished_ok=False)
        code = (code or "").strip()
        outcome: EvidenceError | None = None
        with self.engine.begin() as conn:
            party = self._party_for_code(conn, loaded, int(party.id))
            now = self.clock()
            expires = _aware(party.otp_expires_at)
            if party.otp_hash is None or expires is None or expires <= now:
                raise VerificationError(
                    "no valid code: request a new one",
                    details={"tries_left": CODE_MAX_TRIES - int(party.otp_tries)},
                )
            good = (
                len(code) == 6
                and code.isdigit()
                and hmac.compare_digest(
                    _code_hash(bytes(party.otp_salt), code), bytes(party.otp_hash)
                )
            )
            actor = _actor_party(party)
            if good:
                conn.execute(
                    update(PARTY)
                    .where(PARTY.c.id == party.id)
                    .values(
                        otp_hash=None,
                        otp_salt=None,
                        otp_tries=0,
                        authenticated_until=now + AUTH_TTL,
                    )
                )
                self._event(conn, loaded, "envelope.code_accepted", actor, ctx, {})
                return
            tries = int(party.otp_tries) + 1
            locked = tries >= CODE_MAX_TRIES
            conn.execute(
                update(PARTY)
                .where(PARTY.c.id == party.id)
                .values(
                    otp_tries=tries, otp_locked=locked, otp_hash=None if locked else party.otp_hash
                )
            )
            self._event(conn, loaded, "envelope.code_rejected", actor, ctx, {"tries": tries})
            if locked:
                self._event(conn, loaded, "envelope.locked", actor, ctx, {"tries": tries})
                outcome = RateLimitedError(LOCKED, details={"locked": True, "tries_left": 0})
            else:
                outcome = VerificationError(
                    "the code is not correct",
                    details={"tries_left": CODE_MAX_TRIES - tries},
                )
        # Raised after the commit, so the wrong try is counted.
        raise outcome
