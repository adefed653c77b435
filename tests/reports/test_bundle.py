"""Evidence bundles built from a real instance, verified by the core: fresh ones verify, every
tampered field fails naming its check, malformed input never raises."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence_chain.anchoring.contract import contract as anchor_contract
from evidence_chain.anchoring.contract import log_id, transact
from evidence_chain.core.bundle import (
    BUNDLE_FORMAT,
    MAX_EVENTS,
    parse_bundle,
    verify_bundle,
)
from evidence_chain.core.note import Checkpoint, sign_checkpoint
from evidence_chain.core.onchain import ANCHOR_CHAIN_CHECKS
from evidence_chain.errors import NotFoundError, ValidationError
from evidence_chain.events import parse_event
from evidence_chain.logkey import LogKey
from evidence_chain.tenants import create_tenant
from evidence_chain.verify import web3_reader
from reports.bundle import build_bundle
from tests.anchoring.conftest import Rig, make_rig
from tests.reports.bundle_fixtures import (
    CONTRACT,
    SUBJECT,
    ChainDouble,
    anchored,
    check,
    checkpoint,
    doc_hash,
    push,
    to_bytes,
)


@pytest.fixture
def fresh(instance: Any, tenant: Any) -> dict[str, Any]:
    """An unanchored bundle of a 12-event subject (24 leaves: another subject interleaved)."""
    push(instance, tenant[0], 12)
    checkpoint(instance)
    return build_bundle(instance, tenant[0], SUBJECT)


def names(verdict: Any, ok: bool | None) -> list[str]:
    return [c.name for c in verdict.checks if c.ok is ok]


# --------------------------------------------------------------------------- building


def test_fresh_bundle_holds_every_record_proof_and_document(
    fresh: dict[str, Any], instance: Any, tenant: Any
) -> None:
    b = fresh
    assert b["format"] == BUNDLE_FORMAT and b["version"] == 1
    assert b["subject"] == SUBJECT and b["tenant"] == tenant[0].public_id
    assert [e["record"]["subject_seq"] for e in b["events"]] == list(range(12))
    assert [e["leaf_index"] for e in b["events"]] == list(range(0, 24, 2))
    assert b["checkpoint"]["tree_size"] == 24
    assert b["log"]["log_id"] == hashlib.sha256(b"sealtrail.test/log").hexdigest()
    assert b["log"]["verifier_key"] == instance.ledger.key.verifier_key
    assert b["anchor"] is None and b["consistency_proof"] is None
    # The original (with its name), and before/after of the one signing step (event 3).
    roles = [(d["role"], d["sha256"], d["leaf_index"], d["name"]) for d in b["documents"]]
    assert roles == [
        ("document", doc_hash("original"), 0, "合同.pdf"),
        ("original", doc_hash("before-3"), 6, None),
        ("signed", doc_hash("after-3"), 6, None),
    ]
    (cert,) = b["certificates"]
    assert cert["sha256"] == doc_hash("cert-3") and cert["pem"] is None
    # It is plain JSON and survives a round trip through bytes.
    assert parse_bundle(to_bytes(b)) == json.loads(to_bytes(b))


def test_unanchored_bundle_is_incomplete_and_everything_else_holds(fresh: dict[str, Any]) -> None:
    verdict = verify_bundle(parse_bundle(to_bytes(fresh)))
    assert verdict.verdict == "INCOMPLETE"
    assert names(verdict, None) == ["anchor"]
    assert names(verdict, False) == []
    held = names(verdict, True)
    for i in range(12):
        assert {f"record[{i}].leaf_hash", f"record[{i}].subject_chain", f"inclusion[{i}]"} <= set(
            held
        )
    assert {"bundle.format", "log.verifier_key", "log.log_id", "checkpoint.signature"} <= set(held)
    assert "not yet anchored" in check(verdict, "anchor").detail


def test_anchored_bundle_verifies_against_the_chain(fresh: dict[str, Any]) -> None:
    chain = ChainDouble()
    bundle = anchored(fresh, chain)
    verdict = verify_bundle(bundle, chain=chain)
    assert verdict.verdict == "VERIFIED", verdict.failed()
    assert ("root_at", CONTRACT, bytes.fromhex(fresh["log"]["log_id"]), 24) in chain.calls
    assert fresh["checkpoint"]["root"] in check(verdict, "anchor.root_on_chain").detail
    assert "2026-11-21T09:00:12Z" in check(verdict, "anchor.block_timestamp").detail
    # Without an RPC endpoint the chain is not read: incomplete, not verified.
    offline = verify_bundle(bundle)
    assert offline.verdict == "INCOMPLETE"
    assert names(offline, None) == list(ANCHOR_CHAIN_CHECKS)


def test_document_hash_is_found_with_its_role_and_step(fresh: dict[str, Any]) -> None:
    found = verify_bundle(fresh, document_sha256=doc_hash("after-3").upper())
    doc = check(found, "document.hash")
    assert doc.ok is True and "signed at leaf 6" in doc.detail
    assert fresh["events"][3]["event_id"] in doc.detail
    missing = verify_bundle(fresh, document_sha256=doc_hash("never signed"))
    assert missing.verdict == "FAILED" and names(missing, False) == ["document.hash"]


def test_builder_refuses_unknown_foreign_and_uncheckpointed_subjects(
    instance: Any, tenant: Any
) -> None:
    push(instance, tenant[0], 2)
    with pytest.raises(NotFoundError, match="not yet under a signed checkpoint"):
        build_bundle(instance, tenant[0], SUBJECT)
    checkpoint(instance)
    other, _ = create_tenant(instance.engine, "Someone Else")
    with pytest.raises(NotFoundError):
        build_bundle(instance, other, SUBJECT)
    with pytest.raises(NotFoundError):
        build_bundle(instance, tenant[0], "envelope:unknown")
    with pytest.raises(NotFoundError, match="does not cover"):
        build_bundle(instance, tenant[0], SUBJECT, tree_size=1)


def test_builder_pages_through_long_subjects(instance: Any, tenant: Any) -> None:
    events = [parse_event({**_plain(i)}) for i in range(1005)]
    instance.ledger.append(tenant[0].id, tenant[0].public_id, events)
    checkpoint(instance)
    bundle = build_bundle(instance, tenant[0], "long:1")
    assert len(bundle["events"]) == 1005
    assert verify_bundle(bundle).verdict == "INCOMPLETE"


def _plain(i: int) -> dict[str, Any]:
    return {"type": "step", "subject": "long:1", "occurred_at": "2026-11-21T09:00:00Z"}


def test_certificate_pem_comes_from_the_signer_store(app: Any, instance: Any, tenant: Any) -> None:
    from signing.pki import Identity
    from web.context import services

    service = services(app).signing
    signer = service.signer_for(tenant[0].id, Identity("Alice Zhang", email="alice@example.com"))
    from cryptography.hazmat.primitives import hashes, serialization

    cert = signer.certificate
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    body = {
        "type": "document.signed",
        "subject": SUBJECT,
        "occurred_at": "2026-11-21T09:00:00Z",
        "data": {
            "sha256_before": doc_hash("a"),
            "sha256_after": doc_hash("b"),
            "certificate": {
                "serial": format(cert.serial_number, "x"),
                "sha256": fingerprint,
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
            },
        },
    }
    instance.ledger.append(tenant[0].id, tenant[0].public_id, [parse_event(body)])
    checkpoint(instance)
    bundle = build_bundle(instance, tenant[0], SUBJECT)
    (listed,) = bundle["certificates"]
    assert listed["pem"] == cert.public_bytes(serialization.Encoding.PEM).decode()
    assert check(verify_bundle(bundle), "bundle.certificates").ok is True
    # Another certificate's PEM under this fingerprint is caught.
    other = service.signer_for(tenant[0].id, Identity("Bob Li")).certificate
    swapped = copy.deepcopy(bundle)
    swapped["certificates"][0]["pem"] = other.public_bytes(serialization.Encoding.PEM).decode()
    verdict = verify_bundle(swapped)
    assert names(verdict, False) == ["bundle.certificates"]


# --------------------------------------------------------------------------- tampering


def _flip_hex(value: str) -> str:
    return ("1" if value[0] != "1" else "2") + value[1:]


Tamper = Callable[[dict[str, Any]], None]


def _record_field(b: dict[str, Any]) -> None:
    b["events"][5]["record"]["data"]["ip"] = "203.0.113.8"


def _record_and_leaf(b: dict[str, Any]) -> None:
    from evidence_chain.core.canonical import canonicalize
    from evidence_chain.core.merkle import leaf_hash

    b["events"][5]["record"]["actor"]["email"] = "mallory@example.com"
    b["events"][5]["leaf_hash"] = leaf_hash(canonicalize(b["events"][5]["record"])).hex()


def _proof_hash(b: dict[str, Any]) -> None:
    proof = b["events"][4]["inclusion_proof"]
    proof[2] = _flip_hex(proof[2])


def _signature(b: dict[str, Any]) -> None:
    note = b["checkpoint"]["note"]
    body, sig = note.rsplit(" ", 1)
    sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    b["checkpoint"]["note"] = f"{body} {sig}"


def _root(b: dict[str, Any]) -> None:
    b["checkpoint"]["root"] = _flip_hex(b["checkpoint"]["root"])


def _other_key(b: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = LogKey(origin=b["log"]["origin"], private_key=Ed25519PrivateKey.generate())
    b["log"]["verifier_key"] = key.verifier_key


def _resigned_by_other_key(b: dict[str, Any]) -> None:
    """Someone with another key signs the same checkpoint and ships their key: the note
    verifies, but the key is not the log's (caught only by the anchor on chain: root differs)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = LogKey(origin=b["log"]["origin"], private_key=Ed25519PrivateKey.generate())
    b["log"]["verifier_key"] = key.verifier_key
    fake_root = hashlib.sha256(b"forged").digest()
    cp = Checkpoint(b["log"]["origin"], b["checkpoint"]["tree_size"], fake_root)
    b["checkpoint"]["note"] = sign_checkpoint(cp, key.origin, key.private_key)
    b["checkpoint"]["root"] = fake_root.hex()
    b["anchor"]["root"] = fake_root.hex()


