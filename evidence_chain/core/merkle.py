"""RFC 9162 (section 2.1) Merkle tree math over SHA-256: hashes, proofs, verification.

Pure and I/O-free. Proof construction is split in two, as in transparency-dev/merkle:

* *which* hashes a proof needs: :func:`inclusion_proof_ranges` and
  :func:`consistency_proof_ranges` return leaf ranges ``[start, end)``, and
  :func:`subtree_ids` turns each range into the ids of the complete (perfect) subtrees the
  storage layer keeps, so any proof of any tree size costs O(log n) node reads;
* *how* to combine fetched hashes: :func:`fold_subtrees`.

The in-memory helpers (:func:`root_hash`, :func:`inclusion_proof`, :func:`consistency_proof`)
are built on exactly the same functions, so the service and the tests share one
implementation. Builders raise :class:`ValueError` when a documented precondition does not
hold (a caller bug); verifiers raise :class:`~evidence_chain.errors.VerificationError` for
any evidence that does not verify.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256

from evidence_chain.core.errors import VerificationError

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()

NodeId = tuple[int, int]
"""``(level, index)``: the perfect subtree of leaves [index * 2**level, (index + 1) * 2**level)."""

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "CompactRange",
    "NodeId",
    "consistency_proof",
    "consistency_proof_ranges",
    "fold_subtrees",
    "inclusion_proof",
    "inclusion_proof_ranges",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "root_from_inclusion_proof",
    "root_hash",
    "subtree_ids",
    "verify_consistency",
    "verify_inclusion",
    "verify_inclusions",
]


# --------------------------------------------------------------------------- hashing


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || data)``."""
    return sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return sha256(NODE_PREFIX + left + right).digest()


# --------------------------------------------------------------------------- tree shape


def _split(size: int) -> int:
    """Return the largest power of two strictly smaller than ``size``; requires size >= 2."""
    return 1 << ((size - 1).bit_length() - 1)


def _is_tree_node(start: int, end: int) -> bool:
    """Tell whether ``[start, end)`` is a node (or the empty range) of the tree of size ``end``."""
    if start < 0 or end < start:
        return False
    size = end - start
    if size == 0:
        return True
    # bit_ceil(size) divides start.
    return start & ((1 << (size - 1).bit_length()) - 1) == 0


def subtree_ids(start: int, end: int) -> list[NodeId]:
    """Return the ids of the perfect subtrees that, left to right, make up ``[start, end)``.

    Requires ``0 <= start <= end`` and ``start`` a multiple of ``bit_ceil(end - start)`` (the
    smallest power of two >= ``end - start``). These are exactly the ranges that are nodes of
    the RFC 9162 tree of size ``end``: every perfect aligned subtree, and every right-border
    node ``[end - end % 2**k, end)``; hence every range used by an inclusion or consistency
    proof of a tree of size ``end`` (and ``[0, n)`` for any ``n``) is accepted. The empty range
    gives ``[]``. The subtree sizes are the binary decomposition of ``end - start``, largest
    first, so the RFC 9162 hash of the range is the right fold of their hashes
    (:func:`fold_subtrees`).
    """
    if not _is_tree_node(start, end):
        raise ValueError(f"[{start}, {end}) is not a node of an RFC 9162 tree")
    ids: list[NodeId] = []
    size = end - start
    pos = start
    level = size.bit_length()
    while level:
        level -= 1
        width = 1 << level
        if size & width:
            ids.append((level, pos >> level))
            pos += width
    return ids


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """Return the hash of a range from its perfect-subtree hashes, given largest first.

    The hashes must be those of ``subtree_ids(start, end)`` in that order; this is the right
    fold ``node_hash(h0, node_hash(h1, ... node_hash(h[-2], h[-1])))``. An empty sequence is
    the empty tree and gives :data:`EMPTY_ROOT`.
    """
    if not hashes:
        return EMPTY_ROOT
    h = hashes[-1]
    for i in range(len(hashes) - 2, -1, -1):
        h = sha256(NODE_PREFIX + hashes[i] + h).digest()
    return h


