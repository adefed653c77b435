"""RFC 8785 JSON Canonicalization Scheme (JCS), and the strict JSON parser for request bodies.

Pure and I/O-free. Leaf hashes are ``SHA-256(0x00 || canonicalize(record))``, so this output
is a frozen format: any change to it is a change to every leaf hash.

JCS works on the I-JSON data model: numbers are IEEE-754 doubles. A Python ``int`` is accepted
only while it is exactly a double integer that cannot be confused with a neighbour
(``|n| <= 2**53``); larger integers would be silently rounded by every JCS verifier, so they
are rejected instead of hashed in a form another implementation cannot reproduce.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from evidence_chain.core.errors import CanonicalizationError

__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "canonical_text",
    "canonicalize",
    "format_number",
    "nesting_depth",
    "parse_json",
]

MAX_SAFE_INTEGER = 2**53
"""Largest integer magnitude accepted: beyond it not every integer is a distinct double."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
# json's C encoder with ensure_ascii=False escapes exactly what JCS (ECMAScript
# JSON.stringify) escapes: \" \\ \b \f \n \r \t, other C0 controls as lowercase \u00xx, and
# nothing else.
_quote = json.encoder.encode_basestring


class _Reject(Exception):
    """Internal: a value cannot be canonicalized; ``segments`` is the path, innermost first."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.segments: list[str] = []


def _key_segment(key: str) -> str:
    """Render one object key as a JSONPath segment."""
    return f".{key}" if _IDENTIFIER.match(key) else f"[{json.dumps(key)}]"


def _path(segments: list[str]) -> str:
    """Join path segments collected innermost first into ``$.a.b[3]`` form."""
    return "$" + "".join(reversed(segments))


def _error(reject: _Reject) -> CanonicalizationError:
    """Turn the internal rejection into the public error naming the path."""
    path = _path(reject.segments)
    return CanonicalizationError(
        f"{path}: {reject.reason}", details={"path": path, "reason": reject.reason}
    )


def format_number(value: float) -> str:
    """Serialise a finite double as ECMAScript Number.prototype.toString (RFC 8785 3.2.2.3)."""
    try:
        return _format_float(value)
    except _Reject as reject:
        raise _error(reject) from None


def _format_float(value: float) -> str:
    """Serialise a double, raising _Reject for NaN and the infinities."""
    if value != value or value in (math.inf, -math.inf):
        raise _Reject(f"{value!r} is not a JSON number")
    if value == 0:
        return "0"  # also -0.0
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER and value.is_integer():
        return str(int(value))
    # repr() gives the shortest digit string that round-trips (the closest one on ties), which
    # is the digit string ECMAScript asks for; only the layout differs.
    text = repr(value)
    sign = ""
    if text[0] == "-":
        sign = "-"
        text = text[1:]
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    # value = 0.<digits> * 10**point
    point = len(whole) + (int(exponent) if exponent else 0)
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    digits = significant.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    e = point - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _string(value: str) -> str:
    """Quote a string the JCS way; lone surrogates cannot be encoded as UTF-8 and are rejected."""
    if not value.isascii() and _SURROGATE.search(value):
        raise _Reject("string contains a lone surrogate, which is not valid Unicode text")
    return _quote(value)


def _sort_key(key: str) -> bytes:
    """Order object keys by their UTF-16 code units, as RFC 8785 3.2.3 requires."""
    return key.encode("utf-16-be", "surrogatepass")


def _encode(value: object, out: list[str]) -> None:
    """Append the canonical form of ``value`` to ``out``; raise _Reject on failure."""
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            out.append(str(int(value)))
        else:
            raise _Reject(
                f"integer {value} exceeds 2**53: JSON numbers are IEEE-754 doubles and it "
                "would not survive a round trip; send it as a string"
            )
    elif isinstance(value, float):
        out.append(_format_float(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise _Reject(f"object key {key!r} ({type(key).__name__}) is not a string")
        out.append("{")
        first = True
        for key in sorted(value, key=_sort_key):
            if not first:
                out.append(",")
            first = False
            try:
                out.append(_string(key))
                out.append(":")
                _encode(value[key], out)
            except _Reject as reject:
                reject.segments.append(_key_segment(key))
                raise
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            try:
                _encode(item, out)
            except _Reject as reject:
                reject.segments.append(f"[{index}]")
                raise
        out.append("]")
    else:
        raise _Reject(f"unsupported type {type(value).__name__}")


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_FAST_DUMPS = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


def _plain(value: object) -> bool:
    """True when the standard library's encoder already produces the JCS form of ``value``.

    That holds for strings, booleans, null, integers within 2**53, and arrays and objects of
    them whose keys sort the same by code point as by UTF-16 code unit (no key with a
    character beyond the BMP). Floats need the ES6 number format and lone surrogates must be
    rejected, so both take the full encoder, as does anything unusual. The walk is a loop over
    exact types (this check runs on every event, so it must cost less than the encoding it
    guards); a document nested too deeply for the fast encoder falls back to the full one.
    """
    stack: list[Any] = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            if not item.isascii() and _SURROGATE.search(item):
                return False
        elif kind is dict:
            for key, member in item.items():
                if type(key) is not str or not (
                    key.isascii() or not (_SURROGATE.search(key) or _ASTRAL.search(key))
                ):
                    return False
                push(member)
        elif kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
        elif kind is list or kind is tuple:
            extend(item)
        elif not (item is None or kind is bool):
            return False
    return True


def canonical_text(value: object) -> str:
    """The RFC 8785 form of ``value`` as text: :func:`canonicalize` without the UTF-8 step,
    and a string quoted directly (the common case when a record is put together)."""
    if type(value) is str and (value.isascii() or not _SURROGATE.search(value)):
        return _quote(value)
    return canonicalize(value).decode("utf-8")


def canonicalize(value: object) -> bytes:
    """Return the RFC 8785 canonical JSON of ``value`` as UTF-8 bytes.

    Accepts dict (string keys), list, tuple, str, int (``|n| <= 2**53``), finite float, bool
    and None. Raises :class:`CanonicalizationError` naming the path (``$.data.items[3]``) of
    the first value that cannot be canonicalized.
    """
    if _plain(value):
        try:
            return _FAST_DUMPS(value).encode("utf-8")
        except RecursionError:
            pass  # nested beyond the fast encoder: the full one says so, with the path
    return _canonicalize_full(value)


def _canonicalize_full(value: object) -> bytes:
    """The complete RFC 8785 encoder: every number format and every rejection with its path."""
    out: list[str] = []
    try:
        _encode(value, out)
    except _Reject as reject:
        raise _error(reject) from None
    except RecursionError:
        raise CanonicalizationError(
            "$: value is nested too deeply", details={"path": "$", "reason": "too deep"}
        ) from None
    return "".join(out).encode("utf-8")


# --------------------------------------------------------------------------- parsing


class _Invalid:
    """Internal marker left in a parsed document where a value was rejected."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _find_invalid(value: object) -> _Reject | None:
    """Locate the first _Invalid marker in document order, with its path."""
    stack: list[tuple[object, list[str]]] = [(value, [])]
    while stack:
        node, segments = stack.pop()
        if isinstance(node, _Invalid):
            reject = _Reject(node.reason)
            reject.segments = list(reversed(segments))
            return reject
        if isinstance(node, dict):
            items = [(v, [*segments, _key_segment(k)]) for k, v in node.items()]
        elif isinstance(node, list):
            items = [(v, [*segments, f"[{i}]"]) for i, v in enumerate(node)]
        else:
            continue
        stack.extend(reversed(items))
    return None


