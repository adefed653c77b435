"""People and sessions through the console's HTTP interface (Flask's test client, real
database on each backend): set-password links, login, TOTP, lockout, CSRF, roles, tenancy,
sessions, and the evidence events of each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from tests.console.helpers import (
    CSRF,
    PASSWORD,
    csrf,
    login,
    owner_client,
    person_id,
    person_records,
    set_password,
    tenant_with_owner,
)


def test_root_and_login_lead_to_the_console_and_the_api_still_answers_json(client: Any) -> None:
    assert client.get("/").headers["Location"] == "/app"
    assert client.get("/login").headers["Location"] == "/app/login"
    page = client.get("/app")
    assert page.status_code == 302 and page.headers["Location"].startswith("/app/login")
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"


def test_cli_link_sets_a_password_once_and_the_owner_logs_in(app: Any, instance: Any) -> None:
    client = app.test_client()
    token = tenant_with_owner(app, "Acme 示例", "Owner@Example.com")
    done = set_password(client, token)
    assert done.status_code == 303 and done.headers["Location"] == "/app/login"
    # the link is used up
    assert client.get(f"/app/set-password/{token}").status_code == 410
    assert client.get("/app/set-password/not-a-token").status_code == 404

    answer = login(client, "owner@example.com", **{"Accept-Language": "en"})
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("st_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/app" in cookie
    dashboard = client.get("/app", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Acme 示例" in dashboard and "owner@example.com" in dashboard and "Owner" in dashboard
    assert '<span class="count">0</span> For you to sign' in dashboard

    # the session id and the password are stored hashed only
    from people.models import PERSON, SESSION

    value = cookie.split(";")[0].split("=", 1)[1]
    with instance.engine.connect() as conn:
        stored = conn.execute(select(SESSION.c.id_hash)).scalars().all()
        hashed = conn.execute(select(PERSON.c.password_hash)).scalar_one()
    assert value.encode() not in stored and all(len(h) == 32 for h in stored)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed

    types = [r["type"] for r in person_records(instance)]
    assert types == ["person.created", "person.password_set", "person.login"]


def test_user_create_cli_makes_a_member_of_an_existing_tenant(app: Any, tenant: Any) -> None:
    runner = app.test_cli_runner()
    out = runner.invoke(args=["user", "create", "ann@example.com", "--tenant", tenant[0].public_id])
    assert out.exit_code == 0, out.output
    assert "ann@example.com (member)" in out.output and "/app/set-password/" in out.output
    again = runner.invoke(
        args=["user", "create", "ann@example.com", "--tenant", tenant[0].public_id]
    )
    assert again.exit_code != 0 and "already has an account" in again.output
    unknown = runner.invoke(args=["user", "create", "bo@example.com", "--tenant", "tn_nope"])
    assert unknown.exit_code != 0


def test_a_form_without_its_csrf_token_is_refused(app: Any, instance: Any) -> None:
    client = app.test_client()
    set_password(client, tenant_with_owner(app, "Acme", "o@example.com"))
    answer = client.post("/app/login", data={"email": "o@example.com", "password": PASSWORD})
    assert answer.status_code == 400
    assert "st_console=" not in " ".join(answer.headers.getlist("Set-Cookie"))
    assert login(client, "o@example.com").status_code == 303
    invite = client.post("/app/members/invite", data={"email": "x@example.com", "role": "member"})
    assert invite.status_code == 400
    wrong = client.post(
        "/app/members/invite",
        data={"email": "x@example.com", "role": "member", "csrf_token": "forged" * 8},
    )
    assert wrong.status_code == 400
    assert "x@example.com" not in client.get("/app/members").get_data(as_text=True)


def test_repeated_failures_lock_the_account_with_its_unlock_time(app: Any, instance: Any) -> None:
    client = app.test_client()
    set_password(client, tenant_with_owner(app, "Acme", "o@example.com"))
    for n in range(1, 5):
        answer = login(client, "o@example.com", "wrong password!", **{"Accept-Language": "en"})
        assert answer.status_code == 401, n
        assert "Wrong email or password." in answer.get_data(as_text=True)
    locked = login(client, "o@example.com", "wrong password!", **{"Accept-Language": "en"})
    assert locked.status_code == 429
    text = locked.get_data(as_text=True)
    assert "this account is locked until" in text and "UTC" in text
    # the right password does not help while locked
    assert login(client, "o@example.com", **{"Accept-Language": "en"}).status_code == 429
    records = person_records(instance)
    failed = [r for r in records if r["type"] == "person.login_failed"]
    assert [r["data"]["failures"] for r in failed] == [1, 2, 3, 4, 5]
    (lock,) = [r for r in records if r["type"] == "person.locked"]
    assert lock["data"]["scope"] == "account"
    # after the lock's time the right password works again
    later = datetime.now(UTC) + timedelta(minutes=16)
    instance.logins.clock = lambda: later
    assert login(client, "o@example.com").status_code == 303


def test_many_failures_from_one_address_lock_the_address(app: Any) -> None:
    client = app.test_client()
    for n in range(20):
        answer = login(client, f"nobody{n}@example.com", "wrong password!")
    assert answer.status_code == 429
    assert "网络" in answer.get_data(as_text=True)  # Chinese by default: "from your network"


def test_another_tenants_member_is_not_found(app: Any, instance: Any) -> None:
    alice = owner_client(app, "Alpha", "alice@alpha.example")
    owner_client(app, "Beta", "bob@beta.example")
    bob = person_id(instance, "bob@beta.example")
    token = csrf(alice, "/app/members")
    for action, form in (("role", {"role": "member"}), ("remove", {}), ("resend", {})):
        answer = alice.post(f"/app/members/{bob}/{action}", data={"csrf_token": token, **form})
        assert answer.status_code == 404, action
    assert "bob@beta.example" not in alice.get("/app/members").get_data(as_text=True)
    # Bob is untouched
    beta = app.test_client()
    assert login(beta, "bob@beta.example").status_code == 303


def test_roles_decide_who_manages_members(app: Any, instance: Any) -> None:
    owner = owner_client(app, "Acme", "o@example.com")
    token = csrf(owner, "/app/members")
    assert (
        owner.post(
            "/app/members/invite",
            data={"csrf_token": token, "email": "ad@example.com", "role": "admin"},
        ).status_code
        == 303
    )
    assert (
        owner.post(
            "/app/members/invite",
            data={"csrf_token": token, "email": "me@example.com", "role": "member"},
        ).status_code
        == 303
    )
    from messages.service import read_outbox
    from tests.console.helpers import LINK

    for email in ("ad@example.com", "me@example.com"):
        (mail,) = read_outbox(instance.engine, to=email)
        assert "邀请" in mail.body and "invited you" in mail.body
        client = app.test_client()
        found = LINK.search(mail.body)
        assert found
        assert set_password(client, found.group(1)).status_code == 303
    member = app.test_client()
    login(member, "me@example.com")
    assert member.get("/app/members").status_code == 403
    assert member.get("/app/webhooks").status_code == 403
    assert member.get("/app/security").status_code == 200
    admin = app.test_client()
    login(admin, "ad@example.com")
    admin_token = csrf(admin, "/app/members")
    owner_id = person_id(instance, "o@example.com")
    member_id = person_id(instance, "me@example.com")
    # an admin cannot touch an owner nor make one
    assert (
        admin.post(f"/app/members/{owner_id}/remove", data={"csrf_token": admin_token}).status_code
        == 403
    )
    assert (
        admin.post(
            f"/app/members/{member_id}/role", data={"csrf_token": admin_token, "role": "owner"}
        ).status_code
        == 403
    )
    assert (
        admin.post(
            f"/app/members/{member_id}/role", data={"csrf_token": admin_token, "role": "admin"}
        ).status_code
        == 303
    )
    # the owner cannot remove themself (a tenant keeps an owner)
    answer = owner.post(f"/app/members/{owner_id}/remove", data={"csrf_token": token})
    assert answer.status_code == 409
    assert (
        owner.post(f"/app/members/{member_id}/remove", data={"csrf_token": token}).status_code
        == 303
    )
    assert login(app.test_client(), "me@example.com").status_code == 401
    types = [r["type"] for r in person_records(instance)]
    assert types.count("person.invited") == 2
    assert "person.role_changed" in types and "person.removed" in types


def _secret(client: Any) -> str:
    token = csrf(client, "/app/security")
    assert client.post("/app/security/totp/start", data={"csrf_token": token}).status_code == 303
    page = client.get("/app/security").get_data(as_text=True)
    import re

    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert found and 'src="data:image/svg+xml;base64,' in page
    return found.group(1)


def test_totp_second_factor_and_recovery_codes(app: Any, instance: Any) -> None:
    client = owner_client(app, "Acme", "o@example.com")
    secret = _secret(client)
    token = csrf(client, "/app/security")
    bad = client.post("/app/security/totp/enable", data={"csrf_token": token, "code": "000000"})
    assert bad.status_code == 400
    totp = pyotp.TOTP(secret)
    page = client.post("/app/security/totp/enable", data={"csrf_token": token, "code": totp.now()})
    assert page.status_code == 200
    import re

    codes = re.findall(
        r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", page.get_data(as_text=True)
    )
    assert len(codes) == 10
    client.post("/app/logout", data={"csrf_token": csrf(client, "/app/security")})
    assert client.get("/app").status_code == 302

    second = login(client, "o@example.com")
    assert second.status_code == 303 and second.headers["Location"].startswith("/app/login/code")
    assert client.get("/app").status_code == 302  # not logged in before the second step
    step_csrf = CSRF.search(client.get("/app/login/code").get_data(as_text=True))
    assert step_csrf
    wrong = client.post(
        "/app/login/code", data={"csrf_token": step_csrf.group(1), "code": "123456"}
    )
    assert wrong.status_code == 401
    # the code used to turn it on is spent: the next one is accepted (one step of drift)
    code = totp.at(datetime.now(UTC) + timedelta(seconds=30))
    ok = client.post("/app/login/code", data={"csrf_token": step_csrf.group(1), "code": code})
    assert ok.status_code == 303 and client.get("/app").status_code == 200

    # a recovery code works once
    other = app.test_client()
    login(other, "o@example.com")
    step = CSRF.search(other.get("/app/login/code").get_data(as_text=True))
    assert step
    assert (
        other.post(
            "/app/login/code", data={"csrf_token": step.group(1), "code": codes[0].upper()}
        ).status_code
        == 303
    )
    third = app.test_client()
    login(third, "o@example.com")
    step = CSRF.search(third.get("/app/login/code").get_data(as_text=True))
    assert step
    assert (
        third.post(
            "/app/login/code", data={"csrf_token": step.group(1), "code": codes[0]}
        ).status_code
        == 401
    )
    methods = [
        r["data"].get("method") for r in person_records(instance) if r["type"] == "person.login"
    ]
    assert methods[-2:] == ["password+totp", "password+recovery_code"]
    assert "person.totp_enabled" in [r["type"] for r in person_records(instance)]


def test_log_out_everywhere_and_idle_expiry(app: Any, instance: Any) -> None:
    first = owner_client(app, "Acme", "o@example.com")
    second = app.test_client()
    assert login(second, "o@example.com").status_code == 303
    listed = first.get("/app/security").get_data(as_text=True)
    assert listed.count('class="tag"') >= 1
    first.post("/app/security/logout-everywhere", data={"csrf_token": csrf(first, "/app/security")})
    assert first.get("/app").status_code == 302
    assert second.get("/app").status_code == 302

    third = app.test_client()
    login(third, "o@example.com")
    assert third.get("/app").status_code == 200
    later = datetime.now(UTC) + timedelta(hours=2, minutes=1)
    instance.logins.clock = lambda: later
    assert third.get("/app").status_code == 302


def test_no_email_or_password_in_the_evidence_log(app: Any, instance: Any) -> None:
    client = owner_client(app, "Acme", "o@example.com")
    login(app.test_client(), "o@example.com", "a wrong password")
    token = csrf(client, "/app/members")
    client.post(
        "/app/members/invite",
        data={"csrf_token": token, "email": "n@example.com", "role": "member"},
    )
    import json

    records = person_records(instance)
    assert {r["type"] for r in records} >= {
        "person.created",
        "person.password_set",
        "person.login",
        "person.login_failed",
        "person.invited",
    }
    text = json.dumps(records)
    for secret in ("o@example.com", "n@example.com", PASSWORD, "a wrong password"):
        assert secret not in text
    invited = next(r for r in records if r["type"] == "person.invited")
    import hashlib

    assert invited["data"]["email_sha256"] == hashlib.sha256(b"n@example.com").hexdigest()
    assert invited["actor"]["person_id"] == person_id(instance, "o@example.com")


@pytest.mark.parametrize("lang,word", [("en", "Members"), ("zh_CN", "成员")])
def test_the_language_switch_is_remembered(app: Any, lang: str, word: str) -> None:
    client = owner_client(app, "Acme", "o@example.com")
    answer = client.get(f"/app/lang/{lang}?next=/app/members")
    assert answer.status_code == 303 and answer.headers["Location"] == "/app/members"
    assert f"<h1>{word}</h1>" in client.get(
        "/app/members", headers={"Accept-Language": "fr"}
    ).get_data(as_text=True)
    assert client.get("/app/lang/en?next=https://evil.example/").headers["Location"] == "/app"


def test_cookies_are_secure_when_the_public_url_is_https(settings: Any, tmp_path: Any) -> None:
    from dataclasses import replace

    from app import create_app
    from runtime.setup import initialise
    from web import context

    secure = replace(settings, public_base_url="https://sign.example.test")
    initialise(secure)
    app = create_app(secure)
    try:
        client = app.test_client()
        set_password(client, tenant_with_owner(app, "Acme", "o@example.com"))
        answer = login(client, "o@example.com")
        cookie = next(
            c for c in answer.headers.getlist("Set-Cookie") if c.startswith("st_console=")
        )
        assert "Secure" in cookie
    finally:
        context.close(app)


def test_the_same_address_twice_is_a_conflict(app: Any) -> None:
    owner = owner_client(app, "Acme", "o@example.com")
    token = csrf(owner, "/app/members")
    form = {"csrf_token": token, "email": "Twice@Example.com", "role": "member"}
    assert owner.post("/app/members/invite", data=form).status_code == 303
    again = owner.post("/app/members/invite", data=form, headers={"Accept-Language": "en"})
    assert again.status_code == 409
    assert "already has an account" in again.get_data(as_text=True)
