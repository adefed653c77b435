"""Anchor status changes queue anchor.* deliveries to every subscribed tenant (in-process chain)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence_chain.tenants import create_tenant
from tests.anchoring.conftest import Rig, make_rig
from tests.webhooks.conftest import Receiver, webhook_service
from webhooks.service import WebhookService


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    """An anchoring instance on a fresh in-process chain."""
    yield from make_rig(database_url, tmp_path / "home")


def events(service: WebhookService, tenant_id: int) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for endpoint in service.endpoints(tenant_id):
        for d in reversed(service.deliveries(tenant_id, endpoint.id, limit=200)):
            out.append((d.event, d.payload["anchor"]))
    return out


def setup_tenants(rig: Rig, receiver: Receiver) -> tuple[WebhookService, int, int, int]:
    service = webhook_service(rig.instance, allow_private=True)  # a local receiver
    anchors, _ = create_tenant(rig.instance.engine, "Follows anchors")
    envelopes, _ = create_tenant(rig.instance.engine, "Follows envelopes only")
    everything, _ = create_tenant(rig.instance.engine, "Follows everything")
    _, secret = service.create_endpoint(
        anchors.id, receiver.url, ["anchor.mined", "anchor.confirmed", "anchor.reorged"]
    )
    receiver.secret = secret
    service.create_endpoint(envelopes.id, receiver.url + "/env", ["envelope.completed"])
    service.create_endpoint(everything.id, receiver.url + "/all", "*")
    return service, anchors.id, envelopes.id, everything.id


def test_mined_then_confirmed_are_queued_and_delivered(rig: Rig, receiver: Receiver) -> None:
    service, anchors, envelopes, everything = setup_tenants(rig, receiver)
    rig.push(5)
    rig.instance.ledger.sign_checkpoint()
    rig.anchorer.anchor_latest()
    assert events(service, anchors) == []  # sent, not yet mined
    rig.anchorer.watch()
    assert rig.instance.anchors.get(5).status == "mined"
    ((event, anchor),) = events(service, anchors)
    assert event == "anchor.mined"
    assert anchor["status"] == "mined" and anchor["tree_size"] == 5
    assert anchor["confirmations"] == 1 and anchor["contract"] == rig.contract
    assert anchor["tx_hash"] == "0x" + (rig.instance.anchors.get(5).tx_hash or b"").hex()
    rig.anchorer.watch()  # nothing changed: nothing queued
    assert len(events(service, anchors)) == 1
    rig.mine(1)
    rig.anchorer.watch()
    assert [e for e, _ in events(service, anchors)] == ["anchor.mined", "anchor.confirmed"]
    confirmed = events(service, anchors)[1][1]
    assert confirmed["status"] == "confirmed" and confirmed["confirmations"] == 2
    assert confirmed["root"] == rig.instance.ledger.checkpoint(5).root.hex()
    rig.mine(3)
    rig.anchorer.watch()  # more confirmations are not a status change
    assert len(events(service, anchors)) == 2
    assert events(service, envelopes) == []
    assert [e for e, _ in events(service, everything)] == ["anchor.mined", "anchor.confirmed"]
    # Delivered, signed for the subscribed tenant.
    service.deliver_due()
    got = [r for r in receiver.received if r.path == "/hooks/sealtrail"]
    assert [r.json["event"] for r in sorted(got, key=lambda r: r.json["created_at"])] == [
        "anchor.mined",
        "anchor.confirmed",
    ]
    assert all(r.verified for r in got)
    assert {r.json["data"]["anchor"]["tree_size"] for r in got} == {5}


def test_a_reorg_is_reported_then_the_anchor_mined_again(rig: Rig, receiver: Receiver) -> None:
    service, anchors, _, _ = setup_tenants(rig, receiver)
    rig.push(2)
    rig.instance.ledger.sign_checkpoint()
    snapshot = rig.tester.take_snapshot()
    rig.anchorer.anchor_latest()
    rig.anchorer.watch()
    first = events(service, anchors)
    assert [e for e, _ in first] == ["anchor.mined"]
    rig.tester.revert_to_snapshot(snapshot)
    rig.mine(3)  # a longer competing chain without our transaction
    rig.anchorer.watch()
    rig.anchorer.watch()
    seen = events(service, anchors)
    names = [e for e, _ in seen]
    assert names[:3] == ["anchor.mined", "anchor.reorged", "anchor.mined"], names
    reorged = seen[1][1]
    assert reorged["status"] == "reorged" and reorged["tree_size"] == 2
    assert reorged["tx_hash"] == first[0][1]["tx_hash"]
    assert seen[2][1]["tx_hash"] != first[0][1]["tx_hash"]  # the new transaction


def test_an_anchor_found_already_on_chain_is_reported(rig: Rig, receiver: Receiver) -> None:
    from evidence_chain.anchoring.contract import contract, log_id, transact

    service, anchors, _, _ = setup_tenants(rig, receiver)
    rig.push(3)
    cp = rig.instance.ledger.sign_checkpoint()
    assert cp is not None
    fns = contract(rig.w3, rig.contract).functions
    transact(rig.w3, rig.signer.key, fns.anchor(log_id(rig.instance.ledger.key.origin), 3, cp.root))
    rig.anchorer.anchor_latest()
    assert rig.instance.anchors.get(3).status in ("mined", "confirmed")
    assert [e for e, _ in events(service, anchors)][:1] == ["anchor.mined"]
