"""What the chain must show for a bundle's anchor: the root in the contract's state, and the
transaction and block the bundle names.

Pure, like :mod:`evidence_chain.core.bundle` that calls it: the chain is reached only through the
:class:`ChainReader` the caller passes (the offline verifier reads a JSON-RPC endpoint with
web3, the service its own chain connection, tests an in-process double), as
python-opentimestamps passes block headers to its notary checks. The ``CheckpointAnchored``
event is decoded here from the raw log (topics and data), so every verifier decodes it the
same way, whatever library fetched it.

The checks (names are stable, documented in ``docs/evidence-bundle.md``):

- ``anchor.root_on_chain``: ``rootAt(logId, treeSize)`` of the contract is the anchored root;
- ``anchor.transaction``: the transaction ``tx_hash`` succeeded and, from the contract, emitted
  ``CheckpointAnchored(logId, treeSize, root)`` with this log id, tree size and root;
- ``anchor.block_number``: the transaction is in block ``block_number``;
- ``anchor.block_hash``: its receipt names block ``block_hash``, and the chain's block at
  ``block_number`` has that hash (it was not re-organised away);
- ``anchor.block_timestamp``: that block's timestamp is ``block_time``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from evidence_chain.core.errors import EvidenceError

__all__ = [
    "ANCHOR_CHAIN_CHECKS",
    "CHECKPOINT_ANCHORED_TOPIC",
    "ChainBlock",
    "ChainLog",
    "ChainReader",
    "ChainReceipt",
    "block_time_text",
    "on_chain_checks",
]

CHECKPOINT_ANCHORED_TOPIC = bytes.fromhex(
    "3583cdb91e784f2f9d3e4f21f733e36b507963e72ea63f4dad0930e3d3155264"
)
"""``keccak256("CheckpointAnchored(bytes32,uint64,bytes32)")``: topic 0 of the event."""

ANCHOR_CHAIN_CHECKS = (
    "anchor.root_on_chain",
    "anchor.transaction",
    "anchor.block_number",
    "anchor.block_hash",
    "anchor.block_timestamp",
)
"""The checks that read the chain, in the order they are reported."""

TX_FIELDS = ("tx_hash", "block_number", "block_hash", "block_time")
"""The anchor's fields naming where it was written: all four, or (never seen) none."""

_HASH0X = re.compile(r"0x[0-9a-f]{64}\Z")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")


@dataclass(frozen=True)
class ChainLog:
    """One log entry of a transaction receipt, as the node returns it."""

    address: str
    """The emitting contract, ``0x`` + 40 hex; readers give the EIP-55 checksum form."""
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class ChainReceipt:
    """A mined transaction: success, the block it is in, and its logs."""

    success: bool
    block_number: int
    block_hash: bytes
    logs: tuple[ChainLog, ...]


@dataclass(frozen=True)
class ChainBlock:
    """A block header as far as an anchor cares: height, hash and timestamp (unix seconds)."""

    number: int
    hash: bytes
    timestamp: int


class ChainReader(Protocol):
    """Read access to one chain. Every method raises an EvidenceError (e.g. ChainError) when
    the chain cannot be read; a verifier then reports the checks as not checked."""

    label: str
    """How to name the endpoint in a check's detail (an RPC URL, "the service's chain")."""

    def chain_id(self) -> int:
        """The chain id the endpoint serves (``eth_chainId``)."""
        ...

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes | None:
        """``rootAt(logId, treeSize)`` of ``contract`` at the latest block (32 zero bytes
        when nothing is anchored at that size); None when there is no code at ``contract``."""
        ...

    def receipt(self, tx_hash: bytes) -> ChainReceipt | None:
        """The receipt of a mined transaction, None when the chain has no such transaction."""
        ...

    def block(self, number: int) -> ChainBlock | None:
        """The canonical block at ``number``, None when the chain has none (yet)."""
        ...


