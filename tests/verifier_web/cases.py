"""The one table of cases that both verifiers run: the command (``evidence_chain.verify``) and
the HTML verifier (``verifier_web``). Each case is a file made from the world's real evidence,
with or without the RPC URL, and the verdict and failed checks both must give. A new case is
added here once, and both verifiers must pass it.

The tampered and malformed bundles of the command's own tests (``TAMPERS`` and ``MALFORMED``
in tests/reports/test_bundle.py) are part of the table as they are; a case added there is
run here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.reports.bundle_fixtures import to_bytes
from tests.reports.test_bundle import MALFORMED, TAMPERS
from tests.verifier_web.harness import ERROR
from tests.verifier_web.world import REASONS, World

CHAIN_CHECKS = (
    "anchor.root_on_chain",
    "anchor.transaction",
    "anchor.block_number",
    "anchor.block_hash",
    "anchor.block_timestamp",
)
"""The checks read from the chain (the command reads the ones it knows)."""


@dataclass(frozen=True)
class Case:
    """One file, how it is verified, and what both verifiers must say."""

    id: str
    make: Callable[[World], bytes]
    verdict: str
    failed: tuple[str, ...] = ()
    """Every check that must fail, in the order printed (None: at least ``must_fail``)."""
    rpc: bool = True
    must_fail: str | None = None
    """For the command's own tamper cases: the check their test names (the rest must agree)."""
    status: tuple[str, str | None, str | None] | None = None
    """The lifecycle status both must derive: (state, at, reason); None: only that they agree."""


def _flip(value: str) -> str:
    """The same hex with its last digit changed."""
    return value[:-1] + ("1" if value[-1] != "1" else "2")


def bundle_of(
    which: str, change: Callable[[dict[str, Any]], Any] | None = None
) -> Callable[[World], bytes]:
    """A maker: the world's bundle ``which``, changed in place by ``change`` (if given)."""

    def make(world: World) -> bytes:
        bundle = world.bundle(which)
        if change is not None:
            replaced = change(bundle)
            if replaced is not None:
                bundle = replaced
        return to_bytes(bundle)

    return make


