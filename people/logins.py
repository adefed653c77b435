"""Logins and console sessions: password, optional TOTP second factor, throttle, expiry.

A session is a row of ``person_session``; the browser's cookie holds a random id whose SHA-256
is the row's key. A session ends after :data:`IDLE` without a request or :data:`ABSOLUTE`
after the login, whichever comes first, when its person logs out (or out everywhere), sets a
new password or is removed. A login with a second factor first makes a short ``totp`` stage
session that can do nothing but finish the login; finishing it makes a new session (new id).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update

from evidence_chain import db
from evidence_chain.errors import AuthenticationError, ValidationError
from evidence_chain.keystore import MasterKey
from evidence_chain.ledger import Ledger
from people import credentials, throttle
from people.models import PERSON, RECOVERY, SESSION
from people.records import (
    Authenticated,
    ClientContext,
    PersonView,
    actor_of,
    aware,
    load,
    record,
)

IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
SECOND_FACTOR_TIME = timedelta(minutes=5)
TOUCH_EVERY = timedelta(seconds=60)
MAX_UA = 512


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LoginResult:
    """A started session: its cookie value, and whether it still needs the second factor."""

    cookie: str
    stage: str
    """``full``, or ``totp`` (the second factor is still to come)."""
    person: PersonView


@dataclass(frozen=True)
class SessionView:
    """One of a person's open sessions."""

    public_id: str
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


def _bad_credentials() -> AuthenticationError:
    return AuthenticationError("wrong email or password", details={"reason": "credentials"})


