"""Everything a running instance creates under EVIDENCE_HOME is private to its user: files
0600, folders 0700 (the database holds live signing links and codes in its outbox)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import time
from pathlib import Path

import pytest
import requests
from asn1crypto import tsp

from evidence_chain.db import make_engine
from evidence_chain.tenants import create_tenant
from tests.chain.anvil import anvil_available
from tests.chain.conftest import require_tool
from tests.service import Service, free_port, service_env
from tests.signing.conftest import make_pdf

pytestmark = [pytest.mark.slow, pytest.mark.anvil]


def modes(home: Path) -> dict[str, str]:
    """Every path under ``home`` with its permission bits, as ``ls -l`` would show them."""
    return {
        str(p.relative_to(home)) + ("/" if p.is_dir() else ""): oct(stat.S_IMODE(p.lstat().st_mode))
        for p in sorted(home.rglob("*"))
    }


def use_the_instance(svc: Service, key: str) -> None:
    """What clients do on a first day: push events, stamp, sign, send documents, get a report."""
    auth = {"Authorization": f"Bearer {key}"}
    events = [
        {"type": "contract.signed", "subject": "contract-1", "occurred_at": "2026-11-21T09:00:00Z",
         "data": {"i": i}}
        for i in range(20)
    ]  # fmt: skip
    assert requests.post(f"{svc.url}/api/v1/events", json={"events": events}, headers=auth,
                         timeout=30).status_code == 201  # fmt: skip
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(b"x").digest(),
            },
            "cert_req": True,
        }
    ).dump()
    stamped = requests.post(f"{svc.url}/tsa", data=query, timeout=30,
                            headers={"Content-Type": "application/timestamp-query"})  # fmt: skip
    assert stamped.status_code == 200
    seal = requests.post(f"{svc.url}/api/v1/seals", json={"kind": "official", "text": "Acme"},
                         headers=auth, timeout=30).json()  # fmt: skip
    pdf = make_pdf(1)
    signed = requests.post(
        f"{svc.url}/api/v1/documents/sign",
        files={"document": ("c.pdf", io.BytesIO(pdf), "application/pdf")},
        data={"seal_id": seal["id"], "subject": "contract-1",
              "placements": json.dumps([{"kind": "explicit", "page": 1, "x": 300, "y": 100}])},
        headers=auth, timeout=60,
    )  # fmt: skip
    assert signed.status_code == 200, signed.text
    spec = {"title": "Lease", "parties": [{"name": "Dana Ng", "email": "dana@example.test",
            "fields": [{"kind": "signature", "page": 1, "x": 72, "y": 72}]}]}  # fmt: skip
    envelope = requests.post(
        f"{svc.url}/api/v1/envelopes",
        files={"documents": ("lease.pdf", io.BytesIO(pdf), "application/pdf")},
        data={"spec": json.dumps(spec)}, headers=auth, timeout=60,
    )  # fmt: skip
    assert envelope.status_code == 201, envelope.text
    sent = requests.post(f"{svc.url}/api/v1/envelopes/{envelope.json()['id']}/send",
                         headers=auth, timeout=60)  # fmt: skip
    assert sent.status_code == 200, sent.text
    deadline = time.monotonic() + 90
    anchored = reported = False
    while time.monotonic() < deadline and not (anchored and reported):
        # the scheduler checkpoints and anchors on chain; a report needs a checkpoint that
        # covers the subject's last event
        anchors = requests.get(f"{svc.url}/api/v1/anchors", headers=auth, timeout=10).json()
        anchored = any(a["status"] == "confirmed" for a in anchors.get("anchors", []))
        report = requests.get(f"{svc.url}/api/v1/subjects/contract-1/report.pdf", headers=auth,
                              timeout=60)  # fmt: skip
        reported = report.status_code == 200
        time.sleep(1)
    assert anchored and reported, f"anchored {anchored}, report {report.status_code}: {report.text}"


def test_everything_under_the_home_is_private_after_a_day_of_use(tmp_path: Path) -> None:
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    home = tmp_path / "instance"
    home.mkdir(mode=0o700)
    env = service_env(home, "", EVIDENCE_ANCHOR_INTERVAL="1", EVIDENCE_CHAIN_PORT=str(free_port()))
    del env["DATABASE_URL"]  # the embedded default: SQLite under the home
    env["EVIDENCE_ANCHORING"] = "true"
    # an operator's usual umask: the service must not depend on a stricter one
    old = os.umask(0o022)
    try:
        svc = Service(home=home, env=env)
        svc.start(timeout=120)
    finally:
        os.umask(old)
    try:
        engine = make_engine(f"sqlite:///{home / 'sealtrail.db'}")
        try:
            key = create_tenant(engine, "Modes Co")[1]
        finally:
            engine.dispose()
        use_the_instance(svc, key)
        running = modes(home)  # the database's -wal and -shm exist while it is open
    finally:
        svc.stop()
    found = {**running, **modes(home)}  # and the chain's state is dumped when it stops
    expected = [
        "sealtrail.db", "sealtrail.db-wal", "sealtrail.db-shm", "instance.lock",
        "scheduler.lock", "session.key", "keys/master.key", "keys/log_ed25519.pem",
        "pki/root.pem", "pki/tsa.key.enc", "pki/service-signer.json", "blobs/",
        "chain/state.json", "chain/deployment.json", "chain/anvil.log", "server.log",
    ]  # fmt: skip
    missing = [name for name in expected if name not in found]
    assert not missing, f"the instance did not make {missing}: {sorted(found)}"
    public = {
        name: mode
        for name, mode in found.items()
        if mode != (oct(0o700) if name.endswith("/") else oct(0o600))
    }
    assert not public, f"not private: {public}"
