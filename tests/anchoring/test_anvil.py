"""Anchoring against a real anvil node from node_modules: the service end to end (gunicorn
starting its local chain), a re-org, an outage with the chain's state kept, two schedulers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from web3 import Web3

from evidence_chain.anchoring.chain import Signer, Web3Chain
from evidence_chain.anchoring.contract import contract, log_id
from evidence_chain.config import Settings, load_settings
from evidence_chain.events import EventInput
from evidence_chain.tenants import create_tenant
from runtime.services import Services, build_services
from runtime.setup import initialise
from tests.chain.anvil import DEV_PRIVATE_KEY, AnvilProcess, anvil_available, start_anvil
from tests.chain.conftest import require_tool
from tests.service import ROOT, Service, free_port, service_env

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
ORIGIN = "sealtrail.test/anvil"


def rpc(url: str, method: str, params: list[Any]) -> Any:
    """A plain JSON-RPC call, as any Ethereum client would make it."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    reply = requests.post(url, json=body, timeout=10).json()
    assert "error" not in reply, reply
    return reply["result"]


def root_at_by_eth_call(url: str, address: str, origin: str, size: int) -> bytes:
    """rootAt(logId, size) with a hand-encoded eth_call: no project code involved."""
    selector = Web3.keccak(text="rootAt(bytes32,uint64)")[:4]
    data = selector + log_id(origin) + size.to_bytes(32, "big")
    result = rpc(url, "eth_call", [{"to": address, "data": "0x" + data.hex()}, "latest"])
    return bytes.fromhex(result[2:])


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilProcess]:
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    with start_anvil(state_path=str(tmp_path / "anvil-state.json")) as anvil:
        yield anvil


def anvil_settings(database_url: str, home: Path, url: str, address: str, **extra: str) -> Settings:
    return load_settings(
        {
            "EVIDENCE_HOME": str(home),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": ORIGIN,
            "EVIDENCE_CHAIN_RPC_URL": url,
            "EVIDENCE_CHAIN_ID": "31337",
            "EVIDENCE_CONTRACT_ADDRESS": address,
            "EVIDENCE_ANCHOR_KEY": DEV_PRIVATE_KEY,
            "EVIDENCE_CHAIN_CONFIRMATIONS": "2",
            **extra,
        }
    )


