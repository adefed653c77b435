"""Evidence bundles (format v1): what they contain and how anyone verifies one.

Pure and I/O-free, like the rest of the core: bytes and dicts in, a verdict out. The chain is
reached only through the :class:`~evidence_chain.core.onchain.ChainReader` the caller passes (the
offline verifier gives a web3 one, tests an in-process double), as python-opentimestamps passes
block headers to its notary checks.

Nothing in a bundle is taken on trust: every leaf hash is recomputed from its record, every
root from the proofs, every checkpoint's signature checked with the log's key, the document and
certificate lists re-derived from the records, and the anchored root, the anchoring transaction
and its block read from the chain. Every field is checked except the few the format documents as
informative (:data:`INFORMATIVE_FIELDS`), which a verdict carries apart, as stated by the service;
an object with a field format v1 does not define fails. Verification never raises on bad
evidence: each problem is a failed :class:`Check` naming what did not hold. The format is
documented in ``docs/evidence-bundle.md``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from evidence_chain.core import merkle
from evidence_chain.core.canonical import canonicalize, nesting_depth, parse_json
from evidence_chain.core.errors import (
    CanonicalizationError,
    EvidenceError,
    ValidationError,
)
from evidence_chain.core.note import NoteVerifier, parse_verifier_key, verify_checkpoint
from evidence_chain.core.onchain import ChainReader, on_chain_checks

__all__ = [
    "BUNDLE_ATTACHMENT",
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "FAILED",
    "INCOMPLETE",
    "INFORMATIVE_FIELDS",
    "MAX_BUNDLE_BYTES",
    "MAX_EVENTS",
    "VERIFIED",
    "BundleVerdict",
    "ChainReader",
    "Check",
    "certificates_of",
    "documents_of",
    "log_id",
    "parse_bundle",
    "verdict_of",
    "verify_bundle",
]

BUNDLE_FORMAT = "sealtrail-evidence-bundle"
BUNDLE_VERSION = 1
BUNDLE_ATTACHMENT = "evidence-bundle.json"
"""Name of the embedded file that carries the bundle inside a certificate-of-evidence PDF."""

MAX_BUNDLE_BYTES = 64 * 1024 * 1024
"""Larger inputs are refused before parsing."""
MAX_EVENTS = 100_000
"""A bundle with more events than this is refused (FAILED), not processed."""
MAX_NOTE_CHARS = 64 * 1024
MAX_DEPTH = 128
"""Deepest JSON nesting accepted in a bundle (records themselves are far shallower)."""

VERIFIED = "VERIFIED"
FAILED = "FAILED"
INCOMPLETE = "INCOMPLETE"

INFORMATIVE_FIELDS = ("generated_at", "anchor.status", "anchor.confirmations")
"""The only fields no check covers: what the service states about when it made the bundle and
how deep the anchor was then. A verdict carries their values apart, printed as informative."""

# The fields of each object of format v1: a missing or unknown one fails the object's check,
# so that nothing unchecked can ride along in a bundle (records are covered by their hashes).
_FIELDS = {
    kind: frozenset(names.split())
    for kind, names in {
        "bundle": "format version generated_at subject tenant log checkpoint events anchor "
        "anchor_checkpoint consistency_proof documents certificates",
        "log": "origin verifier_key log_id",
        "checkpoint": "tree_size root note",
        "event": "event_id leaf_index leaf_hash record inclusion_proof",
        "anchor": "chain_id contract log_id tree_size root tx_hash block_number block_hash "
        "block_time status confirmations",
        "certificate": "sha256 serial subject issuer pem",
    }.items()
}

_READ_BY_NO_OTHER_CHECK = frozenset(
    {"generated_at", "anchor", "anchor_checkpoint", "consistency_proof"}
)

_HEX = re.compile(r"[0-9a-f]{64}\Z")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")


@dataclass(frozen=True)
class Check:
    """One verification step: its stable name, the result (None: not checked) and a detail."""

    name: str
    ok: bool | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        """The check as JSON."""
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def verdict_of(checks: Iterable[Check]) -> str:
    """FAILED if any check failed, INCOMPLETE if any was not made, VERIFIED otherwise."""
    results = [c.ok for c in checks]
    if any(ok is False for ok in results):
        return FAILED
    if any(ok is None for ok in results) or not results:
        return INCOMPLETE
    return VERIFIED


@dataclass(frozen=True)
class BundleVerdict:
    """The outcome of verifying a bundle: every check made, the verdict, and the values of the
    informative fields (``(field, value)``, as the bundle states them, unchecked)."""

    checks: tuple[Check, ...]
    verdict: str
    informative: tuple[tuple[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The verdict, its checks and the informative fields as JSON."""
        return {
            "verdict": self.verdict,
            "checks": [c.to_json() for c in self.checks],
            "informative": informative_json(self.informative),
        }

    def failed(self) -> list[Check]:
        """The checks that did not hold."""
        return [c for c in self.checks if c.ok is False]


