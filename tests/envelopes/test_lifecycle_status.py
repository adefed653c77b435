"""A voided, a withdrawn and a declined envelope each state their status beside the verdict:
in the command, on the verify page, in ``POST /api/v1/verify`` and on the certificate's first
page (its text layer, read by pdftotext); and the signed contract of the voided one is checked
against its certificate (every signature, then the version it is in the evidence). The log is
anchored on a real anvil node, so the verdicts are VERIFIED."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from evidence_chain.anchoring.chain import Signer, Web3Chain
from evidence_chain.config import Settings, load_settings
from tests.chain.anvil import DEV_PRIVATE_KEY, AnvilProcess, anvil_available, start_anvil
from tests.chain.conftest import require_tool
from tests.envelopes.conftest import Mailbox
from tests.envelopes.test_service import CTX, WHO, _sign_as

pytestmark = [pytest.mark.slow, pytest.mark.anvil]

REPO = Path(__file__).resolve().parents[2]
REASONS = {
    "voided": "Wrong delivery address / 送货地址错误",
    "withdrawn": "Terms renegotiated",
    "declined": "Price too high",
}
WORDS = {"voided": "VOIDED", "withdrawn": "WITHDRAWN", "declined": "DECLINED"}
ZH = {"voided": "作废", "withdrawn": "撤回", "declined": "拒签"}


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilProcess]:
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    with start_anvil() as anvil:
        yield anvil


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, smtp: tuple[Mailbox, int], node: AnvilProcess
) -> Settings:
    """An instance mailing through the local SMTP server and anchoring on anvil."""
    address = Web3Chain.http(node.rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
    return load_settings(
        {
            "EVIDENCE_HOME": str(tmp_path / "home"),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.test/lifecycle",
            "EVIDENCE_SMTP_HOST": "127.0.0.1",
            "EVIDENCE_SMTP_PORT": str(smtp[1]),
            "EVIDENCE_PUBLIC_URL": "https://sign.example.test",
            "EVIDENCE_CHAIN_RPC_URL": node.rpc_url,
            "EVIDENCE_CHAIN_ID": "31337",
            "EVIDENCE_CONTRACT_ADDRESS": address,
            "EVIDENCE_ANCHOR_KEY": DEV_PRIVATE_KEY,
            "EVIDENCE_CHAIN_CONFIRMATIONS": "1",
        }
    )


def one_party_spec() -> dict[str, Any]:
    return {
        "title": "Lease 2026-9",
        "parties": [
            {
                "name": "Alice Zhang",
                "email": "alice@example.test",
                "fields": [{"kind": "signature", "page": 2, "x": 60, "y": 120}],
            }
        ],
    }


def _envelope(
    state: str, envelopes: Any, tenant: Any, contract_pdf: bytes, mailbox: Mailbox
) -> tuple[str, bytes | None]:
    """An envelope brought to ``state``; its id and (voided) the signed contract."""
    t = tenant[0]
    env = envelopes.create(t, one_party_spec(), [("lease.pdf", contract_pdf)], WHO)
    envelopes.send(t, env["id"], WHO)
    alice = mailbox.token("alice@example.test")
    signed = None
    if state == "voided":
        _sign_as(envelopes, mailbox, "alice@example.test", alice)
        _name, signed = envelopes.download(alice, CTX)
        envelopes.void(t, env["id"], REASONS[state], WHO)
    elif state == "withdrawn":
        envelopes.withdraw(t, env["id"], REASONS[state], WHO)
    else:
        envelopes.open_link(alice, CTX)
        envelopes.decline(alice, REASONS[state], CTX)
    return env["id"], signed


def _command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evidence_chain.verify", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=180,
    )


@pytest.mark.parametrize("state", ["voided", "withdrawn", "declined"])
def test_the_status_stands_beside_the_verdict_everywhere(
    state: str,
    envelopes: Any,
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    contract_pdf: bytes,
    mailbox: Mailbox,
    instance: Any,
    node: AnvilProcess,
    tmp_path: Path,
) -> None:
    env_id, signed = _envelope(state, envelopes, tenant, contract_pdf, mailbox)
    instance.ledger.sign_checkpoint()
    assert instance.anchorer.anchor_now(timeout=60) is not None
    subject = f"envelope:{env_id}"
    resp = client.get(f"/api/v1/subjects/{subject}/report.pdf", headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    report = tmp_path / "certificate.pdf"
    report.write_bytes(resp.data)
    word, reason = WORDS[state], REASONS[state]
    said = f"VERIFIED: the evidence is intact; the contract was {word} on "

    # The certificate's first page, as its text layer reads.
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(report), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(first.split())
    assert said in flat, flat[:2000]
    assert ZH[state] in flat
    assert reason.split(" / ")[0] in flat

    # The command.
    run = _command(report, "--rpc", node.rpc_url)
    assert run.returncode == 0, run.stdout + run.stderr
    line = next(x for x in run.stdout.splitlines() if x.startswith("VERIFIED: the evidence"))
    assert said in line and json.dumps(reason, ensure_ascii=False) in line
    if state == "declined":
        assert 'by "Alice Zhang"' in line
    assert any(ZH[state] in x for x in run.stdout.splitlines())
    body = json.loads(_command(report, "--rpc", node.rpc_url, "--json").stdout)
    assert body["status"]["state"] == state and body["status"]["reason"] == reason

    # The API and the page.
    api = client.post(
        "/api/v1/verify", data=resp.data, headers={"Content-Type": "application/pdf"}
    ).get_json()
    assert api["verdict"] == "VERIFIED", [c for c in api["checks"] if c["ok"] is not True]
    assert api["status"]["state"] == state and api["status"]["reason"] == reason
    assert api["summary"]["en"].startswith(said)
    for language, expected in (("zh-CN", api["summary"]["zh"]), ("en", said)):
        page = client.post(
            "/verify",
            data={"file": (io.BytesIO(resp.data), "certificate.pdf")},
            content_type="multipart/form-data",
            headers={"Accept-Language": language},
        ).get_data(as_text=True)
        assert f'data-state="{state}"' in page
        assert expected in unescape(page), language
    # The signature verification report PDF states it too.
    pdf = client.post(
        "/api/v1/verify?format=pdf", data=resp.data, headers={"Content-Type": "application/pdf"}
    ).data
    (tmp_path / "verification.pdf").write_bytes(pdf)
    words = subprocess.run(
        ["pdftotext", str(tmp_path / "verification.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert said in " ".join(words.split())

    if signed is None:
        return
    # The voided contract's signed version, checked alone and against its certificate.
    contract = tmp_path / "lease-signed.pdf"
    contract.write_bytes(signed)
    alone = _command(contract)
    assert alone.returncode == 2, alone.stdout + alone.stderr
    assert "contract.in_evidence" in alone.stdout and "\u2717" not in alone.stdout
    both = _command(contract, "--report", report, "--rpc", node.rpc_url)
    assert both.returncode == 0, both.stdout + both.stderr
    recorded = next(x for x in both.stdout.splitlines() if "contract.in_evidence" in x)
    assert "the signed version" in recorded and "envelope.signed" in recorded
    assert '"Alice Zhang"' in recorded and "under the anchor of tree size" in recorded
    assert said in both.stdout
    changed = bytearray(signed)
    changed[signed.index(b"\n") + 2] ^= 0x01
    contract.write_bytes(bytes(changed))
    tampered = _command(contract, "--report", report, "--rpc", node.rpc_url)
    assert tampered.returncode == 1, tampered.stdout
    assert "failed: signature[0]" in tampered.stdout

    # The page and the API take both files.
    result = client.post(
        "/api/v1/verify",
        data={
            "file": (io.BytesIO(signed), "lease.pdf"),
            "evidence": (io.BytesIO(resp.data), "certificate.pdf"),
        },
        content_type="multipart/form-data",
    ).get_json()
    assert result["kind"] == "contract" and result["verdict"] == "VERIFIED", result["checks"]
    assert result["status"]["state"] == "voided"
    (check,) = [c for c in result["checks"] if c["name"] == "contract.in_evidence"]
    assert check["ok"] is True and "envelope.signed" in check["detail"]
    page = client.post(
        "/verify",
        data={
            "file": (io.BytesIO(bytes(changed)), "lease.pdf"),
            "evidence": (io.BytesIO(resp.data), "certificate.pdf"),
        },
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "verdict-failed" in page and 'data-state="voided"' in page
    assert "<code>signature[0]</code>" in page
