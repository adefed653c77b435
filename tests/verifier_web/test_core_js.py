"""The browser verifier's own tests and build: its JavaScript unit tests (JCS, Merkle, notes,
messages) under node, the checked-in HTML is exactly what the pinned build makes, the page's
Content-Security-Policy pins its inline script and style, and its chain constants are the
EvidenceAnchor contract's."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess

import pytest
from web3 import Web3

from tests.verifier_web.harness import HTML, REPO

NODE = shutil.which("node")


def _node(*args: str) -> subprocess.CompletedProcess[str]:
    if NODE is None:
        pytest.fail("node is not installed (it comes with the project's npm tooling)")
    return subprocess.run(
        [NODE, *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


def test_javascript_unit_tests_pass() -> None:
    run = _node("--test", "verifier_web/test/")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"^# fail 0$", run.stdout, re.M) and re.search(
        r"^# pass [1-9]", run.stdout, re.M
    )


def test_rebuilding_gives_the_checked_in_html_byte_for_byte() -> None:
    run = _node("verifier_web/build.mjs", "--check")
    assert run.returncode == 0, run.stderr


def test_the_csp_allows_exactly_the_inline_script_and_style() -> None:
    html = HTML.read_text(encoding="utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    policy = dict(part.split(" ", 1) for part in csp.group(1).split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "http: https:"  # the RPC URL the user types, nothing else
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)
        assert len(bodies) == 1
        digest = base64.b64encode(hashlib.sha256(bodies[0].encode()).digest()).decode()
        assert policy[directive] == f"'sha256-{digest}'"
    assert "src=" not in re.sub(r"<script>.*?</script>", "", html, flags=re.S)


def test_chain_constants_are_the_contracts() -> None:
    source = (REPO / "verifier_web" / "src" / "anchor.js").read_text(encoding="utf-8")
    selector = re.search(r'ROOT_AT_SELECTOR = "([0-9a-f]+)"', source)
    topic = re.search(r'CHECKPOINT_ANCHORED_TOPIC = "([0-9a-f]+)"', source)
    assert selector and topic
    assert selector.group(1) == Web3.keccak(text="rootAt(bytes32,uint64)")[:4].hex()
    event = "CheckpointAnchored(bytes32,uint64,bytes32)"
    assert topic.group(1) == Web3.keccak(text=event).hex().removeprefix("0x")
    contract = (REPO / "contracts_sol" / "EvidenceAnchor.sol").read_text(encoding="utf-8")
    assert (
        "event CheckpointAnchored(bytes32 indexed logId, uint64 indexed treeSize, bytes32 root)"
        in contract
    )
