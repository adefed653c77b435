"""Two independent verifiers agree: every case of the shared table (tests/verifier_web/cases.py)
run through the command and through the HTML verifier in Chromium, each giving the verdict and
the failed checks the table states, and the page asking nothing of the network but the RPC URL
typed into it."""

from __future__ import annotations

import pytest

from tests.reports.bundle_fixtures import to_bytes
from tests.verifier_web.cases import CASES, CHAIN_CHECKS, NEEDS_CHAIN_CHECKS, Case
from tests.verifier_web.harness import ERROR, Page, command
from tests.verifier_web.world import World

pytestmark = [pytest.mark.slow, pytest.mark.anvil]


def _command_reads_the_block(world: World) -> bool:
    """Whether the command has the transaction and block checks (it gains them separately)."""
    return "anchor.transaction" in command(to_bytes(world.direct), world.rpc_url).checks


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_both_verifiers_give_the_tables_verdict(case: Case, world: World, page: Page) -> None:
    data = case.make(world)
    rpc = world.rpc_url if case.rpc else None
    name = "evidence.pdf" if data.startswith(b"%PDF") else "evidence.json"
    html = page.verify(data, name=name, rpc_url=rpc)
    cmd = command(data, rpc)

    # The page: the table's verdict and failed checks, and no request but to the RPC URL.
    assert html.verdict == case.verdict, (html.failed, html.text)
    if case.failed:
        assert html.failed == list(case.failed), html.text
    elif case.must_fail is not None:
        assert html.failed and case.must_fail in [*html.failed, ""], html.text
    else:
        assert html.failed == [], html.text
    if case.verdict != ERROR and rpc is None:
        assert html.requests == ()
    assert all(url.rstrip("/") == world.rpc_url for url in html.requests), html.requests

    # The command: the same verdict and the same failed checks.
    if case.id in NEEDS_CHAIN_CHECKS and not _command_reads_the_block(world):
        pytest.skip("the command does not read the anchor's transaction and block yet")
    known = set(cmd.checks) | {"bundle.format"}
    html_failed = [n for n in html.failed if n in known or n not in CHAIN_CHECKS]
    assert cmd.verdict == html.verdict, (cmd.failed, html.failed, cmd.text)
    assert cmd.failed == html_failed, html.text
    assert [n for n in html.checks if n in cmd.checks] == list(cmd.checks), (
        "checks in another order"
    )

    # The same lifecycle status, stated the same way beside the verdict.
    if case.verdict != ERROR:
        assert html.status == cmd.status, (html.status, cmd.status)
        assert html.line == cmd.line, (html.line, cmd.line)
        if case.status is not None:
            assert cmd.status == case.status
