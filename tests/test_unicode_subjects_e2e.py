"""A Chinese subject end to end over real HTTP against gunicorn with its local chain: push,
proof, bundle and certificate of evidence, then the certificate as a court checks it
(pdftotext, and ``python -m evidence_chain.verify`` against the chain)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from evidence_chain.core import merkle
from evidence_chain.core.canonical import canonicalize
from tests.chain.anvil import anvil_available
from tests.chain.conftest import require_tool
from tests.service import ROOT, Service, free_port, service_env

pytestmark = pytest.mark.slow

SUBJECT = "合同-2026/上海-001"


def test_a_chinese_subject_from_push_to_a_verified_certificate(
    tmp_path: Path, database_url: str
) -> None:
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    home = tmp_path / "instance"
    home.mkdir()
    chain_port = free_port()
    env = service_env(
        home,
        database_url,
        EVIDENCE_ANCHORING="true",
        EVIDENCE_CHAIN_PORT=str(chain_port),
        EVIDENCE_ANCHOR_INTERVAL="1",
        EVIDENCE_CHAIN_WATCH_INTERVAL="0.5",
    )
    svc = Service(home=home, env=env)
    svc.start()
    try:
        key = json.loads(svc.flask("tenant", "create", "上海签约平台", "--json"))["api_key"]
        headers = {"Authorization": f"Bearer {key}"}
        events = [
            {
                "type": "contract.signed",
                "subject": SUBJECT,
                "occurred_at": "2026-11-21T09:00:00+08:00",
                "actor": {"name": "张三"},
                "data": {"step": i},
            }
            for i in range(3)
        ]
        r = requests.post(
            f"{svc.url}/api/v1/events", json={"events": events}, headers=headers, timeout=10
        )
        assert r.status_code == 201, r.text
        receipts = r.json()["receipts"]

        # The proof, once anchored and confirmed; checked here from the record itself.
        deadline = time.monotonic() + 60
        proof = None
        while time.monotonic() < deadline:
            got = requests.get(
                f"{svc.url}/api/v1/events/{receipts[-1]['event_id']}/proof",
                headers=headers,
                timeout=5,
            )
            if got.status_code == 200 and (got.json()["anchor"] or {}).get("status") == "confirmed":
                proof = got.json()
                break
            time.sleep(0.3)
        assert proof is not None, svc.log_path.read_text()[-3000:]
        event = requests.get(
            f"{svc.url}/api/v1/events/{receipts[-1]['event_id']}", headers=headers, timeout=5
        )
        assert SUBJECT.encode("utf-8") in event.content  # JSON as UTF-8 text
        record = event.json()["record"]
        assert record["subject"] == SUBJECT
        leaf = hashlib.sha256(b"\x00" + canonicalize(record)).digest()
        assert leaf.hex() == receipts[-1]["leaf_hash"]
        merkle.verify_inclusion(
            leaf,
            proof["leaf_index"],
            proof["tree_size"],
            [bytes.fromhex(h) for h in proof["inclusion_proof"]],
            bytes.fromhex(proof["root"]),
        )

        # The bundle, the subject percent-encoded with its '/' as %2F or as is.
        for path in (quote(SUBJECT, safe=""), quote(SUBJECT, safe="/")):
            bundle = requests.get(
                f"{svc.url}/api/v1/subjects/{path}/bundle", headers=headers, timeout=10
            )
            assert bundle.status_code == 200, bundle.text
            assert bundle.headers["Content-Type"].startswith("application/json")
            assert SUBJECT.encode("utf-8") in bundle.content
            body = bundle.json()
            assert body["subject"] == SUBJECT and len(body["events"]) == 3
            assert body["anchor"]["status"] == "confirmed"

        # The certificate of evidence shows the subject in its text and verifies offline.
        report = requests.get(
            f"{svc.url}/api/v1/subjects/{quote(SUBJECT, safe='')}/report.pdf",
            headers=headers,
            timeout=60,
        )
        assert report.status_code == 200, report.text
        assert report.headers["X-Report-Verdict"] == "VERIFIED"
        pdf = tmp_path / "report.pdf"
        pdf.write_bytes(report.content)
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, check=True
        ).stdout.decode("utf-8")
        assert SUBJECT in text.replace("\n", "")
        ca = tmp_path / "sealtrail-ca.pem"
        ca.write_bytes(requests.get(f"{svc.url}/pki/ca", timeout=5).content)
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "evidence_chain.verify",
                str(pdf),
                "--rpc",
                f"http://127.0.0.1:{chain_port}",
                "--trust",
                str(ca),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"for subject '{SUBJECT}'" in run.stdout
        assert "VERIFIED" in run.stdout.rstrip().splitlines()[-1]  # exit 0 says it too
    finally:
        svc.stop()
