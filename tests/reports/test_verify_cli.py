"""The offline verifier as a court runs it: ``python -m evidence_chain.verify`` in a subprocess,
on real reports and bundles, with exit codes 0/1/2/64, against a real anvil node, and without
importing anything of the service."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from evidence_chain.anchoring.chain import Signer, Web3Chain
from evidence_chain.anchoring.contract import contract as anchor_contract
from evidence_chain.anchoring.contract import log_id, transact
from evidence_chain.config import load_settings
from evidence_chain.tenants import create_tenant
from evidence_chain.verify import extract_bundle
from reports.bundle import build_bundle
from runtime.services import build_services
from runtime.setup import initialise
from tests.chain.anvil import DEV_PRIVATE_KEY, AnvilProcess, anvil_available, start_anvil
from tests.chain.conftest import require_tool
from tests.reports.bundle_fixtures import (
    SUBJECT,
    ReportPki,
    checkpoint,
    make_pki,
    push,
    report_pdf,
    to_bytes,
)

ROOT = Path(__file__).resolve().parents[2]
SERVICE_MODULES = (
    "flask",
    "sqlalchemy",
    "sqlmodel",
    "reportlab",
    "web",
    "signing",
    "reports",
    "app",
)


def verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the verifier exactly as the documentation tells a court to."""
    return subprocess.run(
        [sys.executable, "-m", "evidence_chain.verify", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def lines_of(out: str) -> dict[str, str]:
    """Check name -> its printed line."""
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("\u2713", "\u2717", "\u2013"):
            found[parts[1]] = line
    return found


def imported_service_modules(args: Sequence[str | Path]) -> tuple[int, list[str]]:
    """Run the verifier in a fresh interpreter; return its status and any service module loaded."""
    code = (
        "import json, sys\n"
        "from evidence_chain.verify import main\n"
        "rc = main(sys.argv[1:])\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {SERVICE_MODULES!r})\n"
        "print('MODULES=' + json.dumps(bad))\n"
        "sys.exit(rc)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    marker = [line for line in run.stdout.splitlines() if line.startswith("MODULES=")]
    assert marker, run.stdout + run.stderr
    return run.returncode, json.loads(marker[0][len("MODULES=") :])


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> ReportPki:
    """A CA that is not the service's, to sign look-alike reports."""
    return make_pki(tmp_path_factory.mktemp("other-pki"))


def issue(app: Any, instance: Any, tenant: Any, subject: str = SUBJECT) -> Any:
    from reports.service import issue_report
    from web.context import services

    return issue_report(instance, services(app).signing, tenant, subject)


def service_root(app: Any, path: Path) -> Path:
    from web.context import services

    root = services(app).signing.ca.trust_roots()[-1]
    path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return path


# --------------------------------------------------------------------------- without a chain


def test_unanchored_report_is_incomplete_with_its_signature_checked(
    app: Any, instance: Any, tenant: Any, tmp_path: Path
) -> None:
    push(instance, tenant[0], 6)
    checkpoint(instance)
    report = tmp_path / "report.pdf"
    report.write_bytes(issue(app, instance, tenant[0]).pdf)
    root = service_root(app, tmp_path / "root.pem")
    run = verify(report, "--trust", root)
    assert run.returncode == 2, run.stdout + run.stderr
    checks = lines_of(run.stdout)
    assert checks["report.signature"].startswith("\u2713")
    assert "Sealtrail" in checks["report.signature"]
    assert checks["report.attachment"].startswith("\u2713")
    assert checks["inclusion[5]"].startswith("\u2713")
    assert checks["anchor"].startswith("\u2013") and "not yet anchored" in checks["anchor"]
    assert "\nINCOMPLETE" in run.stdout
    # The document of the signing step is found, with its role and step.
    doc = tmp_path / "signed.pdf"
    doc.write_bytes(b"after-3")  # the fixture names documents by SHA-256 of a label
    run = verify(report, "--document", doc)
    assert run.returncode == 2
    assert lines_of(run.stdout)["document.hash"].startswith("\u2713")
    assert "signed at leaf 6" in lines_of(run.stdout)["document.hash"]


def test_report_tampering_and_foreign_signatures_fail(
    app: Any, instance: Any, tenant: Any, tmp_path: Path, other_pki: ReportPki
) -> None:
    push(instance, tenant[0], 4)
    checkpoint(instance)
    pdf = issue(app, instance, tenant[0]).pdf
    # One byte of the report (the binary comment after the header, inside the signed range).
    changed = bytearray(pdf)
    changed[pdf.index(b"\n") + 2] ^= 0x01
    report = tmp_path / "changed.pdf"
    report.write_bytes(bytes(changed))
    run = verify(report)
    assert run.returncode == 1, run.stdout + run.stderr
    assert lines_of(run.stdout)["report.signature"].startswith("\u2717")
    assert "failed: report.signature" in run.stdout

    # Our trust root given, but the report signed by someone else's CA with the same bundle.
    bundle_bytes = extract_bundle(pdf)
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(report_pdf(bundle_bytes, other_pki))
    root = service_root(app, tmp_path / "root.pem")
    run = verify(forged, "--trust", root)
    assert run.returncode == 1
    assert "no valid chain to a trust root you gave" in lines_of(run.stdout)["report.signature"]
    # With that CA's own root it is intact and trusted.
    other_root = tmp_path / "other.pem"
    other_root.write_bytes(other_pki.root_pem())
    assert verify(forged, "--trust", other_root).returncode == 2

    # Someone signs over the service's signature (the report could have been changed).
    from signing.pades import SignOptions, sign_pdf
    from signing.tsa import InProcessTimeStamper

    over = sign_pdf(
        pdf,
        other_pki.signer,
        None,
        [],
        SignOptions(level="B-T", certify=False),
        timestamper=InProcessTimeStamper(other_pki.tsa),
    ).signed_pdf
    countersigned = tmp_path / "countersigned.pdf"
    countersigned.write_bytes(over)
    run = verify(countersigned)
    assert run.returncode == 1
    assert "2 signatures" in lines_of(run.stdout)["report.signature"]

    # A signed PDF that carries no bundle is not a certificate of evidence: it is checked as a
    # signed contract, whose place in the log needs its evidence (INCOMPLETE, not FAILED).
    bare = tmp_path / "bare.pdf"
    bare.write_bytes(report_pdf(bundle_bytes, other_pki, attach=False))
    run = verify(bare)
    assert run.returncode == 2, run.stdout
    assert lines_of(run.stdout)["signature[0]"].startswith("\u2713")
    assert "needs its certificate of evidence" in lines_of(run.stdout)["contract.in_evidence"]
    assert "report.attachment" not in run.stdout


def test_bundle_file_json_output_and_tampering(instance: Any, tenant: Any, tmp_path: Path) -> None:
    push(instance, tenant[0], 5)
    checkpoint(instance)
    bundle = build_bundle(instance, tenant[0], SUBJECT)
    path = tmp_path / "bundle.json"
    path.write_bytes(to_bytes(bundle))
    run = verify(path, "--json")
    assert run.returncode == 2
    body = json.loads(run.stdout)
    assert body["kind"] == "bundle" and body["verdict"] == "INCOMPLETE"
    assert body["bundle"]["subject"] == SUBJECT
    assert {c["name"]: c["ok"] for c in body["checks"]}["checkpoint.signature"] is True

    bundle["events"][2]["record"]["occurred_at"] = "2026-11-21T09:00:01.000000Z"
    path.write_bytes(to_bytes(bundle))
    run = verify(path)
    assert run.returncode == 1
    assert lines_of(run.stdout)["record[2].leaf_hash"].startswith("\u2717")
    failed = next(line for line in run.stdout.splitlines() if line.startswith("failed: "))
    assert "\nFAILED" in run.stdout and "record[2].leaf_hash" in failed
    assert run.stdout.splitlines()[-2].startswith("FAILED: a check failed; its records say")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "the following arguments are required"),
        (("missing.json",), "cannot read file"),
        (("{dir}/notes.txt",), "not an evidence bundle"),
        (("{dir}/bomb.json",), "not an evidence bundle"),
        (("{dir}/notes.txt", "--frobnicate"), "unrecognized arguments"),
        (("{dir}/notes.txt", "--document", "missing.pdf"), "cannot read document"),
        (("{dir}/broken.pdf",), "cannot be read"),
    ],
)
def test_usage_errors_and_unreadable_files_exit_64(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "notes.txt").write_text("minutes of the meeting")
    (tmp_path / "bomb.json").write_text("[" * 200_000)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    run = verify(*(a.format(dir=tmp_path) for a in args))
    assert run.returncode == 64, run.stdout + run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_the_verifier_imports_nothing_of_the_service(
    app: Any, instance: Any, tenant: Any, tmp_path: Path
) -> None:
    push(instance, tenant[0], 3)
    checkpoint(instance)
    report = tmp_path / "report.pdf"
    report.write_bytes(issue(app, instance, tenant[0]).pdf)
    status, modules = imported_service_modules([report, "--rpc", "http://127.0.0.1:9"])
    assert status == 2  # the RPC endpoint is unreachable: not checked, incomplete
    assert modules == []