def _log_id(b: dict[str, Any]) -> None:
    b["log"]["log_id"] = _flip_hex(b["log"]["log_id"])


def _drop_event(b: dict[str, Any]) -> None:
    del b["events"][6]


def _swap_events(b: dict[str, Any]) -> None:
    b["events"][2], b["events"][3] = b["events"][3], b["events"][2]


def _extra_document(b: dict[str, Any]) -> None:
    b["documents"].append({**b["documents"][0], "sha256": doc_hash("forged")})


def _anchor_root(b: dict[str, Any]) -> None:
    b["anchor"]["root"] = _flip_hex(b["anchor"]["root"])


def _anchor_log(b: dict[str, Any]) -> None:
    b["anchor"]["log_id"] = _flip_hex(b["anchor"]["log_id"])


def _other_subject(b: dict[str, Any]) -> None:
    b["subject"] = "envelope:other"


TAMPERS: list[tuple[str, Tamper, str]] = [
    ("record field", _record_field, "record[5].leaf_hash"),
    ("record with matching leaf hash", _record_and_leaf, "inclusion[5]"),
    ("proof hash", _proof_hash, "inclusion[4]"),
    ("checkpoint signature", _signature, "checkpoint.signature"),
    ("checkpoint root", _root, "checkpoint.signature"),
    ("verifier key", _other_key, "checkpoint.signature"),
    ("re-signed with another key", _resigned_by_other_key, "anchor.root_on_chain"),
    ("log id", _log_id, "log.log_id"),
    ("dropped event", _drop_event, "record[6].subject_chain"),
    ("swapped events", _swap_events, "record[2].subject_chain"),
    ("forged document", _extra_document, "bundle.documents"),
    ("anchor root", _anchor_root, "anchor.root"),
    ("anchor log id", _anchor_log, "anchor.log_id"),
    ("subject", _other_subject, "record[0].subject_chain"),
]