def open_on(node: AnvilProcess, database_url: str, home: Path) -> tuple[Services, int]:
    address = Web3Chain.http(node.rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
    settings = anvil_settings(database_url, home, node.rpc_url, address)
    initialise(settings)
    inst = build_services(settings)
    tenant, _ = create_tenant(inst.engine, "Anvil Platform")
    assert tenant.id is not None
    return inst, tenant.id


def append(inst: Services, tenant_id: int, n: int) -> None:
    events = [
        EventInput("step", "contract-9", "2026-11-21T09:00:00.000000Z", None, {"i": i}, None)
        for i in range(n)
    ]
    inst.ledger.append(tenant_id, "tn_anvil", events)


def test_reorg_makes_the_service_anchor_again(
    node: AnvilProcess, database_url: str, tmp_path: Path
) -> None:
    inst, tenant = open_on(node, database_url, tmp_path / "home")
    anchorer = inst.anchorer
    assert anchorer is not None
    append(inst, tenant, 4)
    cp = inst.ledger.sign_checkpoint()
    assert cp is not None
    snapshot = rpc(node.rpc_url, "evm_snapshot", [])
    anchorer.anchor_latest()
    anchorer.watch()
    assert inst.anchors.get(4).status == "mined"
    assert rpc(node.rpc_url, "evm_revert", [snapshot]) is True
    for _ in range(3):
        rpc(node.rpc_url, "evm_mine", [])
    anchorer.watch()  # detects the re-org and sends again
    anchorer.watch()
    rpc(node.rpc_url, "evm_mine", [])
    anchorer.watch()
    anchor = inst.anchors.get(4)
    attempts = inst.anchors.attempts(anchor.id)
    assert [a.status for a in attempts] == ["dropped", "mined"], attempts
    assert "re-org" in (attempts[0].note or "")
    assert anchor.status == "confirmed" and anchor.tx_hash == attempts[1].tx_hash
    assert root_at_by_eth_call(node.rpc_url, anchorer.contract, ORIGIN, 4) == cp.root
    inst.close()


def test_outage_loses_nothing_and_anchoring_resumes(
    node: AnvilProcess, database_url: str, tmp_path: Path
) -> None:
    inst, tenant = open_on(node, database_url, tmp_path / "home")
    anchorer = inst.anchorer
    assert anchorer is not None
    append(inst, tenant, 3)
    inst.ledger.sign_checkpoint()
    anchorer.anchor_job()
    anchorer.watch_job()
    assert inst.anchors.get(3).status == "mined"

    node.stop()  # dumps its state
    append(inst, tenant, 5)  # ingestion and checkpoints go on
    assert inst.ledger.sign_checkpoint() is not None
    anchorer.anchor_job()
    assert anchorer.backoff.down
    anchorer.backoff.next_try = 0
    anchorer.watch_job()
    time.sleep(0.5)

    with start_anvil(state_path=node.state_path, port=node.port) as again:
        anchorer.backoff.next_try = 0
        anchorer.anchor_job()
        assert not anchorer.backoff.down
        anchorer.watch_job()
        rpc(again.rpc_url, "evm_mine", [])
        anchorer.watch_job()
        latest = inst.ledger.latest_checkpoint()
        assert latest is not None and latest.tree_size == 8
        assert inst.anchors.get(8).status == "confirmed"
        # Both anchors on the restarted chain: the first survived the restart (--state).
        assert root_at_by_eth_call(again.rpc_url, anchorer.contract, ORIGIN, 3) == (
            inst.ledger.checkpoint(3).root
        )
        assert root_at_by_eth_call(again.rpc_url, anchorer.contract, ORIGIN, 8) == latest.root
    inst.close()


SCHEDULER_SCRIPT = """
import sys, time, logging
logging.basicConfig(level=logging.INFO)
from evidence_chain.config import load_settings
from runtime.services import build_services
from runtime.scheduler import SchedulerLeader
leader = SchedulerLeader(build_services(load_settings()), retry_seconds=0.3)
leader.start()
time.sleep(120)
"""


def test_two_scheduler_processes_never_submit_twice(
    node: AnvilProcess, database_url: str, tmp_path: Path
) -> None:
    inst, tenant = open_on(node, database_url, tmp_path / "home")
    anchorer = inst.anchorer
    assert anchorer is not None
    env = {
        "EVIDENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": database_url,
        "EVIDENCE_LOG_ORIGIN": ORIGIN,
        "EVIDENCE_CHAIN_RPC_URL": node.rpc_url,
        "EVIDENCE_CONTRACT_ADDRESS": anchorer.contract,
        "EVIDENCE_ANCHOR_KEY": DEV_PRIVATE_KEY,
        "EVIDENCE_CHAIN_CONFIRMATIONS": "1",
        "EVIDENCE_CHECKPOINT_INTERVAL": "0.2",
        "EVIDENCE_ANCHOR_INTERVAL": "0.2",
        "EVIDENCE_CHAIN_WATCH_INTERVAL": "0.2",
        "PATH": "/usr/bin:/bin",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCHEDULER_SCRIPT],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        for round_ in range(12):
            append(inst, tenant, 3)
            time.sleep(0.25)
            if round_ == 6:
                # Kill whichever leads; the other takes over within its retry interval.
                procs[0].kill()
                procs[0].wait()
        time.sleep(4)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            latest = inst.anchors.latest(("confirmed",))
            if latest is not None and latest.tree_size == 36:
                break
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    latest = inst.anchors.latest(("confirmed",))
    assert latest is not None and latest.tree_size == 36
    attempts = [a for anchor in inst.anchors.page() for a in inst.anchors.attempts(anchor.id)]
    sent_on_chain = node.w3.eth.get_transaction_count(node.address) - 1  # minus the deployment
    assert sent_on_chain == len(attempts)
    assert len({a.nonce for a in attempts}) == len(attempts)
    assert all(a.status == "mined" for a in attempts)
    anchored = (
        contract(node.w3, anchorer.contract).events.CheckpointAnchored().get_logs(from_block=0)
    )
    sizes = [e["args"]["treeSize"] for e in anchored]
    assert len(sizes) == len(set(sizes)) == len(attempts)
    inst.close()


def test_service_starts_its_local_chain_and_anchors(tmp_path: Path) -> None:
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    home = tmp_path / "instance"
    home.mkdir()
    chain_port = free_port()
    env = service_env(
        home,
        f"sqlite:///{home / 'sealtrail.db'}",
        EVIDENCE_ANCHORING="true",
        EVIDENCE_CHAIN_PORT=str(chain_port),
        EVIDENCE_ANCHOR_INTERVAL="1",
        EVIDENCE_CHAIN_WATCH_INTERVAL="0.5",
    )
    svc = Service(home=home, env=env)
    svc.start()
    try:
        key = svc.flask("tenant", "create", "Local Chain Platform").strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {key}"}
        events = [
            {"type": "t", "subject": "s", "occurred_at": "2026-11-21T09:00:00Z", "data": {"i": i}}
            for i in range(7)
        ]
        r = requests.post(
            f"{svc.url}/api/v1/events", json={"events": events}, headers=headers, timeout=10
        )
        assert r.status_code == 201
        event_id = r.json()["receipts"][0]["event_id"]
        deadline = time.monotonic() + 30
        anchor = None
        while time.monotonic() < deadline:
            proof = requests.get(
                f"{svc.url}/api/v1/events/{event_id}/proof", headers=headers, timeout=5
            )
            if proof.status_code == 200 and proof.json()["anchor"]:
                anchor = proof.json()["anchor"]
                if anchor["status"] == "confirmed":
                    break
            time.sleep(0.3)
        assert anchor is not None and anchor["status"] == "confirmed", svc.log_path.read_text()
        chain = requests.get(f"{svc.url}/api/v1/chain", timeout=5).json()
        assert chain["rpc"] == "local" and chain["chain_id"] == 31337
        assert chain["warning"] == "development key, local chain only"
        url = f"http://127.0.0.1:{chain_port}"
        origin = requests.get(f"{svc.url}/api/v1/log", timeout=5).json()["origin"]
        on_chain = root_at_by_eth_call(url, anchor["contract"], origin, anchor["tree_size"])
        checkpoint = requests.get(
            f"{svc.url}/api/v1/checkpoints/{anchor['tree_size']}", timeout=5
        ).json()
        assert on_chain.hex() == checkpoint["root"] == anchor["root"]
    finally:
        svc.stop()
    # The master stopped its chain; a restart reuses the state and the same contract.
    with pytest.raises(requests.ConnectionError):
        requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=2)
    svc.start()
    try:
        again = requests.get(f"{svc.url}/api/v1/chain", timeout=5).json()
        assert again["contract"] == anchor["contract"]
        assert root_at_by_eth_call(url, anchor["contract"], origin, anchor["tree_size"]) == (
            on_chain
        )
    finally:
        svc.stop()
