"""C2SP signed notes and tlog checkpoints: the spec example, tampering, strict parsing."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_chain.core.note import (
    Checkpoint,
    NoteVerifier,
    encode_signer_key,
    encode_verifier_key,
    key_id,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    split_note,
    verify_checkpoint,
)
from evidence_chain.errors import VerificationError

from ._vectors import load_json, unhex

EXAMPLE = load_json("signed_note/c2sp_examples.json")["vectors"][0]
# A fixed key, so failures are reproducible (RFC 8032 test 1 secret key).
KEY = Ed25519PrivateKey.from_private_bytes(
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
)
PUBLIC = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
ORIGIN = "sealtrail.example/log"
VKEY = encode_verifier_key(ORIGIN, PUBLIC)
ROOT = bytes(range(32))


def reason(fn, *args) -> str:
    """Run ``fn`` expecting VerificationError; return its reason."""
    with pytest.raises(VerificationError) as err:
        fn(*args)
    return str(err.value.details.get("reason"))


def test_c2sp_example_verifies() -> None:
    assert EXAMPLE["valid"] is True
    assert open_note(EXAMPLE["note"], EXAMPLE["vkey"]) == "This is an example message.\n"
    name, public_key = parse_verifier_key(EXAMPLE["vkey"])
    assert name == "example.com/foo"
    assert key_id(name, public_key).hex() == "530d903a"
    assert encode_verifier_key(name, public_key) == EXAMPLE["vkey"]
    body, sigs = split_note(EXAMPLE["note"].encode("utf-8"))
    assert body == "This is an example message.\n"
    assert [(s.name, s.key_id.hex(), len(s.signature)) for s in sigs] == [
        ("example.com/foo", "530d903a", 64)
    ]


def _flips(data: bytes):
    for i in range(len(data)):
        for bit in range(8):
            b = bytearray(data)
            b[i] ^= 1 << bit
            yield i, bytes(b)


def test_c2sp_example_any_bit_flip_fails() -> None:
    note = EXAMPLE["note"].encode("utf-8")
    for i, tampered in _flips(note):
        with pytest.raises(VerificationError):
            open_note(tampered, EXAMPLE["vkey"])
        if i < 10:  # also through the str interface, where the text still decodes
            try:
                text = tampered.decode("utf-8")
            except UnicodeDecodeError:
                continue
            with pytest.raises(VerificationError):
                open_note(text, EXAMPLE["vkey"])


def test_own_note_any_bit_flip_fails() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 42, ROOT, ("ext one",)), ORIGIN, KEY)
    verify_checkpoint(note, VKEY)
    for _, tampered in _flips(note.encode("utf-8")):
        with pytest.raises(VerificationError):
            verify_checkpoint(tampered, VKEY)


def test_round_trip_and_format() -> None:
    cp = Checkpoint(ORIGIN, 1234, ROOT)
    text = sign_checkpoint(cp, ORIGIN, KEY)
    body = f"{ORIGIN}\n1234\n{base64.b64encode(ROOT).decode()}\n"
    assert cp.to_text() == body
    assert text.startswith(body + "\n\u2014 " + ORIGIN + " ")
    assert text.endswith("\n")
    raw = base64.b64decode(text.rsplit(" ", 1)[1])
    assert raw[:4] == key_id(ORIGIN, PUBLIC) and len(raw) == 68
    assert verify_checkpoint(text, VKEY) == cp
    assert verify_checkpoint(text, NoteVerifier.from_vkey(VKEY), origin=ORIGIN) == cp
    with pytest.raises(VerificationError) as err:
        verify_checkpoint(text, VKEY, origin="other.example/log")
    assert err.value.details["reason"] == "wrong_origin"


@settings(max_examples=50, deadline=None)
@given(
    lines=st.lists(
        st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=0, max_size=20),
        min_size=1,
        max_size=5,
    )
)
def test_sign_open_round_trip(lines: list[str]) -> None:
    body = "".join(line + "\n" for line in lines)
    note = sign_note(body, ORIGIN, KEY)
    assert open_note(note, VKEY) == body


def test_extensions_round_trip() -> None:
    cp = Checkpoint(ORIGIN, 0, ROOT, ("Timestamp: 1", "x"))
    assert Checkpoint.parse(cp.to_text()) == cp
    assert verify_checkpoint(sign_checkpoint(cp, ORIGIN, KEY), VKEY) == cp


def test_unknown_signatures_are_ignored_and_cosigned_notes_verify() -> None:
    other = Ed25519PrivateKey.from_private_bytes(bytes(32))
    body = Checkpoint(ORIGIN, 7, ROOT).to_text()
    mine = sign_note(body, ORIGIN, KEY)
    witness = sign_note(body, "witness.example", other).split("\n\n", 1)[1]
    cosigned = mine + witness
    assert open_note(cosigned, VKEY) == body
    # witness first also works
    assert open_note(body + "\n" + witness + mine.split("\n\n", 1)[1], VKEY) == body
    # same name, other key: a different key ID, so ignored; without ours it is missing
    impostor = sign_note(body, ORIGIN, other)
    assert reason(open_note, impostor, VKEY) == "missing_signature"
    assert open_note(impostor + mine.split("\n\n", 1)[1], VKEY) == body


def test_missing_and_bad_signatures() -> None:
    body = "hello\n"
    note = sign_note(body, ORIGIN, KEY)
    sig_line = note.split("\n\n", 1)[1]
    assert reason(open_note, sign_note(body, "someone.else", KEY), VKEY) == "missing_signature"
    # a signature by our key name and ID over another text
    foreign = sign_note("other\n", ORIGIN, KEY).split("\n\n", 1)[1]
    assert reason(open_note, body + "\n" + foreign, VKEY) == "bad_signature"
    # duplicates of the known key: one good and one bad, or even two good, are rejected
    assert reason(open_note, note + foreign, VKEY) == "duplicate_signature"
    assert reason(open_note, body + "\n" + foreign + sig_line, VKEY) == "duplicate_signature"
    assert reason(open_note, note + sig_line, VKEY) == "duplicate_signature"


@pytest.mark.parametrize(
    "text",
    [
        "hello\n\u2014 k AAAAAAA=\n",  # no blank line
        "hello\n\n",  # no signatures
        "hello\n\n\u2014 k AAAAAAA=",  # signature line without newline
        "hello\n\n- k AAAAAAA=\n",  # hyphen, not em dash
        "hello\n\n\u2014 k  AAAAAAA=\n",  # two spaces
        "hello\n\n\u2014 k+x AAAAAAA=\n",  # plus in name
        "hello\n\n\u2014  AAAAAAA=\n",  # empty name
        "hello\n\n\u2014 k AAAA\n",  # fewer than 5 bytes
        "hello\n\n\u2014 k AAAAAAB=\n",  # non-canonical base64 padding bits
        "hello\n\n\u2014 k AAAAAAA\n",  # missing padding
        "hello\r\n\n\u2014 k AAAAAAA=\n",  # carriage return
        "hel\tlo\n\n\u2014 k AAAAAAA=\n",  # tab
        "hello\n\n\u2014 k AAAAAAA=\n\n",  # trailing blank line
        "hello\n\n\u2014 k AAAAAAA=\n\u2014 k\n",  # second line malformed
        "\ud800\n\n\u2014 k AAAAAAA=\n",  # lone surrogate
    ],
)
def test_malformed_notes(text: str) -> None:
    with pytest.raises(VerificationError) as err:
        split_note(text)
    assert err.value.details["reason"] == "malformed_note"
    assert reason(open_note, text, VKEY) == "malformed_note"


def test_non_utf8_note() -> None:
    note = sign_note("h\u00e9llo\n", ORIGIN, KEY).encode("utf-8")
    assert reason(open_note, note.replace(b"\xc3\xa9", b"\xe9"), VKEY) == "malformed_note"


def test_body_without_final_newline_is_not_signed() -> None:
    with pytest.raises(ValueError):
        sign_note("no newline", ORIGIN, KEY)
    with pytest.raises(ValueError):
        sign_note("tab\there\n", ORIGIN, KEY)
    with pytest.raises(ValueError):
        sign_note("ok\n", "bad name", KEY)


@pytest.mark.parametrize(
    "vkey",
    [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong id
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # upper hex
        "example.com/foo+530d903a+AkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # bad base64
        "example.com/foo+530d903a",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k+x",
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ],
)
def test_bad_verifier_keys(vkey: str) -> None:
    assert reason(parse_verifier_key, vkey) == "bad_verifier_key"
    assert reason(open_note, EXAMPLE["note"], vkey) == "bad_verifier_key"


def test_signer_key_round_trip() -> None:
    skey = encode_signer_key(ORIGIN, KEY)
    assert skey.startswith(f"PRIVATE+KEY+{ORIGIN}+{key_id(ORIGIN, PUBLIC).hex()}+")
    name, private_key = parse_signer_key(skey)
    assert name == ORIGIN
    assert open_note(sign_note("x\n", name, private_key), VKEY) == "x\n"
    with pytest.raises(ValueError):
        parse_signer_key(skey.replace("PRIVATE+KEY", "PUBLIC+KEY"))


B64_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (f"o\n01\n{B64_ROOT}\n", 2),  # leading zero
        (f"o\n00\n{B64_ROOT}\n", 2),
        (f"o\n1a\n{B64_ROOT}\n", 2),  # not decimal
        (f"o\n-1\n{B64_ROOT}\n", 2),
        (f"o\n+1\n{B64_ROOT}\n", 2),
        (f"o\n 1\n{B64_ROOT}\n", 2),
        (f"o\n\u0661\n{B64_ROOT}\n", 2),  # Arabic-Indic digit one
        (f"o\n18446744073709551616\n{B64_ROOT}\n", 2),  # 2**64
        (f"o\n\n{B64_ROOT}\n", 2),
        ("o\n1\nAAAA\n", 3),  # 3-byte root
        (f"o\n1\n{base64.b64encode(bytes(33)).decode()}\n", 3),  # 33-byte root
        (f"o\n1\n{B64_ROOT[:-1]}\n", 3),  # missing padding
        (f"o\n1\n{B64_ROOT[:-2]}B=\n", 3),  # non-canonical padding bits
        (f"o\n1\n{B64_ROOT.replace('A', '-', 1)}\n", 3),  # base64url alphabet
        (f"\n1\n{B64_ROOT}\n", 1),  # empty origin
        (f"o\n1\n{B64_ROOT}\n\n", 4),  # empty extension line
        (f"o\n1\n{B64_ROOT}", 0),  # no final newline
        ("o\n1\n", 2),  # too few lines
    ],
)
def test_checkpoint_parse_errors(body: str, line: int) -> None:
    with pytest.raises(VerificationError) as err:
        Checkpoint.parse(body)
    assert err.value.details == {"reason": "malformed_checkpoint", "line": line}


def test_checkpoint_parse_accepts_zero_and_large() -> None:
    assert Checkpoint.parse(f"o\n0\n{B64_ROOT}\n").tree_size == 0
    big = 2**64 - 1
    assert Checkpoint.parse(f"o\n{big}\n{B64_ROOT}\n").tree_size == big


def test_checkpoint_constructor_rejects_bad_values() -> None:
    for args in [
        ("", 1, ROOT),
        ("a\nb", 1, ROOT),
        ("o", -1, ROOT),
        ("o", 1, b"x"),
        ("o", True, ROOT),
    ]:
        with pytest.raises(ValueError):
            Checkpoint(*args)
    with pytest.raises(ValueError):
        Checkpoint("o", 1, ROOT, ("",))


def test_rekor_checkpoints_parse_and_match_their_proofs() -> None:
    """Real Rekor checkpoints (v1 ECDSA and v2 Ed25519 signature lines) parse with the same code."""
    vectors = (
        load_json("rekor/sigstore_python_inclusion.json")["vectors"]
        + load_json("rekor/sigstore_conformance_inclusion.json")["vectors"]
    )
    checked = 0
    for v in vectors:
        match = v["extractor_check"]["checkpoint_size_and_root_match"]
        text = v["checkpoint"]
        if text is None:
            assert match is None
            continue
        checked += 1
        if v["id"].split("/")[-2] == "rekor2-checkpoint-missing-log-signature_fail":
            assert reason(split_note, text) == "malformed_note"  # no signature line at all
        else:
            body, sigs = split_note(text)
            assert body == text[: text.rfind("\n\n") + 1] and sigs
        try:
            cp = Checkpoint.parse(text[: text.rfind("\n\n") + 1])
        except VerificationError:
            assert match is False, v["id"]
            continue
        ok = cp.tree_size == v["tree_size"] and cp.root == unhex(v["root"])
        assert ok == match, v["id"]
    assert checked >= 50
