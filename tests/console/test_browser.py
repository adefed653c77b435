"""The console in headless Chromium against the real service (gunicorn), mail through a local
SMTP server (aiosmtpd), in Chinese and in English: the owner sets a password from the CLI's
link, logs in, turns on two-step login, adds and deletes a webhook endpoint, logs out and in
again with a TOTP code, sends a contract through the API and finds it in the console by its
party's name (Chinese in Chinese), opens it and downloads its PDF, reads /api/docs (Swagger UI,
no CSP error), invites a member who sets a password from the mail and logs in; five
wrong passwords lock an account. On every page: axe-core finds no serious or critical
violation, nothing overflows a 390 px screen, no string of the other language shows, and a
screenshot at 1280 and 390 px is saved under ``test-artifacts/console``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from babel.messages.pofile import read_po

from tests.browser import browser  # noqa: F401 - the fixture
from tests.envelopes.conftest import Mailbox, smtp  # noqa: F401 - the SMTP fixture
from tests.service import Service, free_port, service_env
from tests.signing.conftest import make_pdf

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "console"
LINK = re.compile(r"(https?://\S+/app/set-password/[A-Za-z0-9_-]+)")
HAN = re.compile(r"[\u4e00-\u9fff]")
PASSWORD = "correct horse battery staple"
MEMBER_PASSWORD = "another long passphrase"
TENANT = {"zh_CN": "示例科技有限公司", "en": "Example Trading Ltd"}
LOCALE = {"zh_CN": "zh-CN", "en": "en-US"}
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def english_strings() -> list[str]:
    """Pieces of every English string of the console (placeholders cut out), long enough not
    to match by chance."""
    with open(ROOT / "web/translations/en/LC_MESSAGES/messages.po", "rb") as f:
        texts = [str(m.string) for m in read_po(f) if m.id]
    pieces = []
    for text in texts:
        pieces += [p.strip() for p in re.split(r"%\(\w+\)s", text) if len(p.strip()) >= 5]
    return pieces


@pytest.fixture
def service(tmp_path: Path, database_url: str, smtp: tuple[Mailbox, int]) -> Iterator[Service]:  # noqa: F811
    home = tmp_path / "instance"
    home.mkdir()
    env = service_env(
        home,
        database_url,
        EVIDENCE_SMTP_HOST="127.0.0.1",
        EVIDENCE_SMTP_PORT=str(smtp[1]),
        EVIDENCE_WEBHOOK_ALLOW_PRIVATE="true",
    )
    port = free_port()
    env["EVIDENCE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"  # the links the CLI and mail give
    svc = Service(home=home, env=env, port=port)
    svc.start()
    yield svc
    svc.stop()


class Checker:
    """Checks every page of one language and saves its screenshots."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.axe = AXE.read_text()
        self.english = english_strings()
        self.folder = ARTIFACTS / lang
        self.folder.mkdir(parents=True, exist_ok=True)
        self.seen: list[str] = []

    def page(self, page: Any, name: str) -> None:
        """axe-core, the language, 390 px without overflow, and screenshots."""
        page.set_viewport_size({"width": 1280, "height": 900})
        expected = "zh-CN" if self.lang == "zh_CN" else "en"
        assert page.locator("html").get_attribute("lang") == expected
        page.evaluate(self.axe)
        violations = page.evaluate(AXE_RUN)
        assert violations == [], f"{name}: {violations}"
        text = page.inner_text("body")
        if self.lang == "zh_CN":
            leaks = [s for s in self.english if s in text]
            assert leaks == [], f"{name}: English on the Chinese page: {leaks}"
        else:
            shown = text.replace("中文", "")
            assert not HAN.search(shown), f"{name}: Chinese on the English page: {shown[:300]}"
        page.screenshot(path=str(self.folder / f"{name}-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name}: {width} px wide on a 390 px screen"
        violations = page.evaluate(AXE_RUN)
        assert violations == [], f"{name} at 390 px: {violations}"
        page.screenshot(path=str(self.folder / f"{name}-390.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        self.seen.append(name)


PARTY = {"zh_CN": "张伟", "en": "Wei Zhang"}
TITLE = {"zh_CN": "房屋租赁合同", "en": "Lease of the warehouse"}


def send_contract(context: Any, url: str, key: str, lang: str) -> str:
    """Create and send a one-party contract through the API; its id."""
    spec = {
        "title": TITLE[lang],
        "parties": [
            {
                "name": PARTY[lang],
                "email": "party@example.com",
                "fields": [{"kind": "signature", "page": 1, "x": 72, "y": 72}],
            }
        ],
    }
    auth = {"Authorization": f"Bearer {key}"}
    made = context.request.post(
        f"{url}/api/v1/envelopes",
        headers=auth,
        multipart={
            "spec": json.dumps(spec),
            "documents": {
                "name": "租赁合同.pdf" if lang == "zh_CN" else "lease.pdf",
                "mimeType": "application/pdf",
                "buffer": make_pdf(1),
            },
        },
    )
    assert made.status == 201, made.text()
    env_id = str(made.json()["id"])
    assert context.request.post(f"{url}/api/v1/envelopes/{env_id}/send", headers=auth).ok
    return env_id


def log_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/app/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.press("#password", "Enter")  # the keyboard submits the form
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_console_people_and_sessions(
    service: Service,
    smtp: tuple[Mailbox, int],  # noqa: F811
    browser: Any,  # noqa: F811
    lang: str,
) -> None:
    mailbox = smtp[0]
    check = Checker(lang)
    words = {
        "zh_CN": {"locked": "已锁定", "member": "成员", "invited": "邀请已发送至"},
        "en": {"locked": "locked until", "member": "Member", "invited": "Invitation sent to"},
    }[lang]
    out = service.flask("tenant", "create", TENANT[lang], "--owner", "owner@example.com")
    found = LINK.search(out)
    assert found and found.group(1).startswith(service.url), out
    owner = browser.new_context(locale=LOCALE[lang], viewport={"width": 1280, "height": 900})
    page = owner.new_page()

    # the CLI's link: set a password
    page.goto(found.group(1))
    check.page(page, "set-password")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.press("#confirm", "Enter")
    page.wait_for_url(f"{service.url}/app/login")
    check.page(page, "login")

    log_in(page, service.url, "owner@example.com", PASSWORD)
    assert page.url == f"{service.url}/app"
    assert TENANT[lang] in page.inner_text("h1")
    check.page(page, "dashboard")

    # a form without its token is refused
    refused = owner.request.post(
        f"{service.url}/app/members/invite", form={"email": "x@example.com", "role": "member"}
    )
    assert refused.status == 400

    # invite a member
    page.goto(f"{service.url}/app/members")
    check.page(page, "members")
    page.fill("#invite-email", "member@example.com")
    page.select_option("#invite-role", "member")
    page.press("#invite-email", "Enter")
    page.wait_for_load_state()
    assert words["invited"] in page.inner_text("main")
    invitation = mailbox.wait_for("member@example.com", LINK).group(1)

    # two-step login
    page.goto(f"{service.url}/app/security")
    check.page(page, "security")
    page.click("form[action$='/totp/start'] button")
    page.wait_for_load_state()
    secret = page.inner_text("#totp-secret").strip()
    assert page.locator("img.qr").get_attribute("src", timeout=5000).startswith("data:image/svg")
    check.page(page, "security-setup")
    totp = pyotp.TOTP(secret)
    page.fill("#totp-code", totp.now())
    page.press("#totp-code", "Enter")
    page.wait_for_load_state()
    assert page.locator("ul.codes li").count() == 10
    check.page(page, "security-on")

    # webhooks: add and delete an endpoint
    page.goto(f"{service.url}/app/webhooks")
    check.page(page, "webhooks")
    page.fill("#webhook-url", "http://127.0.0.1:9/sealtrail")
    page.click("form[action$='/app/webhooks'] button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#webhook-secret").startswith("whsec_")
    check.page(page, "webhooks-created")
    page.click("form[action$='/delete'] button")
    page.wait_for_load_state()
    assert "127.0.0.1:9" not in page.inner_text("main")

    # API keys: issue one (shown once), revoke the first
    page.goto(f"{service.url}/app/keys")
    check.page(page, "keys")
    page.fill("#key-name", "Contract system")
    page.click("form[action$='/app/keys'] button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#api-key").startswith("stk_")
    check.page(page, "keys-issued")

    # contracts: one sent through the API with the new key shows on the dashboard, is found
    # by its party's name (Chinese in Chinese), and opens with its steps and downloads
    env_id = send_contract(owner, service.url, page.inner_text("#api-key").strip(), lang)
    page.goto(f"{service.url}/app")
    assert page.locator(f"a[href='/app/contracts/{env_id}']").count() >= 1
    check.page(page, "dashboard-contracts")
    page.goto(f"{service.url}/app/contracts")
    check.page(page, "contracts")
    page.fill("#q", PARTY[lang].split()[-1])
    page.press("#q", "Enter")
    page.wait_for_load_state()
    assert page.locator(f"a[href='/app/contracts/{env_id}']").count() == 1
    check.page(page, "contracts-search")
    page.click(f"a[href='/app/contracts/{env_id}']")
    page.wait_for_url(f"{service.url}/app/contracts/{env_id}")
    assert PARTY[lang] in page.inner_text("table")
    check.page(page, "contract")
    with page.expect_download() as download:
        page.click("a[href$='/documents/1']")
    assert download.value.suggested_filename.endswith(".pdf")

    # the API reference: Swagger UI from this service, nothing refused by the CSP
    console_errors: list[str] = []
    docs = owner.new_page()
    docs.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    docs.goto(f"{service.url}/api/docs")
    docs.wait_for_selector(".swagger-ui .info .title", timeout=20000)
    docs.get_by_text("/api/v1/envelopes/{id}/void", exact=True).wait_for(timeout=20000)
    assert console_errors == [], console_errors
    docs.screenshot(path=str(check.folder / "api-docs-1280.png"))
    docs.close()
    page.goto(f"{service.url}/app/keys")
    page.click("form[action$='/revoke'] button >> nth=0")
    page.wait_for_load_state()
    assert page.locator("form[action$='/revoke']").count() == 1

    page.click("header form[action$='/app/logout'] button")
    page.wait_for_url(f"{service.url}/app/login")
    page.goto(f"{service.url}/app")
    assert page.url.startswith(f"{service.url}/app/login")
    log_in(page, service.url, "owner@example.com", PASSWORD)
    assert page.url.startswith(f"{service.url}/app/login/code")
    check.page(page, "login-code")
    page.fill("#code", totp.at(datetime.now(UTC) + timedelta(seconds=30)))
    page.press("#code", "Enter")
    page.wait_for_url(f"{service.url}/app")

    # the member sets a password from the mail and logs in
    member = browser.new_context(locale=LOCALE[lang])
    mpage = member.new_page()
    mpage.goto(invitation)
    mpage.fill("#password", MEMBER_PASSWORD)
    mpage.fill("#confirm", MEMBER_PASSWORD)
    mpage.press("#confirm", "Enter")
    mpage.wait_for_url(f"{service.url}/app/login")
    log_in(mpage, service.url, "member@example.com", MEMBER_PASSWORD)
    assert mpage.url == f"{service.url}/app"
    assert words["member"] in mpage.inner_text("dl.facts")
    assert mpage.locator("nav.nav a[href='/app/members']").count() == 0
    mpage.goto(f"{service.url}/app/members")
    check.page(mpage, "forbidden")
    member.close()

    # the owner sees the member as active
    page.goto(f"{service.url}/app/members")
    assert "member@example.com" in page.inner_text("table")

    # five wrong passwords lock the account, with the time it unlocks
    stranger = browser.new_context(locale=LOCALE[lang]).new_page()
    for _ in range(5):
        log_in(stranger, service.url, "member@example.com", "not the password")
    assert words["locked"] in stranger.inner_text("main")
    assert "UTC" in stranger.inner_text("main")
    check.page(stranger, "locked")
    stranger.goto(f"{service.url}/app/no-such-page")
    check.page(stranger, "not-found")
    owner.close()
    assert len(check.seen) == 19