@pytest.mark.parametrize(("what", "tamper", "failed"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_tampered_bundle_fails_naming_the_check(
    fresh: dict[str, Any], what: str, tamper: Tamper, failed: str
) -> None:
    chain = ChainDouble()
    bundle = anchored(fresh, chain)
    assert verify_bundle(bundle, chain=chain).verdict == "VERIFIED"
    tamper(bundle)
    verdict = verify_bundle(parse_bundle(to_bytes(bundle)), chain=chain)
    assert verdict.verdict == "FAILED"
    assert failed in names(verdict, False), (what, verdict.failed())


def test_flipping_any_byte_of_a_record_is_caught(fresh: dict[str, Any]) -> None:
    text = to_bytes(fresh["events"][7]["record"])
    for position in range(0, len(text), 7):
        changed = bytearray(text)
        changed[position] ^= 0x01
        try:
            record = json.loads(changed.decode("utf-8"))
        except ValueError:
            continue
        if record == fresh["events"][7]["record"]:
            continue  # whitespace: the same record
        bundle = copy.deepcopy(fresh)
        bundle["events"][7]["record"] = record
        verdict = verify_bundle(bundle)
        assert verdict.verdict == "FAILED", position
        assert "record[7].leaf_hash" in names(verdict, False), position


def test_on_chain_root_mismatch_missing_root_and_wrong_chain(fresh: dict[str, Any]) -> None:
    chain = ChainDouble()
    bundle = anchored(fresh, chain)
    lid = bytes.fromhex(fresh["log"]["log_id"])
    chain.anchor(CONTRACT, lid, 24, hashlib.sha256(b"another root").digest())
    verdict = verify_bundle(bundle, chain=chain)
    root = check(verdict, "anchor.root_on_chain")
    assert root.ok is False and hashlib.sha256(b"another root").hexdigest() in root.detail
    chain.roots.clear()
    assert (
        "holds no root" in check(verify_bundle(bundle, chain=chain), "anchor.root_on_chain").detail
    )
    other_chain = ChainDouble(served=1)
    wrong = check(verify_bundle(bundle, chain=other_chain), "anchor.root_on_chain")
    assert wrong.ok is False and "chain 1" in wrong.detail


def test_unreachable_chain_is_incomplete_not_verified(fresh: dict[str, Any]) -> None:
    down = ChainDouble()
    bundle = anchored(fresh, down)
    down.down = True
    verdict = verify_bundle(bundle, chain=down)
    assert verdict.verdict == "INCOMPLETE"
    for name in ANCHOR_CHAIN_CHECKS:
        assert check(verdict, name).ok is None
        assert "connection refused" in check(verdict, name).detail


# --------------------------------------------------------------------------- malformed input

Mutation = Callable[[dict[str, Any]], Any]

MALFORMED: list[tuple[str, Mutation]] = [
    ("not an object", lambda b: [b]),
    ("version 2", lambda b: {**b, "version": 2}),
    ("version true", lambda b: {**b, "version": True}),
    ("no log", lambda b: {k: v for k, v in b.items() if k != "log"}),
    ("log is a list", lambda b: {**b, "log": [1]}),
    ("verifier key garbage", lambda b: {**b, "log": {**b["log"], "verifier_key": "x+y+z"}}),
    ("verifier key huge", lambda b: {**b, "log": {**b["log"], "verifier_key": "a" * 10**6}}),
    ("no checkpoint", lambda b: {**b, "checkpoint": None}),
    ("note is a number", lambda b: {**b, "checkpoint": {**b["checkpoint"], "note": 7}}),
    ("tree size negative", lambda b: {**b, "checkpoint": {**b["checkpoint"], "tree_size": -1}}),
    ("tree size huge", lambda b: {**b, "checkpoint": {**b["checkpoint"], "tree_size": 2**70}}),
    ("root bad hex", lambda b: {**b, "checkpoint": {**b["checkpoint"], "root": "zz" * 32}}),
    ("events empty", lambda b: {**b, "events": []}),
    ("events a string", lambda b: {**b, "events": "all"}),
    ("events huge", lambda b: {**b, "events": [None] * (MAX_EVENTS + 1)}),
    ("event is null", lambda b: {**b, "events": [None, *b["events"][1:]]}),
    ("record is a string", lambda b: _event(b, record="{}")),
    ("leaf index a string", lambda b: _event(b, leaf_index="0")),
    ("leaf index bool", lambda b: _event(b, leaf_index=False)),
    ("leaf hash short", lambda b: _event(b, leaf_hash="ab")),
    ("proof huge", lambda b: _event(b, inclusion_proof=["00" * 32] * 10**5)),
    ("proof of numbers", lambda b: _event(b, inclusion_proof=[1, 2, 3])),
    ("record not canonicalizable", lambda b: _event(b, record={"n": 2**60})),
    ("documents a dict", lambda b: {**b, "documents": {}}),
    ("certificates of null", lambda b: {**b, "certificates": [None]}),
    ("anchor a string", lambda b: {**b, "anchor": "yes"}),
    ("anchor chain id text", lambda b: _anchor(b, chain_id="31337")),
    ("anchor contract short", lambda b: _anchor(b, contract="0x12")),
    ("anchor checkpoint junk", lambda b: {**_anchor(b), "anchor_checkpoint": {"note": []}}),
    ("consistency junk", lambda b: {**_anchor(b), "consistency_proof": "x"}),
]


def _event(b: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(b)
    out["events"][0].update(changes)
    return out


def _anchor(b: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = anchored(b, ChainDouble())
    out["anchor"].update(changes)
    return out


@pytest.mark.parametrize(("what", "mutate"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_bundle_fails_without_raising(
    fresh: dict[str, Any], what: str, mutate: Mutation
) -> None:
    verdict = verify_bundle(mutate(fresh), chain=ChainDouble())
    assert verdict.verdict == "FAILED", what
    assert verdict.failed()
    assert all(c.detail for c in verdict.failed())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"format": "other"}',
        b"\xff\xfe",
        b"[" * 100_000,
        b'{"a":1,"a":2}',
    ],
)
def test_parse_bundle_refuses_non_bundles(data: bytes) -> None:
    with pytest.raises(ValidationError, match="not an evidence bundle"):
        parse_bundle(data)


# --------------------------------------------------------------------------- real anchors


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    """An instance anchoring to an in-process py-evm chain with a fresh contract."""
    yield from make_rig(database_url, tmp_path / "home")


def test_anchored_by_the_service_on_chain_with_consistency_proof(rig: Rig) -> None:
    inst = rig.instance
    tenant, _ = create_tenant(inst.engine, "Bundle Platform")
    push(inst, tenant, 5)
    first = checkpoint(inst)  # 10 leaves, never anchored on its own
    push(inst, tenant, 4, subject="envelope:later")
    anchor = rig.anchorer.anchor_now()
    assert anchor is not None and anchor.tree_size == 18
    reader = web3_reader(rig.w3)

    direct = build_bundle(inst, tenant, SUBJECT)
    assert direct["checkpoint"]["tree_size"] == 18 and direct["anchor_checkpoint"] is None
    assert direct["anchor"]["tx_hash"] == "0x" + (anchor.tx_hash or b"").hex()
    verdict = verify_bundle(direct, chain=reader)
    assert verdict.verdict == "VERIFIED", verdict.failed()

    bridged = build_bundle(inst, tenant, SUBJECT, tree_size=first.tree_size)
    assert bridged["checkpoint"]["tree_size"] == 10
    assert bridged["anchor_checkpoint"]["tree_size"] == 18 and bridged["consistency_proof"]
    verdict = verify_bundle(bridged, chain=reader)
    assert verdict.verdict == "VERIFIED", verdict.failed()
    assert check(verdict, "consistency").ok is True

    broken = copy.deepcopy(bridged)
    broken["consistency_proof"][0] = _flip_hex(broken["consistency_proof"][0])
    verdict = verify_bundle(broken, chain=reader)
    assert verdict.verdict == "FAILED" and "consistency" in names(verdict, False)


def test_second_deployment_with_another_root_at_the_same_size_fails(rig: Rig) -> None:
    inst = rig.instance
    tenant, _ = create_tenant(inst.engine, "Bundle Platform")
    push(inst, tenant, 3)
    anchor = rig.anchorer.anchor_now()
    assert anchor is not None
    bundle = build_bundle(inst, tenant, SUBJECT)
    other = rig.chain.deploy(rig.signer)
    forged = hashlib.sha256(b"a different history").digest()
    fn = anchor_contract(rig.w3, other).functions.anchor(
        log_id(inst.ledger.key.origin), anchor.tree_size, forged
    )
    transact(rig.w3, rig.signer.key, fn)
    reader = web3_reader(rig.w3)
    assert verify_bundle(bundle, chain=reader).verdict == "VERIFIED"
    bundle["anchor"]["contract"] = other
    verdict = verify_bundle(bundle, chain=reader)
    assert verdict.verdict == "FAILED"
    assert names(verdict, False) == ["anchor.root_on_chain", "anchor.transaction"]
    assert forged.hex() in check(verdict, "anchor.root_on_chain").detail
    assert "no CheckpointAnchored event from" in check(verdict, "anchor.transaction").detail
    # A contract address with no code at all.
    bundle["anchor"]["contract"] = "0x" + "00" * 19 + "01"
    verdict = verify_bundle(bundle, chain=reader)
    assert "no contract" in check(verdict, "anchor.root_on_chain").detail
