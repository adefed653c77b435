"""EvidenceAnchor behaviour on eth-tester (py-evm) and on anvil, through the chain adapter."""

from __future__ import annotations

import hashlib

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from evidence_chain.anchoring.contract import (
    REVERT_EXCEPTIONS,
    AlreadyAnchored,
    AnchorRevert,
    ContractReverted,
    NotOwner,
    NotPendingOwner,
    NotSubmitter,
    TreeSizeNotIncreasing,
    UnknownRevert,
    ZeroAddress,
    ZeroRoot,
    contract,
    decode_anchor_revert,
    deploy,
    load_artifact,
    log_id,
    transact,
)
from evidence_chain.errors import ChainError
from tests.chain.conftest import Chain

LOG = log_id("sealtrail.example/log/v1")
OTHER_LOG = log_id("sealtrail.example/log/other")
ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
GAS_SANITY_BOUND = 100_000


def root(n: int) -> bytes:
    """A distinct, non-zero 32-byte root for test checkpoint ``n``."""
    return hashlib.sha256(b"root %d" % n).digest()


def revert_of(call: ContractFunction, sender: LocalAccount) -> AnchorRevert:
    """Run ``call`` as ``sender`` with eth_call, expect a revert and decode it."""
    with pytest.raises(REVERT_EXCEPTIONS) as info:
        call.call({"from": sender.address})
    return decode_anchor_revert(info.value)


@pytest.fixture
def anchor_contract(chain: Chain) -> Contract:
    """A fresh EvidenceAnchor deployed by the chain's funder (owner and submitter)."""
    return contract(chain.w3, deploy(chain.w3, chain.funder))


def test_deploy_sets_owner_and_submitter(chain: Chain, anchor_contract: Contract) -> None:
    assert anchor_contract.functions.owner().call() == chain.funder.address
    assert anchor_contract.functions.isSubmitter(chain.funder.address).call() is True
    assert anchor_contract.functions.pendingOwner().call() == ZERO_ADDRESS
    assert anchor_contract.functions.latest(LOG).call() == [0, ZERO32]
    code = chain.w3.eth.get_code(anchor_contract.address)
    assert "0x" + bytes(code).hex() == load_artifact()["deployedBytecode"]


def test_deploy_with_hex_private_key(chain: Chain) -> None:
    address = deploy(chain.w3, "0x" + bytes(chain.funder.key).hex())
    assert contract(chain.w3, address).functions.owner().call() == chain.funder.address


def test_deploy_from_node_managed_account(chain: Chain) -> None:
    unlocked = chain.w3.eth.accounts[0]  # both eth-tester and anvil manage unlocked dev accounts
    address = deploy(chain.w3, unlocked)
    assert contract(chain.w3, address).functions.owner().call() == unlocked


def test_anchor_emits_event_and_updates_views(
    chain: Chain, anchor_contract: Contract, capsys: pytest.CaptureFixture[str]
) -> None:
    fns = anchor_contract.functions
    first = transact(chain.w3, chain.funder, fns.anchor(LOG, 5, root(5)))
    second = transact(chain.w3, chain.funder, fns.anchor(LOG, 9, root(9)))

    events = anchor_contract.events.CheckpointAnchored().process_receipt(first)
    assert len(events) == 1
    assert dict(events[0]["args"]) == {"logId": LOG, "treeSize": 5, "root": root(5)}
    (log_entry,) = first["logs"]
    topic0 = Web3.keccak(text="CheckpointAnchored(bytes32,uint64,bytes32)")
    assert [bytes(t) for t in log_entry["topics"]] == [topic0, LOG, (5).to_bytes(32, "big")]
    assert bytes(log_entry["data"]) == root(5)

    assert fns.latest(LOG).call() == [9, root(9)]
    assert fns.rootAt(LOG, 5).call() == root(5)
    assert fns.rootAt(LOG, 9).call() == root(9)
    assert fns.rootAt(LOG, 7).call() == ZERO32

    with capsys.disabled():
        print(
            f"\n[{chain.name}] anchor gas: first of a log {first['gasUsed']}, "
            f"subsequent {second['gasUsed']}"
        )
    assert first["gasUsed"] < GAS_SANITY_BOUND
    assert second["gasUsed"] < GAS_SANITY_BOUND


def test_non_submitter_cannot_anchor(chain: Chain, anchor_contract: Contract) -> None:
    stranger = chain.new_account()
    result = revert_of(anchor_contract.functions.anchor(LOG, 1, root(1)), stranger)
    assert result == NotSubmitter(caller=stranger.address)


