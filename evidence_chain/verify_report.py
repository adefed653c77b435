"""A certificate of evidence as a file: the bytes of its signature, and what follows it.

pyHanko checks the report's signature (digest, CMS signature, chain) and classifies later
revisions. What a signature does not cover is checked here, so that no byte of a report can
change without the verdict changing, except the two values a DSS update writes that nothing can
prove (reported as informative):

- the ``/Contents`` of every signature and document time-stamp: exactly the hex of one DER
  CMS object, in one letter case, then zero padding; the CMS's unsigned parts are as RFC 5652
  prescribes (version, digest algorithms, one signer) and every certificate and CRL it carries
  is validly signed by a certificate of the file or a trust root;
- the document security store (DSS): every certificate, CRL and OCSP response in it is
  validly signed, listed once, and the ``/VRI`` entries name signatures of the file;
- every revision after the last signature or time-stamp (not covered by any): read byte for
  byte (objects, cross-reference table, trailer, nothing else), and holding only a DSS update:
  the catalog gains ``/DSS`` and nothing else changes in it, the document information and XMP
  metadata change only in their modification date (the same instant in both), the trailer
  keeps the document's ``/Root``, ``/Info`` and first ``/ID``. The modification date and the
  second ``/ID`` (random) are informative.

Only the verifier imports this module (pyHanko, asn1crypto and ``cryptography``, no service).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp

__all__ = [
    "AfterSignature",
    "ReportFileError",
    "check_after_signature",
]


class ReportFileError(Exception):
    """The file is not what a certificate of evidence may be; the message says what."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AfterSignature:
    """What follows the report's signature, in words, and the values no check covers."""

    detail: str
    informative: tuple[tuple[str, Any], ...] = ()


# --------------------------------------------------------------------------- signatures


def _tlv_length(data: bytes) -> int:
    """Length of the DER element at the start of ``data`` (definite lengths only)."""
    if len(data) < 2:
        raise ReportFileError("the signature's /Contents is empty")
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        raise ReportFileError("the signature's /Contents does not start with a DER object")
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def _contents(pdf: bytes, sig_object: Any, what: str) -> tuple[bytes, bytes]:
    """``(CMS DER, /Contents bytes)`` of a signature, its hex spelled one way only."""
    try:
        start, first, second, tail = (int(x) for x in sig_object["/ByteRange"])
    except Exception:
        raise ReportFileError(f"{what}: the /ByteRange is not four integers") from None
    if start != 0 or not 0 < first < second <= len(pdf) or second + tail > len(pdf):
        raise ReportFileError(f"{what}: the /ByteRange does not describe this file")
    raw = pdf[first:second]
    if len(raw) < 2 or raw[:1] != b"<" or raw[-1:] != b">":
        raise ReportFileError(f"{what}: the /Contents is not a hex string between the ranges")
    text = raw[1:-1]
    if re.fullmatch(rb"[0-9A-F]*|[0-9a-f]*", text) is None or len(text) % 2:
        raise ReportFileError(
            f"{what}: the /Contents hex has other characters, an odd length or mixed case"
        )
    contents = bytes.fromhex(text.decode("ascii"))
    length = _tlv_length(contents)
    if length > len(contents):
        raise ReportFileError(f"{what}: the CMS object is longer than its /Contents")
    padding = contents[length:]
    if padding.strip(b"\x00"):
        at = length + len(padding) - len(padding.lstrip(b"\x00"))
        raise ReportFileError(
            f"{what}: the padding after the CMS object is not all zero bytes (byte {at})"
        )
    return contents[:length], contents


