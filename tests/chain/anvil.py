"""Start and stop a local anvil node (from node_modules) for tests that need a JSON-RPC chain."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from web3 import Web3

from evidence_chain.anchoring.localchain import stop_anvil

REPO_ROOT = Path(__file__).resolve().parents[2]
ANVIL_BIN = REPO_ROOT / "node_modules" / ".bin" / "anvil"

# anvil's well-known first dev account (mnemonic "test test ... junk"), funded with 10,000 ETH.
DEV_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_ADDRESS = Web3.to_checksum_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")


def anvil_available() -> bool:
    """Return whether the anvil wrapper from node_modules is installed."""
    return ANVIL_BIN.exists()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rpc(url: str, method: str, timeout: float = 1.0) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)["result"]


class AnvilProcess:
    """A running anvil node: its RPC URL, chain id, a funded dev key and a Web3 bound to it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, state_path: str | None):
        self.process = process
        self.port = port
        self.state_path = state_path
        self.rpc_url = f"http://127.0.0.1:{port}"
        self.private_key = DEV_PRIVATE_KEY
        self.address = DEV_ADDRESS
        self.chain_id = 0
        self.w3 = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 30}))

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until the node answers eth_chainId; raise if it exits or times out."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                stderr = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RuntimeError(f"anvil exited with {self.process.returncode}: {stderr.strip()}")
            try:
                self.chain_id = int(str(_rpc(self.rpc_url, "eth_chainId")), 16)
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(
                        f"anvil did not answer on {self.rpc_url} in {timeout}s"
                    ) from None
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node (SIGTERM, so --state is dumped), then kill it if it does not exit."""
        try:
            stop_anvil(self.process, timeout)
        finally:
            if self.process.stderr is not None:
                self.process.stderr.close()

    def __enter__(self) -> AnvilProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_anvil(
    state_path: str | None = None, port: int | None = None, *, timeout: float = 30.0
) -> AnvilProcess:
    """Start anvil on ``port`` (a free one if None) and wait until it answers.

    With ``state_path`` the chain is loaded from that file if it exists and dumped to it on stop,
    so stopping and starting again with the same path resumes the same chain.
    """
    if not anvil_available():
        raise FileNotFoundError(f"{ANVIL_BIN} not found: run npm ci in {REPO_ROOT}")
    port = port or free_port()
    args = [str(ANVIL_BIN), "--host", "127.0.0.1", "--port", str(port), "--silent"]
    if state_path is not None:
        args += ["--state", state_path]
    process = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        start_new_session=True,
    )
    node = AnvilProcess(process, port, state_path)
    node.wait_ready(timeout)
    return node
