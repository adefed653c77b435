"""The verify page speaks the reader's language: Chinese by default and for a Chinese
browser, English for an English one, switchable on the page; no English left in Chinese."""

from __future__ import annotations

import re
from typing import Any

HAN = re.compile(r"[\u4e00-\u9fff]")


def _text(html: str) -> str:
    html = re.sub(r"<(script|style|code|pre|time)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_chinese_by_default_and_for_a_chinese_browser(client: Any) -> None:
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)
    for headers in ({}, {"Accept-Language": "zh-CN,zh;q=0.9"}):
        page = client.get("/verify", headers=headers).get_data(as_text=True)
        assert '<html lang="zh-CN">' in page
        assert "验证已签署的文件" in page and "下载离线验证器" in page
        assert "Verify a signed document" not in page


def test_english_for_an_english_browser_and_the_switch(client: Any) -> None:
    page = client.get("/verify", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Verify a signed document" in page
    switch = re.search(r'href="(/app/lang/zh_CN\?next=[^"]+)"', page)
    assert switch, "the page links to its Chinese version"
    answer = client.get(switch.group(1).replace("&amp;", "&"))
    assert answer.status_code in (302, 303) and answer.headers["Location"].endswith("/verify")
    again = client.get("/verify", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "验证已签署的文件" in again  # the choice outlives the browser's preference


def test_a_lookup_in_chinese_has_no_english_sentence(client: Any, auth: Any) -> None:
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)
    page = client.get("/verify?document=" + "ab" * 32).get_data(as_text=True)
    assert "未找到" in page
    words = re.findall(r"\b[A-Za-z]{4,}\b", _text(page))
    # product names, file formats and protocol words only
    allowed = {"Sealtrail", "verify", "JSON", "HTML", "sealtrail", "FILE"}
    leftover = [w for w in words if w not in allowed]
    assert not [w for w in leftover if w.lower() in {"upload", "verify", "the", "document", "file"}]
