"""The document-hash index: which log entries name a document, found by its SHA-256.

An event names documents through its ``data`` keys ``sha256_before`` (the original a signing
step started from), ``sha256_after`` (the signed result), ``sha256`` and the hashes of each
``documents[*]`` item (the bundle's rule, :func:`evidence_chain.core.bundle.document_mentions`).
The ledger indexes them in the transaction that appends the event (:func:`index_rows`), so a
document is findable exactly when its event is durable. Lookups answer which tenant, subject,
leaf and role a hash appears under, and :func:`locate` proves each of those leaves against the
checkpoint of the anchor that covers it, for the public verify page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, LargeBinary, select
from sqlmodel import Field, SQLModel

from evidence_chain import db
from evidence_chain.core import merkle
from evidence_chain.core.bundle import document_mentions
from evidence_chain.core.canonical import canonicalize
from evidence_chain.core.note import NoteVerifier, verify_checkpoint
from evidence_chain.errors import EvidenceError, ValidationError, VerificationError
from evidence_chain.models import LedgerEntry, Tenant

__all__ = [
    "DocumentHit",
    "DocumentPlacement",
    "DocumentRef",
    "SubjectStep",
    "document_refs",
    "find_documents",
    "index_rows",
    "locate",
    "parse_sha256",
]

HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_DOCUMENTS = 100
"""At most this many ``documents[*]`` entries of one event are indexed (events are 1 MiB max)."""
MAX_HITS = 50
"""A lookup returns at most this many leaves naming one hash."""


class DocumentRef(SQLModel, table=True):
    """One document hash named by one log entry (created by migration 0005_documents)."""

    __tablename__ = "document_ref"

    id: int | None = Field(default=None, primary_key=True)
    sha256: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, index=True))
    leaf_index: int = Field(sa_column=Column(BigInteger, nullable=False))
    tenant_id: int = Field(foreign_key="tenant.id")
    subject: str = Field(max_length=256)
    role: str = Field(max_length=40)


DOCREF = DocumentRef.__table__  # type: ignore[attr-defined]
ENTRY = LedgerEntry.__table__  # type: ignore[attr-defined]
TENANT = Tenant.__table__  # type: ignore[attr-defined]


def document_refs(data: Any, event_type: str = "") -> list[tuple[bytes, str]]:
    """The distinct (sha256, role) pairs an event's ``data`` names (the bundle's rule).

    Cheap for events that name no document: four key lookups on a dict, nothing else.
    """
    if type(data) is not dict:
        return []
    if (
        "sha256_before" not in data
        and "sha256_after" not in data
        and "sha256" not in data
        and "documents" not in data
    ):
        return []
    documents = data.get("documents")
    if isinstance(documents, list) and len(documents) > MAX_DOCUMENTS:
        data = {**data, "documents": documents[:MAX_DOCUMENTS]}
    refs: list[tuple[bytes, str]] = []
    for digest, role, _name in document_mentions(event_type, data):
        ref = (bytes.fromhex(digest), role)
        if ref not in refs:
            refs.append(ref)
    return refs


def index_rows(
    tenant_id: int, subject: str, leaf_index: int, data: Any, event_type: str = ""
) -> list[dict[str, Any]]:
    """The ``document_ref`` rows of one appended event (none for most events)."""
    return [
        {
            "sha256": digest,
            "leaf_index": leaf_index,
            "tenant_id": tenant_id,
            "subject": subject,
            "role": role,
        }
        for digest, role in document_refs(data, event_type)
    ]


def parse_sha256(text: str) -> bytes:
    """A SHA-256 given as 64 hex digits; ValidationError otherwise."""
    value = text.strip().lower()
    if not HEX64.match(value):
        raise ValidationError(
            "a document hash is 64 hexadecimal digits (SHA-256)", details={"field": "document"}
        )
    return bytes.fromhex(value)


@dataclass(frozen=True)
class DocumentHit:
    """One log entry naming a document."""

    tenant_id: int
    tenant: str
    tenant_name: str
    subject: str
    leaf_index: int
    role: str
    public_detail: bool = False
    """The tenant's setting: whether anyone who looks the document up sees its subject and
    timeline (off: that it is recorded, when, under which anchor, and its status only)."""


def find_documents(engine: Engine, sha256: bytes, *, limit: int = MAX_HITS) -> list[DocumentHit]:
    """Every log entry naming ``sha256``, oldest first (at most ``limit``)."""
    query = (
        select(
            DOCREF.c.tenant_id,
            TENANT.c.public_id,
            TENANT.c.name,
            DOCREF.c.subject,
            DOCREF.c.leaf_index,
            DOCREF.c.role,
            TENANT.c.public_detail,
        )
        .join(TENANT, TENANT.c.id == DOCREF.c.tenant_id)
        .where(DOCREF.c.sha256 == sha256)
        .order_by(DOCREF.c.leaf_index, DOCREF.c.id)
        .limit(limit)
    )
    with db.reading(engine) as conn:
        return [
            DocumentHit(
                int(r.tenant_id),
                r.public_id,
                r.name,
                r.subject,
                int(r.leaf_index),
                r.role,
                bool(r.public_detail),
            )
            for r in conn.execute(query)
        ]


# -- locating a document in the log, with its proof ------------------------------------------


@dataclass(frozen=True)
class SubjectStep:
    """One event of the subject a document belongs to: its type and times only."""

    leaf_index: int
    subject_seq: int
    type: str
    occurred_at: str
    received_at: str

    def to_json(self) -> dict[str, Any]:
        """The step as the verify page shows it."""
        return {
            "leaf_index": self.leaf_index,
            "subject_seq": self.subject_seq,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "received_at": self.received_at,
        }


@dataclass(frozen=True)
class DocumentPlacement:
    """Where a document sits in the log, and how far that is proven.

    ``proof_ok`` is True when the leaf was recomputed from its record and proven against a
    checkpoint whose signature holds and whose root is the anchor's; None when no checkpoint
    covers the leaf yet. ``anchor_on_chain`` is the on-chain root check: None when not read.
    """

    hit: DocumentHit
    event_id: str
    event_type: str
    occurred_at: str
    received_at: str
    leaf_hash: str
    tree_size: int | None
    root: str | None
    checkpoint: str | None
    inclusion_proof: tuple[str, ...]
    proof_ok: bool | None
    proof_detail: str
    anchor: dict[str, Any] | None
    anchor_on_chain: bool | None
    steps: tuple[SubjectStep, ...]

    def to_json(self) -> dict[str, Any]:
        """The placement as ``POST /api/v1/verify`` and ``/verify`` show it to anyone holding
        the document: the subject and its timeline only when the tenant allows public detail
        (``detail`` says which; the status derived from the timeline is shown either way)."""
        public = self.hit.public_detail
        return {
            "tenant": {"id": self.hit.tenant, "name": self.hit.tenant_name},
            "detail": "public" if public else "withheld",
            "subject": self.hit.subject if public else None,
            "role": self.hit.role,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "received_at": self.received_at,
            "leaf_index": self.hit.leaf_index,
            "leaf_hash": self.leaf_hash,
            "tree_size": self.tree_size,
            "root": self.root,
            "checkpoint": self.checkpoint,
            "inclusion_proof": list(self.inclusion_proof),
            "proof_ok": self.proof_ok,
            "proof_detail": self.proof_detail,
            "anchor": self.anchor,
            "anchor_on_chain": self.anchor_on_chain,
            "steps": [s.to_json() for s in self.steps] if public else [],
        }


AnchorRootReader = Callable[[Mapping[str, Any]], bool | None]
"""Given an anchor's JSON, whether the chain holds its root (None: not checked)."""