def _der_lengths_minimal(
    data: bytes, start: int = 0, end: int | None = None, depth: int = 0
) -> bool:
    """Every length in ``data[start:end]`` is in its one DER form (short below 128, else the
    fewest bytes), nested elements included: no element has two spellings."""
    end = len(data) if end is None else end
    if depth > 64:
        return False
    pos = start
    while pos < end:
        if end - pos < 2:
            return False
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:  # high tag numbers: base-128, no leading 0x80
            if data[pos] == 0x80:
                return False
            while pos < end and data[pos] & 0x80:
                pos += 1
            pos += 1
        if pos >= end:
            return False
        first = data[pos]
        pos += 1
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            if count == 0 or count > 4 or pos + count > end or data[pos] == 0:
                return False
            length = int.from_bytes(data[pos : pos + count], "big")
            if length < 0x80:
                return False
            pos += count
        if pos + length > end:
            return False
        if tag & 0x20 and not _der_lengths_minimal(data, pos, pos + length, depth + 1):
            return False
        pos += length
    return True


def _asn1_certs(signed_data: Any) -> list[bytes]:
    certs = signed_data["certificates"]
    if not certs:
        return []
    out = []
    for choice in certs:
        if choice.name != "certificate":
            raise ReportFileError(f"a signature carries a {choice.name} certificate")
        out.append(choice.chosen.dump())
    return out


def _check_cms(der: bytes, what: str, *, timestamp: bool) -> tuple[Any, list[bytes], list[bytes]]:
    """Parse one CMS ContentInfo; check its unsigned structure; return it with the DER of the
    certificates and CRLs it carries (those of its time-stamp token included)."""
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise ReportFileError(f"{what}: the CMS object is not SignedData")
        signed = info["content"]
        canonical = _der_lengths_minimal(der)
    except ReportFileError:
        raise
    except Exception as exc:
        raise ReportFileError(f"{what}: the CMS object cannot be read: {exc}"[:300]) from None
    if not canonical:
        raise ReportFileError(f"{what}: the CMS object is not in DER (a length in two spellings)")
    signers = signed["signer_infos"]
    if len(signers) != 1:
        raise ReportFileError(f"{what}: {len(signers)} signers in one signature")
    signer = signers[0]
    content_type = signed["encap_content_info"]["content_type"].native
    want_version = "v3" if content_type != "data" or signer["version"].native == "v3" else "v1"
    if signed["version"].native != want_version:
        raise ReportFileError(
            f"{what}: SignedData version {signed['version'].native}, RFC 5652 says {want_version}"
        )
    if [a.dump() for a in signed["digest_algorithms"]] != [signer["digest_algorithm"].dump()]:
        raise ReportFileError(f"{what}: the digest algorithms listed are not the signer's")
    certs = _asn1_certs(signed)
    crls = [c.dump() for c in signed["crls"]] if signed["crls"] else []
    unsigned = signer["unsigned_attrs"]
    attrs = list(unsigned) if unsigned else []
    if timestamp:
        if attrs:
            raise ReportFileError(f"{what}: the time-stamp token carries unsigned attributes")
        return signed, certs, crls
    for attr in attrs:
        if attr["type"].native != "signature_time_stamp_token" or len(attr["values"]) != 1:
            raise ReportFileError(
                f"{what}: an unsigned attribute {attr['type'].native} that no one signed"
            )
        _tst, tst_certs, tst_crls = _check_cms(
            attr["values"][0].dump(), f"{what}, time-stamp token", timestamp=True
        )
        certs += tst_certs
        crls += tst_crls
    return signed, certs, crls


# --------------------------------------------------------------------------- certificates


def _signature_ok(key: Any, signature: bytes, data: bytes, algorithm: Any) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


@dataclass
class _Pool:
    """Certificates of the file and the trust roots: who may have signed what."""

    certs: list[x509.Certificate] = field(default_factory=list)

    def issuers(self, name: x509.Name) -> list[x509.Certificate]:
        return [c for c in self.certs if c.subject == name]

    def check_cert(self, cert: x509.Certificate, where: str) -> None:
        for issuer in self.issuers(cert.issuer):
            try:
                cert.verify_directly_issued_by(issuer)
                return
            except (InvalidSignature, ValueError, TypeError):
                continue
        raise ReportFileError(
            f"{where} holds a certificate ({cert.subject.rfc4514_string()}) that no "
            "certificate of the file validly signed"
        )

    def check_crl(self, crl: x509.CertificateRevocationList, where: str) -> None:
        for issuer in self.issuers(crl.issuer):
            try:
                if crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                    return
            except (ValueError, TypeError):
                continue
        raise ReportFileError(
            f"{where} holds a CRL of {crl.issuer.rfc4514_string()} whose signature does not verify"
        )

    def check_ocsp(self, resp: ocsp.OCSPResponse, where: str) -> None:
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise ReportFileError(f"{where} holds an OCSP response that is not successful")
        for signer in list(resp.certificates) + self.certs:
            if _signature_ok(
                signer.public_key(),
                resp.signature,
                resp.tbs_response_bytes,
                resp.signature_hash_algorithm,
            ):
                return
        raise ReportFileError(f"{where} holds an OCSP response whose signature does not verify")


