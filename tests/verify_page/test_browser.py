"""The verify page in headless Chromium against the real service (gunicorn): upload a contract
signed three times through the API, see its signatures valid and trusted and its place in the
log; upload garbage and see the clear error; open the QR link of the original."""

from __future__ import annotations

import hashlib
import io
import json
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser import browser  # noqa: F401 - the fixture
from tests.service import Service, running_service  # noqa: F401 - the service fixture
from tests.signing.conftest import make_pdf
from tests.verify_page.helpers import SIGNERS

pytestmark = pytest.mark.slow


def sign_three_times(svc: Service) -> tuple[bytes, bytes]:
    """The original and the contract signed by three signers through the API."""
    key = svc.flask("tenant", "create", "Browser Platform").strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    seal = requests.post(
        f"{svc.url}/api/v1/seals",
        json={"kind": "official", "text": "上海示例科技有限公司"},
        headers=headers,
        timeout=30,
    )
    assert seal.status_code == 201, seal.text
    original = make_pdf(2)
    pdf = original
    for i, name in enumerate(SIGNERS):
        response = requests.post(
            f"{svc.url}/api/v1/documents/sign",
            files={"document": ("contract.pdf", io.BytesIO(pdf), "application/pdf")},
            data={
                "seal_id": seal.json()["id"],
                "placements": json.dumps(
                    [{"kind": "explicit", "page": 1, "x": 60 + 150 * i, "y": 80}]
                ),
                "signer": json.dumps({"name": name}),
                "subject": "envelope:browser-1",
                "certify": "false",
                "qr": "true" if i == 0 else "false",
            },
            headers=headers,
            timeout=120,
        )
        assert response.status_code == 200, response.text
        pdf = response.content
    return original, pdf


def wait_for_checkpoint(svc: Service, size: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(f"{svc.url}/api/v1/checkpoints/latest", timeout=5)
        if r.status_code == 200 and r.json()["tree_size"] >= size:
            return
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint covering {size} leaves")


def test_verify_page_in_chromium(service: Service, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    original, signed = sign_three_times(service)
    wait_for_checkpoint(service, 3)
    contract = tmp_path / "signed-contract.pdf"
    contract.write_bytes(signed)
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"this is not a contract at all\n" * 10)

    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.goto(f"{service.url}/verify")
    assert page.title().startswith("Verify a document")
    page.set_input_files("input#file", str(contract))
    page.get_by_role("button", name="Verify", exact=True).click()
    page.wait_for_selector("#verdict-title")
    verdict = page.inner_text("#verdict-title").strip()
    sigs = page.inner_text("table.sigs")
    for name in SIGNERS:
        assert name in sigs
    assert sigs.count("yes") == 9 and "no" not in sigs.replace(
        "not", ""
    )  # 3 x intact/valid/trusted
    log = page.inner_text("section[aria-labelledby=log-title]")
    # the platform keeps its detail private (the default): recorded, by whom, when, not what
    assert "Browser Platform" in log and "envelope:browser-1" not in log
    assert "keeps its contract number and timeline private" in log
    assert "proven in the signed checkpoint" in log and "not yet anchored" in log
    assert hashlib.sha256(signed).hexdigest() in page.content()
    assert verdict == "INCOMPLETE"  # every signature holds; anchoring is off in this service
    shot = tmp_path / "verify-result.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.exists() and shot.stat().st_size > 10_000

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the verification report (PDF)").click()
    report = tmp_path / "report.pdf"
    download.value.save_as(report)
    assert report.read_bytes().startswith(b"%PDF-")

    page.set_input_files("input#file", str(garbage))
    page.get_by_role("button", name="Verify", exact=True).click()
    alert = page.wait_for_selector("[role=alert]")
    assert "neither a PDF nor an evidence bundle" in alert.inner_text()
    page.screenshot(path=str(tmp_path / "verify-error.png"))
    assert (tmp_path / "verify-error.png").exists()

    # the QR code printed on the first signed copy points at the original's hash
    page.goto(f"{service.url}/verify?document={hashlib.sha256(original).hexdigest()}")
    assert "original document" in page.inner_text("main")
    context.close()

    timings = []
    for _ in range(9):
        started = time.perf_counter()
        r = requests.post(
            f"{service.url}/verify",
            files={"file": ("c.pdf", io.BytesIO(signed), "application/pdf")},
            timeout=60,
        )
        timings.append(time.perf_counter() - started)
        assert r.status_code == 200
    print(
        f"\nverify page, 3-signature PDF ({len(signed)} bytes): "
        f"p50 {statistics.median(timings) * 1000:.0f} ms"
    )
