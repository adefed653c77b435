"""Anchoring on the in-process chain (eth-tester): send, confirm, idempotence, alarms, fees,
stuck transactions, outages and a crash between recording and broadcasting."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from evidence_chain.anchoring.contract import contract, log_id, transact
from evidence_chain.anchoring.service import Anchorer, AnchorOptions
from evidence_chain.errors import ChainError, ConfigurationError
from runtime.services import build_anchorer
from tests.anchoring.conftest import Rig


def checkpoint(rig: Rig, n: int) -> Any:
    rig.push(n)
    cp = rig.instance.ledger.sign_checkpoint()
    assert cp is not None
    return cp


def on_chain_root(rig: Rig, size: int) -> bytes:
    fn = contract(rig.w3, rig.contract).functions.rootAt(
        log_id(rig.instance.ledger.key.origin), size
    )
    return bytes(fn.call())


def pre_anchor(rig: Rig, size: int, root: bytes) -> Any:
    fns = contract(rig.w3, rig.contract).functions
    return transact(
        rig.w3, rig.signer.key, fns.anchor(log_id(rig.instance.ledger.key.origin), size, root)
    )


def test_anchors_latest_checkpoint_then_confirms(rig: Rig) -> None:
    cp = checkpoint(rig, 5)
    anchor = rig.anchorer.anchor_latest()
    assert anchor is not None and anchor.status == "pending" and anchor.tree_size == 5
    rig.anchorer.watch()  # eth-tester mined it at once: one confirmation of the two required
    mined = rig.instance.anchors.get(5)
    assert mined.status == "mined" and mined.confirmations == 1
    assert mined.block_number is not None and mined.block_timestamp is not None
    assert 50_000 < (mined.gas_used or 0) < 80_000
    rig.mine(1)
    rig.anchorer.watch()
    confirmed = rig.instance.anchors.get(5)
    assert confirmed.status == "confirmed" and confirmed.confirmations == 2
    assert on_chain_root(rig, 5) == cp.root
    (attempt,) = rig.instance.anchors.attempts(confirmed.id)
    assert attempt.status == "mined" and attempt.tx_hash == confirmed.tx_hash
    # Nothing new: no second transaction.
    nonce = rig.chain.nonce(rig.signer.address)
    assert rig.anchorer.anchor_latest() is None
    assert rig.chain.nonce(rig.signer.address) == nonce


def test_one_transaction_in_flight_then_the_latest_checkpoint(rig: Rig) -> None:
    rig.tester.disable_auto_mine_transactions()
    checkpoint(rig, 2)
    first = rig.anchorer.anchor_latest()
    checkpoint(rig, 3)
    again = rig.anchorer.anchor_latest()
    assert first is not None and again is not None and again.tree_size == 2  # still in flight
    rig.tester.enable_auto_mine_transactions()
    rig.anchorer.watch()
    nxt = rig.anchorer.anchor_latest()
    assert nxt is not None and nxt.tree_size == 5
    rig.anchorer.watch()
    assert [a.tree_size for a in rig.instance.anchors.page()] == [5, 2]
    assert on_chain_root(rig, 5) == rig.instance.ledger.checkpoint(5).root


def test_already_anchored_with_same_root_counts_as_success(rig: Rig) -> None:
    cp = checkpoint(rig, 4)
    receipt = pre_anchor(rig, 4, cp.root)
    nonce = rig.chain.nonce(rig.signer.address)
    anchor = rig.anchorer.anchor_latest()
    assert anchor is not None and anchor.status == "mined"
    assert anchor.tx_hash == bytes(receipt["transactionHash"])
    assert anchor.block_number == receipt["blockNumber"]
    assert rig.chain.nonce(rig.signer.address) == nonce  # nothing sent
    assert rig.instance.anchors.alarms() == []


def test_already_anchored_revert_from_gas_estimate_counts_as_success(rig: Rig) -> None:
    cp = checkpoint(rig, 4)
    pre_anchor(rig, 4, cp.root)
    # As if the root had been read just before another submitter anchored it.
    rig.chain.inner.root_at = lambda *a: b"\x00" * 32  # type: ignore[method-assign]
    anchor = rig.anchorer.anchor_latest()
    assert anchor is not None and anchor.status == "mined"


def test_different_root_on_chain_raises_an_alarm(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    checkpoint(rig, 3)
    wrong = hashlib.sha256(b"forged").digest()
    pre_anchor(rig, 3, wrong)
    assert rig.anchorer.anchor_latest() is None
    assert any(r.levelname == "CRITICAL" for r in caplog.records)
    (alarm,) = rig.instance.anchors.alarms()
    assert alarm["kind"] == "root_mismatch"
    assert alarm["details"]["chain_root"] == wrong.hex()
    assert rig.instance.anchors.get(3).status == "failed"
    rig.anchorer.anchor_latest()
    assert len(rig.instance.anchors.alarms()) == 1  # raised once


def test_larger_size_on_chain_raises_an_alarm(rig: Rig) -> None:
    checkpoint(rig, 3)
    pre_anchor(rig, 10, hashlib.sha256(b"other").digest())
    assert rig.anchorer.anchor_latest() is None
    (alarm,) = rig.instance.anchors.alarms()
    assert alarm["kind"] == "tree_size_not_increasing"


def test_fee_cap_holds_back_then_bounds_fees(rig: Rig) -> None:
    checkpoint(rig, 2)
    base = rig.chain.fees().base_fee
    anchorer = rig.anchorer
    anchorer.options = dataclasses.replace(anchorer.options, max_fee_wei=base // 2)
    assert anchorer.anchor_latest() is None  # base fee above the cap: wait
    assert rig.instance.anchors.page() == []
    cap = base + base // 4
    anchorer.options = dataclasses.replace(anchorer.options, max_fee_wei=cap)
    anchor = anchorer.anchor_latest()
    assert anchor is not None
    (attempt,) = rig.instance.anchors.attempts(anchor.id)
    assert attempt.max_fee <= cap and attempt.priority_fee <= attempt.max_fee


def test_stuck_transaction_is_replaced_with_higher_fees(rig: Rig) -> None:
    rig.tester.disable_auto_mine_transactions()
    checkpoint(rig, 2)
    anchorer = rig.anchorer
    anchor = anchorer.anchor_latest()
    assert anchor is not None
    anchorer.watch()
    assert len(rig.instance.anchors.attempts(anchor.id)) == 1  # not stuck yet
    anchorer.options = dataclasses.replace(anchorer.options, tx_timeout=0)
    anchorer.watch()
    first, second = rig.instance.anchors.attempts(anchor.id)
    assert second.nonce == first.nonce
    assert second.max_fee >= first.max_fee * 1.125
    assert second.priority_fee >= first.priority_fee * 1.125
    rig.tester.enable_auto_mine_transactions()
    rig.mine(1)
    anchorer.watch()
    first, second = rig.instance.anchors.attempts(anchor.id)
    assert {first.status, second.status} == {"mined", "replaced"}
    assert rig.instance.anchors.get(2).status in ("mined", "confirmed")
    assert on_chain_root(rig, 2) == rig.instance.ledger.checkpoint(2).root


def test_chain_down_then_recovery_covers_everything(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    checkpoint(rig, 2)
    rig.chain.down = True
    now = [0.0]
    rig.anchorer.backoff.monotonic = lambda: now[0]
    rig.anchorer.anchor_job()
    rig.anchorer.watch_job()  # skipped: backing off
    assert rig.anchorer.backoff.down
    warnings = [r for r in caplog.records if "chain unavailable" in r.getMessage()]
    assert len(warnings) == 1
    # Ingestion and checkpoints go on.
    receipts = rig.push(3)
    assert rig.instance.ledger.sign_checkpoint() is not None
    for _ in range(10):
        now[0] += 1000
        rig.anchorer.anchor_job()
    assert rig.anchorer.backoff.failures == 11
    assert len([r for r in caplog.records if "chain unavailable" in r.getMessage()]) == 1
    assert rig.instance.anchors.page() == []
    rig.chain.down = False
    now[0] += 1000
    rig.anchorer.anchor_job()
    assert not rig.anchorer.backoff.down
    rig.anchorer.watch_job()
    rig.mine(1)
    rig.anchorer.watch_job()
    anchor = rig.instance.anchors.get(5)
    assert anchor.status == "confirmed"
    assert [a.tree_size for a in rig.instance.anchors.page()] == [5]
    proof = rig.client.get(f"/api/v1/events/{receipts[-1]['event_id']}/proof", headers=rig.auth)
    assert proof.get_json()["anchor"]["tree_size"] == 5


def test_crash_between_record_and_broadcast_rebroadcasts(rig: Rig) -> None:
    checkpoint(rig, 3)

    def crash(raw: bytes) -> bytes:
        raise KeyboardInterrupt("process killed before broadcasting")

    real_send = rig.chain.inner.send_raw
    rig.chain.inner.send_raw = crash  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        rig.anchorer.anchor_latest()
    rig.chain.inner.send_raw = real_send  # type: ignore[method-assign]
    anchor = rig.instance.anchors.get(3)
    (attempt,) = rig.instance.anchors.attempts(anchor.id)
    assert attempt.status == "sent" and not rig.chain.knows_transaction(attempt.tx_hash)

    # A restarted process finds the recorded transaction and broadcasts it again.
    inst = rig.instance
    restarted = build_anchorer(rig.settings, inst.engine, inst.ledger, rig.chain)
    assert restarted.anchor_latest() is not None  # in flight: no second transaction
    assert len(inst.anchors.attempts(anchor.id)) == 1
    restarted.watch()
    restarted.watch()
    (attempt,) = inst.anchors.attempts(anchor.id)
    assert attempt.status == "mined"
    assert on_chain_root(rig, 3) == inst.ledger.checkpoint(3).root


def test_reorg_on_the_in_process_chain_anchors_again(rig: Rig) -> None:
    checkpoint(rig, 2)
    snapshot = rig.tester.take_snapshot()
    rig.anchorer.anchor_latest()
    rig.anchorer.watch()
    before = rig.instance.anchors.get(2)
    assert before.status == "mined"
    rig.tester.revert_to_snapshot(snapshot)
    rig.mine(3)  # a competing chain, longer, without our transaction
    rig.anchorer.watch()
    rig.anchorer.watch()
    after = rig.instance.anchors.get(2)
    attempts = rig.instance.anchors.attempts(after.id)
    assert [a.status for a in attempts] == ["dropped", "mined"]
    assert "re-org" in (attempts[0].note or "")
    assert after.status in ("mined", "confirmed") and after.tx_hash == attempts[1].tx_hash
    assert on_chain_root(rig, 2) == rig.instance.ledger.checkpoint(2).root


def test_chain_id_mismatch_is_a_configuration_error(rig: Rig) -> None:
    inst = rig.instance
    options = dataclasses.replace(rig.anchorer.options, expected_chain_id=1)
    anchorer = Anchorer(inst.engine, inst.ledger, rig.chain, rig.signer, options)
    with pytest.raises(ConfigurationError, match="chain"):
        anchorer.anchor_latest()


def test_no_contract_or_key_is_reported_not_crashed(rig: Rig) -> None:
    inst = rig.instance
    anchorer = Anchorer(inst.engine, inst.ledger, rig.chain, None, AnchorOptions(contract=None))
    checkpoint(rig, 1)
    anchorer.anchor_job()  # logged, not raised
    with pytest.raises(ConfigurationError):
        anchorer.anchor_latest()
    assert anchorer.status()["reachable"] is True


def test_chain_errors_are_wrapped(rig: Rig) -> None:
    from evidence_chain.anchoring.chain import Web3Chain

    dead = Web3Chain.http("http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(ChainError):
        dead.block_number()
