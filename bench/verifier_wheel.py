"""The installable verifier: the wheel ``make dist`` builds, its size and its dependencies'
size, the time to install it into a fresh virtual environment, and the installed command's time
on anchored certificates of evidence of 100 and 1,000 events (chain read from a local anvil)."""

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
from reports.service import issue_report
from runtime.services import build_services
from runtime.setup import initialise
from tests.chain.anvil import DEV_PRIVATE_KEY, start_anvil
from tests.reports.bundle_fixtures import SUBJECT, push

REPO = Path(__file__).resolve().parents[1]
SIZES = (100, 1000)
RUNS = 3


def _run(args: list[str | Path], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    return time.perf_counter() - t0, proc


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _certificates(rpc_url: str, home: Path) -> dict[int, bytes]:
    address = Web3Chain.http(rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
    settings = load_settings(
        {
            "EVIDENCE_HOME": str(home),
            "DATABASE_URL": f"sqlite:///{home / 'bench.db'}",
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.bench/wheel",
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
            inst.ledger.sign_checkpoint()
            assert inst.anchorer is not None
            inst.anchorer.anchor_now(timeout=120)
            out[size] = issue_report(inst, inst.signing, tenant, subject).pdf
        return out
    finally:
        inst.close()


def run() -> list[str]:
    """Build, download, install and time the verifier wheel; print the figures."""
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        took, proc = _run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", REPO],
            REPO,
        )
        if proc.returncode != 0:
            return [f"verifier_wheel: the wheel does not build: {proc.stderr[-500:]}"]
        (wheel,) = (tmp / "dist").glob("sealtrail-*.whl")
        print(
            f"   wheel {wheel.name}: {wheel.stat().st_size / 1024:.0f} KiB, built in {took:.1f} s"
        )

        took, proc = _run(
            [sys.executable, "-m", "pip", "download", "-q", "-d", tmp / "w", wheel], tmp
        )
        if proc.returncode != 0:
            return [f"verifier_wheel: its dependencies cannot be fetched: {proc.stderr[-500:]}"]
        files = sorted((tmp / "w").iterdir())
        print(
            f"   with its dependencies: {len(files)} wheels, {_size(tmp / 'w') / 2**20:.1f} MiB "
            f"(pip download, {took:.1f} s with pip's cache)"
        )

        base = getattr(sys, "_base_executable", sys.executable)
        venv = tmp / "venv"
        _run([base, "-m", "venv", venv], tmp)
        empty = _size(venv)
        pip = venv / "bin" / "pip"
        took, proc = _run(
            [pip, "install", "-q", "--no-index", "--find-links", tmp / "w", wheel], tmp
        )
        if proc.returncode != 0:
            return [f"verifier_wheel: the wheel does not install: {proc.stderr[-500:]}"]
        print(
            f"   install into a fresh venv (no network, from those wheels): {took:.1f} s; "
            f"{(_size(venv) - empty) / 2**20:.0f} MiB installed"
        )
        command = venv / "bin" / "sealtrail-verify"
        took, proc = _run([command, "--help"], tmp)
        print(f"   sealtrail-verify --help (start-up, imports): {took * 1000:.0f} ms")

        with start_anvil() as node:
            certificates = _certificates(node.rpc_url, tmp / "home")
            for size, pdf in certificates.items():
                path = tmp / f"certificate-{size}.pdf"
                path.write_bytes(pdf)
                times, codes = [], set()
                for _ in range(RUNS):
                    took, proc = _run([command, path, "--rpc", node.rpc_url], tmp)
                    times.append(took)
                    codes.add(proc.returncode)
                print(
                    f"   {size:>5}-event certificate ({len(pdf) / 1024:.0f} KiB): installed "
                    f"command {statistics.median(times):.2f} s (median of {RUNS}, anvil RPC)"
                )
                if codes != {0}:
                    failures.append(f"verifier_wheel: {size} events: exit statuses {codes}")
    return failures