def _cert(der: bytes, where: str) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        exact = cert.public_bytes(serialization.Encoding.DER) == der
    except ValueError as exc:
        raise ReportFileError(f"{where} holds something that is not a certificate: {exc}") from None
    if not exact:
        raise ReportFileError(f"{where} holds a certificate with bytes beyond its DER")
    return cert


def _crl(der: bytes, where: str) -> x509.CertificateRevocationList:
    try:
        crl = x509.load_der_x509_crl(der)
        exact = crl.public_bytes(serialization.Encoding.DER) == der
    except ValueError as exc:
        raise ReportFileError(f"{where} holds something that is not a CRL: {exc}") from None
    if not exact:
        raise ReportFileError(f"{where} holds a CRL with bytes beyond its DER")
    return crl


def _ocsp(der: bytes, where: str) -> ocsp.OCSPResponse:
    try:
        resp = ocsp.load_der_ocsp_response(der)
        exact = resp.public_bytes(serialization.Encoding.DER) == der
    except ValueError as exc:
        raise ReportFileError(
            f"{where} holds something that is not an OCSP response: {exc}"
        ) from None
    if not exact:
        raise ReportFileError(f"{where} holds an OCSP response with bytes beyond its DER")
    return resp


# --------------------------------------------------------------------------- the DSS


_DSS_KEYS = {"/Type", "/Certs", "/CRLs", "/OCSPs", "/VRI"}
_VRI_KEYS = {"/Type", "/Cert", "/CRL", "/OCSP"}


@dataclass
class _Dss:
    """The document security store as read: its object refs (all revisions) and contents."""

    refs: set[Any] = field(default_factory=set)
    certs: list[tuple[Any, bytes]] = field(default_factory=list)
    crls: list[tuple[Any, bytes]] = field(default_factory=list)
    ocsps: list[tuple[Any, bytes]] = field(default_factory=list)
    vri: dict[str, Any] = field(default_factory=dict)


def _indirect(value: Any, where: str) -> Any:
    from pyhanko.pdf_utils import generic

    if not isinstance(value, generic.IndirectObject):
        raise ReportFileError(f"{where} is not an indirect object")
    return value