def block_time_text(timestamp: int) -> str:
    """A block timestamp as the bundle writes it: RFC 3339 UTC to the second, ``Z``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Skip(Exception):
    """Internal: the check cannot be made (the chain cannot be read)."""


class _Fail(Exception):
    """Internal: the check does not hold."""


class _Where:
    """The anchor's transaction fields, each parsed on first use (_Fail naming a bad one)."""

    def __init__(self, anchor: Mapping[str, Any]) -> None:
        self.raw = {key: anchor.get(key) for key in TX_FIELDS}

    @property
    def none(self) -> bool:
        """True when the bundle names no transaction at all (every field null)."""
        return all(value is None for value in self.raw.values())

    def _hash(self, key: str) -> bytes:
        value = self.raw[key]
        if not isinstance(value, str) or not _HASH0X.match(value):
            raise _Fail(f"anchor.{key} is not 0x and 64 lowercase hex digits: {value!r:.80}")
        return bytes.fromhex(value[2:])

    @property
    def tx_hash(self) -> bytes:
        return self._hash("tx_hash")

    @property
    def block_hash(self) -> bytes:
        return self._hash("block_hash")

    @property
    def block_number(self) -> int:
        number = self.raw["block_number"]
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < 2**64:
            raise _Fail(f"anchor.block_number is not a block number: {number!r:.80}")
        return number

    @property
    def block_time(self) -> str:
        when = self.raw["block_time"]
        if not isinstance(when, str) or not _TIME.match(when):
            raise _Fail(f"anchor.block_time is not a time like 2026-11-21T06:28:09Z: {when!r:.80}")
        return when


def _event_of(log: ChainLog) -> tuple[bytes, int, bytes] | None:
    """``(logId, treeSize, root)`` of a CheckpointAnchored log, None for any other log."""
    topics = log.topics
    if len(topics) != 3 or topics[0] != CHECKPOINT_ANCHORED_TOPIC or len(log.data) != 32:
        return None
    if len(topics[1]) != 32 or len(topics[2]) != 32:
        return None
    return topics[1], int.from_bytes(topics[2], "big"), log.data


