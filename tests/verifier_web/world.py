"""Real evidence for both verifiers: an instance that anchors on a running anvil node, and the
bundles and certificates it issues (built with the fixtures of the command's own tests)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_chain.anchoring.chain import Signer, Web3Chain
from evidence_chain.anchoring.contract import contract as anchor_contract
from evidence_chain.anchoring.contract import log_id, transact
from evidence_chain.config import load_settings
from evidence_chain.events import parse_event
from evidence_chain.tenants import TenantRef, create_tenant
from reports.bundle import build_bundle
from runtime.services import Services, build_services
from runtime.setup import initialise
from tests.chain.anvil import DEV_PRIVATE_KEY, AnvilProcess
from tests.reports.bundle_fixtures import SUBJECT, checkpoint, push

LATER = "合同-2026/上海-001"  # a subject in Chinese, NFC, with a '/'
UNANCHORED = "envelope:unanchored"
ENDED = {
    "voided": "envelope:voided",
    "withdrawn": "envelope:withdrawn",
    "declined": "envelope:declined",
}
"""Subjects whose records end their lifecycle (bundles ``voided``, ``withdrawn``, ``declined``)."""
REASONS = {
    "voided": "wrong counterparty / 签约方错误",
    "withdrawn": "terms renegotiated",
    "declined": "price too high",
}
_STEPS = {
    "voided": ["created", "signed", "completed", "voided"],
    "withdrawn": ["created", "sent", "withdrawn"],
    "declined": ["created", "sent", "declined"],
}


def ended_events(state: str) -> list[Any]:
    """The records of an envelope that ends ``state`` (the last with a reason)."""
    steps = _STEPS[state]
    out = []
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        out.append(
            parse_event(
                {
                    "type": f"envelope.{step}",
                    "subject": ENDED[state],
                    "occurred_at": f"2026-11-2{i}T10:0{i}:00Z",
                    "actor": {"name": "Bob Li", "email": "bob@example.com"},
                    "data": {"reason": REASONS[state]} if last else {"step": i},
                }
            )
        )
    return out


@dataclass
class World:
    """An anchoring instance on anvil, and the bundles the verifiers are given."""

    node: AnvilProcess
    instance: Services
    tenant: TenantRef
    settings: Any
    direct: dict[str, Any]
    """8 events of SUBJECT, anchored at the checkpoint the proofs are against (28 leaves)."""
    bridged: dict[str, Any]
    """The same events proven in the tree of 16, bridged to the anchor by a consistency proof."""
    chinese: dict[str, Any]
    """The one event of LATER, a Chinese subject, anchored at the same checkpoint."""
    unanchored: dict[str, Any]
    """A subject whose newest event is under a signed checkpoint but no anchor yet."""
    other_contract: str
    """A second deployment holding another root at the same log id and tree size."""
    voided: dict[str, Any]
    withdrawn: dict[str, Any]
    declined: dict[str, Any]
    """Anchored envelopes that ended their lifecycle so (see ENDED)."""

    @property
    def rpc_url(self) -> str:
        """The node's JSON-RPC endpoint."""
        return self.node.rpc_url

    def bundle(self, which: str) -> dict[str, Any]:
        """A fresh copy of one of the bundles, to change."""
        return copy.deepcopy(getattr(self, which))


def make_world(node: AnvilProcess, home: Path) -> Iterator[World]:
    """Anchor a subject's evidence on ``node``; yield the world, close it afterwards."""
    address = Web3Chain.http(node.rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
    settings = load_settings(
        {
            "EVIDENCE_HOME": str(home),
            "DATABASE_URL": f"sqlite:///{home / 'sealtrail.db'}",
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.test/verifiers",
            "EVIDENCE_CHAIN_RPC_URL": node.rpc_url,
            "EVIDENCE_CHAIN_ID": "31337",
            "EVIDENCE_CONTRACT_ADDRESS": address,
            "EVIDENCE_ANCHOR_KEY": DEV_PRIVATE_KEY,
            "EVIDENCE_CHAIN_CONFIRMATIONS": "1",
        }
    )
    initialise(settings)
    inst = build_services(settings)
    try:
        tenant, _ = create_tenant(inst.engine, "Verifier Platform")
        push(inst, tenant, 8)
        first = checkpoint(inst)  # 16 leaves, never anchored on its own
        push(inst, tenant, 1, subject=LATER)
        for state in ENDED:
            inst.ledger.append(tenant.id, tenant.public_id, ended_events(state))
        assert inst.anchorer is not None
        anchor = inst.anchorer.anchor_now(timeout=60)
        assert anchor is not None and anchor.tree_size == 28
        push(inst, tenant, 2, subject=UNANCHORED)
        checkpoint(inst)

        other = Web3Chain.http(node.rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
        forged = bytes(31) + b"\x07"
        fn = anchor_contract(node.w3, other).functions.anchor(
            log_id(inst.ledger.key.origin), anchor.tree_size, forged
        )
        transact(node.w3, DEV_PRIVATE_KEY, fn)

        yield World(
            node=node,
            instance=inst,
            tenant=tenant,
            settings=settings,
            direct=build_bundle(inst, tenant, SUBJECT),
            bridged=build_bundle(inst, tenant, SUBJECT, tree_size=first.tree_size),
            chinese=build_bundle(inst, tenant, LATER),
            unanchored=build_bundle(inst, tenant, UNANCHORED),
            other_contract=other,
            **{state: build_bundle(inst, tenant, subject) for state, subject in ENDED.items()},
        )
    finally:
        inst.close()
