"""The anchor is read from the chain, not taken from the bundle: the transaction, its
CheckpointAnchored event, its block number, block hash and block time; and no value of a bundle
can change without the verdict changing, except the fields documented as informative."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence_chain.core.bundle import INFORMATIVE_FIELDS, parse_bundle, verify_bundle
from evidence_chain.core.onchain import (
    ANCHOR_CHAIN_CHECKS,
    CHECKPOINT_ANCHORED_TOPIC,
    ChainLog,
    ChainReceipt,
)
from evidence_chain.errors import ValidationError
from evidence_chain.tenants import create_tenant
from evidence_chain.verify import verify_file, web3_reader
from reports.bundle import build_bundle
from tests.anchoring.conftest import Rig, make_rig
from tests.reports.bundle_fixtures import (
    SUBJECT,
    ChainDouble,
    anchored,
    check,
    checkpoint,
    push,
    to_bytes,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh(instance: Any, tenant: Any) -> dict[str, Any]:
    """An unanchored bundle of a 6-event subject."""
    push(instance, tenant[0], 6)
    checkpoint(instance)
    return build_bundle(instance, tenant[0], SUBJECT)


def failed(verdict: Any) -> list[str]:
    return [c.name for c in verdict.checks if c.ok is False]


def _tx(bundle: dict[str, Any]) -> bytes:
    return bytes.fromhex(bundle["anchor"]["tx_hash"][2:])


# --------------------------------------------------------------------------- one field at a time


def test_a_block_time_set_to_2020_fails_naming_the_field(fresh: dict[str, Any]) -> None:
    chain = ChainDouble()
    bundle = anchored(fresh, chain)
    assert verify_bundle(bundle, chain=chain).verdict == "VERIFIED"
    bundle["anchor"]["block_time"] = "2020-01-01T00:00:00Z"
    verdict = verify_bundle(parse_bundle(to_bytes(bundle)), chain=chain)
    assert verdict.verdict == "FAILED"
    assert failed(verdict) == ["anchor.block_timestamp"]
    detail = check(verdict, "anchor.block_timestamp").detail
    assert "2026-11-21T09:00:12Z" in detail and "2020-01-01T00:00:00Z" in detail


def test_the_auditors_block_timestamp_field_is_refused(fresh: dict[str, Any]) -> None:
    """The field a reader would trust, added by hand: a field format v1 does not have."""
    chain = ChainDouble()
    bundle = anchored(fresh, chain)
    bundle["anchor"]["block_timestamp"] = "2020-01-01T00:00:00Z"
    verdict = verify_bundle(bundle, chain=chain)
    assert verdict.verdict == "FAILED"
    assert "anchor.log_id" in failed(verdict)
    assert "block_timestamp" in check(verdict, "anchor.log_id").detail


def _set(path: str, value: Any) -> Any:
    def change(b: dict[str, Any], chain: ChainDouble) -> None:
        b["anchor"][path] = value

    return change


def _other_tx(b: dict[str, Any], chain: ChainDouble) -> None:
    b["anchor"]["tx_hash"] = "0x" + "ab" * 32


def _reverted(b: dict[str, Any], chain: ChainDouble) -> None:
    tx = _tx(b)
    chain.receipts[tx] = dataclasses.replace(chain.receipts[tx], success=False)


def _event_for(**changes: Any) -> Any:
    """The transaction emitted CheckpointAnchored, but for another log, size or root."""

    def change(b: dict[str, Any], chain: ChainDouble) -> None:
        tx = _tx(b)
        (log,) = chain.receipts[tx].logs
        topics = list(log.topics)
        data = log.data
        if "log_id" in changes:
            topics[1] = changes["log_id"]
        if "tree_size" in changes:
            topics[2] = changes["tree_size"].to_bytes(32, "big")
        if "root" in changes:
            data = changes["root"]
        if "address" in changes:
            log = dataclasses.replace(log, address=changes["address"])
        fake = ChainLog(log.address, tuple(topics), data)
        chain.receipts[tx] = dataclasses.replace(chain.receipts[tx], logs=(fake,))

    return change


def _no_event(b: dict[str, Any], chain: ChainDouble) -> None:
    tx = _tx(b)
    chain.receipts[tx] = dataclasses.replace(chain.receipts[tx], logs=())


def _reorged(b: dict[str, Any], chain: ChainDouble) -> None:
    """The block at that height now has another hash (the anchor's block was re-organised)."""
    number = b["anchor"]["block_number"]
    chain.blocks[number] = dataclasses.replace(chain.blocks[number], hash=b"\x77" * 32)


def _moved(b: dict[str, Any], chain: ChainDouble) -> None:
    """The transaction was mined again, in a later block, after a re-org."""
    tx = _tx(b)
    receipt: ChainReceipt = chain.receipts[tx]
    chain.receipts[tx] = dataclasses.replace(receipt, block_number=13, block_hash=b"\x13" * 32)


def _checksum_case(b: dict[str, Any], chain: ChainDouble) -> None:
    """One letter of an EIP-55 address in the other case (the same address, but not as the
    bundle was written)."""
    address = chain.receipts[_tx(b)].logs[0].address
    b["anchor"]["contract"] = address
    assert verify_bundle(b, chain=chain).verdict == "VERIFIED"
    i = next(i for i, ch in enumerate(address) if ch.isupper())
    b["anchor"]["contract"] = address[:i] + address[i].lower() + address[i + 1 :]


CHAIN_TAMPERS: list[tuple[str, Any, list[str], str]] = [
    ("another transaction", _other_tx, ["anchor.transaction", "anchor.block_number",
     "anchor.block_hash"], "has no transaction"),
    ("reverted", _reverted, ["anchor.transaction"], "reverted"),
    ("no event", _no_event, ["anchor.transaction"], "no CheckpointAnchored"),
    ("event of another size", _event_for(tree_size=5), ["anchor.transaction"], "tree size 5"),
    ("event of another root", _event_for(root=b"\x01" * 32), ["anchor.transaction"], "0101"),
    ("event of another log", _event_for(log_id=b"\x02" * 32), ["anchor.transaction"], "0202"),
    ("event from another contract", _event_for(address="0x" + "66" * 20),
     ["anchor.transaction"], "no CheckpointAnchored"),
    ("block number", _set("block_number", 11), ["anchor.block_number", "anchor.block_hash",
     "anchor.block_timestamp"], "the bundle says 11"),
    ("block hash", _set("block_hash", "0x" + "cd" * 32), ["anchor.block_hash"], "cdcd"),
    ("block time", _set("block_time", "2026-11-21T09:00:13Z"), ["anchor.block_timestamp"],
     "mined at 2026-11-21T09:00:12Z"),
    ("block time another spelling", _set("block_time", "2026-11-21T09:00:12+00:00"),
     ["anchor.block_timestamp"], "not a time like"),
    ("block hash upper case", lambda b, c: b["anchor"].update(
        block_hash=b["anchor"]["block_hash"].upper().replace("0X", "0x")),
     ["anchor.block_hash"], "lowercase"),
    ("tx hash without 0x", lambda b, c: b["anchor"].update(tx_hash=b["anchor"]["tx_hash"][2:]),
     ["anchor.transaction", "anchor.block_number", "anchor.block_hash"], "0x and 64"),
    ("block number null", _set("block_number", None), ["anchor.block_number",
     "anchor.block_hash", "anchor.block_timestamp"], "not a block number"),
    ("re-organised block", _reorged, ["anchor.block_hash"], "7777"),
    ("moved by a re-org", _moved, ["anchor.block_number", "anchor.block_hash"], "block 13"),
    ("contract letter case", _checksum_case, ["anchor.transaction"], "EIP-55"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "tamper", "names", "words"), CHAIN_TAMPERS, ids=[t[0] for t in CHAIN_TAMPERS]
)
def test_the_anchor_is_read_from_the_chain_and_each_mismatch_fails_naming_it(
    fresh: dict[str, Any], what: str, tamper: Any, names: list[str], words: str
) -> None:
    chain = ChainDouble()
    bundle = anchored(fresh, chain)
    assert verify_bundle(bundle, chain=chain).verdict == "VERIFIED"
    tamper(bundle, chain)
    verdict = verify_bundle(parse_bundle(to_bytes(bundle)), chain=chain)
    assert verdict.verdict == "FAILED", what
    assert failed(verdict) == names, (what, verdict.failed())
    assert words in check(verdict, names[0]).detail, check(verdict, names[0]).detail


def test_without_a_chain_every_chain_check_is_not_checked(fresh: dict[str, Any]) -> None:
    bundle = anchored(fresh, ChainDouble())
    bundle["anchor"]["block_time"] = "2020-01-01T00:00:00Z"  # nothing reads it: not checked
    verdict = verify_bundle(bundle)
    assert verdict.verdict == "INCOMPLETE"
    assert [c.name for c in verdict.checks if c.ok is None] == list(ANCHOR_CHAIN_CHECKS)


def test_a_chain_serving_another_chain_id_fails_every_chain_check_and_reads_nothing_else(
    fresh: dict[str, Any],
) -> None:
    chain = ChainDouble()
    bundle = anchored(fresh, chain)
    chain.served = 1
    verdict = verify_bundle(bundle, chain=chain)
    assert failed(verdict) == list(ANCHOR_CHAIN_CHECKS)
    assert (
        "serves chain 1, the anchor is on chain 31337"
        in check(verdict, "anchor.root_on_chain").detail
    )
    assert chain.calls == [("chain_id",)]


def test_the_event_topic_is_the_contracts() -> None:
    from web3 import Web3

    from evidence_chain.anchoring.contract import load_artifact

    (event,) = [e for e in load_artifact()["abi"] if e.get("name") == "CheckpointAnchored"]
    signature = "CheckpointAnchored(" + ",".join(i["type"] for i in event["inputs"]) + ")"
    assert bytes(Web3.keccak(text=signature)) == CHECKPOINT_ANCHORED_TOPIC
    assert [i["indexed"] for i in event["inputs"]] == [True, True, False]


# --------------------------------------------------------------------------- a real chain


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    yield from make_rig(database_url, tmp_path / "home")


def test_on_the_service_chain_the_anchor_verifies_and_a_changed_time_fails(rig: Rig) -> None:
    """The page's reader (the service's own chain) and a court's (web3) agree."""
    from reports.service import instance_chain_reader

    tenant, _ = create_tenant(rig.instance.engine, "Anchored Platform")
    push(rig.instance, tenant, 3)
    assert rig.anchorer.anchor_now() is not None
    bundle = build_bundle(rig.instance, tenant, SUBJECT)
    service = instance_chain_reader(rig.instance)
    court = web3_reader(rig.w3)
    for reader in (service, court):
        verdict = verify_bundle(bundle, chain=reader)
        assert verdict.verdict == "VERIFIED", verdict.failed()
        block = rig.w3.eth.get_block(bundle["anchor"]["block_number"])
        assert "0x" + bytes(block["hash"]).hex() == bundle["anchor"]["block_hash"]
    changed = copy.deepcopy(bundle)
    changed["anchor"]["block_time"] = "2020-01-01T00:00:00Z"
    for reader in (service, court):
        verdict = verify_bundle(changed, chain=reader)
        assert failed(verdict) == ["anchor.block_timestamp"]
    # The public page and API say the same.
    body = rig.client.post(
        "/api/v1/verify", data=json.dumps(changed), content_type="application/json"
    ).get_json()
    assert body["verdict"] == "FAILED"
    assert {c["name"]: c["ok"] for c in body["checks"]}["anchor.block_timestamp"] is False
    body = rig.client.post(
        "/api/v1/verify", data=json.dumps(bundle), content_type="application/json"
    ).get_json()
    assert body["verdict"] == "VERIFIED", body["checks"]
    assert {i["field"] for i in body["informative"]} == set(INFORMATIVE_FIELDS)
    page = rig.client.post(
        "/verify",
        data={"file": (io.BytesIO(json.dumps(bundle).encode()), "bundle.json")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    ).get_data(as_text=True)
    assert "VERIFIED" in page and "Informative, as the file states it" in page
    assert "<code>anchor.confirmations</code>" in page and "anchor.block_timestamp" in page


# --------------------------------------------------------------------------- the documentation


def test_the_format_documents_every_field_and_marks_exactly_the_informative_ones() -> None:
    from evidence_chain.core.bundle import _FIELDS

    text = (ROOT / "docs" / "evidence-bundle.md").read_text(encoding="utf-8")
    table = text[text.index("## Fields") : text.index("### Which checkpoint")]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    documented: set[str] = set()
    informative: set[str] = set()
    for row in rows:
        cells = row.split(" | ")
        found = re.findall(r"`([a-z0-9_\[\].]+)`", cells[0])
        if not found:
            continue
        parent = found[0].rsplit(".", 1)[0]  # `certificates[].serial`, `.subject`: same parent
        names = {(parent + n if n.startswith(".") else n).removesuffix("[]") for n in found}
        documented |= names | {n.split(".")[0].removesuffix("[]") for n in names}
        if "**informative**" in row:
            informative |= names
    prefixes = {
        "bundle": "",
        "log": "log.",
        "checkpoint": "checkpoint.",
        "event": "events[].",
        "anchor": "anchor.",
        "certificate": "certificates[].",
    }
    for kind, fields in _FIELDS.items():
        for name in fields:
            assert prefixes[kind] + name in documented, prefixes[kind] + name
    assert informative == set(INFORMATIVE_FIELDS)
    # The field is block_time (as the service writes it); the check is anchor.block_timestamp.
    assert "anchor.block_time" in documented and "anchor.block_timestamp" not in documented


# --------------------------------------------------------------------------- every value, on anvil


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, i))
    else:
        yield path, value