def _read_dss(root: Any) -> _Dss:
    from pyhanko.pdf_utils import generic

    out = _Dss()
    raw = root.raw_get("/DSS") if "/DSS" in root else None
    if raw is None:
        return out
    out.refs.add(_indirect(raw, "the catalog's /DSS").reference)
    dss = raw.get_object()
    if not isinstance(dss, generic.DictionaryObject) or isinstance(dss, generic.StreamObject):
        raise ReportFileError("the DSS is not a dictionary")
    unknown = set(dss) - _DSS_KEYS
    if unknown:
        raise ReportFileError(f"the DSS has entries a DSS does not have: {sorted(unknown)}")
    if "/Type" in dss and dss["/Type"] != "/DSS":
        raise ReportFileError("the DSS's /Type is not /DSS")
    for key, into in (("/Certs", out.certs), ("/CRLs", out.crls), ("/OCSPs", out.ocsps)):
        if key not in dss:
            continue
        items = dss.raw_get(key)
        if isinstance(items, generic.IndirectObject):
            out.refs.add(items.reference)
            items = items.get_object()
        if not isinstance(items, generic.ArrayObject):
            raise ReportFileError(f"the DSS's {key} is not an array")
        seen = set()
        for item in items:
            ref = _indirect(item, f"an entry of the DSS's {key}").reference
            if ref in seen:
                raise ReportFileError(f"the DSS's {key} lists object {ref.idnum} twice")
            seen.add(ref)
            stream = item.get_object()
            if not isinstance(stream, generic.StreamObject):
                raise ReportFileError(f"the DSS's {key} lists object {ref.idnum}, not a stream")
            unknown = set(stream) - {"/Length", "/Filter", "/DecodeParms"}
            if unknown:
                raise ReportFileError(f"the DSS stream {ref.idnum} has entries {sorted(unknown)}")
            out.refs.add(ref)
            into.append((ref, stream.data))
    if "/VRI" in dss:
        vri = dss.raw_get("/VRI")
        if isinstance(vri, generic.IndirectObject):
            out.refs.add(vri.reference)
            vri = vri.get_object()
        if not isinstance(vri, generic.DictionaryObject):
            raise ReportFileError("the DSS's /VRI is not a dictionary")
        listed = {
            "/Cert": {ref for ref, _ in out.certs},
            "/CRL": {ref for ref, _ in out.crls},
            "/OCSP": {ref for ref, _ in out.ocsps},
        }
        for key in vri:
            entry = vri.raw_get(key)
            if isinstance(entry, generic.IndirectObject):
                out.refs.add(entry.reference)
                entry = entry.get_object()
            if not isinstance(entry, generic.DictionaryObject):
                raise ReportFileError(f"the VRI entry {key} is not a dictionary")
            if set(entry) - _VRI_KEYS or ("/Type" in entry and entry["/Type"] != "/VRI"):
                raise ReportFileError(f"the VRI entry {key} has entries a VRI does not have")
            for name, allowed in listed.items():
                refs = [_indirect(i, f"the VRI entry {key}{name}") for i in entry.get(name, ())]
                if len({r.reference for r in refs}) != len(refs):
                    raise ReportFileError(f"the VRI entry {key}{name} lists an object twice")
                for ref in refs:
                    if ref.reference not in allowed:
                        raise ReportFileError(
                            f"the VRI entry {key}{name} names object {ref.idnum}, which the DSS "
                            f"does not list as a {name[1:]}"
                        )
            out.vri[str(key)] = entry
    return out


# --------------------------------------------------------------------------- the unsigned tail


_EOL = re.compile(rb"\r\n|\r|\n")
_OBJ = re.compile(rb"(\d{1,10}) (\d{1,5}) obj")
_SUBSECTION = re.compile(rb"(\d{1,10}) (\d{1,10})(?:\r\n|\r|\n)")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)")
_END = re.compile(rb"trailer(?:\r\n|\r|\n)")
_STARTXREF = re.compile(rb"(?:\r\n|\r|\n)?startxref(?:\r\n|\r|\n)(\d{1,10})(?:\r\n|\r|\n)%%EOF")
_TRAILER_KEYS = {"/Size", "/Root", "/Info", "/ID", "/Prev"}


@dataclass
class _Update:
    """One revision appended after the last signature, as read byte by byte."""

    start: int
    objects: dict[tuple[int, int], tuple[int, Any]]
    trailer: Any
    xref_at: int


_STREAM_START = re.compile(rb"[ \t\r\n\f\x00]*stream(?:\r\n|\n)")
_STREAM_END = re.compile(rb"(?:\r\n|\r|\n)?endstream")
_HEX_STRING = re.compile(rb"<([0-9A-Fa-f \t\r\n\f\x00]*)>")