# --------------------------------------------------------------------------- against anvil


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilProcess]:
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    with start_anvil() as anvil:
        yield anvil


@pytest.mark.anvil
@pytest.mark.slow
def test_a_fresh_report_verifies_against_anvil_and_every_change_fails(
    node: AnvilProcess, database_url: str, tmp_path: Path
) -> None:
    from signing.service import SigningService

    address = Web3Chain.http(node.rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
    settings = load_settings(
        {
            "EVIDENCE_HOME": str(tmp_path / "home"),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.test/verify",
            "EVIDENCE_CHAIN_RPC_URL": node.rpc_url,
            "EVIDENCE_CHAIN_ID": "31337",
            "EVIDENCE_CONTRACT_ADDRESS": address,
            "EVIDENCE_ANCHOR_KEY": DEV_PRIVATE_KEY,
            "EVIDENCE_CHAIN_CONFIRMATIONS": "1",
        }
    )
    initialise(settings)
    inst = build_services(settings)
    try:
        tenant, _ = create_tenant(inst.engine, "Anvil Platform")
        push(inst, tenant, 8)
        assert inst.anchorer is not None
        anchor = inst.anchorer.anchor_now(timeout=60)
        assert anchor is not None and anchor.tree_size == 16
        from reports.service import issue_report

        signing = SigningService.from_env(settings, inst.engine, inst.ledger)
        issued = issue_report(inst, signing, tenant, SUBJECT)
        assert issued.verdict.verdict == "VERIFIED"
        report = tmp_path / "report.pdf"
        report.write_bytes(issued.pdf)
        root = tmp_path / "root.pem"
        root.write_bytes(signing.ca.trust_roots()[-1].public_bytes(serialization.Encoding.PEM))
        document = tmp_path / "document.pdf"
        document.write_bytes(b"before-3")

        run = verify(report, "--rpc", node.rpc_url, "--trust", root, "--document", document)
        assert run.returncode == 0, run.stdout + run.stderr
        checks = lines_of(run.stdout)
        assert all(line.startswith("\u2713") for line in checks.values()), run.stdout
        assert anchor.root.hex() in checks["anchor.root_on_chain"]
        assert "original at leaf 6" in checks["document.hash"]
        assert "\nVERIFIED" in run.stdout

        # The bundle alone, as JSON.
        bundle = json.loads(extract_bundle(issued.pdf))
        path = tmp_path / "bundle.json"
        path.write_bytes(to_bytes(bundle))
        run = verify(path, "--rpc", node.rpc_url, "--json")
        assert run.returncode == 0 and json.loads(run.stdout)["verdict"] == "VERIFIED"

        # One record changed.
        record = json.loads(json.dumps(bundle))
        record["events"][4]["record"]["actor"] = {"email": "mallory@example.com"}
        path.write_bytes(to_bytes(record))
        run = verify(path, "--rpc", node.rpc_url)
        assert run.returncode == 1
        assert lines_of(run.stdout)["record[4].leaf_hash"].startswith("\u2717")

        # One proof hash changed.
        proof = json.loads(json.dumps(bundle))
        first = proof["events"][1]["inclusion_proof"][0]
        proof["events"][1]["inclusion_proof"][0] = ("0" if first[0] != "0" else "1") + first[1:]
        path.write_bytes(to_bytes(proof))
        run = verify(path, "--rpc", node.rpc_url)
        assert run.returncode == 1
        assert lines_of(run.stdout)["inclusion[1]"].startswith("\u2717")

        # A second deployment holding another root at the same tree size.
        other = Web3Chain.http(node.rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
        forged = bytes(32 - 1) + b"\x07"
        fn = anchor_contract(node.w3, other).functions.anchor(
            log_id(inst.ledger.key.origin), anchor.tree_size, forged
        )
        transact(node.w3, DEV_PRIVATE_KEY, fn)
        moved = json.loads(json.dumps(bundle))
        moved["anchor"]["contract"] = other
        path.write_bytes(to_bytes(moved))
        run = verify(path, "--rpc", node.rpc_url)
        assert run.returncode == 1
        line = lines_of(run.stdout)["anchor.root_on_chain"]
        assert line.startswith("\u2717") and forged.hex() in line

        # And the whole run imported nothing of the service.
        status, modules = imported_service_modules([report, "--rpc", node.rpc_url])
        assert (status, modules) == (0, [])
    finally:
        inst.close()
