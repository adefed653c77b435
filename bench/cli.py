"""The operator commands' wall time, each as an operator runs it: ``flask --app app ...`` in a
fresh process, against a fresh instance (SQLite) anchoring on a local anvil node.

Every command is run RUNS times after one warm-up; the median is the figure. Target: the
commands that need neither the chain nor a migration answer in under a second.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.chain.anvil import anvil_available, start_anvil
from tests.service import ROOT, service_env

RUNS = int(os.environ.get("BENCH_CLI_RUNS", "5"))
TARGET_S = 1.0
FLASK = Path(sys.executable).parent / "flask"


def _run(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [str(FLASK), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed: {out.stdout}{out.stderr}")
    return out.stdout


def _timed(env: dict[str, str], *args: str) -> list[float]:
    _run(env, *args)  # warm-up: the operating system's file cache, Python's bytecode cache
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        _run(env, *args)
        times.append(time.perf_counter() - started)
    return times


def run() -> list[str]:
    """Time each command; return the targets it missed."""
    if not anvil_available():
        print("   skipped: node_modules/.bin/anvil not installed (npm ci)")
        return []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sealtrail-bench-cli-") as tmp:
        node = start_anvil()
        try:
            home = Path(tmp) / "home"
            env = service_env(
                home,
                f"sqlite:///{home / 'sealtrail.db'}",
                EVIDENCE_ANCHORING="true",
                EVIDENCE_CHAIN_PORT=node.rpc_url.rsplit(":", 1)[1],
            )
            _run(env, "init")
            _run(env, "chain", "deploy")
            tenant = json.loads(_run(env, "tenant", "create", "Bench", "--json"))["id"]
            commands: list[tuple[tuple[str, ...], bool]] = [
                (("--help",), True),
                (("tenant", "create", "Bench"), True),
                (("tenant", "add-key", tenant), True),
                (("tenant", "list", "--json"), True),
                (("ledger", "checkpoint"), True),
                (("ledger", "audit", "--json"), True),
                (("outbox", "--json"), True),
                (("pki", "status", "--json"), False),
                (("chain", "status", "--json"), False),
                (("init",), False),
            ]
            for args, fast in commands:
                times = _timed(env, *args)
                median = statistics.median(times)
                print(
                    f"   {' '.join(args):26} median {median:5.2f} s "
                    f"(min {min(times):.2f}, max {max(times):.2f}, {RUNS} runs)"
                    + ("" if fast else "  [opens the signing authority or the chain]"),
                    flush=True,
                )
                if fast and median >= TARGET_S:
                    failures.append(
                        f"cli: `flask --app app {' '.join(args)}` takes {median:.2f} s "
                        f"(target < {TARGET_S:.0f} s)"
                    )
        finally:
            node.stop()
    return failures