def _check_syntax(pdf: bytes, start: int, end: int, payload: int | None, what: str) -> None:
    """The delimiters of an object body are exact: pyHanko, like most readers, accepts a
    dictionary closed by ``>`` and any byte, or a stream whose /Length is one too long, and
    reads the same object; here such a byte is a change."""
    i, depth = start, 0
    while i < end:
        ch = pdf[i]
        if ch == 0x28:  # a literal string: balanced parentheses, backslash escapes
            nested, i = 1, i + 1
            while nested and i < end:
                if pdf[i] == 0x5C:
                    i += 1
                elif pdf[i] == 0x28:
                    nested += 1
                elif pdf[i] == 0x29:
                    nested -= 1
                i += 1
            if nested:
                raise ReportFileError(f"{what}: a string is not closed")
            continue
        if ch == 0x3C and pdf[i + 1 : i + 2] == b"<":
            depth, i = depth + 1, i + 2
            continue
        if ch == 0x3C:
            m = _HEX_STRING.match(pdf, i, end)
            if m is None:
                raise ReportFileError(f"{what}: a hex string is malformed")
            i = m.end()
            continue
        if ch == 0x3E:
            if pdf[i + 1 : i + 2] != b">":
                raise ReportFileError(f"{what}: a dictionary is closed by '>' and another byte")
            depth, i = depth - 1, i + 2
            if depth == 0 and payload is not None:
                m = _STREAM_START.match(pdf, i, end)
                if m is None:
                    raise ReportFileError(f"{what}: the stream keyword is malformed")
                m2 = _STREAM_END.match(pdf, m.end() + payload, end)
                if m2 is None:
                    raise ReportFileError(f"{what}: the stream is not exactly /Length bytes long")
                i = m2.end()
            continue
        if ch == 0x25:
            raise ReportFileError(f"{what}: a comment, which a DSS update does not write")
        i += 1


def _read_at(pdf: bytes, pos: int, reader: Any, ref: tuple[int, int]) -> tuple[Any, int]:
    """Read the object body at ``pos``; return it and the offset after its ``endobj``."""
    from pyhanko.pdf_utils import generic

    stream = io.BytesIO(pdf)
    stream.seek(pos)
    generic.read_non_whitespace(stream, seek_back=True)
    obj = generic.read_object(stream, generic.Reference(ref[0], ref[1], reader))
    generic.read_non_whitespace(stream, seek_back=True)
    end = stream.tell()
    if pdf[end : end + 6] != b"endobj":
        raise ReportFileError(f"object {ref[0]} at offset {pos} does not end with endobj")
    payload = len(obj.encoded_data) if isinstance(obj, generic.StreamObject) else None
    _check_syntax(pdf, pos, end, payload, f"object {ref[0]}")
    return obj, end + 6


def _eol(pdf: bytes, pos: int) -> int:
    while (m := _EOL.match(pdf, pos)) is not None:
        pos = m.end()
    return pos


def _read_update(pdf: bytes, pos: int, reader: Any) -> tuple[_Update, int]:
    """Read one incremental update starting at ``pos``: objects, xref table, trailer."""
    from pyhanko.pdf_utils import generic

    start = pos
    objects: dict[tuple[int, int], tuple[int, Any]] = {}
    while True:
        pos = _eol(pdf, pos)
        m = _OBJ.match(pdf, pos)
        if m is None:
            break
        ref = (int(m[1]), int(m[2]))
        if ref in objects:
            raise ReportFileError(f"object {ref[0]} is written twice in one revision")
        obj, end = _read_at(pdf, m.end(), reader, ref)
        objects[ref] = (pos, obj)
        pos = end
    if not pdf.startswith(b"xref", pos) or _EOL.match(pdf, pos + 4) is None:
        raise ReportFileError(
            f"the bytes at offset {pos} are neither an object nor a cross-reference table"
        )
    xref_at = pos
    pos = _EOL.match(pdf, pos + 4).end()  # type: ignore[union-attr]
    entries: dict[int, tuple[int, int, bytes]] = {}
    while (sub := _SUBSECTION.match(pdf, pos)) is not None:
        first, count = int(sub[1]), int(sub[2])
        pos = sub.end()
        for number in range(first, first + count):
            entry = _ENTRY.match(pdf, pos)
            if entry is None or number in entries:
                raise ReportFileError(f"the cross-reference table at {xref_at} is damaged")
            entries[number] = (int(entry[1]), int(entry[2]), entry[3])
            pos = entry.end()
    trailer_at = _END.match(pdf, pos)
    if trailer_at is None:
        raise ReportFileError(f"the cross-reference table at {xref_at} is damaged")
    stream = io.BytesIO(pdf)
    stream.seek(trailer_at.end())
    trailer = generic.read_object(stream, generic.Reference(0, 0, reader))
    _check_syntax(pdf, trailer_at.end(), stream.tell(), None, "the trailer")
    tail = _STARTXREF.match(pdf, stream.tell())
    if not isinstance(trailer, generic.DictionaryObject) or tail is None:
        raise ReportFileError(f"the trailer after offset {xref_at} is damaged")
    if int(tail[1]) != xref_at:
        raise ReportFileError(f"startxref says {int(tail[1])}, the table is at {xref_at}")
    for number, (offset, generation, kind) in entries.items():
        if kind == b"f":
            if (number, offset, generation) != (0, 0, 65535):
                raise ReportFileError(f"the cross-reference table frees object {number}")
            continue
        found = objects.get((number, generation))
        if found is None or found[0] != offset:
            raise ReportFileError(
                f"the cross-reference table points object {number} at {offset}, where it is not"
            )
    listed = {(n, e[1]) for n, e in entries.items() if e[2] == b"n"}
    if listed != set(objects):
        raise ReportFileError("an object of an update is missing from its cross-reference table")
    end = _eol(pdf, tail.end())
    return _Update(start, objects, trailer, xref_at), end