class _Run:
    """The chain checks of one anchor; each read at most once."""

    def __init__(
        self,
        reader: ChainReader,
        chain_id: int,
        contract: str,
        log_id: bytes,
        tree_size: int,
        root: bytes,
    ) -> None:
        self.reader = reader
        self.chain_id = chain_id
        self.contract = contract
        self.log_id = log_id
        self.tree_size = tree_size
        self.root = root
        self._receipts: dict[bytes, ChainReceipt | None] = {}
        self._blocks: dict[int, ChainBlock | None] = {}

    def read(self, what: str, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except EvidenceError as exc:
            raise _Skip(f"not checked: {what} could not be read: {exc.message}") from None

    def receipt(self, tx_hash: bytes) -> ChainReceipt:
        if tx_hash not in self._receipts:
            self._receipts[tx_hash] = self.read("the receipt", self.reader.receipt, tx_hash)
        found = self._receipts[tx_hash]
        if found is None:
            raise _Fail(f"chain {self.chain_id} has no transaction 0x{tx_hash.hex()}")
        return found

    def block(self, number: int) -> ChainBlock:
        if number not in self._blocks:
            self._blocks[number] = self.read("the block", self.reader.block, number)
        found = self._blocks[number]
        if found is None:
            raise _Fail(f"chain {self.chain_id} has no block {number}")
        return found

    # -- the checks ---------------------------------------------------------------------------

    def root_on_chain(self) -> str:
        on_chain = self.read(
            "rootAt", self.reader.root_at, self.contract, self.log_id, self.tree_size
        )
        if on_chain is None:
            raise _Fail(f"there is no contract at {self.contract} on chain {self.chain_id}")
        if on_chain == bytes(32):
            raise _Fail(
                f"contract {self.contract} on chain {self.chain_id} holds no root at tree size "
                f"{self.tree_size}"
            )
        if on_chain != self.root:
            raise _Fail(
                f"rootAt(log, {self.tree_size}) on chain {self.chain_id} is {on_chain.hex()}, "
                f"the bundle's anchor root is {self.root.hex()}"
            )
        return (
            f"rootAt(log, {self.tree_size}) on chain {self.chain_id} at {self.contract} = "
            f"{on_chain.hex()}"
        )

    def transaction(self, where: _Where) -> str:
        tx = "0x" + where.tx_hash.hex()
        receipt = self.receipt(where.tx_hash)
        if not receipt.success:
            raise _Fail(f"transaction {tx} failed (reverted) on chain {self.chain_id}")
        ours = [log for log in receipt.logs if log.address.lower() == self.contract.lower()]
        events = [event for log in ours if (event := _event_of(log)) is not None]
        want = (self.log_id, self.tree_size, self.root)
        if want not in events:
            if not events:
                raise _Fail(
                    f"transaction {tx} emitted no CheckpointAnchored event from {self.contract}"
                )
            seen = "; ".join(f"log {i.hex()}, tree size {n}, root {r.hex()}" for i, n, r in events)
            raise _Fail(
                f"transaction {tx} anchored ({seen}), not (log {self.log_id.hex()}, tree size "
                f"{self.tree_size}, root {self.root.hex()})"
            )
        emitter = ours[[_event_of(log) for log in ours].index(want)].address
        if self.contract != self.contract.lower() and self.contract != emitter:
            # EIP-55: a mixed-case address is a checksum; a changed letter case is a change.
            raise _Fail(
                f"anchor.contract {self.contract} is neither in lower case nor in its EIP-55 "
                f"checksum form {emitter}"
            )
        return (
            f"transaction {tx} succeeded and emitted CheckpointAnchored(log "
            f"{self.log_id.hex()}, tree size {self.tree_size}, root {self.root.hex()}) from "
            f"{self.contract}"
        )

    def block_number(self, where: _Where) -> str:
        receipt = self.receipt(where.tx_hash)
        if receipt.block_number != where.block_number:
            raise _Fail(
                f"the transaction is in block {receipt.block_number}, the bundle says "
                f"{where.block_number}"
            )
        return f"the transaction is in block {receipt.block_number} of chain {self.chain_id}"

    def block_hash(self, where: _Where) -> str:
        stated = "0x" + where.block_hash.hex()
        receipt = self.receipt(where.tx_hash)
        if receipt.block_hash != where.block_hash:
            raise _Fail(
                f"the transaction's receipt names block hash 0x{receipt.block_hash.hex()}, "
                f"the bundle says {stated}"
            )
        block = self.block(where.block_number)
        if block.hash != where.block_hash:
            raise _Fail(
                f"block {where.block_number} of chain {self.chain_id} has hash "
                f"0x{block.hash.hex()}, the bundle says {stated}"
            )
        return f"block {where.block_number} has hash {stated}, as the receipt says"

    def block_timestamp(self, where: _Where) -> str:
        block = self.block(where.block_number)
        mined = block_time_text(block.timestamp)
        if mined != where.block_time:
            raise _Fail(
                f"block {where.block_number} was mined at {mined}, the bundle's "
                f"anchor.block_time says {where.block_time}"
            )
        return f"block {where.block_number} was mined at {mined} (timestamp {block.timestamp})"


def _result(name: str, body: Any, *args: Any) -> tuple[str, bool | None, str]:
    try:
        return name, True, body(*args)
    except _Fail as exc:
        return name, False, str(exc)
    except _Skip as exc:
        return name, None, str(exc)


def on_chain_checks(
    reader: ChainReader | None,
    anchor: Mapping[str, Any],
    *,
    chain_id: int,
    contract: str,
    log_id: bytes,
    tree_size: int,
    root: bytes,
) -> list[tuple[str, bool | None, str]]:
    """``(name, ok, detail)`` of each check in :data:`ANCHOR_CHAIN_CHECKS` (ok None: not
    checked). ``anchor`` is the bundle's anchor object, whose other fields were checked."""
    if reader is None:
        why = "not checked: no RPC endpoint given (--rpc URL)"
        return [(name, None, why) for name in ANCHOR_CHAIN_CHECKS]
    try:
        served = reader.chain_id()
    except EvidenceError as exc:
        why = f"not checked: {reader.label} cannot be read: {exc.message}"
        return [(name, None, why) for name in ANCHOR_CHAIN_CHECKS]
    if served != chain_id:
        wrong = f"{reader.label} serves chain {served}, the anchor is on chain {chain_id}"
        return [(name, False, wrong) for name in ANCHOR_CHAIN_CHECKS]
    run = _Run(reader, chain_id, contract, log_id, tree_size, root)
    out = [_result("anchor.root_on_chain", run.root_on_chain)]
    where = _Where(anchor)
    if where.none:
        why = "not checked: the bundle names no anchoring transaction (all of its fields are null)"
        return out + [(name, None, why) for name in ANCHOR_CHAIN_CHECKS[1:]]
    out.append(_result("anchor.transaction", run.transaction, where))
    out.append(_result("anchor.block_number", run.block_number, where))
    out.append(_result("anchor.block_hash", run.block_hash, where))
    out.append(_result("anchor.block_timestamp", run.block_timestamp, where))
    return out
