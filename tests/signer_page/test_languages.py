"""The signer's page speaks the signer's language: Chinese by default and for a Chinese
browser, English for an English one, switched on the page and remembered."""

from __future__ import annotations

import re
from typing import Any

ALICE = "alice@example.com"


def test_chinese_by_default_and_the_switch_is_remembered(client: Any, send_envelope: Any) -> None:
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)
    token = send_envelope(message="请于周五前签署。").tokens[ALICE]
    page = client.get(f"/sign/{token}").get_data(as_text=True)
    assert '<html lang="zh-CN"' in page
    assert "待签署文件" in page and "轮到您签署了。" in page and "发送验证码" in page
    assert "Your turn to sign." not in page
    switch = re.search(r'href="(/sign/[^"?]+\?lang=en)"', page)
    assert switch, "the page links to its English version"
    english = client.get(switch.group(1))
    assert "Your turn to sign." in english.get_data(as_text=True)
    assert "st_lang=en" in english.headers["Set-Cookie"]
    again = client.get(f"/sign/{token}").get_data(as_text=True)  # the cookie now decides
    assert "Your turn to sign." in again


def test_an_english_browser_gets_english(client: Any, send_envelope: Any) -> None:
    token = send_envelope().tokens[ALICE]
    page = client.get(f"/sign/{token}", headers={"Accept-Language": "en-GB"})
    assert "Document to sign" in page.get_data(as_text=True)
