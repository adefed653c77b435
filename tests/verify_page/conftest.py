"""The verify page's tests read it in English, as a browser set to English asks for it
(without the header it is in Chinese: see test_languages.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def english(request: pytest.FixtureRequest) -> None:
    """Ask every page of the test client in English."""
    if "client" in request.fixturenames:
        client: Any = request.getfixturevalue("client")
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
