"""People of a tenant: created by the operator or invited, set their password from a one-time
link, given a role, removed. Logins and sessions are :mod:`people.logins`.

An invitation is written in one transaction: the person, the link's hash, the event and the
mail, which goes into the outbox (:mod:`messages.service`) and is sent by the mail queue after
the commit, with retries; nothing talks to a mail server while the transaction is open.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError as DbIntegrityError

from evidence_chain import db
from evidence_chain.errors import ConflictError, GoneError, NotFoundError
from evidence_chain.ledger import Ledger
from evidence_chain.tenants import TENANT, TenantRef, create_tenant_in
from messages.service import Message, Notifier
from people import credentials, roles
from people.models import PERSON, SESSION, TOKEN
from people.records import (
    Authenticated,
    ClientContext,
    PersonView,
    actor_of,
    aware,
    load,
    person_query,
    record,
    view,
)

LINK_TTL = timedelta(hours=72)
LINK_PATH = "/app/set-password/"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _exists() -> ConflictError:
    return ConflictError(
        "this email address already has an account",
        details={"field": "email", "reason": "exists"},
    )


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction; the same address added twice at once is a conflict, not a 500."""
    try:
        with engine.begin() as conn:
            yield conn
    except DbIntegrityError:
        raise _exists() from None


@dataclass(frozen=True)
class Link:
    """A one-time set-password link for a person (the token is shown once, never stored)."""

    person: PersonView
    url: str
    expires_at: datetime