def _anchor(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(b: dict[str, Any]) -> None:
        b["anchor"].update(fields)

    return change


def _anchor_flip(key: str) -> Callable[[dict[str, Any]], None]:
    def change(b: dict[str, Any]) -> None:
        b["anchor"][key] = _flip(b["anchor"][key])

    return change


def _other_contract(world: World) -> bytes:
    bundle = world.bundle("direct")
    bundle["anchor"]["contract"] = world.other_contract
    return to_bytes(bundle)


def _broken_consistency(b: dict[str, Any]) -> None:
    b["consistency_proof"][0] = _flip(b["consistency_proof"][0])


def _raw(data: bytes) -> Callable[[World], bytes]:
    return lambda world: data


CASES: list[Case] = [
    # ------------------------------------------------------------------ good evidence
    Case("anchored, read on chain", bundle_of("direct"), "VERIFIED"),
    Case("anchored, no RPC URL", bundle_of("direct"), "INCOMPLETE", rpc=False),
    Case("bridged by a consistency proof", bundle_of("bridged"), "VERIFIED"),
    Case("not yet anchored", bundle_of("unanchored"), "INCOMPLETE"),
    Case("a subject in Chinese", bundle_of("chinese"), "VERIFIED"),
    # ------------------------------------------------------------------ lifecycle status
    Case(
        "a voided envelope",
        bundle_of("voided"),
        "VERIFIED",
        status=("voided", "2026-11-23T10:03:00.000000Z", REASONS["voided"]),
    ),
    Case(
        "a withdrawn envelope",
        bundle_of("withdrawn"),
        "VERIFIED",
        status=("withdrawn", "2026-11-22T10:02:00.000000Z", REASONS["withdrawn"]),
    ),
    Case(
        "a declined envelope",
        bundle_of("declined"),
        "VERIFIED",
        status=("declined", "2026-11-22T10:02:00.000000Z", REASONS["declined"]),
    ),
    Case(
        "an envelope still in progress",
        bundle_of("direct"),
        "VERIFIED",
        status=("in_progress", "2026-11-21T09:00:00.000000Z", None),
    ),
    # ------------------------------------------------------------------ the anchor on chain
    Case(
        "another deployment holding another root",
        _other_contract,
        "FAILED",
        ("anchor.root_on_chain", "anchor.transaction"),
    ),
    Case(
        "an address without a contract",
        bundle_of("direct", _anchor(contract="0x" + "00" * 19 + "01")),
        "FAILED",
        ("anchor.root_on_chain", "anchor.transaction"),
    ),
    Case(
        "the anchor's time moved",
        bundle_of("direct", _anchor(block_time="2020-01-01T00:00:00Z")),
        "FAILED",
        ("anchor.block_timestamp",),
    ),
    Case(
        "another block hash",
        bundle_of("direct", _anchor_flip("block_hash")),
        "FAILED",
        ("anchor.block_hash",),
    ),
    Case(
        "a block number past the head",
        bundle_of(
            "direct", lambda b: b["anchor"].update(block_number=b["anchor"]["block_number"] + 1000)
        ),
        "FAILED",
        ("anchor.block_number", "anchor.block_hash", "anchor.block_timestamp"),
    ),
    Case(
        "another transaction",
        bundle_of("direct", _anchor_flip("tx_hash")),
        "FAILED",
        ("anchor.transaction", "anchor.block_number", "anchor.block_hash"),
    ),
    Case(
        "the anchor on another chain",
        bundle_of("direct", _anchor(chain_id=1)),
        "FAILED",
        CHAIN_CHECKS,
    ),
    Case(
        "a broken consistency proof",
        bundle_of("bridged", _broken_consistency),
        "FAILED",
        ("consistency",),
    ),
    # ------------------------------------------------------------------ not bundles at all
    Case("not JSON", _raw(b"minutes of the meeting"), ERROR),
    Case("a duplicate key", _raw(b'{"format": "sealtrail-evidence-bundle", "format": "x"}'), ERROR),
    Case(
        "an inexact integer",
        _raw(b'{"format": "sealtrail-evidence-bundle", "n": 9007199254740993}'),
        ERROR,
    ),
    Case("nested too deep", _raw(b"[" * 200_000), ERROR),
    Case("a byte order mark", _raw(b'\xef\xbb\xbf{"format": "sealtrail-evidence-bundle"}'), ERROR),
    Case("not UTF-8", _raw(b'{"format": "sealtrail-evidence-bundle", "x": "\xff"}'), ERROR),
    Case("another format", _raw(json.dumps({"format": "other"}).encode()), ERROR),
    Case("a broken PDF", _raw(b"%PDF-1.7\n" + b"\x00garbage" * 100), ERROR),
]

# The command's own tampered bundles: FAILED, naming at least the check their test names.
CASES += [
    Case(f"tampered: {what}", bundle_of("direct", tamper), "FAILED", (), must_fail=failed)
    for what, tamper, failed in TAMPERS
]
# The command's own malformed bundles: FAILED (without an RPC URL, as the core's tests run).
# A mutation that leaves no JSON object with the bundle's format is not a bundle at all: the
# command refuses the file (exit status 64) and the page says it cannot be verified.
NOT_BUNDLES = {"not an object"}
CASES += [
    Case(
        f"malformed: {what}",
        bundle_of("direct", mutate),
        ERROR if what in NOT_BUNDLES else "FAILED",
        (),
        rpc=False,
        must_fail=None if what in NOT_BUNDLES else "",
    )
    for what, mutate in MALFORMED
]

NEEDS_CHAIN_CHECKS = {c.id for c in CASES if set(c.failed) & set(CHAIN_CHECKS[1:])}
"""Cases whose verdict rests on the transaction and block checks."""
