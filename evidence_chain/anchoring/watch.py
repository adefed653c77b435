"""Watching anchor transactions: receipts, confirmations, dropped and stuck transactions,
re-orgs.

The watch re-broadcasts what the node does not know, has the sender replace what is stuck
past the timeout, counts confirmations, and detects re-orgs: a dropped anchor is anchored
again, or marked superseded when a later anchor covers it. The anchor row keeps its history
in its attempts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select

from evidence_chain import db
from evidence_chain.anchoring.chain import AnchorChain
from evidence_chain.anchoring.records import (
    ANCHOR,
    ATTEMPT,
    CONFIRMED,
    DROPPED,
    FAILED,
    LIVE,
    MINED,
    PENDING,
    REORGED,
    REPLACED,
    REVERTED,
    SUPERSEDED,
    AnchorStore,
    AnchorView,
    hex0x,
)
from evidence_chain.anchoring.sender import AnchorOptions, AnchorSender
from evidence_chain.errors import ChainError

log = logging.getLogger(__name__)


class AnchorWatch:
    """Follows the sender's transactions until they are confirmed, through re-orgs."""

    def __init__(self, sender: AnchorSender) -> None:
        self.sender = sender
        self.store: AnchorStore = sender.store

    @property
    def chain(self) -> AnchorChain:
        """The sender's chain."""
        return self.sender.chain

    @property
    def options(self) -> AnchorOptions:
        """The sender's options (one source: replacing them applies to both)."""
        return self.sender.options

    def watch(self) -> None:
        """Follow pending transactions, count confirmations, detect re-orgs. Idempotent."""
        with self.sender.lock:
            contract = self.options.contract
            if not contract:
                return
            with db.reading(self.store.engine) as conn:
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
                on_chain = self.chain.root_at(anchor.contract, self.sender.log_id, anchor.tree_size)
                if on_chain == anchor.root:
                    self.sender.record_found(anchor.tree_size, anchor.root)
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
        signer = self.sender.require_signer()
        if self.chain.nonce(signer.address, pending=False) > newest.nonce:
            # Our nonce was used, yet none of our transactions at it was mined.
            self.store.set_attempts(
                ATTEMPT.c.id.in_([a.id for a in attempts]),
                status=DROPPED,
                note=f"nonce {newest.nonce} was used by another transaction",
            )
            log.warning("anchor tx %s dropped; anchoring again", hex0x(newest.tx_hash))
            self.sender.anchor_latest()
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
        age = (self.store.clock() - newest.created_at).total_seconds()
        if age >= self.options.tx_timeout:
            self.sender.replace(anchor, newest)

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
        with db.reading(self.store.engine) as conn:
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
        self.sender.anchor_latest()


__all__ = ["AnchorWatch"]