def _string_bytes(value: Any) -> bytes:
    """The bytes of a PDF string, whether pyHanko read it as bytes or as text."""
    if isinstance(value, bytes):
        return bytes(value)
    original = getattr(value, "original_bytes", None)
    if isinstance(original, bytes):
        return original
    raise ReportFileError("a string of the trailer cannot be read as bytes")


def _pdf_date(text: str) -> datetime:
    m = re.fullmatch(r"D:(\d{14})(Z|[+-]\d{2}'\d{2}'?)?", text)
    if m is None:
        raise ValueError(text)
    moment = datetime.strptime(m[1], "%Y%m%d%H%M%S")
    zone = m[2] or "Z"
    if zone == "Z":
        return moment.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment.replace(tzinfo=timezone(sign * offset))


_XMP_DATES = re.compile(rb'(xmp:(?:ModifyDate|MetadataDate))="([^"]*)"')


def _xmp_dates(data: bytes) -> tuple[bytes, list[datetime]]:
    dates = [datetime.fromisoformat(m[2].decode("ascii")) for m in _XMP_DATES.finditer(data)]
    return _XMP_DATES.sub(rb'\1=""', data), dates


def _same_except(new: Any, old: Any, allowed: set[str], what: str) -> None:
    from pyhanko.pdf_utils import generic

    if not isinstance(new, generic.DictionaryObject) or not isinstance(
        old, generic.DictionaryObject
    ):
        raise ReportFileError(f"{what} is not a dictionary")
    changed = sorted(
        str(k) for k in set(new) | set(old) if k not in allowed and new.get(k) != old.get(k)
    )
    if changed:
        raise ReportFileError(f"{what} changes after the signature: {', '.join(changed)[:200]}")


def _check_trailer(
    reader: Any, number: int, update: _Update, covered_trailer: Any, prev_xref: int
) -> bytes:
    """The trailer of an unsigned revision keeps the document's; return its second /ID."""
    from pyhanko.pdf_utils import generic

    trailer = update.trailer
    if set(trailer) - _TRAILER_KEYS or not {"/Size", "/Root", "/Prev", "/ID"} <= set(trailer):
        raise ReportFileError(f"the trailer of revision {number} has entries {sorted(trailer)}")
    for key in ("/Root", "/Info"):
        if trailer.raw_get(key, None) != covered_trailer.raw_get(key, None):
            raise ReportFileError(f"revision {number} points {key} at another object")
    ids = [_string_bytes(i) for i in trailer["/ID"]]
    first_id = _string_bytes(covered_trailer["/ID"][0]) if "/ID" in covered_trailer else None
    if len(ids) != 2 or ids[0] != first_id or len(ids[1]) != 16:
        raise ReportFileError(f"revision {number} changes the document's /ID")
    if int(trailer["/Prev"]) != prev_xref:
        raise ReportFileError(f"revision {number}'s /Prev is not the previous table")
    prev_size = int(reader.trailer.flatten(number - 1)["/Size"])
    highest = max([n for n, _ in update.objects] + [prev_size - 1])
    if int(trailer["/Size"]) != highest + 1:
        raise ReportFileError(f"revision {number}'s /Size is not {highest + 1}")
    found = {generic.Reference(n, g, reader) for n, g in update.objects}
    if found != set(reader.xrefs.explicit_refs_in_revision(number)):
        raise ReportFileError(f"revision {number} is read differently than it is written")
    return ids[1]


