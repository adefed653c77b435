"""The checked-in contract artifact is exactly what the pinned compiler builds from the source."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from evidence_chain.anchoring.contract import ARTIFACT_PATH, load_artifact
from tests.chain.conftest import require_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "contracts_sol" / "EvidenceAnchor.sol"
BUILD_SCRIPT = REPO_ROOT / "contracts_sol" / "build.mjs"


def pinned(package: str) -> str:
    """Return the exact version package.json pins for a dev dependency."""
    package_json = json.loads((REPO_ROOT / "package.json").read_text())
    version: str = package_json["devDependencies"][package]
    return version


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Compile the contract afresh into a temporary directory and return the artifact."""
    require_tool(
        (REPO_ROOT / "node_modules" / "solc").is_dir() and shutil.which("node") is not None,
        "node with node_modules/solc",
    )
    out = tmp_path_factory.mktemp("contract-build")
    subprocess.run(
        ["node", str(BUILD_SCRIPT), "--out", str(out)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    artifact: dict[str, object] = json.loads((out / "EvidenceAnchor.json").read_text())
    return artifact


def test_rebuild_reproduces_checked_in_artifact(rebuilt: dict[str, object]) -> None:
    checked_in = load_artifact()
    assert rebuilt["bytecode"] == checked_in["bytecode"]
    assert rebuilt["deployedBytecode"] == checked_in["deployedBytecode"]
    assert rebuilt == checked_in
    assert (ARTIFACT_PATH.parent / "EvidenceAnchor.json").read_bytes() == ARTIFACT_PATH.read_bytes()


def test_artifact_matches_source_and_pinned_compiler() -> None:
    artifact = load_artifact()
    assert artifact["sourceSha256"] == hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    assert artifact["compiler"]["name"] == "solc"
    assert artifact["compiler"]["version"].startswith(pinned("solc") + "+commit.")
    assert artifact["settings"]["evmVersion"] == "cancun"
    assert artifact["settings"]["optimizer"]["enabled"] is True


def test_lockfile_pins_toolchain() -> None:
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    packages = lock["packages"]
    assert packages["node_modules/solc"]["version"] == pinned("solc")
    assert packages["node_modules/@foundry-rs/anvil"]["version"] == pinned("@foundry-rs/anvil")
    # npm ci on a fresh Linux x86-64 machine must install the real anvil binary.
    linux = packages["node_modules/@foundry-rs/anvil-linux-amd64"]
    assert linux["version"] == pinned("@foundry-rs/anvil")
    assert linux["optional"] is True
