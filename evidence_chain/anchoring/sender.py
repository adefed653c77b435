"""Sending anchor transactions: what to anchor, fees, nonces, sign, record, broadcast.

The latest signed checkpoint covers every event before it (the log only grows, and any
earlier checkpoint is consistent with it), so one anchor transaction at a time is enough: the
sender anchors the latest checkpoint when the tree grew since the last anchor. Every
transaction is signed locally and recorded (raw bytes and hash) in ``anchor_attempt``
*before* it is broadcast, so a crash never loses track of a transaction the node may have. A
stuck transaction is replaced at the same nonce with both EIP-1559 fee fields raised by at
least 12.5%, within the fee cap.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, update

from evidence_chain import db
from evidence_chain.anchoring.chain import ZERO32, AnchorChain, Fees, Signer
from evidence_chain.anchoring.contract import (
    AlreadyAnchored,
    ContractReverted,
    TreeSizeNotIncreasing,
)
from evidence_chain.anchoring.records import (
    ANCHOR,
    ATTEMPT,
    CONFIRMED,
    FAILED,
    LIVE,
    MINED,
    ON_CHAIN,
    PENDING,
    SENT,
    SUPERSEDED,
    AnchorStore,
    AnchorView,
    AttemptView,
    hex0x,
)
from evidence_chain.clock import utcnow
from evidence_chain.errors import ConfigurationError
from evidence_chain.ledger import Ledger

log = logging.getLogger(__name__)

FEE_BUMP = 1.125
"""A replacement must raise both fee fields by at least 12.5% (the geth/anvil mempool rule)."""


GAS_MARGIN = 1.25
REORG_WINDOW = 256


@dataclass(frozen=True)
class AnchorOptions:
    """How anchoring behaves: contract, expected chain, confirmations, fee cap, timeouts."""

    contract: str | None
    expected_chain_id: int | None = None
    confirmations: int = 1
    max_fee_wei: int = 200 * 10**9
    tx_timeout: float = 180.0
    reorg_window: int = REORG_WINDOW


class AnchorSender:
    """Anchors the latest checkpoint: one transaction in flight at a time, recorded before it
    is broadcast."""

    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        chain: AnchorChain,
        signer: Signer | None,
        options: AnchorOptions,
        store: AnchorStore,
        *,
        log_id: bytes,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.chain = chain
        self.signer = signer
        self.options = options
        self.store = store
        self.records = store.records
        self.log_id = log_id
        self.clock = clock
        self.lock = threading.RLock()
        """Held while deciding and sending, and by the watch, within this process."""
        self._chain_id: int | None = None
        self._postgres = engine.dialect.name == "postgresql"

    @property
    def contract(self) -> str:
        """The contract address; ConfigurationError when none is configured."""
        if not self.options.contract:
            raise ConfigurationError(
                "no EvidenceAnchor contract configured: set EVIDENCE_CONTRACT_ADDRESS or run "
                "`flask --app app chain deploy`"
            )
        return self.options.contract

    def require_signer(self) -> Signer:
        """The submitter key; ConfigurationError when none is configured."""
        if self.signer is None:
            raise ConfigurationError(
                "no submitter key: set EVIDENCE_ANCHOR_KEY or EVIDENCE_ANCHOR_KEYSTORE"
            )
        return self.signer

    def chain_id(self) -> int:
        """The node's chain id, checked once against EVIDENCE_CHAIN_ID (ConfigurationError)."""
        if self._chain_id is None:
            actual = self.chain.chain_id()
            expected = self.options.expected_chain_id
            if expected is not None and actual != expected:
                raise ConfigurationError(
                    f"EVIDENCE_CHAIN_ID is {expected} but the node reports chain {actual}",
                    details={"expected": expected, "actual": actual},
                )
            self._chain_id = actual
        return self._chain_id

    def anchor_latest(self) -> AnchorView | None:
        """Anchor the latest signed checkpoint unless it is covered or a transaction is in flight.

        Returns the anchor now pending (or found already anchored), or None when there is
        nothing to do. Raises ChainError when the chain cannot be reached.
        """
        with self.lock:
            self.chain_id()
            contract = self.contract
            cp = self.ledger.latest_checkpoint()
            if cp is None:
                return None
            with db.reading(self.engine) as conn:
                rows = [
                    AnchorView.from_row(r)
                    for r in conn.execute(
                        select(ANCHOR).where(
                            ANCHOR.c.contract == contract, ANCHOR.c.status.in_(LIVE)
                        )
                    )
                ]
            covered = max((a.tree_size for a in rows if a.status in ON_CHAIN), default=0)
            for pending in sorted(
                (a for a in rows if a.status == PENDING), key=lambda a: -a.tree_size
            ):
                if self.store.live_attempts(pending.id):
                    return pending  # one transaction in flight at a time
                if pending.tree_size < cp.tree_size or pending.tree_size <= covered:
                    self.store.set_anchor(
                        pending.id,
                        status=SUPERSEDED,
                        note=f"superseded by checkpoint {max(cp.tree_size, covered)}",
                    )
                    continue
            if covered >= cp.tree_size:
                return None
            return self._anchor_checkpoint(cp.tree_size, cp.root)

    def _anchor_checkpoint(self, tree_size: int, root: bytes) -> AnchorView | None:
        """Check the chain, then sign, record and broadcast ``anchor(logId, size, root)``."""
        contract = self.contract
        signer = self.require_signer()
        on_chain = self.chain.root_at(contract, self.log_id, tree_size)
        if on_chain != ZERO32:
            if on_chain == root:
                return self.record_found(tree_size, root)
            self._root_mismatch(tree_size, root, on_chain)
            return None
        data = self.chain.anchor_calldata(self.log_id, tree_size, root)
        try:
            gas = self.chain.estimate_gas(signer.address, contract, data)
        except ContractReverted as exc:
            return self._rejected(tree_size, root, exc)
        nonce = self.chain.nonce(signer.address, pending=True)
        previous = self._last_attempt_with_nonce(tree_size, nonce)
        fees = self.fees(previous)
        if fees is None:
            return None
        return self._send(tree_size, root, data, math.ceil(gas * GAS_MARGIN), nonce, fees)

    def fees(self, previous: AttemptView | None) -> tuple[int, int] | None:
        """EIP-1559 (max fee, priority fee) within the cap; a replacement bumps both >= 12.5%."""
        quote: Fees = self.chain.fees()
        cap = self.options.max_fee_wei
        priority = quote.priority_fee
        max_fee = 2 * quote.base_fee + priority
        if previous is not None:
            priority = max(priority, math.ceil(previous.priority_fee * FEE_BUMP))
            max_fee = max(max_fee, math.ceil(previous.max_fee * FEE_BUMP))
        max_fee = min(max_fee, cap)
        priority = min(priority, max_fee)
        if max_fee < quote.base_fee:
            log.warning(
                "anchoring waits: base fee %d wei is above the cap of %d wei",
                quote.base_fee,
                cap,
            )
            return None
        if previous is not None and (
            max_fee < math.ceil(previous.max_fee * FEE_BUMP)
            or priority < math.ceil(previous.priority_fee * FEE_BUMP)
        ):
            log.warning(
                "cannot replace transaction %s: a 12.5%% fee bump would exceed the cap of %d wei",
                hex0x(previous.tx_hash),
                cap,
            )
            return None
        return max_fee, priority

    def _send(
        self,
        tree_size: int,
        root: bytes,
        data: bytes,
        gas: int,
        nonce: int,
        fees: tuple[int, int],
        *,
        replacing: int | None = None,
    ) -> AnchorView:
        """Sign, record (before broadcasting: a crash never loses a sent transaction), send."""
        signer = self.require_signer()
        max_fee, priority = fees
        signed = signer.sign(
            {
                "type": 2,
                "chainId": self.chain_id(),
                "nonce": nonce,
                "to": self.contract,
                "data": data,
                "value": 0,
                "gas": gas,
                "maxFeePerGas": max_fee,
                "maxPriorityFeePerGas": priority,
            }
        )
        now = self.clock()
        with self.engine.begin() as conn:
            self._serialise(conn)
            anchor_id = self._upsert_anchor(conn, tree_size, root, PENDING, now)
            in_flight = conn.execute(
                select(ATTEMPT.c.id)
                .join(ANCHOR, ANCHOR.c.id == ATTEMPT.c.anchor_id)
                .where(
                    ATTEMPT.c.status == SENT,
                    ANCHOR.c.contract == self.contract,
                    ATTEMPT.c.id != (replacing or -1),
                )
            ).first()
            if in_flight is not None and replacing is None:
                # Another process (a CLI `chain anchor-now`) got there first.
                return self.records.get(tree_size)
            conn.execute(
                insert(ATTEMPT).values(
                    anchor_id=anchor_id,
                    tx_hash=signed.tx_hash,
                    sender=signer.address,
                    nonce=nonce,
                    gas_limit=gas,
                    max_fee=max_fee,
                    priority_fee=priority,
                    raw_tx=signed.raw,
                    status=SENT,
                    note=f"replaces attempt {replacing}" if replacing else None,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                update(ANCHOR)
                .where(ANCHOR.c.id == anchor_id)
                .values(tx_hash=signed.tx_hash, updated_at=now)
            )
        log.info(
            "anchoring tree_size=%d: tx %s nonce %d max fee %d priority %d",
            tree_size,
            hex0x(signed.tx_hash),
            nonce,
            max_fee,
            priority,
        )
        self.chain.send_raw(signed.raw)
        return self.records.get(tree_size)

    def _serialise(self, conn: Connection) -> None:
        """Serialise senders across processes (SQLite: BEGIN IMMEDIATE already does)."""
        if self._postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x5EA17A11})

    def _upsert_anchor(
        self, conn: Connection, tree_size: int, root: bytes, status: str, now: datetime
    ) -> int:
        row = conn.execute(
            select(ANCHOR.c.id).where(
                ANCHOR.c.contract == self.contract, ANCHOR.c.tree_size == tree_size
            )
        ).first()
        values = {
            "status": status,
            "root": root,
            "block_number": None,
            "block_hash": None,
            "block_timestamp": None,
            "confirmations": 0,
            "updated_at": now,
        }
        if row is not None:
            conn.execute(update(ANCHOR).where(ANCHOR.c.id == row.id).values(**values))
            return int(row.id)
        result = conn.execute(
            insert(ANCHOR).values(
                tree_size=tree_size,
                log_id=self.log_id,
                chain_id=self.chain_id(),
                contract=self.contract,
                created_at=now,
                **values,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def _last_attempt_with_nonce(self, tree_size: int, nonce: int) -> AttemptView | None:
        """Our last transaction at ``nonce``: a new one at that nonce must outbid it."""
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(ATTEMPT)
                .where(ATTEMPT.c.nonce == nonce, ATTEMPT.c.sender == self.require_signer().address)
                .order_by(ATTEMPT.c.id.desc())
                .limit(1)
            ).first()
        return AttemptView.from_row(row) if row is not None else None

    def record_found(self, tree_size: int, root: bytes) -> AnchorView:
        """The chain already holds our root for this size: record where, from the event."""
        found = self.chain.find_anchor(self.contract, self.log_id, tree_size)
        now = self.clock()
        with self.engine.begin() as conn:
            before = conn.execute(
                select(ANCHOR.c.status).where(
                    ANCHOR.c.contract == self.contract, ANCHOR.c.tree_size == tree_size
                )
            ).scalar()
            anchor_id = self._upsert_anchor(conn, tree_size, root, MINED, now)
            values: dict[str, Any] = {"note": "found already anchored on chain"}
            if found is not None:
                values.update(
                    tx_hash=found.tx_hash,
                    block_number=found.block_number,
                    block_hash=found.block_hash,
                )
                conn.execute(
                    update(ATTEMPT)
                    .where(ATTEMPT.c.anchor_id == anchor_id, ATTEMPT.c.tx_hash == found.tx_hash)
                    .values(status=MINED, block_number=found.block_number, updated_at=now)
                )
            else:
                values["status"] = CONFIRMED
            conn.execute(update(ANCHOR).where(ANCHOR.c.id == anchor_id).values(**values))
            self.store.notify(conn, anchor_id, before)
        if found is not None:
            block = self.chain.block(found.block_number)
            if block is not None:
                self.store.set_anchor(
                    anchor_id, block_timestamp=datetime.fromtimestamp(block.timestamp, UTC)
                )
        log.info("tree_size=%d is already anchored with our root; recorded it", tree_size)
        return self.records.get(tree_size)

    def _rejected(self, tree_size: int, root: bytes, exc: ContractReverted) -> AnchorView | None:
        revert = exc.revert
        if isinstance(revert, AlreadyAnchored):
            if revert.same_root(root):
                return self.record_found(tree_size, root)
            self._root_mismatch(tree_size, root, revert.anchored_root)
            return None
        if isinstance(revert, TreeSizeNotIncreasing):
            self.store.alarm(
                "tree_size_not_increasing",
                f"the chain already holds a larger tree size {revert.latest_size} for this log "
                f"than our latest checkpoint {tree_size}: entries the chain vouches for are "
                "missing from the log (restored from an older backup?); see docs/operations.md",
                {"tree_size": tree_size, "chain_latest_size": revert.latest_size},
            )
            return None
        self.store.alarm(
            "anchor_rejected",
            f"the contract rejects anchoring tree size {tree_size}: {type(revert).__name__}",
            {"tree_size": tree_size, "revert": repr(revert)},
        )
        return None

    def _root_mismatch(self, tree_size: int, root: bytes, on_chain: bytes) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            anchor_id = self._upsert_anchor(conn, tree_size, root, FAILED, now)
            conn.execute(
                update(ANCHOR)
                .where(ANCHOR.c.id == anchor_id)
                .values(note=f"the chain holds a different root {on_chain.hex()}")
            )
        self.store.alarm(
            "root_mismatch",
            f"the chain holds a DIFFERENT root for tree size {tree_size} of this log",
            {
                "tree_size": tree_size,
                "our_root": root.hex(),
                "chain_root": on_chain.hex(),
                "contract": self.contract,
            },
        )

    def replace(self, anchor: AnchorView, stuck: AttemptView) -> None:
        """Replace a stuck transaction: same nonce, both fee fields raised by >= 12.5%."""
        fees = self.fees(stuck)
        if fees is None:
            return
        data = self.chain.anchor_calldata(self.log_id, anchor.tree_size, anchor.root)
        log.warning(
            "anchor tx %s stuck for more than %.0f s: replacing it with higher fees",
            hex0x(stuck.tx_hash),
            self.options.tx_timeout,
        )
        self._send(
            anchor.tree_size,
            anchor.root,
            data,
            stuck.gas_limit,
            stuck.nonce,
            fees,
            replacing=stuck.id,
        )


__all__ = ["FEE_BUMP", "GAS_MARGIN", "REORG_WINDOW", "AnchorOptions", "AnchorSender"]