class LoginService:
    """Logins, sessions and second factors of every person of one instance."""

    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        master: MasterKey,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.master = master
        self.clock = clock

    # --- login ---------------------------------------------------------------------------

    def login(self, email: str, password: str, ctx: ClientContext) -> LoginResult:
        """Check email and password; start a session (``totp`` stage if the person has one).

        AuthenticationError (reason ``credentials``) for a wrong email or password, whichever
        it is; RateLimitedError (reason ``locked``, ``unlock_at``) while the account or the
        client address is locked.
        """
        now = self.clock()
        normalized = (email or "").strip().lower()[: credentials.EMAIL_MAX]
        keys = {
            "account": throttle.account_key(normalized),
            "address": throttle.address_key(ctx.ip),
        }
        with db.reading(self.engine) as conn:
            throttle.check(conn, keys, now)
            person = load(conn, email=normalized)
            row = conn.execute(
                select(PERSON.c.password_hash).where(PERSON.c.email == normalized)
            ).first()
        stored = row.password_hash if row is not None and person is not None else None
        if person is not None and person.status != "active":
            stored = None
        if not credentials.verify_password(stored, password or ""):
            self._failed(keys, person if stored else None, ctx, "password")
            raise _bad_credentials()
        assert person is not None and stored is not None
        rehash = credentials.hash_password(password) if credentials.needs_rehash(stored) else None
        stage = "totp" if person.totp_enabled else "full"
        with self.engine.begin() as conn:
            throttle.clear(conn, keys["account"])
            if rehash:
                conn.execute(
                    update(PERSON).where(PERSON.c.id == person.id).values(password_hash=rehash)
                )
            cookie = self._start(conn, person, stage, ctx, now)
            if stage == "full":
                record(
                    self.ledger,
                    conn,
                    person,
                    "person.login",
                    actor_of(person),
                    ctx,
                    now,
                    {"method": "password"},
                )
        return LoginResult(cookie, stage, person)

    def _failed(
        self, keys: dict[str, bytes], person: PersonView | None, ctx: ClientContext, factor: str
    ) -> None:
        """Count a failure for the account and the address; record it (and any lock)."""
        now = self.clock()
        with self.engine.begin() as conn:
            account = throttle.fail(conn, keys["account"], throttle.ACCOUNT_LIMIT, now)
            address = throttle.fail(conn, keys["address"], throttle.ADDRESS_LIMIT, now)
            if person is not None:
                record(
                    self.ledger,
                    conn,
                    person,
                    "person.login_failed",
                    actor_of(person),
                    ctx,
                    now,
                    {"factor": factor, "failures": account.failures},
                )
                for scope, failure in (("account", account), ("address", address)):
                    if failure.locked_until is not None:
                        record(
                            self.ledger,
                            conn,
                            person,
                            "person.locked",
                            actor_of(person),
                            ctx,
                            now,
                            {"scope": scope, "until": failure.locked_until.isoformat()},
                        )
        for scope, failure in (("account", account), ("address", address)):
            if failure.locked_until is not None:
                raise throttle.locked_error(scope, failure.locked_until)

    def second_factor(self, cookie: str, code: str, ctx: ClientContext) -> LoginResult:
        """Finish a login with a TOTP code or a recovery code; the session gets a new id."""
        now = self.clock()
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(SESSION).where(SESSION.c.id_hash == credentials.sha256(cookie))
            ).first()
            expires = aware(row.expires_at) if row is not None else None
            if (
                row is None
                or row.stage != "totp"
                or row.revoked_at is not None
                or expires is None
                or expires <= now
            ):
                raise AuthenticationError(
                    "log in again: the time for the second step ran out",
                    details={"reason": "session"},
                )
            person = load(conn, id=row.person_id)
            secret_row = conn.execute(
                select(PERSON.c.totp_blob, PERSON.c.totp_last_counter).where(
                    PERSON.c.id == row.person_id
                )
            ).one()
            keys = {
                "account": throttle.account_key(person.email if person else ""),
                "address": throttle.address_key(ctx.ip),
            }
            throttle.check(conn, keys, now)
        if person is None or person.status != "active" or secret_row.totp_blob is None:
            raise AuthenticationError("log in again", details={"reason": "session"})
        secret = credentials.open_totp(secret_row.totp_blob, person.public_id, self.master)
        step = credentials.totp_counter(secret, code, now, secret_row.totp_last_counter)
        recovery_id = None
        if step is None:
            recovery_id = self._recovery_code(person, code)
        if step is None and recovery_id is None:
            self._failed(keys, person, ctx, "totp")
            raise AuthenticationError("that code is not right", details={"reason": "code"})
        with self.engine.begin() as conn:
            if step is not None:
                done = conn.execute(
                    update(PERSON)
                    .where(PERSON.c.id == person.id)
                    .where(
                        (PERSON.c.totp_last_counter.is_(None)) | (PERSON.c.totp_last_counter < step)
                    )
                    .values(totp_last_counter=step)
                ).rowcount
            else:
                done = conn.execute(
                    update(RECOVERY)
                    .where(RECOVERY.c.id == recovery_id, RECOVERY.c.used_at.is_(None))
                    .values(used_at=now)
                ).rowcount
            if done != 1:  # the same code raced in twice: only the first one counts
                raise AuthenticationError("that code is not right", details={"reason": "code"})
            conn.execute(update(SESSION).where(SESSION.c.id == row.id).values(revoked_at=now))
            throttle.clear(conn, keys["account"])
            new = self._start(conn, person, "full", ctx, now)
            method = "password+totp" if step is not None else "password+recovery_code"
            record(
                self.ledger,
                conn,
                person,
                "person.login",
                actor_of(person),
                ctx,
                now,
                {"method": method},
            )
        return LoginResult(new, "full", person)

    def _recovery_code(self, person: PersonView, code: str) -> int | None:
        digest = credentials.sha256(credentials.normalize_recovery_code(code))
        with db.reading(self.engine) as conn:
            found = conn.execute(
                select(RECOVERY.c.id).where(
                    RECOVERY.c.person_id == person.id,
                    RECOVERY.c.code_hash == digest,
                    RECOVERY.c.used_at.is_(None),
                )
            ).first()
        return int(found.id) if found is not None else None

    def _start(
        self, conn: Connection, person: PersonView, stage: str, ctx: ClientContext, now: datetime
    ) -> str:
        cookie = credentials.new_token()
        lifetime = ABSOLUTE if stage == "full" else SECOND_FACTOR_TIME
        ua = ctx.user_agent[:MAX_UA] if ctx.user_agent else None
        conn.execute(
            insert(SESSION).values(
                public_id="ss_" + secrets.token_hex(8),
                person_id=person.id,
                id_hash=credentials.sha256(cookie),
                stage=stage,
                created_at=now,
                last_seen_at=now,
                expires_at=now + lifetime,
                ip=(ctx.ip or "")[:64] or None,
                user_agent=ua,
            )
        )
        return cookie

    # --- sessions ------------------------------------------------------------------------

    def authenticate(self, cookie: str | None) -> Authenticated | None:
        """The person of a full, live session cookie, or None; refreshes its idle time."""
        if not cookie or len(cookie) > 200:
            return None
        now = self.clock()
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(SESSION).where(SESSION.c.id_hash == credentials.sha256(cookie))
            ).first()
            if row is None or row.stage != "full" or row.revoked_at is not None:
                return None
            last_seen = aware(row.last_seen_at)
            expires = aware(row.expires_at)
            assert last_seen is not None and expires is not None
            if expires <= now or now - last_seen > IDLE:
                return None
            person = load(conn, id=row.person_id)
        if person is None or person.status != "active":
            return None
        if now - last_seen > TOUCH_EVERY:
            with self.engine.begin() as conn:
                conn.execute(update(SESSION).where(SESSION.c.id == row.id).values(last_seen_at=now))
        return Authenticated(person, int(row.id), row.public_id)

    def logout(self, cookie: str | None) -> None:
        """End the session of ``cookie`` (nothing if there is none)."""
        if not cookie:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(SESSION)
                .where(SESSION.c.id_hash == credentials.sha256(cookie))
                .where(SESSION.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )

    def sessions(self, who: Authenticated) -> list[SessionView]:
        """The person's live sessions, newest first."""
        now = self.clock()
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(SESSION)
                .where(
                    SESSION.c.person_id == who.person.id,
                    SESSION.c.revoked_at.is_(None),
                    SESSION.c.stage == "full",
                    SESSION.c.expires_at > now,
                )
                .order_by(SESSION.c.id.desc())
            ).all()
        out = []
        for r in rows:
            last_seen = aware(r.last_seen_at)
            created = aware(r.created_at)
            assert last_seen is not None and created is not None
            if now - last_seen > IDLE:
                continue
            out.append(
                SessionView(
                    r.public_id, created, last_seen, r.ip, r.user_agent, r.id == who.session_id
                )
            )
        return out

    def revoke_session(self, who: Authenticated, public_id: str) -> None:
        """End one of the person's own sessions (another's id: NotFoundError)."""
        from evidence_chain.errors import NotFoundError

        with self.engine.begin() as conn:
            done = conn.execute(
                update(SESSION)
                .where(SESSION.c.public_id == public_id, SESSION.c.person_id == who.person.id)
                .where(SESSION.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            ).rowcount
        if done != 1:
            raise NotFoundError("no such session", details={"session": public_id})

    def logout_everywhere(self, who: Authenticated, ctx: ClientContext) -> int:
        """End every session of the person, this one included; return how many."""
        now = self.clock()
        with self.engine.begin() as conn:
            count = conn.execute(
                update(SESSION)
                .where(SESSION.c.person_id == who.person.id, SESSION.c.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
            record(
                self.ledger,
                conn,
                who.person,
                "person.logged_out_everywhere",
                actor_of(who.person),
                ctx,
                now,
                {"sessions": count},
            )
        return int(count)

    # --- second factor -------------------------------------------------------------------

    def totp_setup(self, who: Authenticated) -> tuple[str, str]:
        """The pending TOTP secret and its ``otpauth://`` URI, made on first call."""
        with db.reading(self.engine) as conn:
            blob = conn.execute(
                select(PERSON.c.totp_pending_blob).where(PERSON.c.id == who.person.id)
            ).scalar_one()
        if blob is None:
            secret = credentials.new_totp_secret()
            with self.engine.begin() as conn:
                conn.execute(
                    update(PERSON)
                    .where(PERSON.c.id == who.person.id)
                    .values(
                        totp_pending_blob=credentials.seal_totp(
                            secret, who.person.public_id, self.master
                        )
                    )
                )
        else:
            secret = credentials.open_totp(blob, who.person.public_id, self.master)
        return secret, credentials.provisioning_uri(secret, who.person.email)

    def pending_totp(self, who: Authenticated) -> bool:
        """Whether the person started setting up a second factor."""
        with db.reading(self.engine) as conn:
            blob = conn.execute(
                select(PERSON.c.totp_pending_blob).where(PERSON.c.id == who.person.id)
            ).scalar_one()
        return blob is not None

    def enable_totp(self, who: Authenticated, code: str, ctx: ClientContext) -> list[str]:
        """Turn on the pending second factor once a code from it checks; return the new
        recovery codes (shown once)."""
        secret, _uri = self.totp_setup(who)
        now = self.clock()
        step = credentials.totp_counter(secret, code, now, None)
        if step is None:
            raise ValidationError(
                "that code is not right", details={"field": "code", "reason": "code"}
            )
        codes = credentials.new_recovery_codes()
        with self.engine.begin() as conn:
            conn.execute(
                update(PERSON)
                .where(PERSON.c.id == who.person.id)
                .values(
                    totp_blob=credentials.seal_totp(secret, who.person.public_id, self.master),
                    totp_pending_blob=None,
                    totp_last_counter=step,
                    totp_enabled_at=now,
                )
            )
            self._store_codes(conn, who.person.id, codes)
            record(
                self.ledger,
                conn,
                who.person,
                "person.totp_enabled",
                actor_of(who.person),
                ctx,
                now,
                {"recovery_codes": len(codes)},
            )
        return codes

    def _store_codes(self, conn: Connection, person_id: int, codes: list[str]) -> None:
        conn.execute(delete(RECOVERY).where(RECOVERY.c.person_id == person_id))
        for code in codes:
            conn.execute(
                insert(RECOVERY).values(person_id=person_id, code_hash=credentials.sha256(code))
            )

    def _check_password(self, who: Authenticated, password: str) -> None:
        with db.reading(self.engine) as conn:
            stored = conn.execute(
                select(PERSON.c.password_hash).where(PERSON.c.id == who.person.id)
            ).scalar_one()
        if not credentials.verify_password(stored, password or ""):
            raise ValidationError(
                "the password is not right", details={"field": "password", "reason": "password"}
            )

    def disable_totp(self, who: Authenticated, password: str, ctx: ClientContext) -> None:
        """Turn the second factor off (the password confirms it)."""
        self._check_password(who, password)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                update(PERSON)
                .where(PERSON.c.id == who.person.id)
                .values(
                    totp_blob=None,
                    totp_pending_blob=None,
                    totp_last_counter=None,
                    totp_enabled_at=None,
                )
            )
            conn.execute(delete(RECOVERY).where(RECOVERY.c.person_id == who.person.id))
            record(
                self.ledger,
                conn,
                who.person,
                "person.totp_disabled",
                actor_of(who.person),
                ctx,
                now,
            )

    def new_recovery_codes(
        self, who: Authenticated, password: str, ctx: ClientContext
    ) -> list[str]:
        """Replace the recovery codes (the password confirms it); return them (shown once)."""
        self._check_password(who, password)
        codes = credentials.new_recovery_codes()
        with self.engine.begin() as conn:
            self._store_codes(conn, who.person.id, codes)
            record(
                self.ledger,
                conn,
                who.person,
                "person.recovery_codes_replaced",
                actor_of(who.person),
                ctx,
                self.clock(),
                {"recovery_codes": len(codes)},
            )
        return codes

    def recovery_codes_left(self, who: Authenticated) -> int:
        """How many unused recovery codes the person has."""
        from sqlalchemy import func

        with db.reading(self.engine) as conn:
            return int(
                conn.execute(
                    select(func.count()).where(
                        RECOVERY.c.person_id == who.person.id, RECOVERY.c.used_at.is_(None)
                    )
                ).scalar_one()
            )
