"""The signer page's routes through Flask's test client, on envelopes made by the service."""

from __future__ import annotations

import datetime as dt
import io
import re
import stat
from typing import Any

import pytest
from PIL import Image

from tests.signer_page.conftest import latest_code

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ALICE = "alice@example.com"


def csrf_of(client: Any, token: str) -> str:
    page = client.get(f"/sign/{token}")
    assert page.status_code == 200
    found = CSRF.search(page.get_data(as_text=True))
    assert found
    return found.group(1)


def verified(client: Any, instance: Any, token: str) -> str:
    """Request and enter a code; return the CSRF token of the session."""
    csrf = csrf_of(client, token)
    assert client.post(f"/sign/{token}/code", data={"csrf_token": csrf}).status_code == 303
    code = latest_code(instance.engine, ALICE)
    r = client.post(f"/sign/{token}/verify", data={"csrf_token": csrf, "code": code})
    assert r.status_code == 303
    return csrf


def events(instance: Any, tenant: Any, envelope_id: str, kind: str) -> list[dict[str, Any]]:
    """The envelope's evidence events of one type, from the ledger."""
    stored = instance.ledger.subject_events(tenant[0].id, f"envelope:{envelope_id}")
    return [e.record for e in stored if e.record.get("type") == kind]


def test_page_shows_envelope_party_and_turn_with_security_headers(
    client: Any, send_envelope: Any
) -> None:
    sent = send_envelope(message="Please sign by Friday.")
    token = sent.tokens[ALICE]
    r = client.get(f"/sign/{token}", headers={"User-Agent": "PhoneBrowser/1.0"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert "Service Agreement 2026" in html
    assert "Please sign by Friday." in html
    assert "Alice Zhang" in html
    assert "Your turn to sign." in html
    assert 'name="viewport"' in html
    assert "I have read the document and agree to sign it electronically" not in html  # no code yet
    assert "Send me a code" in html
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    assert "<script>" not in html  # only external scripts
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in this test
    # The fixed fields of the party are drawn as boxes on page 2; the anywhere one is not.
    assert 'id="box-1-2-1"' in html
    assert 'id="box-1-2-2"' in html
    assert "data-rotation" in html


def test_cookie_is_secure_over_https(client: Any, send_envelope: Any) -> None:
    token = send_envelope().tokens[ALICE]
    r = client.get(f"/sign/{token}", base_url="https://sign.example.com")
    assert r.status_code == 200
    assert "Secure" in r.headers["Set-Cookie"]


def test_session_key_is_created_private(app: Any) -> None:
    path = app.config["SEALTRAIL_SETTINGS"].home / "session.key"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert app.secret_key == path.read_bytes()
    assert len(app.secret_key) >= 32


def test_page_image_is_a_png_of_the_page_and_records_one_view(
    client: Any, send_envelope: Any, instance: Any, tenant: Any
) -> None:
    sent = send_envelope()
    token = sent.tokens[ALICE]

    def views() -> int:
        return len(events(instance, tenant, sent.envelope_id, "envelope.document_viewed"))

    before = views()
    r = client.get(f"/sign/{token}/documents/1/pages/1.png?w=500")
    assert r.status_code == 200
    assert r.mimetype == "image/png"
    image = Image.open(io.BytesIO(r.data))
    assert image.width == 640  # 500 snaps up to the next rendering width
    assert abs(image.height / image.width - 841.89 / 595.28) < 0.01  # A4 proportions
    assert views() == before + 1
    # Other pages do not count as another view; a revalidation of page 1 gets a 304.
    assert client.get(f"/sign/{token}/documents/1/pages/2.png?w=500").status_code == 200
    again = client.get(
        f"/sign/{token}/documents/1/pages/1.png?w=500", headers={"If-None-Match": r.headers["ETag"]}
    )
    assert again.status_code == 304
    assert views() == before + 2
    # Cached on disk under the document's hash.
    cache = instance.settings.home / "cache" / "pages"
    assert any(p.name == "p1-w640.png" for p in cache.rglob("*.png"))


def test_missing_page_and_bad_width_are_html_errors(client: Any, send_envelope: Any) -> None:
    token = send_envelope().tokens[ALICE]
    r = client.get(f"/sign/{token}/documents/1/pages/3.png")
    assert r.status_code == 404
    assert r.mimetype == "text/html"
    r = client.get(f"/sign/{token}/documents/2/pages/1.png")
    assert r.status_code == 404
    r = client.get(f"/sign/{token}/documents/1/pages/1.png?w=wide")
    assert r.status_code == 400
    assert "Traceback" not in r.get_data(as_text=True)


def test_unknown_link_is_a_friendly_404(client: Any, app: Any) -> None:
    r = client.get("/sign/" + "x" * 43)
    html = r.get_data(as_text=True)
    assert r.status_code == 404
    assert r.mimetype == "text/html"
    assert "This signing link is not valid" in html
    assert "Traceback" not in html
    assert r.headers["Referrer-Policy"] == "no-referrer"


def test_expired_link_is_410(client: Any, send_envelope: Any, envelopes: Any) -> None:
    token = send_envelope(expires_in_days=1).tokens[ALICE]
    real = envelopes.clock
    envelopes.clock = lambda: real() + dt.timedelta(days=2)
    try:
        r = client.get(f"/sign/{token}")
    finally:
        envelopes.clock = real
    assert r.status_code == 410
    assert "This signing link is no longer active" in r.get_data(as_text=True)


def test_post_without_or_with_wrong_csrf_is_403(client: Any, send_envelope: Any) -> None:
    token = send_envelope().tokens[ALICE]
    client.get(f"/sign/{token}")
    for data in ({}, {"csrf_token": "forged"}):
        for action in ("code", "verify", "sign", "decline"):
            r = client.post(f"/sign/{token}/{action}", data={**data, "code": "123456"})
            assert r.status_code == 403, action
            assert "This action was refused" in r.get_data(as_text=True)
    # A token from another session is refused too.
    other = csrf_of(client.application.test_client(), token)
    assert client.post(f"/sign/{token}/code", data={"csrf_token": other}).status_code == 403


def test_code_throttled_wrong_and_locked(client: Any, send_envelope: Any, instance: Any) -> None:
    token = send_envelope().tokens[ALICE]
    csrf = csrf_of(client, token)
    r = client.post(f"/sign/{token}/code", data={"csrf_token": csrf})
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "We sent a 6-digit code to a" in page
    r = client.post(f"/sign/{token}/code", data={"csrf_token": csrf})
    assert r.status_code == 429
    assert "try again in" in r.get_data(as_text=True)
    code = latest_code(instance.engine, ALICE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        r = client.post(f"/sign/{token}/verify", data={"csrf_token": csrf, "code": wrong})
        assert r.status_code == 422
        assert f"That code is not right. Tries left: {left}." in r.get_data(as_text=True)
    r = client.post(f"/sign/{token}/verify", data={"csrf_token": csrf, "code": wrong})
    assert r.status_code == 429
    r = client.get(f"/sign/{token}")
    assert "this link is locked" in r.get_data(as_text=True)
    r = client.post(f"/sign/{token}/verify", data={"csrf_token": csrf, "code": code})
    assert r.status_code == 429  # even the right code, once locked


def test_sign_needs_code_intent_and_placement(
    client: Any, send_envelope: Any, instance: Any
) -> None:
    token = send_envelope().tokens[ALICE]
    csrf = csrf_of(client, token)
    r = client.post(f"/sign/{token}/sign", data={"csrf_token": csrf, "intent": "yes"})
    assert r.status_code == 403  # no code yet: the page again, with the reason
    assert "Service Agreement 2026" in r.get_data(as_text=True)
    verified(client, instance, token)
    html = client.get(f"/sign/{token}").get_data(as_text=True)
    assert "I have read the document and agree to sign it electronically" in html
    field = re.search(r'name="place-(fld_[0-9a-f]+)-x"', html)
    assert field
    fid = field.group(1)
    r = client.post(f"/sign/{token}/sign", data={"csrf_token": csrf})
    assert r.status_code == 400
    assert "tick the box" in r.get_data(as_text=True).lower()
    r = client.post(f"/sign/{token}/sign", data={"csrf_token": csrf, "intent": "yes"})
    assert r.status_code == 400
    assert "drag your signature onto the page" in r.get_data(as_text=True).lower()
    bad = {"csrf_token": csrf, "intent": "yes", f"place-{fid}-page": "9", f"place-{fid}-x": "1"}
    r = client.post(f"/sign/{token}/sign", data={**bad, f"place-{fid}-y": "1"})
    assert r.status_code == 400
    assert "page 9 does not exist" in r.get_data(as_text=True).lower()
    r = client.post(
        f"/sign/{token}/sign",
        data={**bad, f"place-{fid}-page": "1", f"place-{fid}-y": "up"},
    )
    assert r.status_code == 400
    assert "is not a number" in r.get_data(as_text=True)


def test_sign_with_a_no_script_preset_then_download_when_completed(
    client: Any, send_envelope: Any, instance: Any
) -> None:
    sent = send_envelope()
    token = sent.tokens[ALICE]
    csrf = verified(client, instance, token)
    html = client.get(f"/sign/{token}").get_data(as_text=True)
    fid = re.search(r'name="place-(fld_[0-9a-f]+)-x"', html).group(1)  # type: ignore[union-attr]
    text_id = re.search(r'name="text-(fld_[0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]
    # What a browser without script sends: an empty hidden page input, then the <select>.
    data = {
        "csrf_token": csrf,
        "intent": "yes",
        f"place-{fid}-page": ["", "2"],
        f"place-{fid}-x": "",
        f"place-{fid}-y": "",
        f"place-{fid}-preset": "bottom-right",
        f"text-{text_id}": "Chief Executive",
    }
    r = client.post(f"/sign/{token}/sign", data=data)
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "You signed the document." in page
    assert "Signed: you have signed." in page
    assert "Download signed document" not in page  # Bob has not signed yet
    assert client.get(f"/sign/{token}/download").status_code == 409
    # Signing twice is refused with the page and a 409.
    r = client.post(f"/sign/{token}/sign", data=data)
    assert r.status_code in (403, 409)
    # Bob's turn: his link arrives now; he signs his fixed field.
    from tests.signer_page.conftest import link_token

    bob = link_token(instance.engine, "bob@example.com")
    bob_client = client.application.test_client()
    bob_csrf = csrf_of(bob_client, bob)
    assert bob_client.post(f"/sign/{bob}/code", data={"csrf_token": bob_csrf}).status_code == 303
    code = latest_code(instance.engine, "bob@example.com")
    bob_client.post(f"/sign/{bob}/verify", data={"csrf_token": bob_csrf, "code": code})
    r = bob_client.post(f"/sign/{bob}/sign", data={"csrf_token": bob_csrf, "intent": "yes"})
    assert r.status_code == 303
    page = client.get(f"/sign/{token}").get_data(as_text=True)
    assert "Completed: everyone has signed." in page
    r = client.get(f"/sign/{token}/download")
    assert r.status_code == 200
    assert r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.data.count(b"/ByteRange") >= 2


def test_decline_needs_reason_and_confirmation(
    client: Any, send_envelope: Any, instance: Any, tenant: Any
) -> None:
    sent = send_envelope()
    token = sent.tokens[ALICE]
    csrf = csrf_of(client, token)
    r = client.post(f"/sign/{token}/decline", data={"csrf_token": csrf, "reason": "Wrong price"})
    assert r.status_code == 400
    assert "confirm that you decline" in r.get_data(as_text=True)
    r = client.post(f"/sign/{token}/decline", data={"csrf_token": csrf, "confirm": "yes"})
    assert r.status_code == 400
    r = client.post(
        f"/sign/{token}/decline",
        data={"csrf_token": csrf, "reason": "Wrong price", "confirm": "yes"},
    )
    assert r.status_code == 303
    declined = events(instance, tenant, sent.envelope_id, "envelope.declined")
    assert declined
    assert "Wrong price" in str(declined[-1])
    # The envelope is finished: the link no longer works.
    assert client.get(f"/sign/{token}").status_code == 410


def test_a_shared_session_key_from_the_environment_signs_the_cookies(settings: Any) -> None:
    """Hosts behind one load balancer share EVIDENCE_SESSION_KEY; no key file is written then."""
    import dataclasses

    from app import create_app
    from evidence_chain.errors import ConfigurationError

    shared = "k" * 40
    app = create_app(dataclasses.replace(settings, session_key=shared))
    assert app.secret_key == shared.encode()
    assert not (settings.home / "session.key").exists()
    with pytest.raises(ConfigurationError, match="at least 32"):
        create_app(dataclasses.replace(settings, session_key="short"))
