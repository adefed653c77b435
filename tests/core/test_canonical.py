"""RFC 8785 JCS: cyberphone vectors, RFC 8785 Appendix B, 10,000 ES6 numbers, rejections."""

from __future__ import annotations

import hashlib
import json
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_chain.core.canonical import canonicalize, format_number, parse_json
from evidence_chain.errors import CanonicalizationError

from ._vectors import VECTORS, load_json, unhex

CYBERPHONE = VECTORS / "jcs" / "cyberphone"
CYBERPHONE_CASES = ["arrays", "french", "structures", "unicode", "values", "weird"]


def double(bits_hex: str) -> float:
    """The IEEE-754 double with the given bit pattern."""
    return struct.unpack(">d", int(bits_hex, 16).to_bytes(8, "big"))[0]


@pytest.mark.parametrize("name", CYBERPHONE_CASES)
def test_cyberphone_files(name: str) -> None:
    source = (CYBERPHONE / "input" / f"{name}.json").read_bytes()
    expected = (CYBERPHONE / "output" / f"{name}.json").read_bytes()
    expected_hex = (CYBERPHONE / "outhex" / f"{name}.txt").read_text().split()
    assert bytes.fromhex("".join(expected_hex)) == expected
    got = canonicalize(parse_json(source))
    assert got == expected
    # canonical output is a fixed point
    assert canonicalize(parse_json(got)) == got


def test_cyberphone_testdata_json() -> None:
    vectors = load_json("jcs/cyberphone_testdata.json")["vectors"]
    assert sorted(v["name"] for v in vectors) == CYBERPHONE_CASES
    for v in vectors:
        got = canonicalize(parse_json(v["input"]))
        assert got == v["expected"].encode("utf-8")
        assert got.hex() == v["expected_hex"].replace(" ", "").lower()


def test_rfc8785_appendix_b_numbers() -> None:
    vectors = load_json("jcs/rfc8785_appendix_b_numbers.json")["vectors"]
    assert len(vectors) == 26
    for v in vectors:
        value = double(v["ieee_hex"])
        if v["expected"] is None:
            with pytest.raises(CanonicalizationError):
                canonicalize(value)
            with pytest.raises(CanonicalizationError):
                format_number(value)
        else:
            assert format_number(value) == v["expected"], v
            assert canonicalize([value]) == f"[{v['expected']}]".encode()


def test_es6_numbers_first_10000() -> None:
    path = VECTORS / "jcs" / "es6_numbers_first10000.txt"
    raw = path.read_bytes()
    checksums = {c["lines"]: c for c in load_json("jcs/es6_numbers.json")["checksums"]}
    assert hashlib.sha256(raw).hexdigest() == checksums[10000]["sha256"]
    lines = raw.decode("ascii").splitlines()
    assert len(lines) == 10000
    static = load_json("jcs/es6_numbers.json")["static_u64_hex"]
    assert [int(h, 16) for h in static] == [int(line.split(",")[0], 16) for line in lines[:168]]
    for line in lines:
        bits, expected = line.split(",")
        value = double(bits)
        got = format_number(value)
        assert got == expected, (bits, expected, got)
        assert float(got) == value


def _rekor_leaves() -> list[bytes]:
    vectors = (
        load_json("rekor/sigstore_python_inclusion.json")["vectors"]
        + load_json("rekor/sigstore_conformance_inclusion.json")["vectors"]
    )
    return [unhex(v["leaf"]) for v in vectors]


def test_rekor_leaves_are_fixed_points() -> None:
    leaves = _rekor_leaves()
    assert len(leaves) == 60
    for leaf in leaves:
        assert canonicalize(parse_json(leaf)) == leaf


def test_strings_escaped_as_jcs_requires() -> None:
    value = '"\\\b\f\n\r\t\x00\x1f\x7f\u2028\u20ac/😂'
    assert canonicalize(value) == (
        '"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\u2028\u20ac/😂"'.encode()
    )


def test_keys_sorted_by_utf16_code_units() -> None:
    # U+FB33 sorts before U+1F602 by code point, but after it by UTF-16 code units (D83D DE02).
    value = {"\ufb33": 1, "\U0001f602": 2, "a": 3, "": 4, "\u00f6": 5}
    expected = '{"":4,"a":3,"\u00f6":5,"\U0001f602":2,"\ufb33":1}'
    assert canonicalize(value) == expected.encode("utf-8")


def test_accepted_types() -> None:
    assert canonicalize(None) == b"null"
    assert canonicalize((True, False, 0, -1, 2**53, -(2**53))) == (
        b"[true,false,0,-1,9007199254740992,-9007199254740992]"
    )
    assert canonicalize({"a": [], "b": {}}) == b'{"a":[],"b":{}}'
    assert canonicalize(-0.0) == b"0"
    assert canonicalize(1.0) == b"1"
    assert canonicalize(0.1) == b"0.1"
    assert canonicalize(1e21) == b"1e+21"
    assert canonicalize(1e-7) == b"1e-7"
    assert canonicalize(123e-9) == b"1.23e-7"


