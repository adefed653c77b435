"""Proofs checked on your side, trusting nothing but the log's public key.

RFC 9162 Merkle proofs (inclusion, section 2.1.3.2; consistency, 2.1.4.2), C2SP signed notes
with Ed25519 (``c2sp.org/signed-note``) and checkpoints (``c2sp.org/tlog-checkpoint``), and
the leaf hash of a record, ``SHA-256(0x00 || JCS(record))`` with JCS as RFC 8785. Pure
functions: no network.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "Checkpoint",
    "ProofError",
    "canonical_json",
    "leaf_hash",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_proof",
]


class ProofError(Exception):
    """A proof, a checkpoint or a record that does not verify (``reason`` says which rule)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 leaf hash of ``data``."""
    return hashlib.sha256(b"\x00" + data).digest()


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is at ``leaf_index`` of the tree of ``tree_size`` with ``root``."""
    if not 0 <= leaf_index < tree_size:
        raise ProofError("the leaf index is outside the tree", "bad_inclusion")
    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long", "bad_inclusion")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise ProofError("the inclusion proof does not lead to the root", "bad_inclusion")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``second`` leaves extends the tree of ``first`` leaves."""
    if not 0 < first <= second:
        raise ProofError("consistency needs 0 < first <= second", "bad_consistency")
    if first == second:
        if proof or first_root != second_root:
            raise ProofError("equal trees must have equal roots", "bad_consistency")
        return
    if not proof:
        raise ProofError("the consistency proof is empty", "bad_consistency")
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first root is the proof's start
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long", "bad_consistency")
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise ProofError("the consistency proof does not hold", "bad_consistency")


# --- signed notes and checkpoints ---------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint: the log, its size and its root."""

    origin: str
    tree_size: int
    root: bytes


def _verifier(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    parts = vkey.split("+", 2)
    if len(parts) != 3 or len(parts[1]) != 8:
        raise ProofError("the log key is not <name>+<key id>+<base64 key>", "bad_key")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ProofError("the log key is not base64", "bad_key") from None
    if len(raw) != 33 or raw[0] != 0x01:
        raise ProofError("the log key is not an Ed25519 note key", "bad_key")
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if key_id.hex() != hex_id:
        raise ProofError("the log key's id does not match it", "bad_key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def verify_checkpoint(note: str, vkey: str, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint with the log's key; return what it states."""
    name, key_id, public = _verifier(vkey)
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise ProofError("the checkpoint is not a signed note", "malformed_note")
    body, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    mine = []
    for line in lines:
        if not line.startswith("\u2014 "):
            raise ProofError("a signature line is malformed", "malformed_note")
        who, _, sig = line[2:].rpartition(" ")
        try:
            raw = base64.b64decode(sig, validate=True)
        except binascii.Error:
            raise ProofError("a signature is not base64", "malformed_note") from None
        if who == name and raw[:4] == key_id:
            mine.append(raw[4:])
    if len(mine) != 1:
        raise ProofError("the checkpoint is not signed (once) by this log's key", "unsigned")
    try:
        public.verify(mine[0], body.encode("utf-8"))
    except InvalidSignature:
        raise ProofError("the checkpoint's signature does not verify", "bad_signature") from None
    head = body.split("\n")
    if len(head) < 4 or not head[1].isdigit():
        raise ProofError("the checkpoint body is malformed", "malformed_checkpoint")
    root = base64.b64decode(head[2], validate=True)
    if len(root) != 32:
        raise ProofError("the checkpoint root is not 32 bytes", "malformed_checkpoint")
    if origin is not None and head[0] != origin:
        raise ProofError("the checkpoint is of another log", "wrong_origin")
    return Checkpoint(head[0], int(head[1]), root)


def verify_proof(
    proof: Mapping[str, Any], vkey: str, *, record: Mapping[str, Any] | None = None
) -> Checkpoint:
    """Check a proof as ``GET /api/v1/events/{id}/proof`` returns it, all on your side.

    The checkpoint's signature with the log key ``vkey``; that it states the proof's size and
    root; the inclusion proof from the leaf hash to that root; given the ``record`` (from
    ``GET /api/v1/events/{id}``), that it hashes to the leaf; and, when an anchor covers a
    larger tree, the consistency proof to the anchored root. Returns the checkpoint.
    Raises :class:`ProofError` naming the first rule that fails.
    """
    cp = verify_checkpoint(str(proof["checkpoint"]), vkey)
    root = bytes.fromhex(str(proof["root"]))
    if cp.tree_size != int(proof["tree_size"]) or cp.root != root:
        raise ProofError("the checkpoint states another tree than the proof", "wrong_tree")
    leaf = bytes.fromhex(str(proof["leaf_hash"]))
    if record is not None and leaf_hash(canonical_json(record)) != leaf:
        raise ProofError("the record does not hash to the leaf", "bad_record")
    path = [bytes.fromhex(h) for h in proof.get("inclusion_proof") or []]
    verify_inclusion(int(proof["leaf_index"]), cp.tree_size, leaf, path, cp.root)
    anchor = proof.get("anchor")
    consistency = proof.get("consistency_proof")
    if anchor and consistency is not None:
        verify_consistency(
            cp.tree_size,
            int(anchor["tree_size"]),
            cp.root,
            bytes.fromhex(str(anchor["root"]).removeprefix("0x")),
            [bytes.fromhex(h) for h in consistency],
        )
    return cp


# --- RFC 8785 -------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) form of a JSON value, as UTF-8 bytes."""
    return _jcs(value).encode("utf-8")


def _jcs(value: Any) -> str:
    if value is None or value is True or value is False:
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(f"{_jcs(k)}:{_jcs(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_jcs(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _number(x: float) -> str:
    """ECMAScript's Number-to-String for a finite double (what RFC 8785 prescribes)."""
    if not math.isfinite(x):
        raise ValueError("JSON has no NaN or infinity")
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    text = repr(x)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    exp = int(exponent)
    if -7 < exp < 21:  # repr chose an exponent where ECMAScript writes digits
        return format(x, "f").rstrip("0").rstrip(".")
    return f"{mantissa.removesuffix('.0')}e{'+' if exp > 0 else '-'}{abs(exp)}"
