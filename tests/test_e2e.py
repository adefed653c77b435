"""End to end over real HTTP against gunicorn, and the crash test (kill -9 while pushing)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from evidence_chain.core import merkle
from evidence_chain.core.canonical import canonicalize
from evidence_chain.core.note import verify_checkpoint
from tests.service import Service, running_service, service_env  # noqa: F401 - the service fixture

pytestmark = pytest.mark.slow


def new_key(svc: Service) -> str:
    out = svc.flask("tenant", "create", "E2E Platform")
    return out.strip().splitlines()[-1]


def wait_for_checkpoint(svc: Service, size: int, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(f"{svc.url}/api/v1/checkpoints/latest", timeout=5)
        if r.status_code == 200 and r.json()["tree_size"] >= size:
            return r.json()
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint covering {size} leaves within {timeout} s")


def test_push_checkpoint_and_prove_over_http(service: Service) -> None:
    key = new_key(service)
    headers = {"Authorization": f"Bearer {key}"}
    events = [
        {
            "type": "envelope.sent",
            "subject": "env-1",
            "occurred_at": "2026-11-21T09:00:00Z",
            "data": {"i": i},
        }
        for i in range(25)
    ]
    r = requests.post(
        f"{service.url}/api/v1/events", json={"events": events}, headers=headers, timeout=10
    )
    assert r.status_code == 201
    receipts = r.json()["receipts"]
    log = requests.get(f"{service.url}/api/v1/log", timeout=5).json()
    # The scheduler (one leader among the workers) signs a checkpoint within seconds.
    cp = wait_for_checkpoint(service, 25)
    assert verify_checkpoint(cp["checkpoint"], log["public_key"]).tree_size == 25
    for receipt in receipts[::6]:
        got = requests.get(
            f"{service.url}/api/v1/events/{receipt['event_id']}", headers=headers, timeout=5
        ).json()
        assert merkle.leaf_hash(canonicalize(got["record"])).hex() == receipt["leaf_hash"]
        proof = requests.get(
            f"{service.url}/api/v1/events/{receipt['event_id']}/proof", headers=headers, timeout=5
        ).json()
        root = verify_checkpoint(proof["checkpoint"], log["public_key"]).root
        merkle.verify_inclusion(
            bytes.fromhex(receipt["leaf_hash"]),
            receipt["leaf_index"],
            proof["tree_size"],
            [bytes.fromhex(h) for h in proof["inclusion_proof"]],
            root,
        )
    bad = requests.post(
        f"{service.url}/api/v1/events",
        data="{",
        headers={**headers, "Content-Type": "application/json"},
        timeout=5,
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
    assert "audit passed" in service.flask("ledger", "audit")


def test_only_one_worker_runs_the_scheduler(service: Service) -> None:
    headers = {"Authorization": f"Bearer {new_key(service)}"}
    event = {"type": "t", "subject": "s", "occurred_at": "2026-11-21T09:00:00Z"}
    for n in range(1, 4):
        requests.post(f"{service.url}/api/v1/events", json=event, headers=headers, timeout=5)
        wait_for_checkpoint(service, n)
    time.sleep(1)
    lines = [
        ln for ln in service.log_path.read_text().splitlines() if "now runs the scheduler" in ln
    ]
    assert len(lines) == 1, lines


def test_kill_9_loses_no_acknowledged_event(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "instance"
    home.mkdir()
    svc = Service(home=home, env=service_env(home, database_url))
    svc.start()
    key = new_key(svc)
    headers = {"Authorization": f"Bearer {key}"}
    acknowledged: list[dict[str, Any]] = []
    stop = threading.Event()

    def pusher(worker: int) -> None:
        n = 0
        session = requests.Session()
        while not stop.is_set():
            batch = [
                {
                    "type": "step",
                    "subject": f"w{worker}",
                    "occurred_at": "2026-11-21T09:00:00Z",
                    "data": {"n": n + i},
                }
                for i in range(20)
            ]
            n += 20
            try:
                r = session.post(
                    f"{svc.url}/api/v1/events", json={"events": batch}, headers=headers, timeout=5
                )
            except requests.RequestException:
                continue  # not acknowledged: the server died mid-request
            if r.status_code == 201:
                acknowledged.extend(r.json()["receipts"])

    threads = [threading.Thread(target=pusher, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 600 and time.monotonic() < deadline:
        time.sleep(0.05)
    svc.kill()
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert len(acknowledged) >= 600

    svc.start()
    for receipt in acknowledged:
        r = requests.get(
            f"{svc.url}/api/v1/events/{receipt['event_id']}", headers=headers, timeout=5
        )
        assert r.status_code == 200, receipt
        assert r.json()["leaf_hash"] == receipt["leaf_hash"]
        assert r.json()["leaf_index"] == receipt["leaf_index"]
    # Indexes are gapless and never reused; the log audits clean after the crash.
    assert len({r["leaf_index"] for r in acknowledged}) == len(acknowledged)
    output = svc.flask("ledger", "audit")
    assert "audit passed" in output
    svc.stop()
