"""The evidence ledger: sequencing events into the Merkle log, proofs, checkpoints, audit.

One transaction per append: the records, their leaf indexes, the completed subtree hashes,
the subject chain heads and the new tree size commit together, so an acknowledged event is
durable and fully integrated, and a failed request leaves nothing behind. Which tree nodes a
proof needs comes from the pure core (``evidence_chain.core.merkle``); this module only loads them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError as DbIntegrityError

from evidence_chain import db
from evidence_chain.audit import AuditReport, audit_log
from evidence_chain.clock import aware as _aware
from evidence_chain.clock import utcnow
from evidence_chain.core import merkle
from evidence_chain.core.canonical import canonicalize
from evidence_chain.core.note import Checkpoint as CheckpointBody
from evidence_chain.core.note import NoteVerifier, sign_checkpoint, verify_checkpoint
from evidence_chain.documents import DOCREF
from evidence_chain.documents import index_rows as document_index_rows
from evidence_chain.errors import (
    ConfigurationError,
    ConflictError,
    EvidenceError,
    IntegrityError,
    NotFoundError,
    NotYetCheckpointedError,
    ValidationError,
    VerificationError,
)
from evidence_chain.events import (
    EventInput,
    PreparedEvent,
    format_time,
    normalize_subject,
    prepare,
    record_bytes,
)
from evidence_chain.group_commit import GroupCommit
from evidence_chain.ids import uuid7
from evidence_chain.logkey import LogKey
from evidence_chain.models import Checkpoint, LedgerEntry, LogState, SubjectHead, TreeNode

log = logging.getLogger(__name__)

ENTRY = LedgerEntry.__table__  # type: ignore[attr-defined]
NODE = TreeNode.__table__  # type: ignore[attr-defined]
HEAD = SubjectHead.__table__  # type: ignore[attr-defined]
STATE = LogState.__table__  # type: ignore[attr-defined]
CHECKPOINT = Checkpoint.__table__  # type: ignore[attr-defined]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Receipt:
    """What a client gets back for an accepted event."""

    event_id: str
    leaf_index: int
    leaf_hash: bytes

    def to_json(self) -> dict[str, Any]:
        """The receipt as the API returns it."""
        return {
            "event_id": self.event_id,
            "leaf_index": self.leaf_index,
            "leaf_hash": self.leaf_hash.hex(),
        }


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: its leaf and the exact record whose canonical bytes were hashed."""

    event_id: str
    leaf_index: int
    leaf_hash: bytes
    record: dict[str, Any]
    stored: bytes | None = field(default=None, compare=False, repr=False)
    """The record's bytes as stored (its canonical form when it was logged), when read."""

    def hashes_to_its_leaf(self) -> bool:
        """Whether the record as stored (else re-canonicalized) hashes to the leaf."""
        data = self.stored if self.stored is not None else canonicalize(self.record)
        return merkle.leaf_hash(data) == self.leaf_hash


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint row: tree size, root and the signed note text."""

    tree_size: int
    root: bytes
    note: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as the API returns it."""
        return {"tree_size": self.tree_size, "root": self.root.hex(), "checkpoint": self.note}


