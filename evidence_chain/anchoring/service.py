"""Anchoring signed checkpoints on chain: send, watch, confirm, survive outages and re-orgs.

:class:`Anchorer` is the one object the rest of the code uses (the scheduled jobs, the API,
the CLI). The work lives beside it: :mod:`evidence_chain.anchoring.sender` decides what to
anchor and sends it (fees, nonces, a transaction recorded before it is broadcast),
:mod:`evidence_chain.anchoring.watch` follows it to confirmation through stuck transactions
and re-orgs, and :mod:`evidence_chain.anchoring.records` reads and writes the anchors, their
attempts and the chain alarms.

Each status change (mined, confirmed, re-orged, ...) is handed to the anchorer's
:class:`StatusListener` callables inside the transaction that makes it; the composition root
(``runtime``) wires the webhook queue as one, so anchoring itself knows nothing of webhooks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from evidence_chain.anchoring.chain import AnchorChain, Signer
from evidence_chain.anchoring.contract import log_id
from evidence_chain.anchoring.records import (
    CONFIRMED,
    AnchorRecords,
    AnchorStore,
    AnchorView,
    AttemptView,
    StatusListener,
    hex0x,
)
from evidence_chain.anchoring.sender import AnchorOptions, AnchorSender
from evidence_chain.anchoring.watch import AnchorWatch
from evidence_chain.clock import utcnow
from evidence_chain.errors import ChainError, ConfigurationError, EvidenceError
from evidence_chain.ledger import Ledger

log = logging.getLogger(__name__)

NETWORKS = {
    1: "ethereum mainnet",
    11155111: "sepolia",
    17000: "holesky",
    31337: "anvil (local)",
    131277322940537: "eth-tester (in process)",
}
DEV_KEY_WARNING = "development key, local chain only"
CHAIN_AHEAD = "chain_ahead_of_log"


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
        self.clock = clock
        self.store = AnchorStore(engine, clock=clock, listeners=listeners)
        self.records = self.store.records
        self.backoff = backoff or Backoff()
        self.log_id = log_id(ledger.key.origin)
        self.sender = AnchorSender(
            engine, ledger, chain, signer, options, self.store, log_id=self.log_id, clock=clock
        )
        self.watcher = AnchorWatch(self.sender)
        self._config_error: str | None = None

    @property
    def options(self) -> AnchorOptions:
        """How anchoring behaves (the sender's and the watch's one copy)."""
        return self.sender.options

    @options.setter
    def options(self, options: AnchorOptions) -> None:
        self.sender.options = options

    # -- readiness ----------------------------------------------------------------------

    @property
    def contract(self) -> str:
        """The contract address; ConfigurationError when none is configured."""
        return self.sender.contract

    def chain_id(self) -> int:
        """The node's chain id, checked once against EVIDENCE_CHAIN_ID (ConfigurationError)."""
        return self.sender.chain_id()

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

    # -- anchoring and watching -----------------------------------------------------------

    def anchor_latest(self) -> AnchorView | None:
        """Anchor the latest signed checkpoint unless it is covered or a transaction is in flight.

        Returns the anchor now pending (or found already anchored), or None when there is
        nothing to do. Raises ChainError when the chain cannot be reached.
        """
        return self.sender.anchor_latest()

    def watch(self) -> None:
        """Follow pending transactions, count confirmations, detect re-orgs. Idempotent."""
        self.watcher.watch()

    def alarm(self, kind: str, message: str, details: dict[str, Any]) -> None:
        """Raise an alarm once (an open one of the same kind and tree size is not repeated)."""
        self.store.alarm(kind, message, details)

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
    "CHAIN_AHEAD",
    "AnchorOptions",
    "AnchorRecords",
    "AnchorView",
    "Anchorer",
    "AttemptView",
    "Backoff",
    "StatusListener",
]
