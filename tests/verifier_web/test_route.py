"""``/verify/offline.html``: the verifier page served by the service, with a header policy that
a browser enforces, linked from ``/verify``; in Chromium it verifies a bundle under that policy."""

from __future__ import annotations

from typing import Any

import pytest

from reports.bundle import build_bundle
from tests.browser import browser  # noqa: F401 - the fixture
from tests.reports.bundle_fixtures import SUBJECT, checkpoint, push, to_bytes
from verifier_web import verifier_html

URL = "https://sealtrail.test/verify/offline.html"


def test_the_service_serves_the_built_page_with_its_policy(client: Any) -> None:
    response = client.get("/verify/offline.html")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.data == verifier_html()
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get("/verify").get_data(as_text=True)
    assert 'href="/verify/offline.html"' in page and "下载离线验证器" in page


@pytest.mark.slow
def test_the_served_page_verifies_under_its_policy(
    client: Any,
    instance: Any,
    tenant: Any,
    browser: Any,  # noqa: F811 - the fixture
) -> None:
    push(instance, tenant[0], 4)
    checkpoint(instance)
    bundle = to_bytes(build_bundle(instance, tenant[0], SUBJECT))
    served = client.get("/verify/offline.html")

    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.route(
        URL,
        lambda route: route.fulfill(
            status=served.status_code, headers=dict(served.headers), body=served.data
        ),
    )
    page.goto(URL)
    assert page.title() == "Sealtrail 证据验证器"  # the browser's language
    page.set_input_files(
        "#file", files=[{"name": "b.json", "mimeType": "application/json", "buffer": bundle}]
    )
    page.wait_for_selector("#verdict")
    assert page.get_attribute("#verdict", "data-verdict") == "INCOMPLETE"
    assert "尚未锚定" in page.inner_text("#result")
    page.click("#language")
    assert "not yet anchored" in page.inner_text("#result")
    assert violations == []
    context.close()