MAX_DEPTH = 128
"""Deepest nesting of arrays and objects :func:`parse_json` accepts by default."""

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of arrays and objects in JSON text (strings skipped), before parsing.

    The JSON parser recurses in C; measuring first keeps a hostile body from exhausting the
    stack. Counting stops once ``limit`` is exceeded.
    """
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def parse_json(text: bytes | str, *, max_depth: int = MAX_DEPTH) -> object:
    """Parse strict JSON (UTF-8): no duplicate keys, no NaN/Infinity, no numbers a double loses.

    Integers up to ``2**53`` in magnitude become ``int``; larger integer literals become
    ``float`` when they are exactly a double or a double's canonical form, and are rejected
    otherwise, so nothing is silently rounded and canonical output always parses back.

    Raises :class:`CanonicalizationError` with the path of the offending value, or with the
    line and column when the text is not JSON at all, or when it nests deeper than
    ``max_depth``.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CanonicalizationError(
                f"$: body is not valid UTF-8 (byte {exc.start})",
                details={"path": "$", "reason": "not UTF-8", "offset": exc.start},
            ) from None
    depth = nesting_depth(text, max_depth)
    if depth > max_depth:
        raise CanonicalizationError(
            f"$: JSON nested more than {max_depth} levels deep",
            details={"path": "$", "reason": "too deep", "limit": max_depth},
        )
    invalid = False

    def pairs_hook(pairs: list[tuple[str, Any]]) -> object:
        nonlocal invalid
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            duplicate = ""
            for key, _ in pairs:
                if key in seen:
                    duplicate = key
                    break
                seen.add(key)
            invalid = True
            # Report the repeated key's value as the offender.
            result[duplicate] = _Invalid(f"duplicate object key {duplicate!r}")
        return result

    def constant_hook(name: str) -> object:
        nonlocal invalid
        invalid = True
        return _Invalid(f"{name} is not a JSON value")

    def float_hook(literal: str) -> object:
        nonlocal invalid
        number = float(literal)
        if math.isinf(number):
            invalid = True
            return _Invalid(f"number {literal} is out of the IEEE-754 double range")
        return number

    def int_hook(literal: str) -> object:
        nonlocal invalid
        number = int(literal)
        if -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
            return number
        # Beyond 2**53 an integer literal is kept (as a float) only if it names one double
        # without doubt: it is exactly that double, or it is that double's canonical form
        # (JCS writes 2**56 + 8 as 72057594037927940). Anything else, such as
        # 9007199254740993, would be silently rounded, so it is rejected rather than altered.
        try:
            approx = float(number)
        except OverflowError:
            approx = math.inf
        if not math.isinf(approx) and (
            int(approx) == number or _format_float(approx) == str(number)
        ):
            return approx
        invalid = True
        return _Invalid(
            f"integer {literal} is not exactly representable as an IEEE-754 double; "
            "send it as a string"
        )

    try:
        value = json.loads(
            text,
            object_pairs_hook=pairs_hook,
            parse_constant=constant_hook,
            parse_float=float_hook,
            parse_int=int_hook,
        )
    except json.JSONDecodeError as exc:
        raise CanonicalizationError(
            f"$: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            details={"path": "$", "reason": exc.msg, "line": exc.lineno, "column": exc.colno},
        ) from None
    except (ValueError, RecursionError) as exc:  # e.g. integer with too many digits, nesting
        raise CanonicalizationError(
            f"$: not acceptable JSON: {exc}", details={"path": "$", "reason": str(exc)}
        ) from None
    if invalid:
        reject = _find_invalid(value)
        if reject is not None:
            raise _error(reject)
    return value
