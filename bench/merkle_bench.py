"""Merkle integration throughput: our compact range against pymerkle, side by side."""

from __future__ import annotations

import os
import time

from evidence_chain.core import merkle

N = 200_000


def _ours(data: list[bytes]) -> tuple[float, bytes]:
    started = time.perf_counter()
    compact = merkle.CompactRange()
    for item in data:
        compact.append(merkle.leaf_hash(item))
    root = compact.root()
    return time.perf_counter() - started, root


def _pymerkle(data: list[bytes]) -> tuple[float, bytes]:
    from pymerkle import InmemoryTree

    started = time.perf_counter()
    tree = InmemoryTree(algorithm="sha256")
    for item in data:
        tree.append_entry(item)
    root = tree.get_root()
    return time.perf_counter() - started, bytes(root)


def run() -> list[str]:
    """Integrate N leaves with each implementation; report leaves per second and the ratio."""
    data = [os.urandom(64) for _ in range(N)]
    ours_s, ours_root = _ours(data)
    theirs_s, theirs_root = _pymerkle(data)
    # Both follow RFC 9162 hashing, so the roots must agree: a speed-up with a wrong root
    # would be meaningless.
    same = ours_root == theirs_root
    ours_rate, theirs_rate = N / ours_s, N / theirs_s
    ratio = ours_rate / theirs_rate
    print(f"   leaves integrated:        {N:,}")
    print(f"   sealtrail CompactRange:   {ours_rate:,.0f} leaves/s")
    print(f"   pymerkle InmemoryTree:    {theirs_rate:,.0f} leaves/s")
    print(f"   ratio:                    {ratio:.1f}x (target >= 5x); same root: {same}")
    failures = []
    if ratio < 5:
        failures.append(f"merkle: {ratio:.1f}x pymerkle, target 5x")
    if not same:
        failures.append("merkle: root differs from pymerkle's")
    return failures
