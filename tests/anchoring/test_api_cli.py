"""The anchoring API (proof with anchor, chain, anchors) and the `chain` CLI, on eth-tester."""

from __future__ import annotations

import hashlib
import json

from evidence_chain.anchoring.contract import contract, log_id, transact
from evidence_chain.core import merkle
from runtime.jobs import scheduled_jobs
from tests.anchoring.conftest import Rig
from web.context import services


def test_proof_gains_anchor_and_consistency_proof(rig: Rig) -> None:
    first = rig.push(3)
    rig.instance.ledger.sign_checkpoint()
    r = rig.client.get(f"/api/v1/events/{first[0]['event_id']}/proof", headers=rig.auth)
    assert r.get_json()["anchor"] is None and r.get_json()["consistency_proof"] is None
    r = rig.client.get(
        f"/api/v1/events/{first[0]['event_id']}/proof?anchored=true", headers=rig.auth
    )
    assert r.status_code == 404 and "anchor" in r.get_json()["error"]["message"]

    rig.push(2)
    rig.instance.ledger.sign_checkpoint()
    rig.anchorer.anchor_latest()
    rig.anchorer.watch()
    rig.mine(1)
    rig.anchorer.watch()

    body = rig.client.get(
        f"/api/v1/events/{first[0]['event_id']}/proof?tree_size=3", headers=rig.auth
    ).get_json()
    anchor = body["anchor"]
    assert anchor["tree_size"] == 5 and anchor["status"] == "confirmed"
    assert anchor["confirmations"] == 2 and anchor["chain_id"] == rig.chain.chain_id()
    assert anchor["contract"] == rig.contract
    assert anchor["log_id"] == "0x" + log_id("sealtrail.test/anchored").hex()
    assert anchor["tx_hash"].startswith("0x") and anchor["block_hash"].startswith("0x")
    assert anchor["block_timestamp"].endswith("Z")
    # The proof chains to the anchor: consistency from 3 to 5 against the on-chain root.
    chain_root = bytes(
        contract(rig.w3, rig.contract).functions.rootAt(log_id("sealtrail.test/anchored"), 5).call()
    )
    assert anchor["root"] == chain_root.hex()
    merkle.verify_consistency(
        3,
        5,
        [bytes.fromhex(h) for h in body["consistency_proof"]],
        bytes.fromhex(body["root"]),
        chain_root,
    )

    direct = rig.client.get(
        f"/api/v1/events/{first[0]['event_id']}/proof?anchored=true", headers=rig.auth
    ).get_json()
    assert direct["tree_size"] == 5 and direct["consistency_proof"] is None
    assert direct["root"] == chain_root.hex()
    bad = rig.client.get(
        f"/api/v1/events/{first[0]['event_id']}/proof?anchored=true&tree_size=3", headers=rig.auth
    )
    assert bad.status_code == 400

    # The tree grows past the anchor: a default proof still chains to the anchor that covers
    # the event, and stays the same as later checkpoints are signed.
    late = rig.push(4)
    rig.instance.ledger.sign_checkpoint()
    default = rig.client.get(
        f"/api/v1/events/{first[0]['event_id']}/proof", headers=rig.auth
    ).get_json()
    assert default["tree_size"] == 5 and default["anchor"]["tree_size"] == 5
    assert default["root"] == chain_root.hex() and default["consistency_proof"] is None
    merkle.verify_inclusion(
        bytes.fromhex(default["leaf_hash"]),
        default["leaf_index"],
        5,
        [bytes.fromhex(h) for h in default["inclusion_proof"]],
        chain_root,
    )
    # An event no anchor covers yet is proven against the latest checkpoint, anchor null.
    newest = rig.client.get(f"/api/v1/events/{late[0]['event_id']}/proof", headers=rig.auth)
    assert newest.get_json()["tree_size"] == 9 and newest.get_json()["anchor"] is None


def test_anchors_listing_and_one_anchor_with_history(rig: Rig) -> None:
    for n in (1, 2, 3):
        rig.push(n)
        rig.instance.ledger.sign_checkpoint()
        rig.anchorer.anchor_latest()
        rig.anchorer.watch()
    page = rig.client.get("/api/v1/anchors?limit=2").get_json()
    assert [a["tree_size"] for a in page["anchors"]] == [6, 3]
    assert page["next_before"] == 3
    rest = rig.client.get("/api/v1/anchors?limit=2&before=3").get_json()
    assert [a["tree_size"] for a in rest["anchors"]] == [1]
    one = rig.client.get("/api/v1/anchors/3").get_json()
    assert one["tree_size"] == 3 and len(one["attempts"]) == 1
    assert one["attempts"][0]["status"] == "mined"
    assert rig.client.get("/api/v1/anchors/4").status_code == 404