def inclusion_proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose hashes form the inclusion proof of ``index``, bottom up.

    Requires ``0 <= index < size``. This is RFC 9162 section 2.1.3.1 ``PATH(index, D[0:size])``:
    each range is the sibling of a node on the path from the leaf to the root, so it is a
    node of the tree of size ``size`` and accepted by :func:`subtree_ids`.
    """
    if not 0 <= index < size:
        raise ValueError(f"inclusion proof requires 0 <= index < size, got {index}, {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return ranges


def consistency_proof_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose hashes form the consistency proof from size1 to size2.

    Requires ``0 < size1 <= size2``; ``size1 == size2`` gives ``[]``. This is RFC 9162
    section 2.1.4.1 ``SUBPROOF(size1, D[0:size2], true)``, in proof order. When ``size1`` is
    not a power of two the first range is ``[start, size1)``, the subtree shared by both trees
    that a verifier starts from; otherwise the verifier starts from the old root itself.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"consistency proof requires 0 < size1 <= size2, got {size1}, {size2}")
    siblings: list[tuple[int, int]] = []
    lo, hi = 0, size2
    complete = True  # the RFC's flag b: [lo, hi) is still a left-aligned subtree of the old tree
    while size1 != hi:
        mid = lo + _split(hi - lo)
        if size1 <= mid:
            siblings.append((mid, hi))
            hi = mid
        else:
            siblings.append((lo, mid))
            lo = mid
            complete = False
    siblings.reverse()
    if size1 == size2 or complete:
        return siblings
    return [(lo, hi), *siblings]


# --------------------------------------------------------------------------- in memory


def _perfect_hash(leaf_hashes: Sequence[bytes], start: int, level: int) -> bytes:
    """Hash the perfect subtree of ``2**level`` leaves starting at ``start``."""
    if level == 0:
        return leaf_hashes[start]
    layer = list(leaf_hashes[start : start + (1 << level)])
    while len(layer) > 1:
        layer = [
            sha256(NODE_PREFIX + layer[i] + layer[i + 1]).digest() for i in range(0, len(layer), 2)
        ]
    return layer[0]


def range_hash(start: int, end: int, leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the RFC 9162 hash of leaves ``[start, end)`` (same preconditions as subtree_ids)."""
    if end > len(leaf_hashes):
        raise ValueError(f"range [{start}, {end}) exceeds the {len(leaf_hashes)} leaves given")
    ids = subtree_ids(start, end)
    return fold_subtrees([_perfect_hash(leaf_hashes, i << level, level) for level, i in ids])


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the RFC 9162 root ``MTH`` of the given leaf hashes (EMPTY_ROOT when empty)."""
    return range_hash(0, len(leaf_hashes), leaf_hashes)


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the inclusion proof of leaf ``index``; requires 0 <= index < len(leaf_hashes)."""
    return [
        range_hash(s, e, leaf_hashes) for s, e in inclusion_proof_ranges(index, len(leaf_hashes))
    ]


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the consistency proof from size1 to len(leaf_hashes); requires 0 < size1 <= it."""
    return [
        range_hash(s, e, leaf_hashes) for s, e in consistency_proof_ranges(size1, len(leaf_hashes))
    ]


# --------------------------------------------------------------------------- verification


def _check_hash(value: object, what: str) -> None:
    """Raise VerificationError unless ``value`` is a HASH_SIZE-byte string."""
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes | bytearray) else None
        raise VerificationError(
            f"{what} is not a {HASH_SIZE}-byte hash",
            details={"field": what, "length": size},
        )


def _check_proof(proof: Sequence[bytes], expected_len: int) -> None:
    """Raise VerificationError unless ``proof`` has ``expected_len`` well-formed hashes."""
    if len(proof) != expected_len:
        raise VerificationError(
            "proof has the wrong number of hashes",
            details={"expected_length": expected_len, "length": len(proof)},
        )
    for i, h in enumerate(proof):
        _check_hash(h, f"proof[{i}]")


def _root_mismatch(expected: bytes, calculated: bytes, **extra: object) -> VerificationError:
    """Build the error that carries both roots."""
    return VerificationError(
        "calculated root does not match the expected root",
        details={
            "expected_root": bytes(expected).hex(),
            "calculated_root": calculated.hex(),
            **extra,
        },
    )


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root implied by an inclusion proof; raise VerificationError if malformed.

    Requires nothing: an index outside ``[0, tree_size)``, a proof of the wrong length or a
    hash that is not 32 bytes raises :class:`VerificationError`.
    """
    _check_hash(leaf_hash, "leaf_hash")
    if not isinstance(index, int) or not isinstance(tree_size, int) or not 0 <= index < tree_size:
        raise VerificationError(
            "leaf index is outside the tree",
            details={"index": index, "tree_size": tree_size},
        )
    ranges = inclusion_proof_ranges(index, tree_size)
    _check_proof(proof, len(ranges))
    h = bytes(leaf_hash)
    for (start, _), sibling in zip(ranges, proof, strict=True):
        if start > index:
            h = sha256(NODE_PREFIX + h + sibling).digest()
        else:
            h = sha256(NODE_PREFIX + sibling + h).digest()
    return h


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    Returns None; raises :class:`VerificationError` on any failure, with ``expected_root`` and
    ``calculated_root`` in ``details`` when the proof is well formed but the roots differ.
    """
    _check_hash(root, "root")
    calculated = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)
    if calculated != root:
        raise _root_mismatch(root, calculated, index=index, tree_size=tree_size)


def verify_inclusions(
    leaves: Sequence[tuple[int, bytes, Sequence[bytes]]], tree_size: int, root: bytes
) -> None:
    """Check many ``(index, leaf_hash, proof)`` against one tree: it passes exactly when
    :func:`verify_inclusion` passes for each, without hashing a shared path twice.

    Every node a successful walk computed or used as a sibling is proven (it leads to
    ``root``). A later walk stops hashing at the first proven node it reaches, and every
    proof element is compared with the proven node of its range when there is one, so no
    element of any proof goes unchecked. Raises :class:`VerificationError` at the first
    failure, naming its index.
    """
    _check_hash(root, "root")
    proven: dict[tuple[int, int], bytes] = {(0, tree_size): bytes(root)}
    for index, leaf, proof in leaves:
        _check_hash(leaf, "leaf_hash")
        if not isinstance(index, int) or not 0 <= index < tree_size:
            raise VerificationError(
                "leaf index is outside the tree", details={"index": index, "tree_size": tree_size}
            )
        ranges = inclusion_proof_ranges(index, tree_size)
        _check_proof(proof, len(ranges))
        h, lo, hi = bytes(leaf), index, index + 1
        walked: list[tuple[tuple[int, int], bytes]] = [((lo, hi), h)]
        reached = tree_size == 1
        for (start, end), sibling in zip(ranges, proof, strict=True):
            known = proven.get((start, end))
            if (known is None and reached) or (known is not None and known != sibling):
                raise VerificationError(
                    "a proof hash differs from the tree's node",
                    details={"index": index, "range": [start, end]},
                )
            if reached:
                continue
            walked.append(((start, end), bytes(sibling)))
            if start > index:
                h, hi = sha256(NODE_PREFIX + h + sibling).digest(), end
            else:
                h, lo = sha256(NODE_PREFIX + sibling + h).digest(), start
            known = proven.get((lo, hi))
            if known is not None:
                if known != h:
                    raise _root_mismatch(root, h, index=index, tree_size=tree_size)
                reached = True
            else:
                walked.append(((lo, hi), h))
        if tree_size == 1 and h != root:
            raise _root_mismatch(root, h, index=index, tree_size=tree_size)
        proven.update(walked)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` with ``root2`` extends the tree of ``size1`` with ``root1``.

    Returns None; raises :class:`VerificationError` on any failure. Policy for the cases
    RFC 9162 leaves undefined (as transparency-dev/merkle): ``size1 == 0`` always fails (a
    proof from the empty tree is meaningless), ``size1 > size2`` fails, and ``size1 == size2``
    requires an empty proof and ``root1 == root2``.
    """
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    if not isinstance(size1, int) or not isinstance(size2, int) or size1 <= 0 or size1 > size2:
        raise VerificationError(
            "consistency requires 0 < size1 <= size2",
            details={"size1": size1, "size2": size2},
        )
    ranges = consistency_proof_ranges(size1, size2)
    _check_proof(proof, len(ranges))
    if size1 == size2:
        if root1 != root2:
            raise _root_mismatch(root2, bytes(root1), tree_size=size2)
        return
    pairs = list(zip(ranges, proof, strict=True))
    # The proof starts with the shared subtree [start, size1) unless that is [0, size1) = root1.
    h1 = h2 = bytes(pairs.pop(0)[1]) if ranges[0][1] == size1 else bytes(root1)
    for (_, end), sibling in pairs:
        if end <= size1:  # a left sibling: part of both trees
            h1 = sha256(NODE_PREFIX + sibling + h1).digest()
            h2 = sha256(NODE_PREFIX + sibling + h2).digest()
        else:  # a right sibling: only in the new tree
            h2 = sha256(NODE_PREFIX + h2 + sibling).digest()
    if h1 != root1:
        raise _root_mismatch(root1, h1, tree_size=size1)
    if h2 != root2:
        raise _root_mismatch(root2, h2, tree_size=size2)