def locate(
    instance: Any,
    sha256: bytes,
    *,
    chain_check: AnchorRootReader | None = None,
    max_steps: int = 200,
) -> list[DocumentPlacement]:
    """Find ``sha256`` in the log and prove each leaf naming it (against the covering anchor).

    ``instance`` has the instance's ``engine`` and ``ledger`` (``runtime.services.Services``
    has them). A stored tree that does not prove a leaf is reported (``proof_ok`` False),
    never raised: the page must show it.
    """
    ledger = instance.ledger
    verifier = NoteVerifier.from_vkey(ledger.key.verifier_key)
    placements: list[DocumentPlacement] = []
    for hit in find_documents(instance.engine, sha256):
        with db.reading(instance.engine) as conn:
            row = conn.execute(
                select(ENTRY.c.event_id, ENTRY.c.record, ENTRY.c.leaf_hash).where(
                    ENTRY.c.leaf_index == hit.leaf_index
                )
            ).one()
            steps = tuple(
                _step(r)
                for r in conn.execute(
                    select(ENTRY.c.leaf_index, ENTRY.c.subject_seq, ENTRY.c.record)
                    .where(ENTRY.c.tenant_id == hit.tenant_id, ENTRY.c.subject == hit.subject)
                    .order_by(ENTRY.c.subject_seq)
                    .limit(max_steps)
                )
            )
        record = json.loads(row.record)
        placements.append(
            _prove(
                instance,
                verifier,
                hit,
                row.event_id,
                record,
                bytes(row.leaf_hash),
                steps,
                chain_check,
            )
        )
    return placements


