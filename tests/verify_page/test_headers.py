"""The verify page answers with the same strict headers as the signer's page: a CSP with no
script and ``frame-ancestors 'none'``, ``X-Frame-Options: DENY``, ``nosniff`` and
``Referrer-Policy: no-referrer``, on the form, on a result, on an error and on a lookup."""

from __future__ import annotations

import io
from typing import Any

import pytest


def _strict(response: Any) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], csp
    assert directives.get("default-src") == ["'none'"], csp
    assert "script-src" not in directives, csp  # no script may run on the page
    assert directives.get("form-action") == ["'self'"], csp
    assert directives.get("base-uri") == ["'none'"], csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    "url", ["/verify", "/verify?document=" + "ab" * 32, "/verify?report=rep_nope"]
)
def test_pages_are_protected(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.mimetype == "text/html"
    _strict(response)


def test_an_upload_result_and_an_error_are_protected(client: Any) -> None:
    bundle = b'{"format": "sealtrail-evidence-bundle"}'
    result = client.post(
        "/verify", data={"file": (io.BytesIO(bundle), "b.json")}, content_type="multipart/form-data"
    )
    assert result.mimetype == "text/html"
    _strict(result)
    error = client.post(
        "/verify",
        data={"file": (io.BytesIO(b"PK\x03\x04"), "x.zip")},
        content_type="multipart/form-data",
    )
    assert error.status_code == 415
    _strict(error)


def test_the_offline_verifier_keeps_its_own_policy(client: Any) -> None:
    response = client.get("/verify/offline.html")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" in csp  # pinned inline script
    assert response.headers["X-Frame-Options"] == "DENY"