# --------------------------------------------------------------------------- appending


class CompactRange:
    """The frontier of the tree ``[0, size)``: the hashes of ``subtree_ids(0, size)``.

    This is all that is needed to append leaves and compute the root (transparency-dev's
    ``compact.Range`` for ranges that begin at 0). The storage layer loads the frontier of the
    current tree (O(log n) reads), appends a batch, and stores the nodes each append reports.
    Appending costs amortised O(1) hashes per leaf.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        """Build from ``size`` and the hashes of ``subtree_ids(0, size)``, largest subtree first."""
        stack = [bytes(h) for h in hashes]
        if size < 0 or len(stack) != size.bit_count():
            raise ValueError(
                f"a tree of size {size} has {max(size, 0).bit_count()} frontier hashes, "
                f"got {len(stack)}"
            )
        for h in stack:
            if len(h) != HASH_SIZE:
                raise ValueError(f"frontier hash is {len(h)} bytes, not {HASH_SIZE}")
        self._size = size
        self._hashes = stack

    @property
    def size(self) -> int:
        """Number of leaves covered, i.e. the index the next appended leaf will get."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """A copy of the frontier hashes, in ``subtree_ids(0, size)`` order."""
        return list(self._hashes)

    def ids(self) -> list[NodeId]:
        """Return the node ids of the frontier, matching :attr:`hashes`."""
        return subtree_ids(0, self._size)

    def append(self, leaf_hash: bytes) -> list[tuple[NodeId, bytes]]:
        """Append one leaf hash; return the perfect nodes it completes, leaf ``(0, n)`` first."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
        index = self._size
        stack = self._hashes
        h = bytes(leaf_hash)
        created: list[tuple[NodeId, bytes]] = [((0, index), h)]
        level = 0
        while index & 1:
            h = sha256(NODE_PREFIX + stack.pop() + h).digest()
            index >>= 1
            level += 1
            created.append(((level, index), h))
        stack.append(h)
        self._size += 1
        return created

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[tuple[NodeId, bytes]]:
        """Append many leaf hashes; return every node created, in creation order."""
        created: list[tuple[NodeId, bytes]] = []
        stack = self._hashes
        push = stack.append
        pop = stack.pop
        add = created.append
        size = self._size
        try:
            for leaf in leaf_hashes:
                if len(leaf) != HASH_SIZE:
                    raise ValueError(f"leaf hash is {len(leaf)} bytes, not {HASH_SIZE}")
                h = bytes(leaf)
                index = size
                add(((0, index), h))
                level = 0
                while index & 1:
                    h = sha256(NODE_PREFIX + pop() + h).digest()
                    index >>= 1
                    level += 1
                    add(((level, index), h))
                push(h)
                size += 1
        finally:
            self._size = size
        return created

    def root(self) -> bytes:
        """Return the RFC 9162 root of ``[0, size)`` (EMPTY_ROOT for the empty tree)."""
        return fold_subtrees(self._hashes)

    def __repr__(self) -> str:
        """Show the size and root, for debugging."""
        return f"CompactRange(size={self._size}, root={self.root().hex()})"
