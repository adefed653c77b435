"""Fixtures for the chain tests: an in-process py-evm chain and a real anvil node."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import EthereumTesterProvider, Web3

from tests.chain.anvil import ANVIL_BIN, AnvilProcess, anvil_available, start_anvil


def running_under_ci() -> bool:
    """Return whether the CI environment variable says this is a CI run."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_tool(available: bool, what: str) -> None:
    """Skip when a node_modules tool is missing on a workstation; fail when it is missing in CI."""
    if available:
        return
    reason = f"{what} is not installed: run `npm ci` in the repository root"
    if running_under_ci():
        pytest.fail(f"{reason} (CI is set, so this is an error, not a skip)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Chain:
    """A chain to test against: a Web3 and a funded account that signs locally."""

    name: str
    w3: Web3
    funder: LocalAccount

    def new_account(self, ether: int = 1) -> LocalAccount:
        """Return a fresh account funded with ``ether`` from the funder."""
        account: LocalAccount = Account.create()
        tx: dict[str, Any] = {
            "to": account.address,
            "value": Web3.to_wei(ether, "ether"),
            "gas": 21_000,
            "gasPrice": self.w3.eth.gas_price * 2,
            "nonce": self.w3.eth.get_transaction_count(self.funder.address, "pending"),
            "chainId": self.w3.eth.chain_id,
        }
        signed = self.funder.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        self.w3.eth.wait_for_transaction_receipt(tx_hash)
        return account


@pytest.fixture
def tester_w3() -> Web3:
    """A fresh in-process py-evm chain (eth-tester) with funded, known-key accounts."""
    return Web3(EthereumTesterProvider())


def tester_funder(w3: Web3) -> LocalAccount:
    """Return the first funded eth-tester account as a local (signing) account."""
    provider = w3.provider
    assert isinstance(provider, EthereumTesterProvider)
    assert provider.ethereum_tester is not None
    key = provider.ethereum_tester.backend.account_keys[0]
    account: LocalAccount = Account.from_key(key.to_bytes())
    return account


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilProcess]:
    """One anvil node for the session, on a free port; stopped at the end."""
    require_tool(anvil_available(), str(ANVIL_BIN))
    with start_anvil() as node:
        yield node


@pytest.fixture(params=["eth-tester", pytest.param("anvil", marks=pytest.mark.anvil)])
def chain(request: pytest.FixtureRequest) -> Chain:
    """Each chain test runs on eth-tester (py-evm, in process) and on anvil (JSON-RPC)."""
    if request.param == "anvil":
        node: AnvilProcess = request.getfixturevalue("anvil")
        return Chain("anvil", node.w3, Account.from_key(node.private_key))
    w3: Web3 = request.getfixturevalue("tester_w3")
    return Chain("eth-tester", w3, tester_funder(w3))
