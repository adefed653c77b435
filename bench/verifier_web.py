"""The two verifiers side by side: the command and the browser verifier (headless Chromium,
opened from file://) on anchored bundles of 100 and 1,000 events, the chain read over JSON-RPC
from a local anvil node by both."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evidence_chain.anchoring.chain import Signer, Web3Chain
from evidence_chain.config import load_settings
from evidence_chain.tenants import create_tenant
from evidence_chain.verify import verify_file
from reports.bundle import build_bundle
from runtime.services import build_services
from runtime.setup import initialise
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.chain.anvil import DEV_PRIVATE_KEY, start_anvil
from tests.reports.bundle_fixtures import SUBJECT, push, to_bytes
from tests.verifier_web.harness import REPO, Page

SIZES = (100, 1000)
RUNS = 5


def _bundles(rpc_url: str, home: Path) -> dict[int, bytes]:
    address = Web3Chain.http(rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
    settings = load_settings(
        {
            "EVIDENCE_HOME": str(home),
            "DATABASE_URL": f"sqlite:///{home / 'bench.db'}",
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.bench/verifiers",
            "EVIDENCE_CHAIN_RPC_URL": rpc_url,
            "EVIDENCE_CHAIN_ID": "31337",
            "EVIDENCE_CONTRACT_ADDRESS": address,
            "EVIDENCE_ANCHOR_KEY": DEV_PRIVATE_KEY,
            "EVIDENCE_CHAIN_CONFIRMATIONS": "1",
        }
    )
    initialise(settings)
    inst = build_services(settings)
    try:
        tenant, _ = create_tenant(inst.engine, "Bench Platform")
        out = {}
        for size in SIZES:
            subject = f"{SUBJECT}-{size}"
            push(inst, tenant, size, subject=subject)
            assert inst.anchorer is not None
            inst.anchorer.anchor_now(timeout=120)
            out[size] = to_bytes(build_bundle(inst, tenant, subject))
        return out
    finally:
        inst.close()


def run() -> list[str]:
    """Time both verifiers on the same anchored bundles; the page must agree with the command."""
    from playwright.sync_api import sync_playwright

    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, start_anvil() as node:
        bundles = _bundles(node.rpc_url, Path(tmp) / "home")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            page = Page(browser)
            for size, data in bundles.items():
                path = Path(tmp) / f"bundle-{size}.json"
                path.write_bytes(data)
                cmd_wall, cmd_core, html_ms = [], [], []
                verdicts: set[tuple[str, object]] = set()
                for _ in range(RUNS):
                    t0 = time.perf_counter()
                    proc = subprocess.run(
                        [
                            sys.executable,
                            "-m",
                            "evidence_chain.verify",
                            str(path),
                            "--rpc",
                            node.rpc_url,
                        ],
                        cwd=REPO,
                        capture_output=True,
                        check=False,
                    )
                    cmd_wall.append(time.perf_counter() - t0)
                    verdicts.add(("command", proc.returncode))
                    t0 = time.perf_counter()
                    result = verify_file(data, rpc_url=node.rpc_url)
                    cmd_core.append(time.perf_counter() - t0)
                    outcome = page.verify(data, rpc_url=node.rpc_url)
                    html_ms.append(page.elapsed_ms() / 1000)
                    verdicts.add(("page", outcome.verdict))
                    verdicts.add(("core", result.verdict))
                core = statistics.median(cmd_core)
                html = statistics.median(html_ms)
                print(
                    f"   {size:>5} events ({len(data) / 1024:.0f} KiB): command "
                    f"{statistics.median(cmd_wall) * 1000:.0f} ms as a process "
                    f"({core * 1000:.0f} ms in-process); browser verifier in Chromium "
                    f"{html * 1000:.0f} ms ({html / core:.2f}x the in-process command); "
                    f"medians of {RUNS}, chain read over JSON-RPC from anvil",
                    flush=True,
                )
                if verdicts != {("command", 0), ("core", "VERIFIED"), ("page", "VERIFIED")}:
                    failures.append(f"verifier_web: {size} events: verdicts {sorted(verdicts)}")
            page.close()
            browser.close()
    return failures