def test_revert_surfaces_from_transact(chain: Chain, anchor_contract: Contract) -> None:
    stranger = chain.new_account()
    with pytest.raises(ContractReverted) as info:
        transact(chain.w3, stranger, anchor_contract.functions.anchor(LOG, 1, root(1)))
    assert info.value.revert == NotSubmitter(caller=stranger.address)
    assert isinstance(info.value, ChainError)


def test_owner_allows_and_revokes_submitters(chain: Chain, anchor_contract: Contract) -> None:
    fns = anchor_contract.functions
    submitter = chain.new_account()

    receipt = transact(chain.w3, chain.funder, fns.allowSubmitter(submitter.address))
    (allowed,) = anchor_contract.events.SubmitterAllowed().process_receipt(receipt)
    assert allowed["args"]["submitter"] == submitter.address
    assert fns.isSubmitter(submitter.address).call() is True
    transact(chain.w3, submitter, fns.anchor(LOG, 1, root(1)))

    receipt = transact(chain.w3, chain.funder, fns.revokeSubmitter(submitter.address))
    (revoked,) = anchor_contract.events.SubmitterRevoked().process_receipt(receipt)
    assert revoked["args"]["submitter"] == submitter.address
    assert fns.isSubmitter(submitter.address).call() is False
    assert revert_of(fns.anchor(LOG, 2, root(2)), submitter) == NotSubmitter(submitter.address)
    assert fns.rootAt(LOG, 1).call() == root(1)  # what it anchored stays anchored


def test_owner_is_submitter_only_while_allowed(chain: Chain, anchor_contract: Contract) -> None:
    fns = anchor_contract.functions
    transact(chain.w3, chain.funder, fns.revokeSubmitter(chain.funder.address))
    result = revert_of(fns.anchor(LOG, 1, root(1)), chain.funder)
    assert result == NotSubmitter(chain.funder.address)


def test_non_owner_cannot_manage(chain: Chain, anchor_contract: Contract) -> None:
    fns = anchor_contract.functions
    stranger = chain.new_account()
    transact(chain.w3, chain.funder, fns.allowSubmitter(stranger.address))  # submitter, not owner
    for call in (
        fns.allowSubmitter(stranger.address),
        fns.revokeSubmitter(chain.funder.address),
        fns.transferOwnership(stranger.address),
    ):
        assert revert_of(call, stranger) == NotOwner(caller=stranger.address)


def test_zero_address_rejected(chain: Chain, anchor_contract: Contract) -> None:
    fns = anchor_contract.functions
    for call in (
        fns.allowSubmitter(ZERO_ADDRESS),
        fns.revokeSubmitter(ZERO_ADDRESS),
        fns.transferOwnership(ZERO_ADDRESS),
    ):
        assert revert_of(call, chain.funder) == ZeroAddress()


def test_two_step_ownership_transfer(chain: Chain, anchor_contract: Contract) -> None:
    fns = anchor_contract.functions
    new_owner = chain.new_account()
    stranger = chain.new_account()

    receipt = transact(chain.w3, chain.funder, fns.transferOwnership(new_owner.address))
    (started,) = anchor_contract.events.OwnershipTransferStarted().process_receipt(receipt)
    assert dict(started["args"]) == {
        "previousOwner": chain.funder.address,
        "newOwner": new_owner.address,
    }
    assert fns.owner().call() == chain.funder.address  # not yet
    assert fns.pendingOwner().call() == new_owner.address
    assert revert_of(fns.acceptOwnership(), stranger) == NotPendingOwner(stranger.address)

    receipt = transact(chain.w3, new_owner, fns.acceptOwnership())
    (transferred,) = anchor_contract.events.OwnershipTransferred().process_receipt(receipt)
    assert dict(transferred["args"]) == {
        "previousOwner": chain.funder.address,
        "newOwner": new_owner.address,
    }
    assert fns.owner().call() == new_owner.address
    assert fns.pendingOwner().call() == ZERO_ADDRESS

    # The old owner lost control; the new owner has it, and is not a submitter until allowed.
    assert revert_of(fns.allowSubmitter(stranger.address), chain.funder) == NotOwner(
        chain.funder.address
    )
    assert revert_of(fns.anchor(LOG, 1, root(1)), new_owner) == NotSubmitter(new_owner.address)
    transact(chain.w3, new_owner, fns.allowSubmitter(new_owner.address))
    transact(chain.w3, new_owner, fns.anchor(LOG, 1, root(1)))