def test_chain_endpoint_and_cli_status_with_an_alarm(rig: Rig) -> None:
    body = rig.client.get("/api/v1/chain").get_json()
    assert body["enabled"] and body["reachable"] and body["rpc"] == "in-process"
    assert body["submitter"] == rig.signer.address and body["contract"] == rig.contract
    assert body["development_key"] is False and body["warning"] is None
    assert int(body["balance_wei"]) > 0 and body["alarms"] == []

    runner = rig.app.test_cli_runner()
    ok = runner.invoke(args=["chain", "status"])
    assert ok.exit_code == 0, ok.output
    assert rig.signer.address in ok.output

    rig.push(2)
    cp = rig.instance.ledger.sign_checkpoint()
    assert cp is not None
    fns = contract(rig.w3, rig.contract).functions
    wrong = hashlib.sha256(b"not our root").digest()
    transact(rig.w3, rig.signer.key, fns.anchor(log_id("sealtrail.test/anchored"), 2, wrong))
    rig.anchorer.anchor_latest()
    alarms = rig.client.get("/api/v1/chain").get_json()["alarms"]
    assert [a["kind"] for a in alarms] == ["root_mismatch"]
    bad = runner.invoke(args=["chain", "status"])
    assert bad.exit_code == 2
    assert "root_mismatch" in bad.output
    resolved = runner.invoke(args=["chain", "resolve-alarm", str(alarms[0]["id"])])
    assert resolved.exit_code == 0
    assert runner.invoke(args=["chain", "status"]).exit_code == 0


def test_cli_anchor_now_signs_and_waits_for_the_receipt(rig: Rig) -> None:
    rig.push(4)  # no checkpoint signed yet
    runner = rig.app.test_cli_runner()
    out = runner.invoke(args=["chain", "anchor-now"])
    assert out.exit_code == 0, out.output
    assert "tree size 4 anchored" in out.output
    assert rig.instance.anchors.get(4).block_number is not None


def test_cli_deploy_prints_a_new_contract(rig: Rig) -> None:
    out = rig.app.test_cli_runner().invoke(args=["chain", "deploy"])
    assert out.exit_code == 0, out.output
    address = out.output.strip().splitlines()[-1]
    assert address != rig.contract and rig.chain.code_at(address)


def test_scheduler_runs_the_anchoring_jobs(rig: Rig) -> None:
    jobs = {job.id: job for job in scheduled_jobs(rig.instance)}
    assert jobs["anchor"].seconds == 30.0 and jobs["anchor-watch"].seconds == 2.0
    rig.push(2)
    jobs["checkpoint"].func()
    jobs["anchor"].func()
    jobs["anchor-watch"].func()
    assert rig.instance.anchors.get(2).status == "mined"


def test_anchoring_disabled_keeps_the_api_working(client, auth) -> None:
    r = client.post(
        "/api/v1/events",
        json={"type": "t", "subject": "s", "occurred_at": "2026-11-21T09:00:00Z"},
        headers=auth,
    )
    event_id = r.get_json()["receipts"][0]["event_id"]
    services(client.application).ledger.sign_checkpoint()
    proof = client.get(f"/api/v1/events/{event_id}/proof", headers=auth).get_json()
    assert proof["anchor"] is None
    assert client.get("/api/v1/chain").get_json()["enabled"] is False
    assert client.get("/api/v1/anchors").get_json()["anchors"] == []


def test_chain_commands_answer_in_json(rig: Rig) -> None:
    runner = rig.app.test_cli_runner()
    status = runner.invoke(args=["chain", "status", "--json"])
    assert status.exit_code == 0, status.output
    body = json.loads(status.stdout)
    assert body["reachable"] is True and body["submitter"] == rig.signer.address
    assert body == rig.client.get("/api/v1/chain").get_json()

    rig.push(3)
    anchored = runner.invoke(args=["chain", "anchor-now", "--json"])
    assert anchored.exit_code == 0, anchored.output
    anchor = json.loads(anchored.stdout)["anchor"]
    assert anchor["tree_size"] == 3 and anchor["tx_hash"].startswith("0x")
    assert anchor["contract"] == rig.contract

    deployed = runner.invoke(args=["chain", "deploy", "--json"])
    assert deployed.exit_code == 0, deployed.output
    body = json.loads(deployed.stdout)
    assert set(body) == {"address", "chain_id", "deployer"}
    assert body["deployer"] == rig.signer.address and rig.chain.code_at(body["address"])

    rig.push(1)
    cp = rig.instance.ledger.sign_checkpoint()
    assert cp is not None
    fns = contract(rig.w3, rig.contract).functions
    wrong = hashlib.sha256(b"not our root").digest()
    transact(rig.w3, rig.signer.key, fns.anchor(log_id("sealtrail.test/anchored"), 4, wrong))
    rig.anchorer.anchor_latest()
    alarm = json.loads(runner.invoke(args=["chain", "status", "--json"]).stdout)["alarms"][0]
    resolved = runner.invoke(args=["chain", "resolve-alarm", str(alarm["id"]), "--json"])
    assert resolved.exit_code == 0, resolved.output
    assert json.loads(resolved.stdout) == {"id": alarm["id"], "resolved": True}