def _step(row: Any) -> SubjectStep:
    record = json.loads(row.record)
    return SubjectStep(
        leaf_index=int(row.leaf_index),
        subject_seq=int(row.subject_seq),
        type=str(record.get("type", "")),
        occurred_at=str(record.get("occurred_at", "")),
        received_at=str(record.get("received_at", "")),
    )


def _prove(
    instance: Any,
    verifier: NoteVerifier,
    hit: DocumentHit,
    event_id: str,
    record: dict[str, Any],
    stored_leaf: bytes,
    steps: Sequence[SubjectStep],
    chain_check: AnchorRootReader | None,
) -> DocumentPlacement:
    base: dict[str, Any] = {
        "hit": hit,
        "event_id": event_id,
        "event_type": str(record.get("type", "")),
        "occurred_at": str(record.get("occurred_at", "")),
        "received_at": str(record.get("received_at", "")),
        "leaf_hash": stored_leaf.hex(),
        "steps": tuple(steps),
    }
    anchor = instance.anchors.covering(hit.leaf_index + 1)
    tree_size: int | None = anchor.tree_size if anchor is not None else None
    if tree_size is None:
        latest = instance.ledger.latest_checkpoint()
        if latest is None or latest.tree_size <= hit.leaf_index:
            return DocumentPlacement(
                **base,
                tree_size=None,
                root=None,
                checkpoint=None,
                inclusion_proof=(),
                proof_ok=None,
                proof_detail="not yet covered by a signed checkpoint",
                anchor=None,
                anchor_on_chain=None,
            )
        tree_size = latest.tree_size
    anchor_json = anchor.to_json() if anchor is not None else None
    try:
        proof = instance.ledger.inclusion_proof(hit.tenant_id, event_id, tree_size)
    except EvidenceError as exc:
        return DocumentPlacement(
            **base,
            tree_size=tree_size,
            root=None,
            checkpoint=None,
            inclusion_proof=(),
            proof_ok=False,
            proof_detail=exc.message,
            anchor=anchor_json,
            anchor_on_chain=None,
        )
    hexes = tuple(h.hex() for h in proof.proof)
    cp = proof.checkpoint
    common: dict[str, Any] = {
        **base,
        "tree_size": cp.tree_size,
        "root": cp.root.hex(),
        "checkpoint": cp.note,
        "inclusion_proof": hexes,
        "anchor": anchor_json,
    }
    # Checked here again from the pieces the page shows, not on the ledger's word.
    try:
        body = verify_checkpoint(cp.note, verifier)
        leaf = merkle.leaf_hash(canonicalize(record))
        if leaf != stored_leaf:
            raise VerificationError("the record does not hash to its leaf")
        merkle.verify_inclusion(leaf, hit.leaf_index, body.tree_size, list(proof.proof), body.root)
        if anchor is not None and anchor.root != body.root:
            raise VerificationError("the anchor's root differs from the checkpoint's")
    except EvidenceError as exc:
        return DocumentPlacement(
            **common, proof_ok=False, proof_detail=exc.message, anchor_on_chain=None
        )
    on_chain = chain_check(anchor_json) if (anchor_json is not None and chain_check) else None
    if anchor is None:
        detail = f"proven in the signed checkpoint of {cp.tree_size} leaves; not yet anchored"
    else:
        detail = (
            f"proven in the checkpoint of {cp.tree_size} leaves, anchored on chain "
            f"{anchor.chain_id} in block {anchor.block_number}"
        )
    return DocumentPlacement(**common, proof_ok=True, proof_detail=detail, anchor_on_chain=on_chain)
