"""The console's API keys page: an owner issues a key (shown once) that the API accepts,
revokes the old one so that the API refuses it at once, and cannot revoke the last key; a
member may not manage keys; another organisation's key is not found."""

from __future__ import annotations

import re
from typing import Any

from tests.console.helpers import csrf, login, owner_client, set_password

KEY = re.compile(r'<code class="secret" id="api-key">(stk_[A-Za-z0-9_-]+)</code>')


def api(client: Any, key: str) -> int:
    return int(client.get("/api/v1/keys", headers={"Authorization": f"Bearer {key}"}).status_code)


def test_an_owner_issues_and_revokes_keys_from_the_console(app: Any, instance: Any) -> None:
    owner = owner_client(app, "Acme Trading", "o@example.com")
    page = owner.get("/app/keys", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    (first,) = re.findall(r"<code>(stk_[A-Za-z0-9_-]{6})…</code>", page.get_data(as_text=True))

    issued = owner.post(
        "/app/keys",
        data={"csrf_token": csrf(owner, "/app/keys"), "name": "合同系统 production"},
        headers={"Accept-Language": "zh-CN"},
    )
    html = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "密钥已签发" in html
    key = KEY.search(html)
    assert key, html[:2000]
    new_key = key.group(1)
    assert api(app.test_client(), new_key) == 200
    listed = owner.get("/app/keys").get_data(as_text=True)
    assert new_key not in listed, "a key is shown once, never listed"
    assert new_key[:10] in listed and "合同系统 production" in listed

    revoked = owner.post(f"/app/keys/{first}/revoke", data={"csrf_token": csrf(owner, "/app/keys")})
    assert revoked.status_code == 303
    page = owner.get("/app/keys", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "revoked" in page

    last = owner.post(
        f"/app/keys/{new_key[:10]}/revoke",
        data={"csrf_token": csrf(owner, "/app/keys")},
        headers={"Accept-Language": "en"},
    )
    assert last.status_code == 409
    assert api(app.test_client(), new_key) == 200, "the last key stays active"

    no_token = owner.post(f"/app/keys/{new_key[:10]}/revoke")
    assert no_token.status_code == 400

    other = owner_client(app, "Other Co", "x@example.com")
    assert (
        other.post(
            f"/app/keys/{new_key[:10]}/revoke", data={"csrf_token": csrf(other, "/app/keys")}
        ).status_code
        == 404
    )
    assert api(app.test_client(), new_key) == 200


def test_a_member_may_not_manage_keys(app: Any, instance: Any) -> None:
    owner = owner_client(app, "Acme", "o2@example.com")
    assert (
        owner.post(
            "/app/members/invite",
            data={
                "csrf_token": csrf(owner, "/app/members"),
                "email": "m@example.com",
                "role": "member",
            },
        ).status_code
        == 303
    )
    from messages.service import read_outbox
    from tests.console.helpers import LINK

    (mail,) = read_outbox(instance.engine, to="m@example.com")
    found = LINK.search(mail.body)
    assert found
    member = app.test_client()
    assert set_password(member, found.group(1)).status_code == 303
    login(member, "m@example.com")
    assert member.get("/app/keys").status_code == 403
    assert "/app/keys" not in member.get("/app").get_data(as_text=True)
