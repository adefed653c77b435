"""The audit of the whole log: every leaf recomputed from its record, the tree rebuilt from
the leaves and compared with every stored node, every checkpoint's signature and root checked.

``flask --app app ledger audit`` runs it (through ``Ledger.audit``); it reads in one snapshot
and never writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from evidence_chain import db
from evidence_chain.core import merkle
from evidence_chain.core.canonical import canonicalize
from evidence_chain.errors import IntegrityError
from evidence_chain.models import Checkpoint, LedgerEntry, LogState, TreeNode

ENTRY = LedgerEntry.__table__  # type: ignore[attr-defined]
NODE = TreeNode.__table__  # type: ignore[attr-defined]
STATE = LogState.__table__  # type: ignore[attr-defined]
CHECKPOINT = Checkpoint.__table__  # type: ignore[attr-defined]


@dataclass
class AuditReport:
    """The outcome of recomputing the whole log from its stored records."""

    tree_size: int = 0
    leaves_checked: int = 0
    nodes_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every leaf, node and checkpoint matched."""
        return not self.problems


def audit_log(
    engine: Engine,
    signed_checkpoint: Callable[[Any], Any],
    verify_signed: Callable[[Any], None],
    *,
    batch: int = 10_000,
) -> AuditReport:
    """Recompute every leaf from its record, rebuild the tree, check every checkpoint.

    ``signed_checkpoint`` turns a checkpoint row into the ledger's checkpoint, and
    ``verify_signed`` raises IntegrityError unless its note is signed by the log's key.
    Reports the first altered leaf (and every other problem found, up to a bound).
    """
    report = AuditReport()
    with db.reading(engine) as conn:
        size = int(conn.execute(select(STATE.c.tree_size).where(STATE.c.id == 1)).scalar_one())
        report.tree_size = size
        levels: list[bytearray] = [bytearray()]
        compact = merkle.CompactRange(0, [])
        chain: dict[tuple[int, str], tuple[int, bytes]] = {}
        expected_index = 0
        for rows in _paged(conn, ENTRY, ENTRY.c.leaf_index, batch):
            for row in rows:
                _audit_entry(row, expected_index, chain, report)
                expected_index = int(row.leaf_index) + 1
                leaf = merkle.leaf_hash(row.record.encode("utf-8"))
                for (level, _idx), digest in compact.append(leaf):
                    while len(levels) <= level:
                        levels.append(bytearray())
                    levels[level] += digest
                report.leaves_checked += 1
        if expected_index != size:
            report.problems.append(
                f"the log state says {size} leaves but {expected_index} are stored"
            )
        _audit_nodes(conn, levels, report, batch)
        for cp_rows in _paged(conn, CHECKPOINT, CHECKPOINT.c.tree_size, 1000):
            for row in cp_rows:
                _audit_checkpoint(signed_checkpoint(row), verify_signed, levels, report)
    return report


def _audit_entry(
    row: Any,
    expected_index: int,
    chain: dict[tuple[int, str], tuple[int, bytes]],
    report: AuditReport,
) -> None:
    index = int(row.leaf_index)
    if index != expected_index:
        report.problems.append(f"leaf {expected_index}: missing (next stored is {index})")
    try:
        record = json.loads(row.record)
        canonical = canonicalize(record)
    except Exception as exc:  # any unreadable record is a finding, not a crash
        report.problems.append(f"leaf {index}: record is not canonical JSON ({exc})")
        return
    computed = merkle.leaf_hash(row.record.encode("utf-8"))
    if canonical != row.record.encode("utf-8"):
        report.problems.append(f"leaf {index}: record is not in canonical form")
    if computed != bytes(row.leaf_hash):
        report.problems.append(
            f"leaf {index}: stored leaf hash {bytes(row.leaf_hash).hex()} differs from the "
            f"hash of its record {computed.hex()} (event {row.event_id})"
        )
    if (
        record.get("event_id") != row.event_id
        or record.get("subject") != row.subject
        or record.get("subject_seq") != row.subject_seq
    ):
        report.problems.append(f"leaf {index}: record does not match its indexed columns")
    key = (int(row.tenant_id), str(row.subject))
    seq, prev = chain.get(key, (0, b""))
    expected_prev = prev.hex() if seq else None
    if record.get("subject_seq") != seq or record.get("prev_leaf_hash") != expected_prev:
        report.problems.append(
            f"leaf {index}: breaks the chain of subject {row.subject!r} (expected position {seq})"
        )
    chain[key] = (seq + 1, computed)


def _audit_nodes(
    conn: Connection, levels: list[bytearray], report: AuditReport, batch: int
) -> None:
    counts = [len(level) // 32 for level in levels]
    stored = {
        int(r.level): int(r.n)
        for r in conn.execute(select(NODE.c.level, func.count().label("n")).group_by(NODE.c.level))
    }
    for level in sorted(set(stored) | set(range(len(counts)))):
        want = counts[level] if level < len(counts) else 0
        if stored.get(level, 0) != want:
            report.problems.append(
                f"tree level {level}: {stored.get(level, 0)} nodes stored, {want} expected"
            )
    pages = (
        rows
        for level in sorted(stored)
        for rows in _paged(conn, NODE, NODE.c.idx, batch, where=NODE.c.level == level)
    )
    for rows in pages:
        for row in rows:
            level, idx = int(row.level), int(row.idx)
            report.nodes_checked += 1
            if level >= len(levels) or idx >= counts[level]:
                continue
            if bytes(row.hash) != bytes(levels[level][idx * 32 : idx * 32 + 32]):
                first_leaf = idx << level
                report.problems.append(
                    f"tree node (level {level}, index {idx}) covering leaves from "
                    f"{first_leaf} differs from the hash recomputed from the records"
                )


def _audit_checkpoint(
    cp: Any, verify_signed: Callable[[Any], None], levels: list[bytearray], report: AuditReport
) -> None:
    report.checkpoints_checked += 1
    try:
        verify_signed(cp)
    except IntegrityError as exc:
        report.problems.append(f"checkpoint {cp.tree_size}: {exc.message}")
        return
    if cp.tree_size > len(levels[0]) // 32:
        report.problems.append(f"checkpoint {cp.tree_size}: covers leaves that are not stored")
        return
    ids = merkle.subtree_ids(0, cp.tree_size)
    root = merkle.fold_subtrees([bytes(levels[lv][i * 32 : i * 32 + 32]) for lv, i in ids])
    if root != cp.root:
        report.problems.append(
            f"checkpoint {cp.tree_size}: signed root {cp.root.hex()} differs from the root "
            f"recomputed from the records {root.hex()}"
        )


def _paged(
    conn: Connection, table: Any, key: Any, size: int, *, where: Any = None
) -> Iterator[Sequence[Any]]:
    """Yield a table's rows in ``key`` order, a page at a time (keyset pagination)."""
    last: Any = None
    while True:
        query = select(table).order_by(key).limit(size)
        if where is not None:
            query = query.where(where)
        if last is not None:
            query = query.where(key > last)
        rows = conn.execute(query).all()
        if not rows:
            return
        yield rows
        last = getattr(rows[-1], key.name)
