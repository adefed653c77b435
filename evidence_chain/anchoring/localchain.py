"""The embedded chain: anvil from node_modules, its state and our deployment under EVIDENCE_HOME.

When no ``EVIDENCE_CHAIN_RPC_URL`` is configured, ``make run`` (gunicorn's master) starts anvil
on ``127.0.0.1:$EVIDENCE_CHAIN_PORT`` with ``--state`` under ``$EVIDENCE_HOME/chain`` (anchors
survive a restart) and ``--block-time 1`` (confirmations advance), deploys EvidenceAnchor on
first start and records its address in ``deployment.json``. The well-known anvil development
key signs on this chain only.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evidence_chain.anchoring.chain import Signer, Web3Chain
from evidence_chain.config import Settings
from evidence_chain.errors import ChainError, ConfigurationError
from evidence_chain.private_files import FILE_MODE, make_private_dir, write_private_file

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
ANVIL_BIN = REPO_ROOT / "node_modules" / ".bin" / "anvil"
ANVIL_CHAIN_ID = 31337
# anvil's first well-known development account ("test test ... junk"): public, local use only.
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def local_url(settings: Settings) -> str:
    """The RPC URL of the embedded chain."""
    return f"http://127.0.0.1:{settings.chain_port}"


def deployment_path(settings: Settings) -> Path:
    """Where the address of our contract on the local chain is recorded."""
    return settings.chain_dir / "deployment.json"


def read_deployment(settings: Settings) -> dict[str, Any] | None:
    """The recorded deployment on the local chain, or None."""
    try:
        data: dict[str, Any] = json.loads(deployment_path(settings).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return data


def write_deployment(settings: Settings, address: str, chain_id: int) -> None:
    """Record a deployment (atomically: written aside, then renamed)."""
    body = {
        "address": address,
        "chain_id": chain_id,
        "deployed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    write_private_file(deployment_path(settings), (json.dumps(body, indent=2) + "\n").encode())


def dev_signer() -> Signer:
    """The anvil development key (local chain only)."""
    return Signer.from_hex(DEV_KEY, development_key=True)


@dataclass
class LocalChain:
    """The embedded anvil node; ``process`` is None when an already running one was reused."""

    url: str
    process: subprocess.Popen[bytes] | None
    address: str

    def stop(self, timeout: float = 15.0) -> None:
        """Stop anvil so it dumps its state; a reused node is left running."""
        if self.process is None or self.process.poll() is not None:
            return
        stop_anvil(self.process, timeout)
        log.info("local chain stopped; state kept in its --state file")


def _child_pid(parent: int) -> int | None:
    """The pid of a child of ``parent`` (Linux /proc), if there is one."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            return int(stat.parent.name)
    return None


def stop_anvil(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop an anvil started through its npm wrapper with SIGTERM, so ``--state`` is dumped.

    The wrapper exits at once on SIGTERM, before anvil has dumped its state, so the anvil
    binary itself is signalled; the wrapper then exits after it and is reaped here. A node
    that does not exit within ``timeout`` is killed with its process group.
    """
    if process.poll() is not None:
        return
    target = _child_pid(process.pid) or process.pid
    try:
        os.kill(target, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        process.wait(timeout=timeout)


def _chain_id_at(url: str) -> int | None:
    try:
        return Web3Chain.http(url, timeout=2).chain_id()
    except ChainError:
        return None


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_local_chain(settings: Settings, *, block_time: float = 1.0) -> LocalChain:
    """Start (or reuse) the embedded anvil node and make sure our contract is deployed on it."""
    url = local_url(settings)
    make_private_dir(settings.chain_dir)
    state = settings.chain_dir / "state.json"
    fresh = not state.exists()
    process: subprocess.Popen[bytes] | None = None
    running = _chain_id_at(url)
    if running is not None:
        if running != ANVIL_CHAIN_ID:
            raise ConfigurationError(
                f"port {settings.chain_port} serves chain {running}, not a local anvil; set "
                "EVIDENCE_CHAIN_PORT or EVIDENCE_CHAIN_RPC_URL"
            )
        log.info("reusing the local chain already running at %s", url)
        fresh = False
    else:
        if _port_open(settings.chain_port):
            raise ConfigurationError(
                f"port {settings.chain_port} is in use by something that is not an Ethereum "
                "node; set EVIDENCE_CHAIN_PORT"
            )
        if not ANVIL_BIN.exists():
            raise ConfigurationError(f"{ANVIL_BIN} not found: run `npm ci` (make run does it)")
        args = [
            str(ANVIL_BIN),
            "--host",
            "127.0.0.1",
            "--port",
            str(settings.chain_port),
            "--state",
            str(state),
            "--state-interval",
            "5",
            "--silent",
        ]
        if block_time > 0:
            args += ["--block-time", f"{block_time:g}"]
        log_fd = os.open(
            settings.chain_dir / "anvil.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE
        )
        chain_log = os.fdopen(log_fd, "ab")  # the child owns it from here
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=chain_log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while _chain_id_at(url) is None:
            if process.poll() is not None:
                raise ConfigurationError(
                    f"anvil exited with {process.returncode}; see {settings.chain_dir}/anvil.log"
                )
            if time.monotonic() > deadline:
                process.kill()
                raise ConfigurationError(f"anvil did not answer on {url} within 30 s")
            time.sleep(0.1)
        log.info("local chain (anvil) started at %s, state in %s", url, state)
    node = LocalChain(url=url, process=process, address="")
    try:
        node.address = ensure_deployed(settings, Web3Chain.http(url, kind="local"), fresh=fresh)
    except Exception:
        node.stop()
        raise
    log.warning(
        "anchoring with the anvil DEVELOPMENT KEY (%s): development key, local chain only",
        dev_signer().address,
    )
    return node


def ensure_deployed(settings: Settings, chain: Web3Chain, *, fresh: bool) -> str:
    """Return our contract's address on the local chain, deploying it on first start."""
    record = read_deployment(settings)
    if record is not None:
        address = str(record["address"])
        if chain.code_at(address):
            return address
        if not fresh and chain.block_number() > 0:
            raise ConfigurationError(
                f"no contract at the recorded address {address} on the local chain, whose "
                f"state is not fresh; inspect {settings.chain_dir} (remove it to start over)"
            )
        log.warning(
            "the local chain's state is fresh: the contract recorded at %s is gone; "
            "deploying a new one (earlier anchors are anchored again)",
            address,
        )
    address = chain.deploy(dev_signer())
    write_deployment(settings, address, chain.chain_id())
    log.info("EvidenceAnchor deployed on the local chain at %s", address)
    return address
