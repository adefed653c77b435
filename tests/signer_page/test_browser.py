"""The signer page in headless Chromium against the real service (gunicorn): open the link,
ask for a code (read from the operator's outbox), enter it, drag the signature onto the page,
confirm intent, sign; on a desktop and on a phone-sized screen. And the page's load time."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser import browser  # noqa: F401 - the fixture
from tests.service import Service, running_service  # noqa: F401 - the service fixture
from tests.signer_page.conftest import CODE, LINK, contract_pdf

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ALICE = "alice@example.com"
A4 = (595.2756, 841.8898)
SIG_W, SIG_H = 180.0, 60.0


def outbox(svc: Service, to: str) -> list[dict[str, Any]]:
    out = svc.flask("outbox", "--json", "--to", to)
    return [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]


def send_envelope(svc: Service) -> tuple[str, str, dict[str, str]]:
    """Create and send a two-party envelope over the API; return its id, Alice's link, auth."""
    key = svc.flask("tenant", "create", "Browser Test Platform").strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {key}"}
    spec = {
        "title": "Service Agreement 2026",
        "message": "Please sign by Friday.",
        "order": "sequential",
        "parties": [
            {
                "name": "Alice Zhang",
                "email": ALICE,
                "fields": [
                    {"kind": "signature", "anywhere": True, "width": SIG_W, "height": SIG_H},
                    {"kind": "date", "page": 2, "x": 400, "y": 100},
                ],
            },
            {
                "name": "Bob Li",
                "email": "bob@example.com",
                "fields": [{"kind": "signature", "page": 2, "x": 320, "y": 200}],
            },
        ],
    }
    r = requests.post(
        f"{svc.url}/api/v1/envelopes",
        headers=auth,
        data={"spec": json.dumps(spec)},
        files={"documents": ("agreement.pdf", contract_pdf(), "application/pdf")},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    envelope_id = r.json()["id"]
    r = requests.post(f"{svc.url}/api/v1/envelopes/{envelope_id}/send", headers=auth, timeout=60)
    assert r.status_code == 200, r.text
    links = [m for m in outbox(svc, ALICE) if LINK.search(m["body"])]
    assert links, "Alice got no link"
    match = LINK.search(links[-1]["body"])
    assert match
    return envelope_id, f"{svc.url}/sign/{match.group(1)}", auth


def latest_code(svc: Service) -> str:
    for message in reversed(outbox(svc, ALICE)):
        if not LINK.search(message["body"]):
            found = CODE.search(message["body"])
            if found:
                return found.group(1)
    raise AssertionError("no code in the outbox")


def widget_rects(pdf: bytes) -> list[tuple[int, list[float]]]:
    """(page number, /Rect) of every widget annotation of the PDF."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf))
    out = []
    for i, ref in enumerate(reader.root["/Pages"]["/Kids"], start=1):
        for annot in ref.get_object().get("/Annots", []):
            annot = annot.get_object()
            if annot.get("/Subtype") == "/Widget":
                out.append((i, [float(v) for v in annot["/Rect"]]))
    return out


@pytest.mark.parametrize(
    "screen",
    [
        pytest.param({"width": 1280, "height": 900}, id="desktop"),
        pytest.param({"width": 390, "height": 844, "mobile": True}, id="phone"),
    ],
)
def test_sign_in_the_browser(
    service: Service,
    browser: Any,  # noqa: F811
    tmp_path: Path,
    screen: dict[str, Any],
) -> None:
    envelope_id, link, auth = send_envelope(service)
    mobile = bool(screen.get("mobile"))
    context = browser.new_context(
        viewport={"width": screen["width"], "height": screen["height"]},
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
    )
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    try:
        page.goto(link)
        assert page.locator("#title").inner_text() == "Service Agreement 2026"
        assert "Your turn to sign." in page.locator("#status").inner_text()
        assert page.evaluate("document.documentElement.classList.contains('js')")
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= screen["width"]
        # The page images really loaded.
        first = page.locator("#doc-1-page-1 img")
        assert first.evaluate("img => img.complete && img.naturalWidth") > 300

        page.click("#send-code")
        assert "We sent a 6-digit code" in page.locator(".notice-ok").inner_text()
        page.fill("#code", "000000" if latest_code(service) != "000000" else "111111")
        page.click("#verify-code")
        assert "Tries left: 4." in page.locator("#error").inner_text()
        page.fill("#code", latest_code(service))
        page.click("#verify-code")
        assert "Code accepted" in page.locator(".notice-ok").inner_text()

        # Drag the signature chip from the tray to the middle of page 2.
        target = page.locator("#doc-1-page-2")
        target.scroll_into_view_if_needed()
        chip = page.locator(".chip").first
        cb = chip.bounding_box()
        tb = target.bounding_box()
        assert cb and tb
        page.mouse.move(cb["x"] + cb["width"] / 2, cb["y"] + cb["height"] / 2)
        page.mouse.down()
        drop = (tb["x"] + tb["width"] * 0.35, tb["y"] + tb["height"] * 0.83)
        page.mouse.move(drop[0], drop[1], steps=15)
        page.mouse.up()
        assert page.input_value("#place-1-page") == "2"
        x, y = float(page.input_value("#place-1-x")), float(page.input_value("#place-1-y"))
        # The chip is centred on the drop point: its bottom-left corner in PDF points.
        assert x == pytest.approx(A4[0] * 0.35 - SIG_W / 2, abs=4)
        assert y == pytest.approx(A4[1] * (1 - 0.83) - SIG_H / 2, abs=4)
        assert "Placed on page 2" in page.locator(".placed-note").inner_text()

        # Signing without ticking the intent box is stopped by the browser.
        page.click("#sign-button")
        assert page.locator("#sign-button").is_visible()
        assert "Signed" not in page.locator("#status").inner_text()
        page.check("#intent")
        page.click("#sign-button")
        page.wait_for_selector("text=You signed the document.", timeout=60_000)
        assert page.locator("#status").inner_text().startswith("Signed")
        page.locator("#doc-1-page-2 img").scroll_into_view_if_needed()
        # Polled from here: the page's CSP forbids the eval Playwright's wait_for_function uses.
        deadline = time.monotonic() + 30
        while not page.evaluate(
            "() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
        ):
            assert time.monotonic() < deadline, "page images did not load"
            page.wait_for_timeout(100)
        shot = tmp_path / f"signed-{screen['width']}x{screen['height']}.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        context.close()
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 30_000
    assert not [m for m in console if "Content Security Policy" in m], console

    # The signature is in the PDF where it was dropped.
    r = requests.get(
        f"{service.url}/api/v1/envelopes/{envelope_id}/documents/1", headers=auth, timeout=30
    )
    assert r.status_code == 200
    rects = widget_rects(r.content)
    # Alice's widget holds her signature and her date field below it: its top-left corner is
    # the signature's, where she dropped it.
    assert any(
        page_no == 2
        and abs(rect[0] - x) < 1
        and abs(rect[3] - (y + SIG_H)) < 1
        and rect[2] >= x + SIG_W - 1
        and rect[1] <= y + 1
        for page_no, rect in rects
    ), rects


def test_signer_page_load_time(service: Service, tmp_path: Path) -> None:
    _, link, _ = send_envelope(service)
    token = link.rsplit("/", 1)[1]
    image = f"{service.url}/sign/{token}/documents/1/pages/1.png?w=1000"
    t0 = time.perf_counter()
    r = requests.get(image, timeout=30)
    cold = time.perf_counter() - t0
    assert r.status_code == 200
    page_times, image_times = [], []
    with requests.Session() as session:
        for _ in range(25):
            t0 = time.perf_counter()
            r = session.get(link, timeout=30)
            page_times.append(time.perf_counter() - t0)
            assert r.status_code == 200
            t0 = time.perf_counter()
            r = session.get(image, timeout=30)
            image_times.append(time.perf_counter() - t0)
            assert r.status_code == 200
            assert re.match(rb"\x89PNG", r.content)
    figures = {
        "page_p50_ms": round(statistics.median(page_times) * 1000, 1),
        "image_p50_ms": round(statistics.median(image_times) * 1000, 1),
        "image_cold_ms": round(cold * 1000, 1),
    }
    print("signer page load:", json.dumps(figures))
    (tmp_path / "signer_page_load.json").write_text(json.dumps(figures))
    assert figures["page_p50_ms"] < 1000
    assert figures["image_p50_ms"] < 1000
