"""C2SP signed notes (c2sp.org/signed-note, Ed25519) and checkpoints (c2sp.org/tlog-checkpoint).

Pure and I/O-free. A signed note is ``body`` (lines each ending in a newline), a blank line,
then signature lines ``— <key name> base64(key ID || signature)``. A checkpoint is a note
whose body is the log origin, the tree size in decimal and the base64 root hash, optionally
followed by extension lines.

Parsing is strict: anything that is not exactly the format (bad UTF-8, a control character,
a missing blank line, a non-canonical base64 or decimal, a duplicate signature of the key we
verify with) is rejected with :class:`~evidence_chain.errors.VerificationError`, whose
``details["reason"]`` says which rule failed. Malformed *inputs to the signer* (our own
bodies and names) raise :class:`ValueError`: they are caller bugs, not bad evidence.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from evidence_chain.core.errors import VerificationError

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "NoteSignature",
    "NoteVerifier",
    "encode_signer_key",
    "encode_verifier_key",
    "key_id",
    "open_note",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
    "split_note",
    "verify_checkpoint",
]

ALG_ED25519 = 0x01
"""Signature type byte of Ed25519 note signatures (c2sp.org/signed-note)."""

MAX_SIGNATURES = 100
"""Notes with more signature lines are rejected (the spec requires accepting at least 16)."""

SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_HASH_SIZE = 32
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}\Z")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _fail(message: str, reason: str, **details: object) -> VerificationError:
    """Build the one error type this module raises for evidence that does not verify."""
    return VerificationError(message, details={"reason": reason, **details})


def _b64decode_strict(text: str) -> bytes | None:
    """Decode standard padded base64, or return None unless ``text`` is its canonical form."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    # Reject non-zero padding bits and other non-canonical spellings of the same bytes.
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def _valid_name(name: str) -> bool:
    """Key names are non-empty and contain no Unicode space, no '+' and no control character."""
    return (
        bool(name)
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and not _CONTROL.search(name)
    )


# --------------------------------------------------------------------------- keys


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key ID ``SHA-256(name || "\\n" || 0x01 || public_key)[:4]``."""
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    ).digest()[:4]


def _raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Return the 32-byte RFC 8032 encoding of an Ed25519 key's public half."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encode_verifier_key(name: str, public_key: bytes) -> str:
    """Return the verifier key text ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
    if not _valid_name(name):
        raise ValueError(f"invalid note key name {name!r}")
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes]:
    """Parse a verifier key into ``(name, 32-byte Ed25519 public key)``; checks its key ID."""
    parts = vkey.split("+", 2)  # the base64 key may itself contain '+'
    if len(parts) != 3 or not _valid_name(parts[0]) or not _HEX_KEY_ID.match(parts[1]):
        raise _fail("verifier key is not <name>+<hex key ID>+<base64 key>", "bad_verifier_key")
    name, hex_id, encoded = parts
    raw = _b64decode_strict(encoded)
    if raw is None or len(raw) != 33 or raw[0] != ALG_ED25519:
        raise _fail("verifier key is not an Ed25519 note key", "bad_verifier_key", name=name)
    public_key = raw[1:]
    if key_id(name, public_key).hex() != hex_id:
        raise _fail(
            "verifier key ID does not match its name and key", "bad_verifier_key", name=name
        )
    return name, public_key