class _Bad(Exception):
    """Internal: a field of the bundle is missing or malformed."""


def informative_json(fields: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Informative fields as JSON: ``[{"field", "value"}]``."""
    return [{"field": name, "value": value} for name, value in fields]


def informative_of(bundle: Any) -> tuple[tuple[str, Any], ...]:
    """The values of :data:`INFORMATIVE_FIELDS` present in a bundle, in that order."""
    out: list[tuple[str, Any]] = []
    for name in INFORMATIVE_FIELDS:
        node: Any = bundle
        for part in name.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            out.append((name, node))
    return tuple(out)


def log_id(origin: str) -> bytes:
    """The on-chain log id of a log: SHA-256 of its origin (UTF-8)."""
    return hashlib.sha256(origin.encode("utf-8")).digest()


# --------------------------------------------------------------------------- field access


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, Mapping):
        raise _Bad(f"{where} is not an object")
    if key not in obj:
        raise _Bad(f"{where}.{key} is missing")
    value = obj[key]
    if isinstance(value, bool) and kind is not bool:
        raise _Bad(f"{where}.{key} has the wrong type")
    if not isinstance(value, kind):
        raise _Bad(f"{where}.{key} has the wrong type")
    return value


def _int(obj: Any, key: str, where: str, *, low: int = 0) -> int:
    value: int = _get(obj, key, int, where)
    if not low <= value < 2**64:
        raise _Bad(f"{where}.{key} is out of range")
    return value


def _fields(obj: Any, kind: str, where: str, *, required: frozenset[str] | None = None) -> None:
    """``obj`` has only the fields format v1 defines for ``kind``, and all of ``required``
    (by default all of them)."""
    if not isinstance(obj, Mapping):
        raise _Bad(f"{where} is not an object")
    expected = _FIELDS[kind]
    unknown = sorted(str(k) for k in obj if k not in expected)
    missing = sorted(k for k in (expected if required is None else required) if k not in obj)
    if unknown:
        raise _Bad(f"{where} has fields format v1 does not define: {', '.join(unknown)[:200]}")
    if missing:
        raise _Bad(f"{where} lacks the fields {', '.join(missing)}")


def _hash(value: Any, what: str) -> bytes:
    """A 32-byte hash written as 64 lowercase hex digits (the one spelling format v1 uses)."""
    if not isinstance(value, str):
        raise _Bad(f"{what} is not a hex string")
    if _HEX.match(value) is None:
        raise _Bad(f"{what} is not a 32-byte hash in 64 lowercase hex digits")
    return bytes.fromhex(value)


def _hash_field(obj: Any, key: str, where: str) -> bytes:
    return _hash(_get(obj, key, str, where), f"{where}.{key}")


def _proof(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise _Bad(f"{what} is not a list")
    if len(value) > 64:  # no RFC 9162 proof of a tree below 2**64 leaves is longer
        raise _Bad(f"{what} has {len(value)} hashes, more than any proof can have")
    return [_hash(h, f"{what}[{i}]") for i, h in enumerate(value)]


# --------------------------------------------------------------------------- derived lists


def _role_of(event_type: str, data: Mapping[str, Any]) -> str:
    role = data.get("role")
    if isinstance(role, str) and 0 < len(role) <= 40:
        return role
    if event_type.endswith(("completed", "complete", "finalized", "finalised")):
        return "final"
    if event_type.endswith(("voided", "void", "cancelled", "canceled")):
        return "void"
    return "document"


def _doc_hash(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value
    return None


def document_mentions(event_type: str, data: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """The ``(sha256, role, name)`` of every document one record's ``data`` names.

    ``sha256_before`` (role ``original``), ``sha256_after`` (``signed``), ``sha256`` (role
    ``data.role``, else ``final``/``void``/``document`` from the event type), then for every
    item of ``documents``: ``sha256`` (the item's role, else from the event type),
    ``sha256_before`` (``before``) and ``sha256_after`` (``signed``, or ``time-stamped`` when
    the item says ``document_timestamp``), with the item's name; in that order. Only lowercase
    64-hex values count. The bundle and the service's document index both use this one rule.
    """
    found: list[tuple[Any, str, Any]] = [
        (data.get("sha256_before"), "original", None),
        (data.get("sha256_after"), "signed", None),
        (data.get("sha256"), _role_of(event_type, data), data.get("name")),
    ]
    items = data.get("documents")
    if isinstance(items, list):
        for item in items:
            if not isinstance(item, Mapping):
                continue
            after = "time-stamped" if item.get("document_timestamp") is True else "signed"
            found += [
                (item.get("sha256"), _role_of(event_type, item), item.get("name")),
                (item.get("sha256_before"), "before", item.get("name")),
                (item.get("sha256_after"), after, item.get("name")),
            ]
    return [
        (digest, role, name) for sha, role, name in found if (digest := _doc_hash(sha)) is not None
    ]


def documents_of(records: Sequence[tuple[int, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """The documents named by a subject's records, given as ``(leaf_index, record)`` pairs.

    Each record contributes :func:`document_mentions` of its ``data``, in record order.
    """
    out: list[dict[str, Any]] = []
    for leaf_index, record in records:
        data = record.get("data")
        if not isinstance(data, Mapping):
            continue
        event_type = record.get("type")
        for digest, role, name in document_mentions(
            event_type if isinstance(event_type, str) else "", data
        ):
            out.append(
                {
                    "sha256": digest,
                    "role": role,
                    "event_id": record.get("event_id"),
                    "leaf_index": leaf_index,
                    "name": name if isinstance(name, str) else None,
                }
            )
    return out


def _named_certificates(data: Any) -> list[Mapping[str, Any]]:
    """``data.certificate`` and each ``data.documents[*].certificate``, in that order."""
    if not isinstance(data, Mapping):
        return []
    found = [data.get("certificate")]
    items = data.get("documents")
    if isinstance(items, list):
        found += [item.get("certificate") for item in items if isinstance(item, Mapping)]
    return [cert for cert in found if isinstance(cert, Mapping)]


def certificates_of(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The signer certificates named by records, one per SHA-256.

    A record names a certificate in ``data.certificate`` (one signature) or in
    ``data.documents[*].certificate`` (a party signing several documents). Each gets
    ``sha256``, ``serial``, ``subject``, ``issuer`` and ``pem`` (the record's, or None; the
    builder fills it in from its certificate store).
    """
    seen: dict[str, dict[str, Any]] = {}
    for cert in (c for record in records for c in _named_certificates(record.get("data"))):
        digest = _doc_hash(cert.get("sha256"))
        if digest is None or digest in seen:
            continue
        seen[digest] = {
            "sha256": digest,
            "serial": cert.get("serial") if isinstance(cert.get("serial"), str) else None,
            "subject": cert.get("subject") if isinstance(cert.get("subject"), str) else None,
            "issuer": cert.get("issuer") if isinstance(cert.get("issuer"), str) else None,
            "pem": cert.get("pem") if isinstance(cert.get("pem"), str) else None,
        }
    return list(seen.values())


# --------------------------------------------------------------------------- parsing


def parse_bundle(data: bytes) -> dict[str, Any]:
    """Parse a bundle's JSON bytes; ValidationError ("not an evidence bundle ...") otherwise."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise ValidationError(
            f"not an evidence bundle: {len(data)} bytes is over the {MAX_BUNDLE_BYTES} limit",
            details={"size": len(data), "limit": MAX_BUNDLE_BYTES},
        )
    depth = nesting_depth(data.decode("utf-8", "replace"), MAX_DEPTH)
    if depth > MAX_DEPTH:
        raise ValidationError(
            f"not an evidence bundle: JSON nested {depth} levels deep (limit {MAX_DEPTH})",
            details={"reason": "too_deep"},
        )
    try:
        value = parse_json(data)
    except CanonicalizationError as exc:
        raise ValidationError(
            f"not an evidence bundle: {exc.message}", details={"reason": "not_json"}
        ) from None
    if not isinstance(value, dict) or value.get("format") != BUNDLE_FORMAT:
        raise ValidationError(
            f'not an evidence bundle: no "format": "{BUNDLE_FORMAT}"',
            details={"reason": "wrong_format"},
        )
    return value


# --------------------------------------------------------------------------- verification


class _Run:
    """Collects checks; a check body that raises becomes a failed check, never a crash."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def check(self, name: str, body: Callable[[], str]) -> bool:
        """Run ``body``; it returns the success detail or raises with the failure."""
        try:
            detail = body()
        except _Bad as exc:
            self.add(name, False, str(exc))
            return False
        except EvidenceError as exc:
            self.add(name, False, _evidence_detail(exc))
            return False
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError) as exc:
            self.add(name, False, f"malformed: {type(exc).__name__}: {exc}"[:300])
            return False
        self.add(name, True, detail)
        return True


def _evidence_detail(exc: EvidenceError) -> str:
    detail = exc.message
    exp, calc = exc.details.get("expected_root"), exc.details.get("calculated_root")
    if exp and calc:
        detail += f" (expected {exp}, calculated {calc})"
    return detail


@dataclass
class _Log:
    origin: str
    verifier: NoteVerifier
    log_id: bytes


@dataclass(frozen=True)
class _Cp:
    tree_size: int
    root: bytes


def verify_bundle(
    bundle: Mapping[str, Any],
    *,
    chain: ChainReader | None = None,
    document_sha256: str | None = None,
) -> BundleVerdict:
    """Verify every claim of a bundle, reading the anchor on ``chain`` (None: those checks are
    not checked); never raises on bad evidence (failed checks instead)."""
    run = _Run()
    if not run.check("bundle.format", lambda: _check_format(bundle)) and not _format_known(bundle):
        return BundleVerdict(tuple(run.checks), FAILED)

    logs: list[_Log] = []
    run.check("log.verifier_key", lambda: _check_log(bundle, logs))
    lg = logs[0] if logs else None
    run.check("log.log_id", lambda: _check_log_id(bundle, lg))

    cps: list[_Cp] = []
    run.check(
        "checkpoint.signature",
        lambda: _check_checkpoint(bundle.get("checkpoint"), lg, cps, "checkpoint"),
    )
    cp = cps[0] if cps else _loose_checkpoint(bundle.get("checkpoint"))

    records = _check_events(run, bundle, cp)
    if records is not None:
        run.check("bundle.documents", lambda: _check_documents(bundle, records))
        run.check("bundle.certificates", lambda: _check_certificates(bundle, records))
    _check_anchor(run, bundle, lg, cp, chain)
    if document_sha256 is not None:
        run.check("document.hash", lambda: _check_document(document_sha256, records))
    checks = tuple(run.checks)
    return BundleVerdict(checks, verdict_of(checks), informative_of(bundle))


def _check_format(bundle: Any) -> str:
    if not isinstance(bundle, Mapping):
        raise _Bad("the bundle is not a JSON object")
    fmt = bundle.get("format")
    if fmt != BUNDLE_FORMAT:
        raise _Bad(f"format is {fmt!r}, not {BUNDLE_FORMAT!r}")
    version = bundle.get("version")
    if version != BUNDLE_VERSION or isinstance(version, bool):
        raise _Bad(f"version {version!r} is not supported (this verifier reads version 1)")
    subject = _get(bundle, "subject", str, "bundle")
    _get(bundle, "tenant", str, "bundle")
    # A top-level field another check reads is reported missing by that check.
    _fields(bundle, "bundle", "the bundle", required=_READ_BY_NO_OTHER_CHECK)
    return f"{BUNDLE_FORMAT} v{BUNDLE_VERSION} for subject {subject!r}"


def _format_known(bundle: Any) -> bool:
    """Whether the bundle is of a format and version this verifier reads, for a subject and a
    tenant (else nothing more is checked); only its set of fields may then be wrong."""
    if not isinstance(bundle, Mapping) or bundle.get("format") != BUNDLE_FORMAT:
        return False
    version = bundle.get("version")
    if version != BUNDLE_VERSION or isinstance(version, bool):
        return False
    return isinstance(bundle.get("subject"), str) and isinstance(bundle.get("tenant"), str)


def _check_log(bundle: Mapping[str, Any], out: list[_Log]) -> str:
    log = _get(bundle, "log", Mapping, "bundle")
    _fields(log, "log", "log")
    origin = _get(log, "origin", str, "log")
    vkey = _get(log, "verifier_key", str, "log")
    if len(vkey) > 1000:
        raise _Bad("log.verifier_key is too long")
    name, public_key = parse_verifier_key(vkey)
    if name != origin:
        raise _Bad(f"the verifier key is named {name!r}, not the log origin {origin!r}")
    out.append(_Log(origin, NoteVerifier(name, public_key), log_id(origin)))
    return f"Ed25519 key of log {origin!r}"


def _check_log_id(bundle: Mapping[str, Any], lg: _Log | None) -> str:
    log = _get(bundle, "log", Mapping, "bundle")
    stated = _hash_field(log, "log_id", "log")
    origin = _get(log, "origin", str, "log")
    expected = log_id(origin)
    if stated != expected:
        raise _Bad(f"log_id {stated.hex()} is not SHA-256(origin) = {expected.hex()}")
    return f"SHA-256({origin!r}) = {expected.hex()}"


def _check_checkpoint(raw: Any, lg: _Log | None, out: list[_Cp], where: str) -> str:
    _fields(raw, "checkpoint", where)
    tree_size = _int(raw, "tree_size", where, low=1)
    root = _hash_field(raw, "root", where)
    note = _get(raw, "note", str, where)
    if len(note) > MAX_NOTE_CHARS:
        raise _Bad(f"{where}.note is too long")
    out_cp = _Cp(tree_size, root)
    if lg is None:
        out.append(out_cp)
        raise _Bad("cannot check the signature without a valid log key")
    body = verify_checkpoint(note, lg.verifier, origin=lg.origin)
    if body.tree_size != tree_size:
        raise _Bad(f"the signed note says tree size {body.tree_size}, the bundle {tree_size}")
    if body.root != root:
        raise _Bad(f"the signed note's root {body.root.hex()} differs from {root.hex()}")
    out.append(out_cp)
    return f"signed by {lg.origin}: tree size {tree_size}, root {root.hex()}"


def _loose_checkpoint(raw: Any) -> _Cp | None:
    try:
        return _Cp(_int(raw, "tree_size", "checkpoint", low=1), _hash_field(raw, "root", "cp"))
    except _Bad:
        return None


def _check_events(
    run: _Run, bundle: Mapping[str, Any], cp: _Cp | None
) -> list[tuple[int, Mapping[str, Any]]] | None:
    """Check every record: leaf hash, subject chain, inclusion; return (leaf_index, record)."""
    events = bundle.get("events")

    def shape() -> str:
        if not isinstance(events, list) or not events:
            raise _Bad("events is not a non-empty list")
        if len(events) > MAX_EVENTS:
            raise _Bad(f"{len(events)} events is over the limit of {MAX_EVENTS}")
        return f"{len(events)} event{'s' if len(events) > 1 else ''}"

    if not run.check("bundle.events", shape):
        return None
    assert isinstance(events, list)
    subject = bundle.get("subject")
    tenant = bundle.get("tenant")
    records: list[tuple[int, Mapping[str, Any]]] = []
    prev_leaf: bytes | None = None
    prev_index = -1
    for i, event in enumerate(events):
        leaves: list[bytes] = []

        def leaf(event: Any = event, leaves: list[bytes] = leaves, i: int = i) -> str:
            record = _get(event, "record", Mapping, f"events[{i}]")
            _fields(event, "event", f"events[{i}]")
            index = _int(event, "leaf_index", f"events[{i}]")
            stated = _hash_field(event, "leaf_hash", f"events[{i}]")
            computed = merkle.leaf_hash(canonicalize(record))
            leaves.append(computed)
            if computed != stated:
                raise _Bad(f"the record hashes to {computed.hex()}, the bundle says {stated.hex()}")
            if record.get("event_id") != event.get("event_id"):
                raise _Bad("the record's event_id differs from the event's")
            return f"leaf {index}: SHA-256(0x00 || JCS(record)) = {computed.hex()}"

        run.check(f"record[{i}].leaf_hash", leaf)
        computed = leaves[0] if leaves else None

        def chain(
            event: Any = event, i: int = i, prev: bytes | None = prev_leaf, last: int = prev_index
        ) -> str:
            record = _get(event, "record", Mapping, f"events[{i}]")
            index = _int(event, "leaf_index", f"events[{i}]")
            if record.get("subject") != subject:
                raise _Bad(f"the record is of subject {record.get('subject')!r}, not {subject!r}")
            if record.get("tenant") != tenant:
                raise _Bad(f"the record is of tenant {record.get('tenant')!r}, not {tenant!r}")
            seq = record.get("subject_seq")
            if seq != i or isinstance(seq, bool):
                raise _Bad(f"subject_seq is {seq!r}, expected {i}")
            if index <= last:
                raise _Bad(f"leaf index {index} is not after the previous record's {last}")
            want = prev.hex() if prev is not None else None
            if i > 0 and prev is None:
                raise _Bad("the previous record's leaf hash could not be computed")
            if record.get("prev_leaf_hash") != want:
                raise _Bad(f"prev_leaf_hash is {record.get('prev_leaf_hash')!r}, expected {want}")
            return "first record of the subject" if i == 0 else f"follows record[{i - 1}]"

        run.check(f"record[{i}].subject_chain", chain)

        def inclusion(event: Any = event, i: int = i, computed: bytes | None = computed) -> str:
            if computed is None:
                raise _Bad("no leaf hash: the record could not be hashed")
            if cp is None:
                raise _Bad("no valid checkpoint to prove against")
            index = _int(event, "leaf_index", f"events[{i}]")
            proof = _proof(event.get("inclusion_proof"), f"events[{i}].inclusion_proof")
            merkle.verify_inclusion(computed, index, cp.tree_size, proof, cp.root)
            return f"leaf {index} is in the tree of size {cp.tree_size}"

        run.check(f"inclusion[{i}]", inclusion)
        prev_leaf = computed
        if isinstance(event, Mapping):
            index = event.get("leaf_index")
            if isinstance(index, int) and not isinstance(index, bool):
                prev_index = index
            record = event.get("record")
            if isinstance(record, Mapping) and isinstance(index, int):
                records.append((index, record))
    return records


def _check_documents(
    bundle: Mapping[str, Any], records: list[tuple[int, Mapping[str, Any]]]
) -> str:
    stated = _get(bundle, "documents", list, "bundle")
    derived = documents_of(records)
    if stated != derived:
        raise _Bad("the documents list differs from the documents named by the records")
    return f"{len(derived)} document hashes, each from its record"


def _check_certificates(
    bundle: Mapping[str, Any], records: list[tuple[int, Mapping[str, Any]]]
) -> str:
    stated = _get(bundle, "certificates", list, "bundle")
    derived = {c["sha256"]: c for c in certificates_of(r for _, r in records)}
    if len(stated) != len(derived):
        raise _Bad(f"{len(stated)} certificates listed, the records name {len(derived)}")
    for i, cert in enumerate(stated):
        where = f"certificates[{i}]"
        _fields(cert, "certificate", where)
        digest = _get(cert, "sha256", str, where)
        named = derived.get(digest)
        if named is None:
            raise _Bad(f"{where} ({digest}) is not named by any record")
        for key in ("serial", "subject", "issuer"):
            if cert.get(key) != named[key]:
                raise _Bad(f"{where}.{key} differs from the record's")
        pem = cert.get("pem")
        if pem is None:
            continue
        if not isinstance(pem, str) or len(pem) > 64 * 1024:
            raise _Bad(f"{where}.pem is not a PEM certificate")
        try:
            loaded = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise _Bad(f"{where}.pem is not a PEM certificate: {exc}") from None
        fingerprint = loaded.fingerprint(hashes.SHA256()).hex()
        if fingerprint != digest:
            raise _Bad(f"{where}.pem has SHA-256 {fingerprint}, the record names {digest}")
        if loaded.public_bytes(serialization.Encoding.PEM).decode("ascii") != pem:
            # PEM readers skip text around the armour: only the one spelling is accepted.
            raise _Bad(f"{where}.pem is not the certificate's PEM text exactly")
    if len(stated) == 1:
        return "1 certificate, named by a record and matching its SHA-256"
    return f"{len(stated)} certificates, each named by a record and matching its SHA-256"


def _check_anchor(
    run: _Run,
    bundle: Mapping[str, Any],
    lg: _Log | None,
    cp: _Cp | None,
    chain: ChainReader | None,
) -> None:
    anchor = bundle.get("anchor")
    if anchor is None:
        run.add("anchor", None, "not yet anchored: the checkpoint is the service's signed promise")
        return
    parsed: list[tuple[int, str, bytes, int, bytes]] = []

    def fields() -> str:
        _fields(anchor, "anchor", "anchor")
        chain_id = _int(anchor, "chain_id", "anchor", low=1)
        contract = _get(anchor, "contract", str, "anchor")
        if not _ADDRESS.match(contract):
            raise _Bad("anchor.contract is not a 0x-prefixed 20-byte address")
        stated_id = _hash_field(anchor, "log_id", "anchor")
        tree_size = _int(anchor, "tree_size", "anchor", low=1)
        root = _hash_field(anchor, "root", "anchor")
        if lg is None:
            raise _Bad("no valid log to compare the anchor's log id with")
        if stated_id != lg.log_id:
            raise _Bad(f"anchor.log_id {stated_id.hex()} is not this log's {lg.log_id.hex()}")
        parsed.append((chain_id, contract, stated_id, tree_size, root))
        return f"chain {chain_id}, contract {contract}, tree size {tree_size}"

    if not run.check("anchor.log_id", fields):
        return
    chain_id, contract, anchor_log_id, anchor_size, anchor_root = parsed[0]

    raw_acp = bundle.get("anchor_checkpoint")
    anchored: list[_Cp] = []
    if raw_acp is None:

        def same() -> str:
            if cp is None:
                raise _Bad("no valid checkpoint")
            if bundle.get("consistency_proof") is not None:
                raise _Bad("a consistency proof without an anchor checkpoint")
            if anchor_size != cp.tree_size:
                raise _Bad(
                    f"the anchor is at tree size {anchor_size}, the checkpoint at {cp.tree_size}, "
                    "and no anchor checkpoint bridges them"
                )
            anchored.append(cp)
            return f"the anchor is of the checkpoint itself (tree size {anchor_size})"

        run.check("anchor.checkpoint", same)
    else:
        run.check(
            "anchor_checkpoint.signature",
            lambda: _check_checkpoint(raw_acp, lg, anchored, "anchor_checkpoint"),
        )
        if not anchored:
            anchored.append(_loose_checkpoint(raw_acp) or _Cp(anchor_size, anchor_root))

        def consistency() -> str:
            if cp is None:
                raise _Bad("no valid checkpoint")
            acp = anchored[0]
            proof = _proof(bundle.get("consistency_proof"), "consistency_proof")
            merkle.verify_consistency(cp.tree_size, acp.tree_size, proof, cp.root, acp.root)
            return f"tree size {acp.tree_size} extends tree size {cp.tree_size}"

        run.check("consistency", consistency)

    def matches() -> str:
        acp = anchored[0] if anchored else None
        if acp is None:
            raise _Bad("no anchored checkpoint")
        if acp.tree_size != anchor_size or acp.root != anchor_root:
            raise _Bad(
                f"anchor (size {anchor_size}, root {anchor_root.hex()}) is not the anchored "
                f"checkpoint (size {acp.tree_size}, root {acp.root.hex()})"
            )
        return f"root {anchor_root.hex()} at tree size {anchor_size}"

    run.check("anchor.root", matches)

    for name, ok, detail in on_chain_checks(
        chain,
        anchor,
        chain_id=chain_id,
        contract=contract,
        log_id=anchor_log_id,
        tree_size=anchor_size,
        root=anchor_root,
    ):
        run.add(name, ok, detail)


def _check_document(sha256: str, records: list[tuple[int, Mapping[str, Any]]] | None) -> str:
    digest = sha256.lower()
    if records is None:
        raise _Bad("the bundle's records could not be read")
    hits = [d for d in documents_of(records) if d["sha256"] == digest]
    if not hits:
        raise _Bad(f"SHA-256 {digest} is not a document of this bundle")
    where = "; ".join(
        f"{d['role']}{' ' + repr(d['name']) if d['name'] else ''} at leaf {d['leaf_index']} "
        f"(event {d['event_id']})"
        for d in hits
    )
    return f"SHA-256 {digest}: {where}"
