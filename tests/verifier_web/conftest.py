"""Fixtures of the two-verifier tests: anvil with anchored evidence, and the page in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import browser  # noqa: F401 - the fixture
from tests.chain.anvil import AnvilProcess, anvil_available, start_anvil
from tests.chain.conftest import require_tool
from tests.verifier_web.harness import Page
from tests.verifier_web.world import World, make_world


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilProcess]:
    """A running anvil node for the module."""
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    with start_anvil() as anvil:
        yield anvil


@pytest.fixture(scope="module")
def world(node: AnvilProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Evidence anchored on the node, and the bundles the verifiers are given."""
    yield from make_world(node, tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Page]:  # noqa: F811 - the fixture
    """The HTML verifier opened from its file in one tab."""
    tab = Page(browser)
    yield tab
    tab.close()