class AccountService:
    """People of every tenant of one instance."""

    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        notifier: Notifier,
        public_base_url: str,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.notifier = notifier
        self.base_url = public_base_url.rstrip("/")
        self.clock = clock

    # --- creation ------------------------------------------------------------------------

    def create_user(self, email: str, tenant_public_id: str, role: str = "member") -> Link:
        """Create a person (by the operator) and return their set-password link."""
        email = credentials.normalize_email(email)
        roles.check_role(role)
        with _writing(self.engine) as conn:
            row = conn.execute(
                select(TENANT.c.id).where(TENANT.c.public_id == tenant_public_id)
            ).first()
            if row is None:
                raise NotFoundError(
                    f"no tenant {tenant_public_id!r}", details={"tenant": tenant_public_id}
                )
            person = self._insert(conn, int(row.id), email, role)
            link = self._new_link(conn, person)
            record(
                self.ledger,
                conn,
                person,
                "person.created",
                actor_of(None),
                None,
                self.clock(),
                {"role": role, "email_sha256": credentials.email_digest(email)},
            )
        return link

    def create_tenant_with_owner(self, name: str, owner_email: str) -> tuple[TenantRef, str, Link]:
        """A tenant, its API key and its first person, the owner, in one transaction."""
        email = credentials.normalize_email(owner_email)
        with _writing(self.engine) as conn:
            tenant, key = create_tenant_in(conn, name)
            person = self._insert(conn, tenant.id, email, "owner")
            link = self._new_link(conn, person)
            record(
                self.ledger,
                conn,
                person,
                "person.created",
                actor_of(None),
                None,
                self.clock(),
                {"role": "owner", "email_sha256": credentials.email_digest(email)},
            )
        return tenant, key, link

    def new_link(self, email: str) -> Link:
        """A new set-password link for an existing person (the operator's reset); earlier
        links stop working."""
        email = credentials.normalize_email(email)
        with self.engine.begin() as conn:
            person = load(conn, email=email)
            if person is None or person.status == "removed":
                raise NotFoundError("no such person", details={"reason": "person"})
            return self._new_link(conn, person)

    def _insert(self, conn: Connection, tenant_id: int, email: str, role: str) -> PersonView:
        if conn.execute(select(PERSON.c.id).where(PERSON.c.email == email)).first():
            raise _exists()
        conn.execute(
            insert(PERSON).values(
                public_id="us_" + secrets.token_hex(8),
                tenant_id=tenant_id,
                email=email,
                role=role,
                created_at=self.clock(),
            )
        )
        person = load(conn, email=email)
        assert person is not None
        return person

    def _new_link(self, conn: Connection, person: PersonView) -> Link:
        now = self.clock()
        conn.execute(
            update(TOKEN)
            .where(TOKEN.c.person_id == person.id, TOKEN.c.used_at.is_(None))
            .values(used_at=now)
        )
        token = credentials.new_token()
        expires = now + LINK_TTL
        conn.execute(
            insert(TOKEN).values(
                person_id=person.id,
                purpose="set_password",
                token_hash=credentials.sha256(token),
                created_at=now,
                expires_at=expires,
            )
        )
        return Link(person, f"{self.base_url}{LINK_PATH}{token}", expires)

    # --- invitations ---------------------------------------------------------------------

    def invite(self, who: Authenticated, email: str, role: str, ctx: ClientContext | None) -> Link:
        """Invite ``email`` into the inviter's tenant with ``role`` and mail them the link
        (queued in the outbox with the invitation, sent after the commit)."""
        roles.require(who.person.role, "members.invite")
        roles.check_role(role)
        if role == "owner":
            roles.require(who.person.role, "members.grant_owner")
        email = credentials.normalize_email(email)
        with _writing(self.engine) as conn:
            existing = load(conn, email=email)
            if (
                existing is not None
                and existing.status == "removed"
                and existing.tenant_id == who.person.tenant_id
            ):
                conn.execute(
                    update(PERSON)
                    .where(PERSON.c.id == existing.id)
                    .values(
                        removed_at=None,
                        password_hash=None,
                        role=role,
                        totp_blob=None,
                        totp_pending_blob=None,
                        totp_last_counter=None,
                        totp_enabled_at=None,
                        password_set_at=None,
                    )
                )
                person = load(conn, id=existing.id)
                assert person is not None
            else:
                person = self._insert(conn, who.person.tenant_id, email, role)
            link = self._new_link(conn, person)
            record(
                self.ledger,
                conn,
                person,
                "person.invited",
                actor_of(who.person),
                ctx,
                self.clock(),
                {"role": role, "email_sha256": credentials.email_digest(email)},
            )
            self._mail(conn, who.person, link)
        return link

    def resend(self, who: Authenticated, member_id: str, ctx: ClientContext | None) -> Link:
        """A new link for a person who has not set a password yet, mailed again."""
        roles.require(who.person.role, "members.invite")
        with self.engine.begin() as conn:
            person = self._member(conn, who, member_id)
            if person.status != "invited":
                raise ConflictError(
                    "this member has already set a password", details={"reason": "active"}
                )
            link = self._new_link(conn, person)
            record(
                self.ledger,
                conn,
                person,
                "person.invited",
                actor_of(who.person),
                ctx,
                self.clock(),
                {
                    "role": person.role,
                    "again": True,
                    "email_sha256": credentials.email_digest(person.email),
                },
            )
            self._mail(conn, who.person, link)
        return link

    def _mail(self, conn: Connection, inviter: PersonView, link: Link) -> None:
        # Both languages in one message: the invitee's language is not known yet.
        hours = int(LINK_TTL.total_seconds() // 3600)
        body = (
            f"{inviter.email} 邀请您加入 Sealtrail 上的「{inviter.tenant_name}」。\n"
            f"请打开以下链接设置密码（{hours} 小时内有效，仅可使用一次）：\n{link.url}\n\n"
            f"{inviter.email} invited you to {inviter.tenant_name} on Sealtrail.\n"
            f"Set your password at this link (valid for {hours} hours, once):\n{link.url}\n"
        )
        subject = f"邀请加入 {inviter.tenant_name} / Invitation to {inviter.tenant_name}"
        self.notifier.send(conn, Message("email", link.person.email, subject, body))

    # --- set password --------------------------------------------------------------------

    def link_person(self, token: str) -> PersonView:
        """The person a set-password link is for; NotFoundError or GoneError otherwise."""
        with db.reading(self.engine) as conn:
            row = self._token_row(conn, token)
            person = load(conn, id=row.person_id)
        if person is None or person.status == "removed":
            raise GoneError("this link is no longer valid", details={"reason": "link"})
        return person

    def _token_row(self, conn: Connection, token: str) -> Any:
        row = conn.execute(
            select(TOKEN).where(TOKEN.c.token_hash == credentials.sha256(token))
        ).first()
        if row is None:
            raise NotFoundError("unknown link", details={"reason": "link"})
        expires = aware(row.expires_at)
        if row.used_at is not None or (expires is not None and expires <= self.clock()):
            raise GoneError("this link is no longer valid", details={"reason": "link"})
        return row

    def set_password(self, token: str, password: str, ctx: ClientContext | None) -> PersonView:
        """Set the password of the link's person; the link is used up and every session of
        the person ends."""
        person = self.link_person(token)
        credentials.check_password_policy(password, person.email)
        hashed = credentials.hash_password(password)  # slow on purpose: outside the transaction
        now = self.clock()
        with self.engine.begin() as conn:
            row = self._token_row(conn, token)
            conn.execute(update(TOKEN).where(TOKEN.c.id == row.id).values(used_at=now))
            conn.execute(
                update(PERSON)
                .where(PERSON.c.id == person.id)
                .values(password_hash=hashed, password_set_at=now)
            )
            conn.execute(
                update(SESSION)
                .where(SESSION.c.person_id == person.id, SESSION.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            first = person.status == "invited"
            record(
                self.ledger,
                conn,
                person,
                "person.password_set",
                actor_of(person),
                ctx,
                now,
                {"first": first},
            )
            updated = load(conn, id=person.id)
        assert updated is not None
        return updated

    # --- members -------------------------------------------------------------------------

    def members(self, who: Authenticated) -> list[PersonView]:
        """The people of the caller's tenant (not removed), oldest first."""
        roles.require(who.person.role, "members.view")
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                person_query()
                .where(PERSON.c.tenant_id == who.person.tenant_id, PERSON.c.removed_at.is_(None))
                .order_by(PERSON.c.id)
            ).all()
        return [view(r) for r in rows]

    def _member(self, conn: Connection, who: Authenticated, member_id: str) -> PersonView:
        """A person of the caller's tenant; another tenant's (or an unknown) id is a 404."""
        person = load(conn, public_id=member_id, tenant_id=who.person.tenant_id)
        if person is None or person.status == "removed":
            raise NotFoundError("no such member", details={"member": member_id})
        return person

    def _owners(self, conn: Connection, tenant_id: int) -> int:
        return int(
            conn.execute(
                select(func.count()).where(
                    PERSON.c.tenant_id == tenant_id,
                    PERSON.c.role == "owner",
                    PERSON.c.removed_at.is_(None),
                )
            ).scalar_one()
        )

    def _check_change(self, conn: Connection, who: Authenticated, target: PersonView) -> None:
        if target.id == who.person.id:
            raise ConflictError("you cannot change your own membership", details={"reason": "self"})
        if target.role == "owner":
            roles.require(who.person.role, "members.grant_owner")

    def change_role(
        self, who: Authenticated, member_id: str, role: str, ctx: ClientContext | None
    ) -> PersonView:
        """Give a member of the caller's tenant another role."""
        roles.require(who.person.role, "members.change_role")
        roles.check_role(role)
        if role == "owner":
            roles.require(who.person.role, "members.grant_owner")
        with self.engine.begin() as conn:
            target = self._member(conn, who, member_id)
            self._check_change(conn, who, target)
            if target.role == role:
                return target
            if target.role == "owner" and self._owners(conn, target.tenant_id) <= 1:
                raise ConflictError(
                    "a tenant keeps at least one owner", details={"reason": "last_owner"}
                )
            conn.execute(update(PERSON).where(PERSON.c.id == target.id).values(role=role))
            record(
                self.ledger,
                conn,
                target,
                "person.role_changed",
                actor_of(who.person),
                ctx,
                self.clock(),
                {"from": target.role, "to": role},
            )
            changed = load(conn, id=target.id)
        assert changed is not None
        return changed

    def remove(self, who: Authenticated, member_id: str, ctx: ClientContext | None) -> None:
        """Remove a member of the caller's tenant: their sessions and links end at once."""
        roles.require(who.person.role, "members.remove")
        now = self.clock()
        with self.engine.begin() as conn:
            target = self._member(conn, who, member_id)
            self._check_change(conn, who, target)
            if target.role == "owner" and self._owners(conn, target.tenant_id) <= 1:
                raise ConflictError(
                    "a tenant keeps at least one owner", details={"reason": "last_owner"}
                )
            conn.execute(update(PERSON).where(PERSON.c.id == target.id).values(removed_at=now))
            conn.execute(
                update(SESSION)
                .where(SESSION.c.person_id == target.id, SESSION.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            conn.execute(
                update(TOKEN)
                .where(TOKEN.c.person_id == target.id, TOKEN.c.used_at.is_(None))
                .values(used_at=now)
            )
            record(
                self.ledger,
                conn,
                target,
                "person.removed",
                actor_of(who.person),
                ctx,
                now,
                {"role": target.role},
            )