def _check_update(
    reader: Any, number: int, update: _Update, covered_trailer: Any, prev_xref: int, dss: _Dss
) -> list[tuple[str, Any]]:
    """One unsigned revision: only a DSS update; return its informative values."""
    from pyhanko.pdf_utils import generic

    root_ref = covered_trailer.raw_get("/Root").reference
    info = covered_trailer.raw_get("/Info", None)
    info_ref = info.reference if isinstance(info, generic.IndirectObject) else None
    old_root = reader.get_object(root_ref, revision=number - 1)
    meta = old_root.raw_get("/Metadata", None)
    meta_ref = meta.reference if isinstance(meta, generic.IndirectObject) else None
    informative: list[tuple[str, Any]] = []
    dates: list[datetime] = []
    problems: list[str] = []
    for (idnum, generation), (_offset, obj) in update.objects.items():
        ref = generic.Reference(idnum, generation, reader)
        try:
            if ref == root_ref:
                _same_except(obj, old_root, {"/DSS"}, "the catalog")
            elif ref == info_ref:
                old_info = reader.get_object(ref, revision=number - 1)
                _same_except(obj, old_info, {"/ModDate"}, "/Info")
                try:
                    dates.append(_pdf_date(str(obj["/ModDate"])))
                except (KeyError, ValueError):
                    raise ReportFileError(f"revision {number}'s /ModDate is not a date") from None
                informative.append((f"report revision {number} /ModDate", str(obj["/ModDate"])))
            elif ref == meta_ref:
                old = reader.get_object(ref, revision=number - 1)
                _same_except(obj, old, {"/Length"}, "the XMP metadata's dictionary")
                try:
                    new_text, new_dates = _xmp_dates(obj.data)
                    old_text, _ = _xmp_dates(old.data)
                except (ValueError, UnicodeDecodeError):
                    raise ReportFileError(f"revision {number}'s XMP dates are not dates") from None
                if new_text != old_text or not new_dates:
                    raise ReportFileError(f"revision {number} changes the XMP metadata")
                dates += new_dates
            elif ref not in dss.refs:
                kind = obj.get("/Type") if isinstance(obj, generic.DictionaryObject) else None
                raise ReportFileError(
                    f"revision {number}, after the signature, writes object {idnum}"
                    f"{f' ({kind})' if kind else ''}, which a DSS update does not"
                )
        except ReportFileError as exc:
            problems.append(exc.message)
    if problems:
        raise ReportFileError("; ".join(problems))
    if len({d.astimezone(UTC) for d in dates}) > 1:
        raise ReportFileError(f"revision {number}'s modification dates disagree")
    file_id = _check_trailer(reader, number, update, covered_trailer, prev_xref)
    informative.append((f"report revision {number} /ID[1]", file_id.hex()))
    return informative


# --------------------------------------------------------------------------- the whole


