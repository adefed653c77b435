"""Anchoring signed checkpoints on chain: send, watch, confirm, survive outages and re-orgs.

The latest signed checkpoint covers every event before it (the log only grows, and any
earlier checkpoint is consistent with it), so one anchor transaction at a time is enough: the
service anchors the latest checkpoint when the tree grew since the last anchor.

Every transaction is signed locally and recorded (raw bytes and hash) in ``anchor_attempt``
*before* it is broadcast, so a crash never loses track of a transaction the node may have.
The watch re-broadcasts what the node does not know, replaces what is stuck past the timeout
(+12.5% on both fee fields, within the cap), counts confirmations, and detects re-orgs: a
dropped anchor is anchored again, or marked superseded when a later anchor covers it. The
anchor row keeps its history in its attempts.

Each status change (mined, confirmed, re-orged, ...) is handed to the anchorer's
:class:`StatusListener` callables inside the transaction that makes it; the composition root
(``runtime``) wires the webhook queue as one, so anchoring itself knows nothing of webhooks.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
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
    log_id,
)
from evidence_chain.anchoring.records import (
    ANCHOR,
    ATTEMPT,
    CONFIRMED,
    DROPPED,
    FAILED,
    LIVE,
    MINED,
    ON_CHAIN,
    PENDING,
    REORGED,
    REPLACED,
    REVERTED,
    SENT,
    SUPERSEDED,
    AnchorRecords,
    AnchorStore,
    AnchorView,
    AttemptView,
    StatusListener,
    hex0x,
)
from evidence_chain.clock import utcnow
from evidence_chain.errors import ChainError, ConfigurationError, EvidenceError
from evidence_chain.ledger import Ledger

log = logging.getLogger(__name__)


FEE_BUMP = 1.125
"""A replacement must raise both fee fields by at least 12.5% (the geth/anvil mempool rule)."""


GAS_MARGIN = 1.25
REORG_WINDOW = 256
NETWORKS = {
    1: "ethereum mainnet",
    11155111: "sepolia",
    17000: "holesky",
    31337: "anvil (local)",
    131277322940537: "eth-tester (in process)",
}
DEV_KEY_WARNING = "development key, local chain only"
CHAIN_AHEAD = "chain_ahead_of_log"


@dataclass(frozen=True)
class AnchorOptions:
    """How anchoring behaves: contract, expected chain, confirmations, fee cap, timeouts."""

    contract: str | None
    expected_chain_id: int | None = None
    confirmations: int = 1
    max_fee_wei: int = 200 * 10**9
    tx_timeout: float = 180.0
    reorg_window: int = REORG_WINDOW


class Backoff:
    """Exponential backoff while the chain is unreachable; logs once per state change."""

    def __init__(
        self,
        *,
        base: float = 2.0,
        cap: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.cap = cap
        self.monotonic = monotonic
        self.failures = 0
        self.next_try = 0.0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        """True while the last chain call failed."""
        return self.failures > 0

    def ready(self) -> bool:
        """True when a chain call may be tried now."""
        return self.monotonic() >= self.next_try

    def failure(self, exc: EvidenceError) -> float:
        """Record a failure; return the delay before the next try."""
        with self._lock:
            self.failures += 1
            delay = min(self.cap, self.base * 2 ** (self.failures - 1))
            self.next_try = self.monotonic() + delay
            if self.failures == 1:
                log.warning(
                    "chain unavailable, anchoring paused (ingestion and checkpoints go on); "
                    "retrying with backoff up to %.0f s: %s",
                    self.cap,
                    exc.message,
                )
            else:
                log.debug("chain still unavailable (%d failures): %s", self.failures, exc.message)
            return delay

    def success(self) -> None:
        """Record a success; log the recovery once."""
        with self._lock:
            if self.failures:
                log.warning("chain reachable again after %d failed tries", self.failures)
            self.failures = 0
            self.next_try = 0.0


class Anchorer:
    """Anchors the latest checkpoint and follows its transaction until it is confirmed."""

    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        chain: AnchorChain,
        signer: Signer | None,
        options: AnchorOptions,
        *,
        clock: Callable[[], datetime] = utcnow,
        backoff: Backoff | None = None,
        listeners: Sequence[StatusListener] = (),
    ) -> None:
        self.engine = engine
        self.listeners = tuple(listeners)
        self.ledger = ledger
        self.chain = chain
        self.signer = signer
        self.options = options
        self.clock = clock
        self.store = AnchorStore(engine, clock=clock, listeners=listeners)
        self.records = self.store.records
        self.backoff = backoff or Backoff()
        self.log_id = log_id(ledger.key.origin)
        self._chain_id: int | None = None
        self._config_error: str | None = None
        self._lock = threading.RLock()
        self._postgres = engine.dialect.name == "postgresql"

    # -- readiness ----------------------------------------------------------------------

    @property
    def contract(self) -> str:
        """The contract address; ConfigurationError when none is configured."""
        if not self.options.contract:
            raise ConfigurationError(
                "no EvidenceAnchor contract configured: set EVIDENCE_CONTRACT_ADDRESS or run "
                "`flask --app app chain deploy`"
            )
        return self.options.contract

    def _signer(self) -> Signer:
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

    # -- scheduled jobs -----------------------------------------------------------------

    def anchor_job(self) -> None:
        """Scheduled: anchor the latest checkpoint if the tree grew (backs off while down)."""
        self._gated(self.anchor_latest)

    def watch_job(self) -> None:
        """Scheduled: follow pending transactions, confirmations and re-orgs."""
        self._gated(self.watch)

    def _gated(self, step: Callable[[], Any]) -> None:
        if not self.backoff.ready():
            return
        try:
            step()
        except ConfigurationError as exc:
            if exc.message != self._config_error:
                log.error("anchoring cannot run: %s", exc.message)
                self._config_error = exc.message
            return
        except ChainError as exc:
            self.backoff.failure(exc)
            return
        self._config_error = None
        self.backoff.success()

    # -- anchoring ------------------------------------------------------------------------

    def anchor_latest(self) -> AnchorView | None:
        """Anchor the latest signed checkpoint unless it is covered or a transaction is in flight.

        Returns the anchor now pending (or found already anchored), or None when there is
        nothing to do. Raises ChainError when the chain cannot be reached.
        """
        with self._lock:
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
        signer = self._signer()
        on_chain = self.chain.root_at(contract, self.log_id, tree_size)
        if on_chain != ZERO32:
            if on_chain == root:
                return self._record_found(tree_size, root)
            self._root_mismatch(tree_size, root, on_chain)
            return None
        data = self.chain.anchor_calldata(self.log_id, tree_size, root)
        try:
            gas = self.chain.estimate_gas(signer.address, contract, data)
        except ContractReverted as exc:
            return self._rejected(tree_size, root, exc)
        nonce = self.chain.nonce(signer.address, pending=True)
        previous = self._last_attempt_with_nonce(tree_size, nonce)
        fees = self._fees(previous)
        if fees is None:
            return None
        return self._send(tree_size, root, data, math.ceil(gas * GAS_MARGIN), nonce, fees)

    def _fees(self, previous: AttemptView | None) -> tuple[int, int] | None:
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
        signer = self._signer()
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
                .where(ATTEMPT.c.nonce == nonce, ATTEMPT.c.sender == self._signer().address)
                .order_by(ATTEMPT.c.id.desc())
                .limit(1)
            ).first()
        return AttemptView.from_row(row) if row is not None else None

    def _record_found(self, tree_size: int, root: bytes) -> AnchorView:
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
                return self._record_found(tree_size, root)
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

    def alarm(self, kind: str, message: str, details: dict[str, Any]) -> None:
        """Raise an alarm once (an open one of the same kind and tree size is not repeated)."""
        self.store.alarm(kind, message, details)

    # -- watching -------------------------------------------------------------------------

    def watch(self) -> None:
        """Follow pending transactions, count confirmations, detect re-orgs. Idempotent."""
        with self._lock:
            contract = self.options.contract
            if not contract:
                return
            with db.reading(self.engine) as conn:
                rows = [
                    AnchorView.from_row(r)
                    for r in conn.execute(
                        select(ANCHOR)
                        .where(ANCHOR.c.contract == contract, ANCHOR.c.status.in_(LIVE))
                        .order_by(ANCHOR.c.tree_size.desc())
                        .limit(64)
                    )
                ]
            unsettled = [a for a in rows if a.status in (PENDING, MINED)]
            recent = [a for a in rows if a.status == CONFIRMED]
            if not unsettled and not recent:
                return
            head = self.chain.block_number()
            for anchor in rows:
                if anchor.status == PENDING:
                    self._watch_pending(anchor, head)
                elif anchor.block_number is None:
                    continue
                elif (
                    anchor.status == MINED or head - anchor.block_number < self.options.reorg_window
                ):
                    self._watch_mined(anchor, head)

    def _watch_pending(self, anchor: AnchorView, head: int) -> None:
        attempts = self.store.live_attempts(anchor.id)
        if not attempts:
            return
        for attempt in attempts:
            receipt = self.chain.receipt(attempt.tx_hash)
            if receipt is None:
                continue
            others = [a.id for a in attempts if a.id != attempt.id]
            if others:
                self.store.set_attempts(
                    ATTEMPT.c.id.in_(others), status=REPLACED, note=f"{attempt.id} was mined"
                )
            if not receipt.success:
                self.store.set_attempts(
                    ATTEMPT.c.id == attempt.id,
                    status=REVERTED,
                    block_number=receipt.block_number,
                    block_hash=receipt.block_hash,
                )
                on_chain = self.chain.root_at(anchor.contract, self.log_id, anchor.tree_size)
                if on_chain == anchor.root:
                    self._record_found(anchor.tree_size, anchor.root)
                else:
                    self.store.set_anchor(anchor.id, status=FAILED, note="transaction reverted")
                    log.error("anchor transaction %s reverted", hex0x(attempt.tx_hash))
                return
            block = self.chain.block(receipt.block_number)
            self.store.set_attempts(
                ATTEMPT.c.id == attempt.id,
                status=MINED,
                block_number=receipt.block_number,
                block_hash=receipt.block_hash,
            )
            confirmations = max(0, head - receipt.block_number + 1)
            self.store.set_anchor(
                anchor.id,
                status=CONFIRMED if confirmations >= self.options.confirmations else MINED,
                tx_hash=attempt.tx_hash,
                block_number=receipt.block_number,
                block_hash=receipt.block_hash,
                block_timestamp=(
                    datetime.fromtimestamp(block.timestamp, UTC) if block is not None else None
                ),
                confirmations=confirmations,
                gas_used=receipt.gas_used,
                note=None,
            )
            log.info(
                "anchor tree_size=%d mined in block %d (%s)",
                anchor.tree_size,
                receipt.block_number,
                hex0x(attempt.tx_hash),
            )
            return
        newest = attempts[0]
        signer = self._signer()
        if self.chain.nonce(signer.address, pending=False) > newest.nonce:
            # Our nonce was used, yet none of our transactions at it was mined.
            self.store.set_attempts(
                ATTEMPT.c.id.in_([a.id for a in attempts]),
                status=DROPPED,
                note=f"nonce {newest.nonce} was used by another transaction",
            )
            log.warning("anchor tx %s dropped; anchoring again", hex0x(newest.tx_hash))
            self.anchor_latest()
            return
        if not self.chain.knows_transaction(newest.tx_hash):
            log.warning(
                "the node does not know anchor tx %s: broadcasting it again",
                hex0x(newest.tx_hash),
            )
            try:
                self.chain.send_raw(newest.raw_tx)
            except ChainError as exc:  # the nonce check above settles a refused one next time
                log.warning("re-broadcast of %s refused: %s", hex0x(newest.tx_hash), exc.message)
            return
        age = (self.clock() - newest.created_at).total_seconds()
        if age >= self.options.tx_timeout:
            self._replace(anchor, newest)

    def _replace(self, anchor: AnchorView, stuck: AttemptView) -> None:
        """Replace a stuck transaction: same nonce, both fee fields raised by >= 12.5%."""
        fees = self._fees(stuck)
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

    def _watch_mined(self, anchor: AnchorView, head: int) -> None:
        assert anchor.block_number is not None and anchor.tx_hash is not None
        receipt = self.chain.receipt(anchor.tx_hash)
        block = self.chain.block(anchor.block_number)
        canonical = (
            receipt is not None
            and receipt.success
            and block is not None
            and block.hash == anchor.block_hash
            and receipt.block_hash == anchor.block_hash
        )
        if not canonical:
            if receipt is not None and receipt.success:
                moved = self.chain.block(receipt.block_number)
                confirmations = max(0, head - receipt.block_number + 1)
                self.store.set_anchor(
                    anchor.id,
                    status=CONFIRMED if confirmations >= self.options.confirmations else MINED,
                    block_number=receipt.block_number,
                    block_hash=receipt.block_hash,
                    block_timestamp=(
                        datetime.fromtimestamp(moved.timestamp, UTC) if moved else None
                    ),
                    confirmations=confirmations,
                    note=f"moved by a re-org from block {anchor.block_number}",
                )
                return
            self._reorged(anchor)
            return
        confirmations = max(0, head - anchor.block_number + 1)
        status = CONFIRMED if confirmations >= self.options.confirmations else MINED
        if status != anchor.status or confirmations != anchor.confirmations:
            if status == CONFIRMED and anchor.status != CONFIRMED:
                log.info(
                    "anchor tree_size=%d confirmed (%d blocks)", anchor.tree_size, confirmations
                )
            self.store.set_anchor(anchor.id, status=status, confirmations=confirmations)

    def _reorged(self, anchor: AnchorView) -> None:
        """The anchor's transaction left the canonical chain: anchor again or supersede."""
        log.warning(
            "re-org: anchor tree_size=%d (tx %s, block %s) is no longer on the canonical chain",
            anchor.tree_size,
            hex0x(anchor.tx_hash),
            anchor.block_number,
        )
        self.store.set_attempts(
            (ATTEMPT.c.anchor_id == anchor.id) & (ATTEMPT.c.tx_hash == anchor.tx_hash),
            status=DROPPED,
            note=f"re-org: block {anchor.block_number} {hex0x(anchor.block_hash)} left the chain",
        )
        with db.reading(self.engine) as conn:
            later = conn.execute(
                select(ANCHOR.c.tree_size)
                .where(
                    ANCHOR.c.contract == anchor.contract,
                    ANCHOR.c.tree_size > anchor.tree_size,
                    ANCHOR.c.status.in_(LIVE),
                )
                .limit(1)
            ).first()
        if later is not None:
            self.store.set_anchor(
                anchor.id,
                status=SUPERSEDED,
                note=f"dropped by a re-org; covered by the anchor of {later.tree_size}",
            )
            return
        self.store.set_anchor(
            anchor.id,
            status=REORGED,
            confirmations=0,
            note="dropped by a re-org; anchoring again",
        )
        self.store.set_anchor(anchor.id, status=PENDING, block_number=None, block_hash=None)
        self.anchor_latest()

    # -- at once ----------------------------------------------------------------------------

    def anchor_now(self, *, timeout: float = 120.0, poll: float = 0.25) -> AnchorView | None:
        """Sign a checkpoint if the tree grew, anchor it, wait until it is mined."""
        self.ledger.sign_checkpoint()
        cp = self.ledger.latest_checkpoint()
        if cp is None:
            return None
        deadline = time.monotonic() + timeout
        while True:
            self.anchor_latest()
            self.watch()
            covering = self.records.covering(cp.tree_size)
            if covering is not None:
                return covering
            for alarm in self.records.alarms():
                if (
                    alarm["details"].get("tree_size") == cp.tree_size
                    or alarm["kind"] == CHAIN_AHEAD
                ):
                    raise ChainError(
                        f"tree size {cp.tree_size} cannot be anchored: alarm {alarm['id']} "
                        f"{alarm['kind']}: {alarm['message']}",
                        details={"tree_size": cp.tree_size, "alarm": alarm},
                    )
            if time.monotonic() > deadline:
                raise ChainError(
                    f"tree size {cp.tree_size} was not anchored within {timeout:.0f} s",
                    details={"tree_size": cp.tree_size},
                )
            time.sleep(poll)

    def check_against_chain(self) -> dict[str, Any] | None:
        """Raise (and return) an alarm when the chain holds a checkpoint of this log larger than
        the log itself: entries acknowledged before that checkpoint are missing here, as after
        a restore from a backup older than the last anchor. None when the chain is not ahead.

        Raises ChainError when the chain cannot be reached.
        """
        chain_size, chain_root = self.chain.latest(self.contract, self.log_id)
        ours = self.ledger.tree_size()
        if chain_size <= ours:
            return None
        details = {
            "tree_size": chain_size,
            "log_tree_size": ours,
            "chain_root": chain_root.hex(),
            "contract": self.contract,
        }
        message = (
            f"the chain holds a checkpoint of this log at tree size {chain_size}, but the log "
            f"has only {ours} entries: the {chain_size - ours} entries after it were acknowledged "
            "and anchored, then lost (restored from an older backup?); their proofs cannot be "
            "served and the log's next checkpoints will not be consistent with the anchored one"
        )
        self.alarm(CHAIN_AHEAD, message, details)
        return {"kind": CHAIN_AHEAD, "message": message, "details": details}

    # -- status -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What ``/api/v1/chain`` and ``chain status`` show; chain values only if reachable."""
        signer = self.signer
        body: dict[str, Any] = {
            "enabled": True,
            "rpc": self.chain.kind,
            "chain_id": self.options.expected_chain_id,
            "network": None,
            "contract": self.options.contract,
            "log_id": hex0x(self.log_id),
            "submitter": signer.address if signer else None,
            "development_key": bool(signer and signer.development_key),
            "warning": DEV_KEY_WARNING if signer and signer.development_key else None,
            "confirmations_required": self.options.confirmations,
            "max_fee_per_gas": self.options.max_fee_wei,
            "reachable": False,
            "error": None,
            "head": None,
            "balance_wei": None,
            "nonce": None,
            "pending_nonce": None,
        }
        try:
            body["chain_id"] = self.chain_id()
            body["network"] = NETWORKS.get(body["chain_id"], f"chain {body['chain_id']}")
            body["head"] = self.chain.block_number()
            if signer is not None:
                body["balance_wei"] = str(self.chain.balance(signer.address))
                body["nonce"] = self.chain.nonce(signer.address, pending=False)
                body["pending_nonce"] = self.chain.nonce(signer.address, pending=True)
            body["reachable"] = True
        except EvidenceError as exc:
            body["error"] = exc.message
        latest = self.records.latest()
        confirmed = self.records.latest((CONFIRMED,))
        body["last_anchor"] = latest.to_json() if latest else None
        body["last_confirmed_anchor"] = confirmed.to_json() if confirmed else None
        body["pending"] = [
            {**a.to_json(), "attempts": [t.to_json() for t in self.records.attempts(a.id)]}
            for a in self.records.unsettled()
        ]
        body["alarms"] = self.records.alarms()
        return body


__all__ = [
    "AnchorOptions",
    "AnchorRecords",
    "AnchorView",
    "Anchorer",
    "AttemptView",
    "Backoff",
    "StatusListener",
]