def _reject(value: object) -> CanonicalizationError:
    with pytest.raises(CanonicalizationError) as err:
        canonicalize(value)
    return err.value


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"data": {"items": [0, 1, 2, math.nan]}}, "$.data.items[3]"),
        ({"data": [math.inf]}, "$.data[0]"),
        ([{"x": -math.inf}], "$[0].x"),
        ({"data": {1: "one"}}, "$.data"),
        ({"n": [2**53 + 1]}, "$.n[0]"),
        ({"n": -(2**64)}, "$.n"),
        ({"s": ["ok", "bad \ud800 surrogate"]}, "$.s[1]"),
        ({"\udc00": 1}, '$["\\udc00"]'),
        ({"key with space": {"when": b"bytes"}}, '$["key with space"].when'),
        ({"set": {1, 2}}, "$.set"),
    ],
)
def test_rejections_name_the_path(value: object, path: str) -> None:
    err = _reject(value)
    assert err.details["path"] == path
    assert err.message.startswith(path + ": ")


def test_big_int_reason_says_why() -> None:
    err = _reject(2**53 + 1)
    assert "IEEE-754" in err.message and err.details["path"] == "$"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"a": 1, "b": {"c": 1, "c": 2}}', "$.b.c"),
        ('[{"x": 1, "x": 1}]', "$[0].x"),
        ('{"a": [1, NaN]}', "$.a[1]"),
        ('{"a": Infinity}', "$.a"),
        ("[-Infinity]", "$[0]"),
        ('{"big": 1e400}', "$.big"),
        ('{"a": ', "$"),
        ("[1,]", "$"),
        (b"\xff\xfe{}", "$"),
    ],
)
def test_parse_json_rejections_name_the_path(text: str | bytes, path: str) -> None:
    with pytest.raises(CanonicalizationError) as err:
        parse_json(text)
    assert err.value.details["path"] == path


def test_parse_json_accepts_plain_json() -> None:
    assert parse_json(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


def test_parse_json_large_integers() -> None:
    """Exact doubles beyond 2**53 are kept (as floats); integers a double would round are not."""
    assert parse_json("[9007199254740992]") == [2**53]
    assert isinstance(parse_json("9007199254740992"), int)
    value = parse_json("[100000000000000000000, 9007199254740994]")
    assert value == [1e20, 9007199254740994.0]
    assert canonicalize(value) == b"[100000000000000000000,9007199254740994]"
    # this double's canonical form is not its exact value; both name it without doubt
    d = 6.68990230453373e16
    assert format_number(d) == "66899023045337300" != str(int(d))
    assert parse_json("66899023045337300") == parse_json(str(int(d))) == d
    with pytest.raises(CanonicalizationError) as err:
        parse_json('{"id": 9007199254740993}')
    assert err.value.details["path"] == "$.id"
    with pytest.raises(CanonicalizationError):
        parse_json("1" + "0" * 400)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=8), children, max_size=5
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_canonical_round_trip(value: object) -> None:
    """Canonical output parses back to an equal value and is its own canonical form."""
    out = canonicalize(value)
    parsed = parse_json(out)
    assert _same(parsed, value)
    assert _same(json.loads(out), value)
    assert canonicalize(parsed) == out


def _same(a: object, b: object) -> bool:
    """JSON data-model equality: numbers compare as doubles (1 == 1.0, -0.0 == 0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_number_round_trips(value: float) -> None:
    text = format_number(value)
    assert float(text) == value
    assert "e" not in text or abs(value) >= 1e21 or abs(value) < 1e-6


plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.text(st.characters(codec="utf-8")),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(st.characters(codec="utf-8"), max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(json_values, plain_values))
def test_fast_path_equals_the_full_encoder(value: object) -> None:
    """The standard-library fast path yields byte for byte what the full JCS encoder yields."""
    from evidence_chain.core.canonical import _canonicalize_full, _plain

    full = _canonicalize_full(value)
    assert canonicalize(value) == full
    if _plain(value):
        assert (
            json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
            == full
        )


def test_fast_path_declines_what_it_cannot_encode() -> None:
    """Floats, astral-plane keys, lone surrogates and big integers take the full encoder."""
    from evidence_chain.core.canonical import _plain

    assert _plain({"a": [1, "x", None, True], "b": {"c": "中文"}})
    assert not _plain({"a": 1.5})
    assert not _plain({"\U0001f600": 1, "\ufb33": 2})  # UTF-16 order differs from code points
    assert not _plain({"a": "\ud800"})
    assert not _plain({"a": 2**53 + 1})
    assert not _plain({1: "a"})
    assert canonicalize({"\U0001f600": 1, "\ufb33": 2}) == '{"\U0001f600":1,"\ufb33":2}'.encode()


def test_parse_json_refuses_deep_nesting_before_the_parser_recurses() -> None:
    """A hostile body nested far deeper than any record is refused with a clear error."""
    from evidence_chain.core.canonical import MAX_DEPTH, nesting_depth

    deep = "[" * 200_000 + "]" * 200_000
    with pytest.raises(CanonicalizationError, match="nested more than 128 levels"):
        parse_json(deep)
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert nesting_depth(ok) == MAX_DEPTH
    assert parse_json(ok) is not None
    # Brackets inside strings (escaped quotes included) do not count.
    assert nesting_depth('{"a": "[[[\\"[[", "b": [[1]]}') == 3