def check_after_signature(
    pdf: bytes,
    reader: Any,
    report_sig: Any,
    trust_roots: Sequence[x509.Certificate],
    validate_timestamp: Callable[[Any], Any],
) -> AfterSignature:
    """Check the bytes no signature covers and what follows the report's signature (the
    signature itself is checked by pyHanko); ReportFileError saying what is wrong."""
    pool = _Pool(list(trust_roots))
    blobs: list[tuple[str, list[bytes], list[bytes]]] = []
    sig_ids: set[str] = set()
    covered_end = 0
    signatures: list[tuple[Any, str]] = [(report_sig, "the report's signature")]
    timestamps = list(reader.embedded_timestamp_signatures)
    signatures += [(ts, f"document time-stamp {i + 1}") for i, ts in enumerate(timestamps)]
    for sig, what in signatures:
        der, contents = _contents(pdf, sig.sig_object, what)
        _signed, certs, crls = _check_cms(der, what, timestamp=sig is not report_sig)
        blobs.append((what, certs, crls))
        sig_ids.add("/" + hashlib.sha1(contents).hexdigest().upper())  # noqa: S324 (the VRI key)
        _, _first, second, tail = (int(x) for x in sig.sig_object["/ByteRange"])
        covered_end = max(covered_end, second + tail)
    try:
        dss = _read_dss(reader.root)
    except ReportFileError:
        raise
    except Exception as exc:
        raise ReportFileError(f"the DSS cannot be read: {type(exc).__name__}") from None
    for what, certs, _crls in blobs:
        pool.certs += [_cert(c, what) for c in certs]
    pool.certs += [_cert(data, f"DSS object {ref.idnum}") for ref, data in dss.certs]
    for what, certs, crls in blobs:
        for c in certs:
            pool.check_cert(_cert(c, what), what)
        for c in crls:
            pool.check_crl(_crl(c, what), what)
    for ref, data in dss.certs:
        pool.check_cert(_cert(data, f"DSS object {ref.idnum}"), f"DSS object {ref.idnum}")
    for ref, data in dss.crls:
        pool.check_crl(_crl(data, f"DSS object {ref.idnum}"), f"DSS object {ref.idnum}")
    for ref, data in dss.ocsps:
        pool.check_ocsp(_ocsp(data, f"DSS object {ref.idnum}"), f"DSS object {ref.idnum}")
    strangers = set(dss.vri) - sig_ids
    if strangers:
        raise ReportFileError("the DSS's /VRI names a signature this file does not have")

    words = []
    for i, ts in enumerate(timestamps):
        status = validate_timestamp(ts)
        if not (status.intact and status.valid and status.trusted):
            raise ReportFileError(
                f"document time-stamp {i + 1} does not verify (intact {status.intact}, "
                f"valid {status.valid}, trusted {status.trusted})"
            )
        words.append(f"a document time-stamp of {status.timestamp.isoformat()}")

    informative: list[tuple[str, Any]] = []
    total = reader.xrefs.total_revisions
    pos = _eol(pdf, covered_end)
    updates: list[_Update] = []
    try:
        while pos < len(pdf):
            update, pos = _read_update(pdf, pos, reader)
            updates.append(update)
    except ReportFileError:
        raise
    except Exception as exc:
        raise ReportFileError(
            f"what follows the last signature cannot be read: {type(exc).__name__}"
        ) from None
    covered_rev = total - 1 - len(updates)
    if covered_rev < report_sig.signed_revision:
        raise ReportFileError("the revisions of the file do not match its signatures")
    covered_trailer = reader.trailer.flatten(covered_rev)
    prev_xref = reader.xrefs.get_xref_container_info(covered_rev).declared_startxref
    for j, update in enumerate(updates):
        number = covered_rev + 1 + j
        informative += _check_update(reader, number, update, covered_trailer, prev_xref, dss)
        prev_xref = update.xref_at
    if dss.refs:
        words.insert(
            0,
            f"a DSS update ({len(dss.certs)} certificates, {len(dss.crls)} CRLs, "
            f"{len(dss.ocsps)} OCSP responses, each validly signed)",
        )
    if not words:
        return AfterSignature("nothing: the signature covers the whole file")
    if updates:
        plural = "s" if len(updates) > 1 else ""
        covered = f"{len(updates)} revision{plural} not covered by any signature, read byte by byte"
    else:
        covered = "covered by the last time-stamp"
    return AfterSignature(f"after the signature: {', '.join(words)}; {covered}", tuple(informative))


def trust_certs(pems: Iterable[Any]) -> list[x509.Certificate]:
    """asn1crypto certificates as ``cryptography`` ones."""
    return [x509.load_der_x509_certificate(c.dump()) for c in pems]
