"""``/api/docs``: Swagger UI served from this service (no CDN), under a strict CSP, on the
service's own OpenAPI document."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_reference_page_is_local_and_strict(client: Any) -> None:
    page = client.get("/api/docs", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sealtrail API reference" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources  # nothing off-site
    assert 'data-spec="/api/v1/openapi.json"' in html
    assert "<script>" not in html  # no inline script: the CSP would block it
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp and "connect-src 'self'" in csp
    for src in sources:
        if src.startswith("/api/docs/static/"):
            asset = client.get(src)
            assert asset.status_code == 200 and len(asset.data) > 100, src
    zh = client.get("/api/docs", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Sealtrail API 参考" in zh and 'lang="zh-CN"' in zh


def test_the_served_swagger_ui_is_the_pinned_package() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["swagger-ui-dist"]
    served = (ROOT / "web/static/apidocs/VERSION").read_text().split()[-1]
    assert served == pinned
    installed = ROOT / "node_modules/swagger-ui-dist"
    if not installed.exists():
        pytest.skip("node_modules not installed")
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert (installed / name).read_bytes() == (ROOT / "web/static/apidocs" / name).read_bytes()
