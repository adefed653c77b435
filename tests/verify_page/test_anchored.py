"""On an anchoring instance (in-process chain): a signed contract and its evidence bundle
verify completely, the anchor's root read back from the chain itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidence_chain.tenants import list_tenants
from reports.bundle import build_bundle
from tests.anchoring.conftest import Rig, make_rig
from tests.verify_page.helpers import signed_contract, upload

SUBJECT = "envelope:anchored-1"


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    yield from make_rig(database_url, tmp_path / "home")


def anchor_everything(rig: Rig) -> None:
    rig.instance.ledger.sign_checkpoint()
    assert rig.anchorer.anchor_latest() is not None
    rig.mine(3)
    rig.anchorer.watch()


def test_signed_contract_and_bundle_verify_against_the_chain(rig: Rig) -> None:
    pdf, _ = signed_contract(rig.client, rig.auth, signatures=2, subject=SUBJECT)
    anchor_everything(rig)
    response = upload(rig.client, "/api/v1/verify", pdf)
    body = response.get_json()
    assert body["verdict"] == "VERIFIED", body["checks"]
    (place,) = body["log"]
    assert place["anchor"]["status"] == "confirmed" and place["anchor_on_chain"] is True
    assert place["anchor"]["root"] == place["root"]
    names = {c["name"]: c["ok"] for c in body["checks"]}
    assert names["log[0].anchor.root_on_chain"] is True

    html = rig.client.get(f"/verify?document={hashlib.sha256(pdf).hexdigest()}").get_data(
        as_text=True
    )
    assert "VERIFIED" in html and place["anchor"]["tx_hash"] in html

    (tenant,) = list_tenants(rig.instance.engine)
    bundle = build_bundle(rig.instance, tenant, SUBJECT)
    body = upload(rig.client, "/api/v1/verify", json.dumps(bundle).encode(), "b.json").get_json()
    assert body["verdict"] == "VERIFIED", body["checks"]
    assert {c["name"]: c["ok"] for c in body["checks"]}["anchor.root_on_chain"] is True

    # Another deployment of the contract holds no such root: FAILED, naming the check.
    other = rig.chain.deploy(rig.signer)
    forged = json.loads(json.dumps(bundle))
    forged["anchor"]["contract"] = other
    body = upload(rig.client, "/api/v1/verify", json.dumps(forged).encode(), "b.json").get_json()
    assert body["verdict"] == "FAILED"
    assert {c["name"]: c["ok"] for c in body["checks"]}["anchor.root_on_chain"] is False
