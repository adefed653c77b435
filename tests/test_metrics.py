"""``GET /metrics`` as Prometheus scrapes it: the token, the exposition parsed with
prometheus_client's own parser, and values that follow the instance (events, checkpoints,
anchors, alarms, webhook backlog and dead letters), on each database backend and under a real
gunicorn with two workers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from evidence_chain.clock import utcnow
from evidence_chain.tenants import list_tenants
from runtime.metrics import InstanceCollector
from tests.anchoring.conftest import Rig, make_rig
from tests.anchoring.test_anchorer import pre_anchor
from tests.service import Service, service_env

TOKEN = "metrics-token-for-the-test-0123456789"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    """An anchoring instance with metrics on."""
    yield from make_rig(database_url, tmp_path / "home", EVIDENCE_METRICS_TOKEN=TOKEN)


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(rig: Rig) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    rig.app.extensions.pop("sealtrail.metrics", None)  # no cached answer: the state right now
    r = rig.client.get("/metrics", headers=SCRAPE)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.content_type.startswith("text/plain; version=0.0.4")
    return parse(r.get_data(as_text=True))


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_need_the_token(rig: Rig) -> None:
    from app import create_app
    from web.context import close

    off = create_app(rig.settings.with_overrides(metrics_token=None))
    answer = off.test_client().get("/metrics")
    assert answer.status_code == 404  # off unless a token is configured
    assert answer.get_json()["error"]["code"] == "not_found"
    close(off)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        r = rig.client.get("/metrics", headers=headers)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert rig.client.get("/metrics", headers=SCRAPE).status_code == 200
    paths = rig.client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/metrics"]["get"]["security"] == [{"metricsToken": []}]


def test_metrics_follow_the_instance(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = next(t for t in list_tenants(rig.instance.engine) if t.name == "Anchored Platform")
    empty = scrape(rig)
    assert value(empty, "sealtrail_log_tree_size") == 0
    rig.push(1)  # within 5 s a worker answers from its last result: a scrape burst is cheap
    cached = parse(rig.client.get("/metrics", headers=SCRAPE).get_data(as_text=True))
    assert value(cached, "sealtrail_log_tree_size") == 0
    assert value(scrape(rig), "sealtrail_log_tree_size") == 1
    assert ("sealtrail_checkpoint_age_seconds", ()) not in empty
    assert value(empty, "sealtrail_anchors", status="confirmed") == 0
    assert value(empty, "sealtrail_anchoring_stalled") == 0
    assert value(empty, "sealtrail_chain_alarms_open", kind="root_mismatch") == 0

    # The receiver's name is registered as a public address (this machine has no DNS for it);
    # deliveries then fail to connect, as they would to a receiver that is down.
    from webhooks import urls

    monkeypatch.setattr(urls, "resolve_public", lambda host, port: ["93.184.215.14"])
    for url in ("https://hooks.example.com/a", "https://hooks.example.com/b"):
        r = rig.client.post(
            "/api/v1/webhooks", json={"url": url, "events": ["anchor.mined"]}, headers=rig.auth
        )
        assert r.status_code == 201, r.get_data(as_text=True)
    doomed = r.get_json()["id"]
    rig.push(7)
    assert rig.instance.ledger.sign_checkpoint() is not None
    rig.push(2)
    after_push = scrape(rig)
    assert value(after_push, "sealtrail_log_tree_size") == 10
    assert value(after_push, "sealtrail_checkpoint_tree_size") == 8
    assert value(after_push, "sealtrail_unsigned_entries") == 2
    assert 0 <= value(after_push, "sealtrail_checkpoint_age_seconds") < 60
    assert value(after_push, "sealtrail_tenant_log_entries", tenant=tenant.public_id) == 10
    assert value(after_push, "sealtrail_anchor_tree_size") == 0
    assert value(after_push, "sealtrail_unanchored_checkpoint_age_seconds") >= 0

    rig.anchorer.anchor_latest()
    assert value(scrape(rig), "sealtrail_anchors", status="pending") == 1
    rig.anchorer.watch()  # mined: anchor.mined queued for both endpoints
    rig.mine(2)
    rig.anchorer.watch()
    anchored = scrape(rig)
    assert value(anchored, "sealtrail_anchors", status="confirmed") == 1
    assert value(anchored, "sealtrail_anchors", status="pending") == 0
    assert value(anchored, "sealtrail_anchor_tree_size") == 8
    assert 0 <= value(anchored, "sealtrail_anchor_age_seconds") < 600
    assert value(anchored, "sealtrail_unanchored_checkpoint_age_seconds") == 0
    assert value(anchored, "sealtrail_webhook_deliveries", status="pending") == 2
    assert value(anchored, "sealtrail_tenant_webhook_backlog", tenant=tenant.public_id) == 2
    assert value(anchored, "sealtrail_webhook_oldest_undelivered_age_seconds") >= 0

    assert rig.client.delete(f"/api/v1/webhooks/{doomed}", headers=rig.auth).status_code == 204
    dead = scrape(rig)
    assert value(dead, "sealtrail_webhook_deliveries", status="dead") == 1
    assert value(dead, "sealtrail_tenant_webhook_dead_letters", tenant=tenant.public_id) == 1
    assert value(dead, "sealtrail_tenant_webhook_backlog", tenant=tenant.public_id) == 1

    # The chain holds another root for the next checkpoint: an alarm, and anchoring waits.
    rig.instance.ledger.sign_checkpoint()
    pre_anchor(rig, 10, hashlib.sha256(b"forged").digest())
    assert rig.anchorer.anchor_latest() is None
    alarmed = scrape(rig)
    assert value(alarmed, "sealtrail_chain_alarms_open", kind="root_mismatch") == 1
    assert value(alarmed, "sealtrail_anchors", status="failed") == 1
    assert value(alarmed, "sealtrail_anchoring_stalled") == 0  # not waited long enough yet
    later = InstanceCollector(rig.instance, clock=lambda: utcnow() + timedelta(hours=1))
    stalled = {
        s.name: s.value for family in later.collect() for s in family.samples if not s.labels
    }
    assert stalled["sealtrail_anchoring_stalled"] == 1
    assert stalled["sealtrail_unanchored_checkpoint_age_seconds"] >= 3600
    assert TOKEN not in rig.client.get("/metrics", headers=SCRAPE).get_data(as_text=True)


@pytest.mark.slow
def test_every_gunicorn_worker_gives_the_same_figures(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "instance"
    home.mkdir()
    svc = Service(
        home=home,
        env=service_env(home, database_url, EVIDENCE_METRICS_TOKEN=TOKEN, WEB_CONCURRENCY="3"),
    )
    svc.start()
    try:
        key = svc.flask("tenant", "create", "Scraped").strip().splitlines()[-1]
        events = [
            {"type": "t", "subject": "s", "occurred_at": "2026-11-21T09:00:00Z"} for _ in range(11)
        ]
        r = requests.post(
            f"{svc.url}/api/v1/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert r.status_code == 201
        sizes = set()
        for _ in range(12):  # new connections: the scrapes land on different workers
            got = requests.get(f"{svc.url}/metrics", headers=SCRAPE, timeout=5)
            assert got.status_code == 200
            sizes.add(value(parse(got.text), "sealtrail_log_tree_size"))
        assert sizes == {11}
        assert requests.get(f"{svc.url}/metrics", timeout=5).status_code == 401
    finally:
        svc.stop()
