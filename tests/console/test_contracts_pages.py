"""The console's contract pages: the dashboard's lists and counts, the search page (a Chinese
party name finds its contract), a contract's parties, timeline and downloads through the
session, remind / withdraw / void forms with their CSRF token, another tenant's contract a
404, in Chinese and English."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from tests.console.helpers import csrf, owner_client, person_id
from tests.envelopes.conftest import (  # noqa: F401 - fixtures: mail through a local server
    Mailbox,
    mailbox,
    settings,
    smtp,
)
from tests.envelopes.helpers import sign_party
from tests.signing.conftest import make_pdf

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _tenant(instance: Any, name: str) -> Any:
    from evidence_chain.models import Tenant
    from evidence_chain.tenants import TenantRef

    table = Tenant.__table__  # type: ignore[attr-defined]
    with instance.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.name == name)).one()
    return TenantRef(id=row.id, public_id=row.public_id, name=row.name)


def _create(app: Any, tenant: Any, title: str, *parties: tuple[str, str]) -> str:
    from signing.envelopes.service import InitiatorContext, RequestContext
    from web.context import services

    spec = {
        "title": title,
        "parties": [
            {
                "name": name,
                "email": email,
                "fields": [{"kind": "signature", "page": 1, "x": 72, "y": 72 + 60 * i}],
            }
            for i, (name, email) in enumerate(parties)
        ],
    }
    who = InitiatorContext(key_prefix=None, request=RequestContext("203.0.113.1", "pytest"))
    made = services(app).envelopes.create(tenant, spec, [("合同.pdf", make_pdf(1))], who)
    return str(made["id"])


def _send(app: Any, tenant: Any, envelope_id: str) -> None:
    from signing.envelopes.service import InitiatorContext, RequestContext
    from web.context import services

    who = InitiatorContext(key_prefix=None, request=RequestContext("203.0.113.1", "pytest"))
    services(app).envelopes.send(tenant, envelope_id, who)


def _text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_dashboard_search_and_a_contract_page(
    app: Any,
    instance: Any,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    owner = owner_client(app, "示例科技有限公司", "owner@example.test")
    tenant = _tenant(instance, "示例科技有限公司")
    lease = _create(
        app, tenant, "房屋租赁合同", ("张伟", "zhang@example.test"), ("Owner", "owner@example.test")
    )
    draft = _create(app, tenant, "Supply draft", ("Alice Zhang", "alice@example.test"))
    done = _create(app, tenant, "保密协议", ("王芳", "wang@example.test"))
    _send(app, tenant, lease)
    _send(app, tenant, done)
    from web.context import services

    sign_party(services(app).envelopes, mailbox, "wang@example.test")

    # dashboard: counts of every list, the contracts under their list
    home = _text(owner.get("/app", headers=EN))
    assert re.search(r'<span class="count">1</span> For you to sign', home)
    assert re.search(r'<span class="count">1</span> Drafts', home)
    assert re.search(r'<span class="count">1</span> Completed', home)
    assert re.search(r'<span class="count">0</span> Waiting for others', home)
    assert "房屋租赁合同" in home and "Supply draft" in home
    zh_home = _text(owner.get("/app", headers=ZH))
    assert "待我签署" in zh_home and "For you to sign" not in zh_home

    # search by a Chinese party name, by status, and a list of the dashboard
    found = _text(owner.get("/app/contracts?q=张伟", headers=EN))
    assert lease in found and draft not in found and done not in found
    assert "1 contracts found" in found
    assert done in _text(owner.get("/app/contracts?status=completed", headers=EN))
    assert draft not in _text(owner.get("/app/contracts?status=completed", headers=EN))
    to_sign = _text(owner.get("/app/contracts?view=to_sign", headers=EN))
    assert lease in to_sign and done not in to_sign
    bad = owner.get("/app/contracts?from=yesterday", headers=EN)
    assert bad.status_code == 400 and "Enter dates as YYYY-MM-DD." in _text(bad)

    # the contract: its parties, when each signed, its evidence timeline, its downloads
    page = owner.get(f"/app/contracts/{done}", headers=EN)
    assert page.status_code == 200
    html = _text(page)
    assert "王芳" in html and "Signed" in html and "Completed" in html
    assert "Sent to the parties" in html and "Verification code accepted" in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    pdf = owner.get(f"/app/contracts/{done}/documents/1")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.isascii() and "filename*=UTF-8''%E5%90%88%E5%90%8C.pdf" in disposition
    early = owner.get(f"/app/contracts/{done}/bundle.json", headers=EN)
    assert early.status_code == 303
    assert "Try again in a few seconds" in _text(owner.get(early.headers["Location"], headers=EN))
    services(app).ledger.sign_checkpoint()  # as the scheduler does every few seconds
    bundle = owner.get(f"/app/contracts/{done}/bundle.json")
    assert bundle.status_code == 200
    assert json.loads(bundle.data)["subject"] == f"envelope:{done}"
    certificate = owner.get(f"/app/contracts/{done}/certificate.pdf")
    assert certificate.status_code == 200 and certificate.data.startswith(b"%PDF")
    # without the session: the login page, not the file
    anonymous = app.test_client().get(f"/app/contracts/{done}/documents/1")
    assert anonymous.status_code == 302 and "/app/login" in anonymous.headers["Location"]


def test_remind_withdraw_and_void_from_the_console(
    app: Any,
    instance: Any,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    from web.context import services

    owner = owner_client(app, "Acme Trading", "owner@example.test")
    tenant = _tenant(instance, "Acme Trading")
    open_one = _create(app, tenant, "Lease", ("Dana Ng", "dana@example.test"))
    done = _create(app, tenant, "NDA", ("Eve Li", "eve@example.test"))
    _send(app, tenant, open_one)
    _send(app, tenant, done)
    sign_party(services(app).envelopes, mailbox, "eve@example.test")
    path = f"/app/contracts/{open_one}"

    # without the CSRF token: refused, nothing sent
    links = len(mailbox.to("dana@example.test"))
    assert owner.post(f"{path}/remind", headers=EN).status_code == 400
    reminded = owner.post(f"{path}/remind", data={"csrf_token": csrf(owner, path)}, headers=EN)
    assert reminded.status_code == 303
    mailbox.token("dana@example.test", links)  # a new link went out
    shown = _text(owner.get(path, headers=EN))
    assert "A new link was sent to 1 parties." in shown and "Reminder sent" in shown
    again = owner.post(f"{path}/remind", data={"csrf_token": csrf(owner, path)}, headers=EN)
    assert "less than a minute ago" in _text(owner.get(again.headers["Location"], headers=EN))

    withdrawn = owner.post(
        f"{path}/withdraw", data={"csrf_token": csrf(owner, path), "reason": "价格变更"}
    )
    assert withdrawn.status_code == 303
    assert services(app).envelopes.get(tenant, open_one)["status"] == "withdrawn"
    records = [
        e.record for e in services(app).ledger.subject_events(tenant.id, f"envelope:{open_one}")
    ]
    assert records[-1]["type"] == "envelope.withdrawn"
    assert records[-1]["actor"]["person_id"] == person_id(instance, "owner@example.test")

    # void needs a reason
    done_path = f"/app/contracts/{done}"
    no_reason = owner.post(
        f"{done_path}/void", data={"csrf_token": csrf(owner, done_path)}, headers=ZH
    )
    assert "请填写作废合同的原因。" in _text(owner.get(no_reason.headers["Location"], headers=ZH))
    assert services(app).envelopes.get(tenant, done)["status"] == "completed"
    owner.post(
        f"{done_path}/void", data={"csrf_token": csrf(owner, done_path), "reason": "superseded"}
    )
    voided = _text(owner.get(done_path, headers=EN))
    assert "Voided" in voided and "superseded" in voided and "VOID copy" in voided


def test_another_tenants_contract_is_a_404(app: Any, instance: Any) -> None:
    owner = owner_client(app, "Acme Trading", "owner@example.test")
    other = owner_client(app, "Other Co", "other@example.test")
    env = _create(app, _tenant(instance, "Acme Trading"), "机密合同", ("张伟", "z@example.test"))
    assert owner.get(f"/app/contracts/{env}").status_code == 200
    for suffix in ("", "/documents/1", "/certificate.pdf", "/bundle.json"):
        assert other.get(f"/app/contracts/{env}{suffix}").status_code == 404, suffix
    path = f"/app/contracts/{env}/withdraw"
    token = csrf(other, "/app/contracts")
    assert other.post(path, data={"csrf_token": token}).status_code == 404
    assert env not in _text(other.get("/app/contracts?q=张伟"))
