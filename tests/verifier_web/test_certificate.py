"""A real certificate of evidence, anchored on anvil: the verifier page attached inside it is
the built one; opened from disk in Chromium it takes the certificate, finds the bundle among its
attachments and gives every evidence check the command gives, asking the network for nothing
but the RPC URL."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from reports.service import issue_report
from tests.reports.bundle_fixtures import SUBJECT
from tests.verifier_web.harness import Page, command
from tests.verifier_web.world import World
from verifier_web import VERIFIER_ATTACHMENT, verifier_html

pytestmark = [pytest.mark.slow, pytest.mark.anvil]


@pytest.fixture(scope="module")
def certificate(world: World) -> bytes:
    """A certificate of evidence of the world's anchored subject, as the service issues it."""
    issued = issue_report(world.instance, world.instance.signing, world.tenant, SUBJECT)
    assert issued.verdict.verdict == "VERIFIED"
    return issued.pdf


def test_the_attached_page_verifies_its_certificate(
    certificate: bytes, world: World, browser: Any, tmp_path: Path
) -> None:
    pdfdetach = shutil.which("pdfdetach")
    assert pdfdetach, "poppler-utils is installed by make deps"
    report = tmp_path / "certificate.pdf"
    report.write_bytes(certificate)
    listing = subprocess.run(
        [pdfdetach, "-list", str(report)], capture_output=True, text=True, check=True
    )
    assert "evidence-bundle.json" in listing.stdout and VERIFIER_ATTACHMENT in listing.stdout
    saved = tmp_path / "saved" / VERIFIER_ATTACHMENT
    saved.parent.mkdir()
    subprocess.run([pdfdetach, "-saveall", "-o", str(saved.parent), str(report)], check=True)
    assert saved.read_bytes() == verifier_html()

    page = Page(browser, saved)  # the copy taken out of the certificate, opened from disk
    try:
        html = page.verify(certificate, name="certificate.pdf", rpc_url=world.rpc_url)
        cmd = command(certificate, world.rpc_url)
        assert cmd.verdict == "VERIFIED"
        # The page checks all the evidence the certificate carries; the PDF's own signature is
        # left to PDF readers and the command, and the page says so: INCOMPLETE, nothing failed.
        assert html.checks["report.signature"] is None and html.failed == []
        assert html.verdict == "INCOMPLETE"
        assert html.checks["report.attachment"] is True
        # The PDF's signature and the bytes after it are the command's alone.
        pdf_only = ("report.signature", "report.after_signature")
        shared = {n: ok for n, ok in cmd.checks.items() if n not in pdf_only}
        assert {n: html.checks[n] for n in shared} == shared
        assert html.checks["anchor.block_timestamp"] is True
        assert html.requests and all(u.rstrip("/") == world.rpc_url for u in html.requests)
        assert "PDF reader" in page.page.inner_text("#verdict")

        # A document of the evidence, checked in both.
        html = page.verify(certificate, name="certificate.pdf", document=b"before-3")
        assert html.checks["document.hash"] is True
        assert "original" in page.page.inner_text("tr[data-check='document.hash']")
        assert command(certificate, document=b"before-3").checks["document.hash"] is True
        assert html.requests == ()  # no RPC URL: no request at all

        page.page.screenshot(path=str(tmp_path / "certificate-in-page.png"), full_page=True)
    finally:
        page.close()


def test_a_signed_pdf_without_the_bundle_is_a_contract_in_both(world: World, page: Page) -> None:
    from tests.reports.bundle_fixtures import make_pki, report_pdf

    def sign() -> bytes:
        pki = make_pki(Path(world.settings.home) / "other-pki")
        return report_pdf(b"{}", pki, attach=False)

    # pyHanko signs in an event loop of its own: not in this thread, where Playwright's runs.
    with ThreadPoolExecutor(1) as pool:
        bare = pool.submit(sign).result()
    html = page.verify(bare, name="bare.pdf")
    cmd = command(bare)
    # A signed contract: its place in the log needs its evidence, so INCOMPLETE, never FAILED.
    assert html.verdict == cmd.verdict == "INCOMPLETE"
    assert html.failed == cmd.failed == []
    assert html.checks["contract.in_evidence"] is cmd.checks["contract.in_evidence"] is None
    assert cmd.checks["signature[0]"] is True and html.checks["signatures"] is None
    assert html.line == cmd.line and html.line is not None and "--report/--bundle" in html.line