def encode_signer_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Return the signer key text ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``."""
    if not _valid_name(name):
        raise ValueError(f"invalid note key name {name!r}")
    seed = private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    encoded = base64.b64encode(bytes([ALG_ED25519]) + seed).decode("ascii")
    return f"PRIVATE+KEY+{name}+{key_id(name, _raw_public(private_key)).hex()}+{encoded}"


def parse_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse a signer key into ``(name, private key)``; raise ValueError if malformed."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _valid_name(parts[2]):
        raise ValueError("signer key is not PRIVATE+KEY+<name>+<hex key ID>+<base64 key>")
    name, hex_id, encoded = parts[2:]
    raw = _b64decode_strict(encoded)
    if raw is None or len(raw) != 33 or raw[0] != ALG_ED25519:
        raise ValueError("signer key is not an Ed25519 note key")
    private_key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    if key_id(name, _raw_public(private_key)).hex() != hex_id:
        raise ValueError("signer key ID does not match its name and key")
    return name, private_key


@dataclass(frozen=True)
class NoteVerifier:
    """An Ed25519 note verifier: the key name and the 32-byte public key."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        """Check the name and key, and derive the key ID."""
        if not _valid_name(self.name) or len(self.public_key) != 32:
            raise ValueError("a note verifier needs a valid name and a 32-byte Ed25519 key")
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Build a verifier from its ``name+keyid+base64`` text (VerificationError if bad)."""
        name, public_key = parse_verifier_key(vkey)
        return cls(name, public_key)

    @property
    def vkey(self) -> str:
        """The verifier key text."""
        return encode_verifier_key(self.name, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Tell whether ``signature`` is a valid Ed25519 signature of ``message``."""
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


# --------------------------------------------------------------------------- notes


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: key name, 4-byte key ID and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes


def _check_body(body: str) -> None:
    """Raise ValueError unless ``body`` is a note text we may sign."""
    if not body.endswith("\n"):
        raise ValueError("note text must end with a newline")
    if _CONTROL.search(body):
        raise ValueError("note text must not contain control characters other than newline")
    try:
        body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("note text is not valid Unicode") from exc


def split_note(text: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its body and well-formed signature lines, verifying nothing.

    Raises :class:`VerificationError` (reason ``malformed_note``) if the note is not valid
    UTF-8, has a control character other than newline, has no blank line before the
    signatures, no signature, more than :data:`MAX_SIGNATURES`, or any malformed line.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("note is not valid UTF-8", "malformed_note") from None
    if _CONTROL.search(text):
        raise _fail("note contains a control character other than newline", "malformed_note")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail("note is not valid Unicode text", "malformed_note") from None
    split = text.rfind("\n\n")
    if split < 0:
        raise _fail("note has no blank line before its signatures", "malformed_note")
    body, block = text[: split + 1], text[split + 2 :]
    if not block or not block.endswith("\n"):
        raise _fail("note has no signature lines ending in a newline", "malformed_note")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _fail("note has too many signatures", "malformed_note", count=len(lines))
    signatures: list[NoteSignature] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise _fail(
                "signature line does not start with an em dash", "malformed_note", line=number
            )
        name, sep, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = _b64decode_strict(encoded) if sep else None
        if not _valid_name(name) or raw is None or len(raw) < 5:
            raise _fail("malformed signature line", "malformed_note", line=number)
        signatures.append(NoteSignature(name=name, key_id=raw[:4], signature=raw[4:]))
    return body, signatures


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``body`` with an Ed25519 key; return the full signed note text."""
    _check_body(body)
    if not _valid_name(name):
        raise ValueError(f"invalid note key name {name!r}")
    signature = private_key.sign(body.encode("utf-8"))
    encoded = base64.b64encode(key_id(name, _raw_public(private_key)) + signature).decode("ascii")
    return f"{body}\n{SIGNATURE_PREFIX}{name} {encoded}\n"


def open_note(text: str | bytes, vkey: str | NoteVerifier) -> str:
    """Verify the signature of the given key on a note and return the note body.

    Signatures of other keys are ignored, as the spec requires. Raises
    :class:`VerificationError` with ``details["reason"]`` one of ``malformed_note``,
    ``bad_verifier_key``, ``missing_signature`` (no line with this key's name and ID),
    ``duplicate_signature`` (the key signed more than once) or ``bad_signature``.
    """
    verifier = vkey if isinstance(vkey, NoteVerifier) else NoteVerifier.from_vkey(vkey)
    body, signatures = split_note(text)
    mine = [s for s in signatures if s.name == verifier.name and s.key_id == verifier.key_id]
    if not mine:
        raise _fail(
            f"note is not signed by {verifier.name}",
            "missing_signature",
            key_name=verifier.name,
            key_id=verifier.key_id.hex(),
        )
    if len(mine) > 1:
        raise _fail(
            f"note carries {len(mine)} signatures of {verifier.name}",
            "duplicate_signature",
            key_name=verifier.name,
            key_id=verifier.key_id.hex(),
        )
    if not verifier.verify(body.encode("utf-8"), mine[0].signature):
        raise _fail(
            f"signature of {verifier.name} does not verify",
            "bad_signature",
            key_name=verifier.name,
            key_id=verifier.key_id.hex(),
        )
    return body


# --------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint body: origin, tree size, root hash and optional extension lines."""

    origin: str
    tree_size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Reject values that cannot be written as a checkpoint body."""
        if not self.origin or "\n" in self.origin or _CONTROL.search(self.origin):
            raise ValueError("checkpoint origin must be one non-empty line")
        if isinstance(self.tree_size, bool) or not isinstance(self.tree_size, int):
            raise ValueError("checkpoint tree size must be an int")
        if not 0 <= self.tree_size < 2**64:
            raise ValueError("checkpoint tree size must be in [0, 2**64)")
        if len(self.root) != _HASH_SIZE:
            raise ValueError(f"checkpoint root must be {_HASH_SIZE} bytes")
        for line in self.extensions:
            if not line or "\n" in line or _CONTROL.search(line):
                raise ValueError("checkpoint extension lines must be non-empty single lines")

    def to_text(self) -> str:
        """Return the note body: origin, decimal size, base64 root, extensions, each + newline."""
        lines = [
            self.origin,
            str(self.tree_size),
            base64.b64encode(self.root).decode("ascii"),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint note body; raise VerificationError (malformed_checkpoint) if bad."""

        def bad(message: str, line: int) -> VerificationError:
            return _fail(f"checkpoint {message}", "malformed_checkpoint", line=line)

        if not body.endswith("\n"):
            raise bad("body does not end with a newline", 0)
        if _CONTROL.search(body):
            raise bad("body contains a control character", 0)
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise bad("body has fewer than three lines", len(lines))
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise bad("origin is empty", 1)
        if not _DECIMAL.match(size_text) or len(size_text) > 20 or int(size_text) >= 2**64:
            raise bad("tree size is not a decimal uint64 without leading zeros", 2)
        root = _b64decode_strict(root_text)
        if root is None or len(root) != _HASH_SIZE:
            raise bad(f"root is not the base64 of a {_HASH_SIZE}-byte hash", 3)
        for number, line in enumerate(extensions, start=4):
            if not line:
                raise bad("extension line is empty", number)
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(cp: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return the signed note of a checkpoint."""
    return sign_note(cp.to_text(), name, private_key)


def verify_checkpoint(
    text: str | bytes, vkey: str | NoteVerifier, *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint with ``vkey`` and return it parsed.

    When ``origin`` is given the checkpoint must carry exactly that origin. Raises
    :class:`VerificationError` on any failure (see :func:`open_note` and :meth:`Checkpoint.parse`).
    """
    cp = Checkpoint.parse(open_note(text, vkey))
    if origin is not None and cp.origin != origin:
        raise _fail(
            "checkpoint is for another log",
            "wrong_origin",
            expected_origin=origin,
            origin=cp.origin,
        )
    return cp