def _objects(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        yield path
        for key, item in value.items():
            yield from _objects(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _objects(item, (*path, i))


def _other_char(ch: str) -> str:
    for pool in ("0123456789abcdef", "0123456789ABCDEF", "abcdefghijklmnopqrstuvwxyz"):
        if ch in pool:
            return pool[(pool.index(ch) + 1) % len(pool)]
    return "x" if ch != "x" else "y"


def _mutations(value: Any) -> list[Any]:
    """Ways one value can be changed: another last character, one letter in the other case,
    an extra character, a 0x prefix added or taken away; the number next to it; the other
    boolean; a value where there was null."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1]
    if value is None:
        return [0, ""]
    if isinstance(value, str):
        out = [value + " ", value[:-1] + _other_char(value[-1]) if value else "x"]
        letters = [i for i, ch in enumerate(value) if ch.isalpha() and ch.swapcase() != ch]
        if letters:
            i = letters[len(letters) // 2]
            out.append(value[:i] + value[i].swapcase() + value[i + 1 :])
        out.append(value[2:] if value.startswith("0x") else "0x" + value)
        return out
    raise AssertionError(f"unexpected JSON value {value!r}")


def _put(bundle: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        bundle = bundle[key]
    bundle[path[-1]] = value


def _verdict(bundle: dict[str, Any], reader: Any) -> tuple[str, Any]:
    """The verdict on a bundle file, REFUSED when it is no longer a bundle at all (exit 64)."""
    try:
        result = verify_file(json.dumps(bundle).encode(), chain=reader)
    except ValidationError:
        return "REFUSED", None
    return result.verdict, result


def _name(path: tuple[Any, ...]) -> str:
    return ".".join("[]" if isinstance(p, int) else str(p) for p in path).replace(".[]", "[]")


@pytest.mark.anvil
@pytest.mark.slow
def test_no_value_of_a_real_bundle_changes_without_the_verdict_failing(
    database_url: str, tmp_path: Path
) -> None:
    """Every leaf of a real bundle anchored on anvil, changed in every way above, and every
    object given an unknown field or deprived of one: FAILED, unless the field is one the format
    documents as informative, which the verdict then carries with its new value."""
    from tests.reports.anvil_report import anvil_report

    with anvil_report(database_url, tmp_path) as made:
        bundle = json.loads(made.bundle_json)
        reader = made.reader
        base = verify_file(made.bundle_json, chain=reader)
        assert base.verdict == "VERIFIED", [c for c in base.checks if not c.ok]
        assert any(c["pem"] for c in bundle["certificates"])  # a real certificate is covered
        changes = 0
        survivors: list[str] = []
        for path, value in list(_leaves(bundle)):
            for new in _mutations(value):
                changed = copy.deepcopy(bundle)
                _put(changed, path, new)
                verdict, result = _verdict(changed, reader)
                changes += 1
                name = _name(path)
                if name in INFORMATIVE_FIELDS:
                    assert verdict == "VERIFIED", name
                    assert (name, new) in result.informative, name
                elif verdict not in ("FAILED", "REFUSED"):
                    survivors.append(f"{name}: {value!r} -> {new!r}: {verdict}")
        for path in list(_objects(bundle)):
            if "record" in path:  # a record's every byte is under its leaf hash (tested above)
                continue
            target: Any = bundle
            for key in path:
                target = target[key]
            keys = list(target)
            for variant in ("unknown", *keys):
                changed = copy.deepcopy(bundle)
                node = changed
                for key in path:
                    node = node[key]
                if variant == "unknown":
                    node["note"] = "anchored on 2020-01-01"
                else:
                    del node[variant]
                verdict, _ = _verdict(changed, reader)
                changes += 1
                if verdict not in ("FAILED", "REFUSED"):
                    survivors.append(f"{_name(path) or 'bundle'} {variant}: {verdict}")
        assert not survivors, survivors
        assert changes > 500


def test_the_command_prints_informative_fields_apart_and_escaped(
    fresh: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from evidence_chain.verify import main

    bundle = anchored(fresh, ChainDouble())
    bundle["anchor"]["status"] = "\x1b[2J\u202econfirmed"  # a screen clear, a bidi override
    path = tmp_path / "bundle.json"
    path.write_bytes(to_bytes(bundle))
    assert main([str(path)]) == 2
    out = capsys.readouterr().out
    section = out[out.index("informative, as the file states it") :]
    assert f'generated_at          "{bundle["generated_at"]}"' in section
    assert 'anchor.status         "\\u001b[2J\\u202econfirmed"' in section
    assert "anchor.confirmations  2" in section
    assert "\x1b" not in out and "\u202e" not in out
    assert main([str(path), "--json"]) == 2
    body = json.loads(capsys.readouterr().out)
    assert body["informative"][1] == {"field": "anchor.status", "value": bundle["anchor"]["status"]}
