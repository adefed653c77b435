"""The anvil helper: free ports, readiness, and a chain that survives a restart with --state."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence_chain.anchoring.contract import contract, deploy, log_id, transact
from tests.chain.anvil import AnvilProcess, anvil_available, start_anvil
from tests.chain.conftest import require_tool

pytestmark = pytest.mark.anvil


def test_anvil_fixture_answers(anvil: AnvilProcess) -> None:
    assert anvil.w3.eth.chain_id == anvil.chain_id == 31337
    assert anvil.w3.eth.get_balance(anvil.address) > 0


def test_state_survives_restart(tmp_path: Path) -> None:
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    state = str(tmp_path / "anvil-state.json")
    log = log_id("sealtrail.example/restart")
    root = b"\x42" * 32

    with start_anvil(state_path=state) as node:
        address = deploy(node.w3, node.private_key)
        transact(
            node.w3, node.private_key, contract(node.w3, address).functions.anchor(log, 7, root)
        )
    assert node.process.poll() is not None

    with start_anvil(state_path=state) as node:
        assert contract(node.w3, address).functions.latest(log).call() == [7, root]
