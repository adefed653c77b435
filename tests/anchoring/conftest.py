"""Fixtures for anchoring: an instance whose chain is the in-process py-evm chain (eth-tester)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from evidence_chain.anchoring.chain import Signer, SwitchableChain, Web3Chain
from evidence_chain.anchoring.service import Anchorer
from evidence_chain.config import Settings, load_settings
from runtime.services import Services, build_services
from runtime.setup import initialise


@dataclass
class Rig:
    """An instance anchoring to an in-process chain, with handles on every part."""

    settings: Settings
    app: Any
    instance: Services
    chain: SwitchableChain
    w3: Web3
    signer: Signer
    contract: str
    client: Any
    auth: dict[str, str]

    @property
    def anchorer(self) -> Anchorer:
        assert self.instance.anchorer is not None
        return self.instance.anchorer

    def push(self, n: int, subject: str = "contract-7") -> list[dict[str, Any]]:
        """Push ``n`` events; return their receipts."""
        events = [
            {"type": "step", "subject": subject, "occurred_at": "2026-11-21T09:00:00Z", "data": {}}
            for _ in range(n)
        ]
        r = self.client.post("/api/v1/events", json={"events": events}, headers=self.auth)
        assert r.status_code == 201, r.get_data(as_text=True)
        receipts: list[dict[str, Any]] = r.get_json()["receipts"]
        return receipts

    def mine(self, blocks: int = 1) -> None:
        """Mine empty blocks on the in-process chain."""
        provider: Any = self.w3.provider
        provider.ethereum_tester.mine_blocks(blocks)

    @property
    def tester(self) -> Any:
        provider: Any = self.w3.provider
        return provider.ethereum_tester


def rig_settings(database_url: str, home: Path, contract: str, key: str, **extra: str) -> Settings:
    """Settings of an anchoring instance on the in-process chain."""
    return load_settings(
        {
            "EVIDENCE_HOME": str(home),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.test/anchored",
            "EVIDENCE_CHAIN_RPC_URL": "http://in-process.invalid",
            "EVIDENCE_CONTRACT_ADDRESS": contract,
            "EVIDENCE_ANCHOR_KEY": key,
            "EVIDENCE_CHAIN_CONFIRMATIONS": "2",
            **extra,
        }
    )


def make_rig(database_url: str, home: Path, **extra: str) -> Iterator[Rig]:
    """Build a rig; yields it and closes it afterwards."""
    from app import create_app
    from evidence_chain.tenants import create_tenant

    real = Web3Chain.in_process()
    provider: Any = real.w3.provider
    key = "0x" + provider.ethereum_tester.backend.account_keys[0].to_bytes().hex()
    signer = Signer.from_hex(key)
    contract = real.deploy(signer)
    settings = rig_settings(database_url, home, contract, key, **extra)
    initialise(settings)
    chain = SwitchableChain(real)
    instance = build_services(settings, chain=chain)
    app = create_app(services=instance)
    app.config["TESTING"] = True
    _tenant, api_key = create_tenant(instance.engine, "Anchored Platform")
    yield Rig(
        settings=settings,
        app=app,
        instance=instance,
        chain=chain,
        w3=real.w3,
        signer=signer,
        contract=contract,
        client=app.test_client(),
        auth={"Authorization": f"Bearer {api_key}"},
    )
    instance.close()


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    """An anchoring instance on a fresh in-process chain with a fresh contract."""
    yield from make_rig(database_url, tmp_path / "home")
