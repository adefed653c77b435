"""Building the evidence bundle of a subject: its records, proofs, checkpoints and anchor.

The bundle is format v1 of :mod:`evidence_chain.core.bundle` (documented in
``docs/evidence-bundle.md``). Everything in it comes from the ledger's own proofs, each checked
by the ledger before it is handed out, and the document and certificate lists are derived from
the records by the same core functions the verifier uses, so a fresh bundle always verifies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from evidence_chain import db
from evidence_chain.anchoring.records import AnchorView
from evidence_chain.core.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    certificates_of,
    documents_of,
    log_id,
)
from evidence_chain.errors import NotFoundError
from evidence_chain.events import normalize_subject
from evidence_chain.ledger import SignedCheckpoint, StoredEvent
from evidence_chain.tenants import TenantRef
from reports.sources import EvidenceSources
from signing.models import SignerCertificate

SIGNER_CERT = SignerCertificate.__table__  # type: ignore[attr-defined]
_PAGE = 1000


def _hex0x(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _checkpoint_json(cp: SignedCheckpoint) -> dict[str, Any]:
    return {"tree_size": cp.tree_size, "root": cp.root.hex(), "note": cp.note}


def _anchor_json(anchor: AnchorView) -> dict[str, Any]:
    return {
        "chain_id": anchor.chain_id,
        "contract": anchor.contract,
        "log_id": anchor.log_id.hex(),
        "tree_size": anchor.tree_size,
        "root": anchor.root.hex(),
        "tx_hash": _hex0x(anchor.tx_hash),
        "block_number": anchor.block_number,
        "block_hash": _hex0x(anchor.block_hash),
        "block_time": _time(anchor.block_timestamp),
        "status": anchor.status,
        "confirmations": anchor.confirmations,
    }


def subject_events(instance: EvidenceSources, tenant: TenantRef, subject: str) -> list[StoredEvent]:
    """Every event of a tenant's subject in chain order; NotFoundError if there is none."""
    events: list[StoredEvent] = []
    while True:
        after = int(events[-1].record["subject_seq"]) if events else -1
        page = instance.ledger.subject_events(tenant.id, subject, after=after, limit=_PAGE)
        events.extend(page)
        if len(page) < _PAGE:
            break
    if not events:
        raise NotFoundError(f"no events for subject {subject!r}", details={"subject": subject})
    return events


def _certificates(
    instance: EvidenceSources, tenant: TenantRef, events: list[StoredEvent]
) -> list[Any]:
    certs = certificates_of(e.record for e in events)
    missing = [c["sha256"] for c in certs if c["pem"] is None]
    if missing:
        with db.reading(instance.engine) as conn:
            rows = conn.execute(
                select(SIGNER_CERT.c.fingerprint_sha256, SIGNER_CERT.c.certificate_pem).where(
                    SIGNER_CERT.c.tenant_id == tenant.id,
                    SIGNER_CERT.c.fingerprint_sha256.in_(missing),
                )
            ).all()
        pems = {r.fingerprint_sha256: r.certificate_pem for r in rows}
        for cert in certs:
            if cert["pem"] is None:
                cert["pem"] = pems.get(cert["sha256"])
    return certs


def build_bundle(
    instance: EvidenceSources,
    tenant: TenantRef,
    subject: str,
    *,
    tree_size: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The evidence bundle (format v1) of one of the tenant's subjects.

    Without ``tree_size`` the proofs are against the smallest on-chain anchor covering every
    event (confirmed anchors first), or else the latest signed checkpoint, unanchored. With
    ``tree_size`` they are against the checkpoint of that size, bridged by a consistency proof
    to the smallest on-chain anchor at or above it when there is one. NotFoundError if the
    subject has no event, or its newest event is not yet under a signed checkpoint.
    """
    subject = normalize_subject(subject)  # as recorded: a lookup finds it however composed
    ledger = instance.ledger
    events = subject_events(instance, tenant, subject)
    needed = max(e.leaf_index for e in events) + 1
    anchor: AnchorView | None
    if tree_size is None:
        anchor = instance.anchors.covering(needed)
        if anchor is not None:
            checkpoint = ledger.checkpoint(anchor.tree_size)
        else:
            latest = ledger.latest_checkpoint()
            if latest is None or latest.tree_size < needed:
                raise NotFoundError(
                    f"the newest event of {subject!r} is not yet under a signed checkpoint; "
                    "retry in a few seconds",
                    details={"subject": subject, "reason": "not_checkpointed"},
                )
            checkpoint = latest
    else:
        if tree_size < needed:
            raise NotFoundError(
                f"the checkpoint at tree size {tree_size} does not cover every event of "
                f"{subject!r} (it needs {needed})",
                details={"subject": subject, "tree_size": tree_size, "needed": needed},
            )
        checkpoint = ledger.checkpoint(tree_size)
        anchor = instance.anchors.covering(tree_size)

    anchor_checkpoint: dict[str, Any] | None = None
    consistency: list[str] | None = None
    if anchor is not None and anchor.tree_size != checkpoint.tree_size:
        proof = ledger.consistency_proof(checkpoint.tree_size, anchor.tree_size)
        anchor_checkpoint = _checkpoint_json(proof.second)
        consistency = [h.hex() for h in proof.proof]

    out_events = []
    proofs = ledger.subject_proofs(events, checkpoint.tree_size)
    for event, inclusion in zip(events, proofs, strict=True):
        out_events.append(
            {
                "event_id": event.event_id,
                "leaf_index": event.leaf_index,
                "leaf_hash": inclusion.leaf_hash.hex(),
                "record": event.record,
                "inclusion_proof": [h.hex() for h in inclusion.proof],
            }
        )
    origin = ledger.key.origin
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "generated_at": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "subject": subject,
        "tenant": tenant.public_id,
        "log": {
            "origin": origin,
            "verifier_key": ledger.key.verifier_key,
            "log_id": log_id(origin).hex(),
        },
        "checkpoint": _checkpoint_json(checkpoint),
        "events": out_events,
        "anchor": _anchor_json(anchor) if anchor is not None else None,
        "anchor_checkpoint": anchor_checkpoint,
        "consistency_proof": consistency,
        "documents": documents_of([(e.leaf_index, e.record) for e in events]),
        "certificates": _certificates(instance, tenant, events),
    }
