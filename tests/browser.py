"""Headless Chromium for the page tests: Debian's ``/usr/bin/chromium`` driven by Playwright.

Import the ``browser`` fixture into a test module (``from tests.browser import browser``) or a
package's ``conftest.py``. The flags keep Chromium off the network it cannot reach here and
out of any profile of the machine's user.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium browser for the module's tests."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make deps` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()
