"""The installable verifier: the wheel ``make dist`` builds, installed into a fresh virtual
environment outside the source tree (pip as this machine configures it), verifies a real
anchored certificate of evidence from another directory, and fails a tampered one."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reports.anvil_report import AnvilReport, anvil_report

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
VERIFIER_FILES = {
    "evidence_chain/__init__.py",
    "evidence_chain/verify.py",
    "evidence_chain/verify_report.py",
    "evidence_chain/verify_contract.py",
}
SERVICE_DISTRIBUTIONS = ("flask", "sqlalchemy", "sqlmodel", "reportlab", "alembic", "gunicorn")


def _run(
    args: list[str | Path], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from the tree as ``make dist`` builds it."""
    out = tmp_path_factory.mktemp("dist")
    run = _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, REPO], REPO
    )
    assert run.returncode == 0, run.stderr
    (found,) = out.glob("sealtrail-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment, outside the tree, with the wheel and what it pulls in."""
    where = tmp_path_factory.mktemp("court") / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    assert _run([base, "-m", "venv", where], where.parent).returncode == 0
    run = _run([where / "bin" / "pip", "install", "--quiet", wheel], where.parent)
    assert run.returncode == 0, run.stdout + run.stderr
    return where


@pytest.fixture
def report(database_url: str, tmp_path: Path) -> Iterator[AnvilReport]:
    with anvil_report(database_url, tmp_path) as made:
        yield made


def test_the_wheel_holds_the_verifier_and_nothing_of_the_service(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    code = {n for n in names if n.endswith(".py")}
    core = {n for n in code if n.startswith("evidence_chain/core/")}
    assert code == VERIFIER_FILES | core
    assert "evidence_chain/core/subject.py" in core
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert (
        "sealtrail-verify = evidence_chain.verify:main"
        in zipfile.ZipFile(wheel).read(entry).decode()
    )
    # The service's dependencies are the "service" extra, and they are requirements.in's.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {
        d.split("[")[0].split("<")[0].split(">")[0].lower() for d in project["dependencies"]
    }
    declared |= {
        d.split("[")[0].split("<")[0].lower() for d in project["optional-dependencies"]["service"]
    }
    wanted = {
        line.split("[")[0].split("<")[0].strip().lower()
        for line in (REPO / "requirements.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert wanted <= declared, wanted - declared


def test_the_installed_command_verifies_from_another_directory(
    venv: Path, report: AnvilReport, tmp_path: Path
) -> None:
    court = tmp_path / "clerk"
    court.mkdir()
    (court / "report.pdf").write_bytes(report.pdf)
    (court / "root.pem").write_bytes(report.root_pem)
    (court / "bundle.json").write_bytes(report.bundle_json)
    changed = bytearray(report.pdf)
    changed[report.pdf.index(b"\n") + 2] ^= 0x01
    (court / "tampered.pdf").write_bytes(bytes(changed))
    command = venv / "bin" / "sealtrail-verify"
    rpc = ["--rpc", report.rpc_url]

    good = _run([command, "report.pdf", *rpc, "--trust", "root.pem"], court, 180)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "VERIFIED: the evidence is intact; the contract is IN PROGRESS" in good.stdout
    assert _run([command, "bundle.json", *rpc], court, 180).returncode == 0
    bad = _run([command, "tampered.pdf", *rpc, "--trust", "root.pem"], court, 180)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "failed: report.signature" in bad.stdout

    # The same command as a module, and the code comes from the venv, not from any tree.
    python = venv / "bin" / "python"
    as_module = _run([python, "-m", "evidence_chain.verify", "report.pdf", *rpc], court, 180)
    assert as_module.returncode == 0, as_module.stdout + as_module.stderr
    where = _run([python, "-c", "import evidence_chain; print(evidence_chain.__file__)"], court)
    assert where.stdout.startswith(str(venv)), where.stdout
    installed = _run([python, "-m", "pip", "list", "--format=freeze"], court).stdout.lower()
    assert "web3==" in installed and "pyhanko==" in installed
    assert not [d for d in SERVICE_DISTRIBUTIONS if f"\n{d}==" in "\n" + installed], installed