def test_tree_size_must_increase(chain: Chain, anchor_contract: Contract) -> None:
    fns = anchor_contract.functions
    transact(chain.w3, chain.funder, fns.anchor(LOG, 10, root(10)))

    assert revert_of(fns.anchor(LOG, 4, root(4)), chain.funder) == TreeSizeNotIncreasing(
        log_id=LOG, latest_size=10, tree_size=4
    )
    assert revert_of(fns.anchor(LOG, 0, root(0)), chain.funder) == TreeSizeNotIncreasing(
        log_id=LOG, latest_size=10, tree_size=0
    )
    assert fns.latest(LOG).call() == [10, root(10)]


def test_size_zero_is_never_anchored(chain: Chain, anchor_contract: Contract) -> None:
    result = revert_of(anchor_contract.functions.anchor(LOG, 0, root(0)), chain.funder)
    assert result == TreeSizeNotIncreasing(log_id=LOG, latest_size=0, tree_size=0)


def test_resubmission_with_same_root_is_recognisable(
    chain: Chain, anchor_contract: Contract
) -> None:
    fns = anchor_contract.functions
    transact(chain.w3, chain.funder, fns.anchor(LOG, 10, root(10)))

    result = revert_of(fns.anchor(LOG, 10, root(10)), chain.funder)
    assert result == AlreadyAnchored(log_id=LOG, tree_size=10, anchored_root=root(10))
    assert isinstance(result, AlreadyAnchored) and result.same_root(root(10))


def test_resubmission_with_different_root_reports_anchored_root(
    chain: Chain, anchor_contract: Contract
) -> None:
    fns = anchor_contract.functions
    transact(chain.w3, chain.funder, fns.anchor(LOG, 10, root(10)))
    transact(chain.w3, chain.funder, fns.anchor(LOG, 12, root(12)))

    # An older anchored size also reports AlreadyAnchored (not TreeSizeNotIncreasing).
    result = revert_of(fns.anchor(LOG, 10, root(999)), chain.funder)
    assert result == AlreadyAnchored(log_id=LOG, tree_size=10, anchored_root=root(10))
    assert isinstance(result, AlreadyAnchored) and not result.same_root(root(999))
    assert fns.rootAt(LOG, 10).call() == root(10)


def test_zero_root_rejected(chain: Chain, anchor_contract: Contract) -> None:
    result = revert_of(anchor_contract.functions.anchor(LOG, 1, ZERO32), chain.funder)
    assert result == ZeroRoot()


def test_logs_are_independent(chain: Chain, anchor_contract: Contract) -> None:
    fns = anchor_contract.functions
    transact(chain.w3, chain.funder, fns.anchor(LOG, 100, root(100)))
    transact(chain.w3, chain.funder, fns.anchor(OTHER_LOG, 3, root(3)))
    transact(chain.w3, chain.funder, fns.anchor(OTHER_LOG, 100, root(101)))

    assert fns.latest(LOG).call() == [100, root(100)]
    assert fns.latest(OTHER_LOG).call() == [100, root(101)]
    assert fns.rootAt(LOG, 3).call() == ZERO32
    assert fns.rootAt(OTHER_LOG, 3).call() == root(3)


def test_decode_unknown_revert_data() -> None:
    assert decode_anchor_revert(b"") == UnknownRevert(data=b"")
    assert decode_anchor_revert(None) == UnknownRevert(data=b"")
    panic = "0x4e487b71" + "11".rjust(64, "0")
    assert decode_anchor_revert(panic) == UnknownRevert(data=bytes.fromhex(panic[2:]))


def test_decode_accepts_every_transport_form() -> None:
    selector = Web3.keccak(text="EvidenceAnchor__NotOwner(address)")[:4]
    data = selector + b"\x00" * 12 + b"\x11" * 20
    expected = NotOwner(caller=Web3.to_checksum_address("0x" + "11" * 20))
    assert decode_anchor_revert(data) == expected
    assert decode_anchor_revert("0x" + data.hex()) == expected
    assert decode_anchor_revert("Reverted 0x" + data.hex()) == expected
    assert decode_anchor_revert({"data": "0x" + data.hex()}) == expected
    assert decode_anchor_revert(RuntimeError(f"execution reverted: {data!r}")) == expected


def test_log_id_is_sha256_of_origin() -> None:
    assert log_id("example.com/log") == hashlib.sha256(b"example.com/log").digest()
    assert len(log_id("")) == 32