@dataclass(frozen=True)
class InclusionProof:
    """An inclusion proof of one leaf against a signed checkpoint."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    proof: list[bytes]
    checkpoint: SignedCheckpoint


@dataclass(frozen=True)
class ConsistencyProof:
    """A consistency proof between two signed checkpoints."""

    first: SignedCheckpoint
    second: SignedCheckpoint
    proof: list[bytes]


def row_checkpoint(row: Any) -> SignedCheckpoint:
    return SignedCheckpoint(
        tree_size=row.tree_size,
        root=bytes(row.root),
        note=row.note,
        created_at=_aware(row.created_at),
    )


class Ledger:
    """The append-only evidence log of one instance."""

    def __init__(self, engine: Engine, key: LogKey, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.key = key
        self.clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self._verifier = NoteVerifier.from_vkey(key.verifier_key)
        # Concurrent appends of this process share one sequencing transaction and one commit.
        self.sequencer: GroupCommit[tuple[int, list[PreparedEvent]], list[Receipt]] = GroupCommit(
            engine, self._append_group, size=lambda request: len(request[1])
        )

    # -- set-up -------------------------------------------------------------------------

    @staticmethod
    def ensure_origin(engine: Engine, configured: str | None) -> str:
        """Return the log's origin, recording it on first start; it can never change after."""
        with engine.begin() as conn:
            row = conn.execute(select(STATE.c.origin).where(STATE.c.id == 1)).first()
            if row is not None:
                if configured and configured != row.origin:
                    raise ConfigurationError(
                        f"EVIDENCE_LOG_ORIGIN is {configured!r} but this log's origin is "
                        f"{row.origin!r}; a log's origin cannot change"
                    )
                return str(row.origin)
            origin = configured or f"sealtrail.local/log/{uuid.uuid4().hex[:12]}"
            conn.execute(insert(STATE).values(id=1, origin=origin, tree_size=0))
            return origin

    # -- appending ----------------------------------------------------------------------

    def append(
        self, tenant_id: int, tenant_public_id: str, events: Sequence[EventInput]
    ) -> list[Receipt]:
        """Sequence, store and integrate events; return their receipts once committed.

        An event whose idempotency key this tenant already used returns the original
        receipt, or raises ConflictError if the body differs. Requests appended at the same
        time by other threads of this process may share the transaction (group commit, see
        :mod:`evidence_chain.group_commit`); either way it commits before this returns, so
        every receipt returned is durable.
        """
        prepared = self.prepare(tenant_public_id, events)
        try:
            return self.sequencer.submit((tenant_id, prepared))
        except DbIntegrityError as exc:  # pragma: no cover - guarded by the sequencing lock
            raise ConflictError(
                "the events conflict with stored ones; retry the request",
                details={"reason": str(exc.orig)},
            ) from None

    def _append_group(
        self, conn: Connection, requests: Sequence[tuple[int, list[PreparedEvent]]]
    ) -> list[list[Receipt] | EvidenceError]:
        """A group's requests in one pass per tenant (one read of the heads and the frontier,
        one insert of each table); should one of them be refused (an idempotency conflict),
        that tenant's requests are appended one by one so that only that one fails. Nothing
        is written before a refusal, so the transaction stays whole."""
        results: list[list[Receipt] | EvidenceError | None] = [None] * len(requests)
        by_tenant: dict[int, list[int]] = {}
        for i, (tenant_id, _prepared) in enumerate(requests):
            by_tenant.setdefault(tenant_id, []).append(i)
        for tenant_id, members in by_tenant.items():
            merged = [p for i in members for p in requests[i][1]]
            try:
                receipts = self._append(conn, tenant_id, merged)
            except EvidenceError:
                for i in members:
                    try:
                        results[i] = self._append(conn, tenant_id, requests[i][1])
                    except EvidenceError as exc:
                        results[i] = exc
                continue
            start = 0
            for i in members:
                n = len(requests[i][1])
                results[i] = receipts[start : start + n]
                start += n
        return [r for r in results if r is not None]

    @staticmethod
    def prepare(tenant_public_id: str, events: Sequence[EventInput]) -> list[PreparedEvent]:
        """Everything about the events that does not depend on their place in the log: ids,
        request fingerprints and the canonical form of what the request says. Done before
        the sequencer is taken, so that it is held only to order (ValidationError naming the
        event whose data has no canonical form)."""
        many = len(events) > 1
        return [
            prepare(tenant_public_id, ev, str(uuid7()), i if many else None)
            for i, ev in enumerate(events)
        ]

    def append_in(
        self,
        conn: Connection,
        tenant_id: int,
        tenant_public_id: str,
        events: Sequence[EventInput],
    ) -> list[Receipt]:
        """Append events inside the caller's transaction, so they commit with its other writes.

        The receipts are durable only once the caller commits; until then the sequencer is
        held (a row lock on PostgreSQL, the write lock on SQLite), so keep the transaction
        short: no signing or network calls inside it.
        """
        return self._append(conn, tenant_id, self.prepare(tenant_public_id, events))

    def _append(
        self, conn: Connection, tenant_id: int, prepared: Sequence[PreparedEvent]
    ) -> list[Receipt]:
        """Under the sequencer: read the size and the subject heads, give each event its
        index and subject position, splice its record, integrate the tree and write."""
        events = [p.event for p in prepared]
        fingerprints = [p.fingerprint for p in prepared]
        state = select(STATE.c.tree_size).where(STATE.c.id == 1)
        if self._postgres:
            state = state.with_for_update()
        size = int(conn.execute(state).scalar_one())

        receipts: list[Receipt | None] = [None] * len(events)
        seen = self._replayed(conn, tenant_id, events, fingerprints, receipts)

        subjects = sorted({ev.subject for i, ev in enumerate(events) if receipts[i] is None})
        heads: dict[str, tuple[int, bytes | None]] = {s: (0, None) for s in subjects}
        existing_heads: set[str] = set()
        for chunk in _chunks(subjects, 500):
            for row in conn.execute(
                select(HEAD.c.subject, HEAD.c.count.label("n"), HEAD.c.last_leaf_hash).where(
                    HEAD.c.tenant_id == tenant_id, HEAD.c.subject.in_(chunk)
                )
            ):
                heads[row.subject] = (int(row.n), bytes(row.last_leaf_hash))
                existing_heads.add(row.subject)

        frontier = self._frontier(conn, size)
        received_at = format_time(self.clock())
        received_dt = datetime.fromisoformat(received_at.replace("Z", "+00:00"))
        entry_rows: list[dict[str, Any]] = []
        node_rows: list[dict[str, Any]] = []
        doc_rows: list[dict[str, Any]] = []
        last_index: dict[str, int] = {}
        for i, ev in enumerate(events):
            if receipts[i] is not None:
                continue
            if ev.idempotency_key is not None and ev.idempotency_key in seen:
                # The same key twice in one request: the second is a replay of the first.
                first = seen[ev.idempotency_key]
                if first[1] != fingerprints[i]:
                    raise _idempotency_conflict(ev.idempotency_key, i)
                receipts[i] = first[0]
                continue
            seq, prev = heads[ev.subject]
            event_id = prepared[i].event_id
            canonical = record_bytes(prepared[i], seq, prev, received_at)
            leaf = merkle.leaf_hash(canonical)
            index = frontier.size
            for (level, idx), digest in frontier.append(leaf):
                node_rows.append({"level": level, "idx": idx, "hash": digest})
            entry_rows.append(
                {
                    "leaf_index": index,
                    "event_id": event_id,
                    "tenant_id": tenant_id,
                    "subject": ev.subject,
                    "subject_seq": seq,
                    "type": ev.type,
                    "record": canonical.decode("utf-8"),
                    "leaf_hash": leaf,
                    "received_at": received_dt,
                    "idempotency_key": ev.idempotency_key,
                    "request_hash": fingerprints[i] if ev.idempotency_key else None,
                }
            )
            if type(ev.data) is dict:
                doc_rows += document_index_rows(tenant_id, ev.subject, index, ev.data, ev.type)
            heads[ev.subject] = (seq + 1, leaf)
            last_index[ev.subject] = index
            receipt = Receipt(event_id=event_id, leaf_index=index, leaf_hash=leaf)
            receipts[i] = receipt
            if ev.idempotency_key is not None:
                seen[ev.idempotency_key] = (receipt, fingerprints[i])

        if entry_rows:
            db.insert_rows(conn, ENTRY, entry_rows)
            db.insert_rows(conn, NODE, node_rows)
            db.insert_rows(conn, DOCREF, doc_rows)
            new_heads = [
                {
                    "tenant_id": tenant_id,
                    "subject": s,
                    "last_leaf_index": last_index[s],
                    "last_leaf_hash": heads[s][1],
                    "count": heads[s][0],
                }
                for s in last_index
            ]
            inserts = [h for h in new_heads if h["subject"] not in existing_heads]
            updates = [h for h in new_heads if h["subject"] in existing_heads]
            if inserts:
                conn.execute(insert(HEAD), inserts)
            if updates:
                conn.execute(
                    update(HEAD)
                    .where(
                        HEAD.c.tenant_id == bindparam("b_tenant"),
                        HEAD.c.subject == bindparam("b_subject"),
                    )
                    .values(
                        last_leaf_index=bindparam("last_leaf_index"),
                        last_leaf_hash=bindparam("last_leaf_hash"),
                        count=bindparam("count"),
                    ),
                    [{**h, "b_tenant": h["tenant_id"], "b_subject": h["subject"]} for h in updates],
                )
            conn.execute(update(STATE).where(STATE.c.id == 1).values(tree_size=frontier.size))
        return [r for r in receipts if r is not None]

    def _replayed(
        self,
        conn: Connection,
        tenant_id: int,
        events: Sequence[EventInput],
        fingerprints: Sequence[bytes],
        receipts: list[Receipt | None],
    ) -> dict[str, tuple[Receipt, bytes]]:
        """Fill in receipts of events whose idempotency key was seen before; check bodies."""
        keys = [ev.idempotency_key for ev in events if ev.idempotency_key is not None]
        seen: dict[str, tuple[Receipt, bytes]] = {}
        for chunk in _chunks(sorted(set(keys)), 500):
            rows = conn.execute(
                select(
                    ENTRY.c.idempotency_key,
                    ENTRY.c.event_id,
                    ENTRY.c.leaf_index,
                    ENTRY.c.leaf_hash,
                    ENTRY.c.request_hash,
                ).where(ENTRY.c.tenant_id == tenant_id, ENTRY.c.idempotency_key.in_(chunk))
            )
            for row in rows:
                receipt = Receipt(row.event_id, int(row.leaf_index), bytes(row.leaf_hash))
                seen[row.idempotency_key] = (receipt, bytes(row.request_hash))
        for i, ev in enumerate(events):
            if ev.idempotency_key is not None and ev.idempotency_key in seen:
                receipt, fingerprint = seen[ev.idempotency_key]
                if fingerprint != fingerprints[i]:
                    raise _idempotency_conflict(ev.idempotency_key, i if len(events) > 1 else None)
                receipts[i] = receipt
        return seen

    def _frontier(self, conn: Connection, size: int) -> merkle.CompactRange:
        """The compact range of the current tree: the perfect subtrees of [0, size)."""
        ids = merkle.subtree_ids(0, size) if size else []
        hashes = self._load_nodes(conn, ids)
        return merkle.CompactRange(size, [hashes[node_id] for node_id in ids])

    # -- reading --------------------------------------------------------------------------

    @staticmethod
    def _load_nodes(conn: Connection, ids: Iterable[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
        """Load stored perfect-subtree hashes; raise IntegrityError if any is missing."""
        wanted = sorted(set(ids))
        found: dict[merkle.NodeId, bytes] = {}
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        for chunk in _chunks(wanted, 400):
            by_level: dict[int, list[int]] = {}
            for level, idx in chunk:
                by_level.setdefault(level, []).append(idx)
            # A plain statement, one primary-key lookup per level: SQLite does not use the index
            # for a row-value IN list, and building the equivalent SQLAlchemy expression costs
            # more than the query on this hot path. Levels are ints from the core, never input.
            clauses = " OR ".join(
                f"(level = {int(level)} AND idx IN ({', '.join([mark] * len(idxs))}))"
                for level, idxs in by_level.items()
            )
            params = tuple(idx for idxs in by_level.values() for idx in idxs)
            sql = f"SELECT level, idx, hash FROM tree_node WHERE {clauses}"  # noqa: S608
            for level, idx, digest in conn.exec_driver_sql(sql, params):
                found[(int(level), int(idx))] = bytes(digest)
        missing = [node_id for node_id in wanted if node_id not in found]
        if missing:
            raise IntegrityError(
                "the log's tree is missing stored nodes",
                details={"missing": [list(m) for m in missing[:10]]},
            )
        return found

    def _range_hashes(self, conn: Connection, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """The hashes of leaf ranges, each folded from its stored perfect subtrees."""
        per_range = [merkle.subtree_ids(start, end) for start, end in ranges]
        nodes = self._load_nodes(conn, (node_id for ids in per_range for node_id in ids))
        return [merkle.fold_subtrees([nodes[node_id] for node_id in ids]) for ids in per_range]

    def tree_size(self) -> int:
        """The number of leaves sequenced so far (checkpointed or not)."""
        with db.reading(self.engine) as conn:
            return int(conn.execute(select(STATE.c.tree_size).where(STATE.c.id == 1)).scalar_one())

    def root_at(self, tree_size: int) -> bytes:
        """The root of the tree at ``tree_size`` leaves, from stored nodes (O(log n) reads)."""
        if tree_size == 0:
            return merkle.EMPTY_ROOT
        with db.reading(self.engine) as conn:
            return self._range_hashes(conn, [(0, tree_size)])[0]

    def get_event(self, tenant_id: int, event_id: str) -> StoredEvent:
        """One of the tenant's events; another tenant's or an unknown id is NotFoundError."""
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(
                    ENTRY.c.event_id, ENTRY.c.leaf_index, ENTRY.c.leaf_hash, ENTRY.c.record
                ).where(ENTRY.c.event_id == event_id, ENTRY.c.tenant_id == tenant_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no event {event_id!r}", details={"event_id": event_id})
        return StoredEvent(
            event_id=row.event_id,
            leaf_index=int(row.leaf_index),
            leaf_hash=bytes(row.leaf_hash),
            record=json.loads(row.record),
        )

    def subject_events(
        self, tenant_id: int, subject: str, *, after: int = -1, limit: int = 1000
    ) -> list[StoredEvent]:
        """A subject's events in chain order (``subject_seq``), from ``after`` + 1 on (the
        subject found in its recorded, NFC form however it is composed here)."""
        subject = normalize_subject(subject)
        with db.reading(self.engine) as conn:
            rows = conn.execute(
                select(ENTRY.c.event_id, ENTRY.c.leaf_index, ENTRY.c.leaf_hash, ENTRY.c.record)
                .where(
                    ENTRY.c.tenant_id == tenant_id,
                    ENTRY.c.subject == subject,
                    ENTRY.c.subject_seq > after,
                )
                .order_by(ENTRY.c.subject_seq)
                .limit(limit)
            ).all()
        return [
            StoredEvent(
                r.event_id,
                int(r.leaf_index),
                bytes(r.leaf_hash),
                json.loads(r.record),
                stored=r.record.encode("utf-8"),
            )
            for r in rows
        ]

    # -- checkpoints ------------------------------------------------------------------------

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The newest signed checkpoint, or None before the first one."""
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(CHECKPOINT).order_by(CHECKPOINT.c.tree_size.desc()).limit(1)
            ).first()
        return row_checkpoint(row) if row is not None else None

    def checkpoint(self, tree_size: int) -> SignedCheckpoint:
        """The checkpoint signed at exactly ``tree_size``; NotFoundError if there is none."""
        with db.reading(self.engine) as conn:
            row = conn.execute(
                select(CHECKPOINT).where(CHECKPOINT.c.tree_size == tree_size)
            ).first()
        if row is None:
            raise NotFoundError(
                f"no checkpoint at tree size {tree_size}", details={"tree_size": tree_size}
            )
        return row_checkpoint(row)

    def checkpoints(self, *, before: int | None = None, limit: int = 100) -> list[SignedCheckpoint]:
        """Checkpoints newest first, paged by tree size."""
        query = select(CHECKPOINT).order_by(CHECKPOINT.c.tree_size.desc()).limit(limit)
        if before is not None:
            query = query.where(CHECKPOINT.c.tree_size < before)
        with db.reading(self.engine) as conn:
            return [row_checkpoint(r) for r in conn.execute(query)]

    def sign_checkpoint(self) -> SignedCheckpoint | None:
        """Sign a checkpoint of the current tree if it grew; None if there is nothing new.

        Refuses (IntegrityError) to sign a tree that is not consistent with the previous
        checkpoint: the log must only ever grow.
        """
        with db.reading(self.engine) as conn:
            size = int(conn.execute(select(STATE.c.tree_size).where(STATE.c.id == 1)).scalar_one())
            last_row = conn.execute(
                select(CHECKPOINT).order_by(CHECKPOINT.c.tree_size.desc()).limit(1)
            ).first()
            last = row_checkpoint(last_row) if last_row is not None else None
            if size == 0 or (last is not None and last.tree_size >= size):
                return None
            root = self._range_hashes(conn, [(0, size)])[0]
            if last is not None:
                self._verify_signed(last)
                ranges = merkle.consistency_proof_ranges(last.tree_size, size)
                proof = self._range_hashes(conn, ranges)
                try:
                    merkle.verify_consistency(last.tree_size, size, proof, last.root, root)
                except VerificationError as exc:
                    log.critical(
                        "refusing to sign checkpoint %d: not consistent with checkpoint %d: %s",
                        size,
                        last.tree_size,
                        exc.message,
                    )
                    raise IntegrityError(
                        f"the tree at size {size} is not consistent with checkpoint "
                        f"{last.tree_size}; refusing to sign",
                        details={"first": last.tree_size, "second": size, **exc.details},
                    ) from exc
        body = CheckpointBody(origin=self.key.origin, tree_size=size, root=root)
        note = sign_checkpoint(body, self.key.origin, self.key.private_key)
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(CHECKPOINT).values(tree_size=size, root=root, note=note, created_at=now)
                )
        except DbIntegrityError:
            # Another process signed the same size at the same moment: theirs stands.
            return self.checkpoint(size)
        log.info("signed checkpoint tree_size=%d root=%s", size, root.hex())
        return SignedCheckpoint(tree_size=size, root=root, note=note, created_at=now)

    def _verify_signed(self, cp: SignedCheckpoint) -> None:
        """Check a stored checkpoint's note is signed by our key and matches its row."""
        try:
            body = verify_checkpoint(cp.note, self._verifier)
        except VerificationError as exc:
            raise IntegrityError(
                f"stored checkpoint {cp.tree_size} has an invalid signature: {exc.message}",
                details={"tree_size": cp.tree_size},
            ) from exc
        if body.tree_size != cp.tree_size or body.root != cp.root or body.origin != self.key.origin:
            raise IntegrityError(
                f"stored checkpoint {cp.tree_size} does not match its signed note",
                details={"tree_size": cp.tree_size},
            )

    # -- proofs -----------------------------------------------------------------------------

    def _resolve_checkpoint(self, tree_size: int | None) -> SignedCheckpoint:
        if tree_size is None:
            cp = self.latest_checkpoint()
            if cp is None:
                raise NotYetCheckpointedError(
                    "no checkpoint has been signed yet; retry after the next checkpoint"
                )
            return cp
        return self.checkpoint(tree_size)

    def inclusion_proof(
        self, tenant_id: int, event_id: str, tree_size: int | None = None
    ) -> InclusionProof:
        """Prove one of the tenant's events is in the tree of a signed checkpoint.

        The proof is checked against the checkpoint's signed root before it is returned: the
        service never hands out evidence it cannot verify itself.
        """
        event = self.get_event(tenant_id, event_id)
        cp = self._resolve_checkpoint(tree_size)
        if event.leaf_index >= cp.tree_size and tree_size is None:
            raise NotYetCheckpointedError(
                f"event {event_id} is not yet covered by a checkpoint (the latest covers "
                f"{cp.tree_size} events); retry after the next checkpoint",
                details={"leaf_index": event.leaf_index, "tree_size": cp.tree_size},
            )
        if event.leaf_index >= cp.tree_size:
            raise NotFoundError(
                f"event {event_id} is not yet covered by checkpoint {cp.tree_size}; "
                "retry in a few seconds",
                details={"leaf_index": event.leaf_index, "tree_size": cp.tree_size},
            )
        self._verify_signed(cp)
        with db.reading(self.engine) as conn:
            ranges = merkle.inclusion_proof_ranges(event.leaf_index, cp.tree_size)
            proof = self._range_hashes(conn, ranges)
        leaf = merkle.leaf_hash(canonicalize(event.record))
        if leaf != event.leaf_hash:
            raise IntegrityError(
                f"stored event {event_id} does not match its leaf hash",
                details={"leaf_index": event.leaf_index},
            )
        try:
            merkle.verify_inclusion(leaf, event.leaf_index, cp.tree_size, proof, cp.root)
        except VerificationError as exc:
            raise IntegrityError(
                f"the stored tree does not prove event {event_id} under checkpoint {cp.tree_size}",
                details={"leaf_index": event.leaf_index, **exc.details},
            ) from exc
        return InclusionProof(event.leaf_index, cp.tree_size, leaf, proof, cp)

    def subject_proofs(self, events: Sequence[StoredEvent], tree_size: int) -> list[InclusionProof]:
        """Prove many events under one signed checkpoint in one pass (a subject's bundle).

        The checkpoint's signature is checked once, the nodes of every proof are read in one
        batch from one snapshot, and each proof is checked against the signed root, and each
        leaf against its record, before anything is returned.
        """
        cp = self._resolve_checkpoint(tree_size)
        late = [e.leaf_index for e in events if e.leaf_index >= cp.tree_size]
        if late:
            raise NotFoundError(
                f"leaf {late[0]} is not yet covered by checkpoint {cp.tree_size}",
                details={"leaf_index": late[0], "tree_size": cp.tree_size},
            )
        self._verify_signed(cp)
        per_event = [merkle.inclusion_proof_ranges(e.leaf_index, cp.tree_size) for e in events]
        # The paths of one subject's leaves share most of their upper nodes: each distinct
        # range is read and folded once.
        distinct = list(dict.fromkeys(r for ranges in per_event for r in ranges))
        with db.reading(self.engine) as conn:
            folded = dict(zip(distinct, self._range_hashes(conn, distinct), strict=True))
        proofs = [
            InclusionProof(e.leaf_index, cp.tree_size, e.leaf_hash, [folded[r] for r in ranges], cp)
            for e, ranges in zip(events, per_event, strict=True)
        ]
        try:
            for event in events:
                if not event.hashes_to_its_leaf():
                    raise VerificationError(f"event {event.event_id}: record and leaf differ")
            merkle.verify_inclusions(
                [(p.leaf_index, p.leaf_hash, p.proof) for p in proofs], cp.tree_size, cp.root
            )
        except VerificationError as exc:
            raise IntegrityError(
                f"the stored log does not prove the events under checkpoint {cp.tree_size}: "
                f"{exc.message}",
                details={"tree_size": cp.tree_size, **exc.details},
            ) from exc
        return proofs

    def consistency_proof(self, first: int, second: int) -> ConsistencyProof:
        """Prove the checkpoint at ``second`` extends the one at ``first`` (both signed)."""
        if first <= 0 or second <= 0 or first > second:
            raise ValidationError(
                "need 0 < first <= second", details={"first": first, "second": second}
            )
        cp1 = self.checkpoint(first)
        cp2 = self.checkpoint(second)
        self._verify_signed(cp1)
        self._verify_signed(cp2)
        with db.reading(self.engine) as conn:
            proof = self._range_hashes(conn, merkle.consistency_proof_ranges(first, second))
        try:
            merkle.verify_consistency(first, second, proof, cp1.root, cp2.root)
        except VerificationError as exc:
            raise IntegrityError(
                f"the stored tree does not prove checkpoint {second} extends {first}",
                details={"first": first, "second": second, **exc.details},
            ) from exc
        return ConsistencyProof(cp1, cp2, proof)

    # -- audit ----------------------------------------------------------------------------

    def audit(self, *, batch: int = 10_000) -> AuditReport:
        """Recompute every leaf from its record, rebuild the tree, check every checkpoint
        (:func:`evidence_chain.audit.audit_log`)."""
        return audit_log(self.engine, row_checkpoint, self._verify_signed, batch=batch)


def _idempotency_conflict(key: str, index: int | None) -> ConflictError:
    details: dict[str, Any] = {"idempotency_key": key}
    where = "event"
    if index is not None:
        details["index"] = index
        where = f"event {index}"
    return ConflictError(
        f"{where}: idempotency key {key!r} was already used with a different body",
        details=details,
    )


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
