"""The TypeScript client (clients/typescript), compiled with the pinned `tsc` and run with
Node against the running service: push with idempotency keys, wait for the anchor, check
proofs and records locally, refuse tampered ones, verify a real webhook delivery."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sealtrail_client import Client

from tests.clients.conftest import Running
from tests.service import ROOT

pytestmark = pytest.mark.slow
PACKAGE = ROOT / "clients" / "typescript"


def _compile(out: Path) -> Path:
    tsc = ROOT / "node_modules" / ".bin" / "tsc"
    done = subprocess.run(
        [str(tsc), "-p", str(PACKAGE), "--outDir", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "index.d.ts").exists()  # the package ships its types
    return out / "index.js"


def _delivery(running: Running, tmp_path: Path) -> Path:
    """A real webhook delivery of this service (body, signature) and its secret."""
    client = Client(running.service.url, running.api_key)
    url = running.receiver.url + "/typescript"
    hook = client.add_webhook(url, ["anchor.confirmed"])
    running.receiver.secret = hook["secret"]
    (receipt,) = client.push(
        {"type": "t", "subject": "ts-hook", "occurred_at": "2026-11-24T00:00:00Z"}
    )
    client.wait_for_proof(receipt["event_id"], anchored=True, timeout=90)
    deadline = time.monotonic() + 60
    mine: list[Any] = []
    while not mine and time.monotonic() < deadline:
        time.sleep(0.2)
        mine = [r for r in running.receiver.received if r.path.endswith("/typescript")]
    got = mine[-1]
    path = tmp_path / "delivery.json"
    path.write_text(
        json.dumps(
            {
                "secret": hook["secret"],
                "signature": got.headers["Sealtrail-Signature"],
                "body_base64": base64.b64encode(got.body).decode(),
            }
        )
    )
    return path


def test_the_typescript_client_end_to_end(running: Running, tmp_path: Path) -> None:
    compiled = _compile(tmp_path / "dist")
    delivery = _delivery(running, tmp_path)
    done = subprocess.run(
        [
            "node",
            str(PACKAGE / "test" / "e2e.mjs"),
            compiled.as_uri(),
            running.service.url,
            running.api_key,
            str(delivery),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout)
    assert seen["replayed"] is True and seen["conflict"] == 409
    assert seen["anchor_status"] == "confirmed"
    assert seen["checkpoint_size"] == seen["proof_size"] >= 2
    assert seen["record_checked"] is True  # JCS in TypeScript hashes the record to its leaf
    assert seen["tampered_leaf"] == "bad_inclusion"
    assert seen["tampered_record"] == "bad_record"
    assert seen["tampered_checkpoint"] == "bad_signature"
    assert seen["webhook_ok"] is True
    assert not (seen["webhook_altered"] or seen["webhook_wrong_secret"] or seen["webhook_stale"])
    assert seen["unauthorized"][0] == 401
