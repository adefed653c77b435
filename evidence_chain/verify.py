"""The offline verifier: ``sealtrail-verify FILE [--rpc URL] [--document PDF]
[--report FILE | --bundle FILE] [--trust ROOT.pem]`` (also ``python -m evidence_chain.verify``).

A court or a notary runs this with nothing but the file and any JSON-RPC endpoint of the
chain: it imports the core (:mod:`evidence_chain.core.bundle`), web3 to read the anchor
(``rootAt``, the transaction's receipt and its block) and pyHanko for the PDF signatures;
nothing of the service (no Flask, no database, no ``signing``/``reports``/``web`` module), and
``pip install`` of the project installs it alone (the ``sealtrail-verify`` command). FILE is a
certificate-of-evidence PDF (its signature is checked, then the embedded bundle), an evidence
bundle (JSON), or a signed contract (every signature, then, with ``--report``/``--bundle``,
whether this exact file is a version recorded in that evidence). Every verdict states the
subject's lifecycle status as its records give it (:mod:`evidence_chain.core.subject`).

Exit status: 0 VERIFIED, 1 FAILED, 2 INCOMPLETE (not anchored yet, no ``--rpc`` given, or a
signed contract without its evidence), 64 usage error or unreadable input.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence_chain.core.bundle import (
    BUNDLE_ATTACHMENT,
    FAILED,
    INCOMPLETE,
    MAX_BUNDLE_BYTES,
    VERIFIED,
    ChainReader,
    Check,
    informative_json,
    parse_bundle,
    verdict_of,
    verify_bundle,
)
from evidence_chain.core.errors import ChainError, ValidationError
from evidence_chain.core.onchain import ChainBlock, ChainLog, ChainReceipt
from evidence_chain.core.subject import Lifecycle, bundle_lifecycle, verdict_line

__all__ = [
    "FileVerdict",
    "Web3ChainReader",
    "extract_bundle",
    "main",
    "rpc_reader",
    "verify_file",
    "web3_reader",
]

MAX_PDF_BYTES = 64 * 1024 * 1024
EXIT = {VERIFIED: 0, FAILED: 1, INCOMPLETE: 2}
EXIT_USAGE = 64

# The one contract function the verifier needs, as in the EvidenceAnchor ABI.
ROOT_AT_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "rootAt",
        "stateMutability": "view",
        "inputs": [
            {"name": "logId", "type": "bytes32"},
            {"name": "treeSize", "type": "uint64"},
        ],
        "outputs": [{"name": "", "type": "bytes32"}],
    }
]


# --------------------------------------------------------------------------- chain


def endpoint_label(rpc_url: str) -> str:
    """How to name an RPC endpoint in a check: scheme, host and port only, because providers
    put API keys in the path, the query or the user part of the URL."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(rpc_url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the RPC endpoint"
    return f"the RPC endpoint {parts.scheme}://{host}{port}"


def rpc_reader(rpc_url: str, *, timeout: float = 15.0) -> Web3ChainReader:
    """A chain reader over a JSON-RPC endpoint (no connection is made until the first read)."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    return Web3ChainReader(w3, endpoint_label(rpc_url))


def web3_reader(w3: Any, label: str = "the RPC endpoint") -> Web3ChainReader:
    """A chain reader over an existing Web3 (an HTTP node, or an in-process chain)."""
    return Web3ChainReader(w3, label)


class Web3ChainReader:
    """:class:`~evidence_chain.core.onchain.ChainReader` over web3. Any failure to read the chain
    (connection, node error, undecodable answer) is a ChainError: the check is not made."""

    def __init__(self, w3: Any, label: str = "the RPC endpoint") -> None:
        self.w3 = w3
        self.label = label

    def _fail(self, what: str, exc: Exception) -> ChainError:
        return ChainError(f"{what} from {self.label}: {type(exc).__name__}: {exc}"[:300])

    def chain_id(self) -> int:
        """``eth_chainId``."""
        try:
            return int(self.w3.eth.chain_id)
        except Exception as exc:
            raise self._fail("no chain id", exc) from None

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes | None:
        """``rootAt(logId, treeSize)`` at the latest block; None if ``contract`` has no code."""
        from web3 import Web3

        try:
            address = Web3.to_checksum_address(contract)
            if not bytes(self.w3.eth.get_code(address)):
                return None
            fn = self.w3.eth.contract(address=address, abi=ROOT_AT_ABI).functions.rootAt
            return bytes(fn(log_id, tree_size).call())
        except Exception as exc:
            raise self._fail("rootAt could not be read", exc) from None

    def receipt(self, tx_hash: bytes) -> ChainReceipt | None:
        """``eth_getTransactionReceipt``: success, block and logs; None if not mined."""
        from web3 import Web3
        from web3.exceptions import TransactionNotFound

        try:
            try:
                rcpt = self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                return None
            if rcpt is None or rcpt.get("blockNumber") is None:
                return None
            logs = tuple(
                ChainLog(
                    Web3.to_checksum_address(entry["address"]),
                    tuple(bytes(topic) for topic in entry["topics"]),
                    bytes(entry["data"]),
                )
                for entry in rcpt["logs"]
            )
            return ChainReceipt(
                int(rcpt["status"]) == 1, int(rcpt["blockNumber"]), bytes(rcpt["blockHash"]), logs
            )
        except Exception as exc:
            raise self._fail("the receipt could not be read", exc) from None

    def block(self, number: int) -> ChainBlock | None:
        """``eth_getBlockByNumber``: hash and timestamp; None if there is no such block."""
        from web3.exceptions import BlockNotFound

        try:
            try:
                blk = self.w3.eth.get_block(number)
            except BlockNotFound:
                return None
            return ChainBlock(int(blk["number"]), bytes(blk["hash"]), int(blk["timestamp"]))
        except Exception as exc:
            raise self._fail(f"block {number} could not be read", exc) from None


# --------------------------------------------------------------------------- PDF


def _pdf_reader(pdf: bytes) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    if len(pdf) > MAX_PDF_BYTES:
        raise ValidationError(f"the PDF is over {MAX_PDF_BYTES} bytes")
    try:
        # Strict: a certificate of evidence is written by one library, and every flaw its
        # reader would silently repair is a change to the file.
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        reader.root  # noqa: B018 (read the catalog now: a broken one is a broken file)
        return reader
    except Exception as exc:
        raise ValidationError(
            f"the PDF cannot be read: {type(exc).__name__}: {exc}"[:300]
        ) from None


def _name_tree_items(node: Any, depth: int = 0) -> list[tuple[str, Any]]:
    """Entries of a PDF name tree (bounded depth: a looping tree is malformed, not endless)."""
    if depth > 16:
        raise ValidationError("the PDF's embedded files tree is too deep")
    node = node.get_object()
    items: list[tuple[str, Any]] = []
    if "/Names" in node:
        names = node["/Names"]
        for i in range(0, len(names) - 1, 2):
            items.append((str(names[i]), names[i + 1]))
    if "/Kids" in node:
        for kid in node["/Kids"]:
            items.extend(_name_tree_items(kid, depth + 1))
    return items


def _stream_bytes(stream: Any) -> bytes:
    """Decode an embedded file stream, refusing more than MAX_BUNDLE_BYTES (no zip bombs)."""
    filters = stream.get("/Filter")
    if filters is None:
        names: list[str] = []
    elif isinstance(filters, list):
        names = [str(f) for f in filters]
    else:
        names = [str(filters)]
    raw = bytes(stream.encoded_data)
    if names == []:
        data = raw
    elif names == ["/FlateDecode"] and "/DecodeParms" not in stream:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(raw, MAX_BUNDLE_BYTES + 1)
        except zlib.error as exc:
            raise ValidationError(f"the embedded bundle cannot be inflated: {exc}") from None
    else:
        raise ValidationError(f"the embedded bundle uses unsupported filters {names}")
    if len(data) > MAX_BUNDLE_BYTES:
        raise ValidationError(f"the embedded bundle is over {MAX_BUNDLE_BYTES} bytes")
    return data


def extract_bundle(pdf: bytes, reader: Any = None) -> bytes:
    """The embedded ``evidence-bundle.json`` of a report PDF; ValidationError if there is none."""
    reader = reader if reader is not None else _pdf_reader(pdf)
    try:
        names = reader.root.get("/Names")
        tree = names.get_object().get("/EmbeddedFiles") if names is not None else None
        entries = _name_tree_items(tree) if tree is not None else []
        for key, spec in entries:
            spec = spec.get_object()
            file_name = str(spec.get("/UF", spec.get("/F", key)))
            if BUNDLE_ATTACHMENT not in (key, file_name):
                continue
            return _stream_bytes(spec["/EF"]["/F"].get_object())
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError(
            f"the PDF's embedded files cannot be read: {type(exc).__name__}: {exc}"[:300]
        ) from None
    raise ValidationError(
        f"no embedded {BUNDLE_ATTACHMENT}: this PDF is not a certificate of evidence"
    )


def _cn(cert: Any) -> str:
    return str(cert.subject.human_friendly)


@dataclass
class _ReportRun:
    """What checking the report's signature leaves for the checks of what follows it."""

    emb: Any = None
    context: Any = None
    roots: list[Any] = field(default_factory=list)


def _check_report_signature(reader: Any, trust_roots: Sequence[bytes], run: _ReportRun) -> Check:
    """The report's one signature: intact, valid, covering all but DSS/time-stamps, chained,
    its signature time-stamp valid too."""
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko_certvalidator import ValidationContext

    name = "report.signature"
    try:
        sigs = list(reader.embedded_regular_signatures)
    except Exception as exc:
        return Check(name, False, f"the signatures cannot be read: {type(exc).__name__}")
    if not sigs:
        return Check(name, False, "the report is not signed")
    if len(sigs) > 1:
        # A certificate of evidence carries the service's signature only: any later one
        # would be someone signing over a changed report.
        return Check(name, False, f"the report carries {len(sigs)} signatures; one is expected")
    emb = sigs[0]
    try:
        from evidence_chain.verify_contract import load_certs

        given = load_certs(trust_roots)
    except Exception as exc:
        return Check(name, False, f"a --trust certificate cannot be read: {exc}"[:300])
    try:
        certs = list(emb.other_embedded_certs)
        try:
            dss = DocumentSecurityStore.read_dss(reader)
            certs += list(dss.load_certs())
        except Exception:  # no DSS: the CMS certificates are what there is
            dss = None
        embedded_roots = [c for c in certs if c.self_signed == "maybe" or c.self_signed == "yes"]
        roots = given or embedded_roots
        ctx = ValidationContext(
            trust_roots=roots,
            other_certs=certs,
            allow_fetching=False,
            revocation_mode="soft-fail",
        )
        status = validate_pdf_signature(emb, signer_validation_context=ctx)
    except Exception as exc:
        return Check(name, False, f"the signature cannot be validated: {type(exc).__name__}")
    run.emb, run.context, run.roots = emb, ctx, list(roots)
    signer = _cn(status.signing_cert)
    if not status.intact:
        return Check(name, False, f"signed by {signer}: the signed bytes were changed")
    if not status.valid:
        return Check(name, False, f"signed by {signer}: the signature does not verify")
    level = getattr(status.modification_level, "name", None)
    coverage = getattr(status.coverage, "name", None)
    if coverage != "ENTIRE_FILE" and level not in ("NONE", "LTA_UPDATES"):
        return Check(
            name,
            False,
            f"signed by {signer}, but the file was changed after the signature "
            f"(modification level {level})",
        )
    if status.docmdp_ok is False:
        return Check(name, False, f"signed by {signer}: changes the signature does not allow")
    if not status.trusted:
        where = "a trust root you gave (--trust)" if given else "a root certificate in the file"
        return Check(name, False, f"signed by {signer}: no valid chain to {where}")
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid and stamp.trusted):
        return Check(
            name,
            False,
            f"signed by {signer}, but its time-stamp does not verify (intact {stamp.intact}, "
            f"valid {stamp.valid}, trusted {stamp.trusted})",
        )
    path_root = None
    with contextlib.suppress(Exception):  # the root is only described
        path_root = status.validation_path.trust_anchor.authority.certificate  # type: ignore[union-attr]
    root_text = (
        f"{_cn(path_root)} (SHA-256 {path_root.sha256.hex()})" if path_root is not None else "?"
    )
    when = stamp.timestamp.isoformat() if stamp is not None else None
    detail = f"intact and valid, signed by {signer}" + (f", time-stamped {when}" if when else "")
    if given:
        detail += f"; chains to your trust root {root_text}"
    else:
        detail += (
            f"; chains to the root in the file {root_text}: compare its fingerprint with the "
            "one the service publishes, or pass --trust ROOT.pem"
        )
    return Check(name, True, detail)


def _check_after_signature(
    pdf: bytes, reader: Any, run: _ReportRun
) -> tuple[Check, tuple[tuple[str, Any], ...]]:
    """What follows the report's signature: a DSS update or a document time-stamp, checked to
    the byte (:mod:`evidence_chain.verify_report`); anything else fails saying what it is."""
    from pyhanko.sign.validation import validate_pdf_timestamp

    from evidence_chain.verify_report import ReportFileError, check_after_signature, trust_certs

    name = "report.after_signature"
    if run.emb is None:
        return Check(name, False, "not checked: the report's signature could not be read"), ()
    try:
        found = check_after_signature(
            pdf,
            reader,
            run.emb,
            trust_certs(run.roots),
            lambda ts: validate_pdf_timestamp(ts, validation_context=run.context),
        )
    except ReportFileError as exc:
        return Check(name, False, exc.message), ()
    except Exception as exc:  # a parser's failure on a damaged file is the file's fault
        return Check(name, False, f"the file cannot be read: {type(exc).__name__}"), ()
    return Check(name, True, found.detail), found.informative


def _signed_pdf(data: bytes) -> bool:
    """Whether the file has the marks of a signed PDF (its header may be the damaged part)."""
    return b"/ByteRange" in data and b"/Contents" in data


def _damaged(data: bytes, exc: ValidationError) -> FileVerdict | None:
    """A signed PDF whose structure cannot be read is a damaged report (FAILED), not a usage
    error; None for anything else."""
    if not _signed_pdf(data):
        return None
    why = f"the file's structure is damaged: {exc.message}"
    checks = (
        Check("report.signature", False, why),
        Check("report.attachment", False, "not read: the file's structure is damaged"),
    )
    return FileVerdict("report", checks, FAILED, None)


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class FileVerdict:
    """The outcome of verifying a file: report, bundle or contract, every check, the verdict,
    and the subject's lifecycle status as the evidence's records state it."""

    kind: str
    checks: tuple[Check, ...]
    verdict: str
    bundle: dict[str, Any] | None
    informative: tuple[tuple[str, Any], ...] = ()
    """Fields no check covers, as the file states them: ``(field, value)``."""
    status: Lifecycle | None = None
    """The subject's status (None: no evidence was read, e.g. a contract alone)."""

    def line(self, lang: str = "en", quote: Any = None) -> str:
        """The verdict with the status beside it (``VERIFIED: the evidence is intact; ...``)."""
        line = (
            verdict_line(self.verdict, self.status, lang)
            if quote is None
            else verdict_line(self.verdict, self.status, lang, quote)
        )
        if self.status is None and self.kind == "contract" and self.verdict != FAILED:
            line += (
                "；合同的状态及其在日志中的记录需要其证据证书或证据包（--report/--bundle）"
                if lang == "zh"
                else "; the contract's status and its place in the log need its certificate of "
                "evidence or bundle (--report/--bundle)"
            )
        return line

    def to_json(self, *, include_bundle: bool = True) -> dict[str, Any]:
        """The verdict as JSON (with the bundle that was verified, if any)."""
        body: dict[str, Any] = {
            "kind": self.kind,
            "verdict": self.verdict,
            "status": self.status.to_json() if self.status is not None else None,
            "summary": {"en": self.line("en"), "zh": self.line("zh")},
            "checks": [c.to_json() for c in self.checks],
            "informative": informative_json(self.informative),
        }
        if include_bundle:
            body["bundle"] = self.bundle
        return body


def _is_report(data: bytes, reader: Any) -> bool:
    """A certificate of evidence carries the bundle attachment (or, damaged, still names it);
    any other PDF is checked as a signed contract."""
    if BUNDLE_ATTACHMENT.encode("ascii") in data:
        return True
    try:
        extract_bundle(data, reader)
    except ValidationError:
        return False
    return True


def _verify_report(
    data: bytes,
    reader: Any,
    chain: ChainReader | None,
    doc_sha: str | None,
    trust_roots: Sequence[bytes],
) -> FileVerdict:
    run = _ReportRun()
    checks = [_check_report_signature(reader, trust_roots, run)]
    after, pdf_informative = _check_after_signature(data, reader, run)
    checks.append(after)
    try:
        raw = extract_bundle(data, reader)
        bundle = parse_bundle(raw)
    except ValidationError as exc:
        checks.append(Check("report.attachment", False, exc.message))
        return FileVerdict("report", tuple(checks), FAILED, None, pdf_informative)
    checks.append(
        Check(
            "report.attachment",
            True,
            f"{BUNDLE_ATTACHMENT}, {len(raw)} bytes, SHA-256 {hashlib.sha256(raw).hexdigest()}",
        )
    )
    result = verify_bundle(bundle, chain=chain, document_sha256=doc_sha)
    checks.extend(result.checks)
    return FileVerdict(
        "report",
        tuple(checks),
        verdict_of(checks),
        bundle,
        pdf_informative + result.informative,
        bundle_lifecycle(bundle),
    )


def _looks_like_pdf(data: bytes) -> bool:
    return data.lstrip()[:1] not in (b"{", b"[") and (b"%PDF-" in data[:1024] or _signed_pdf(data))


def _verify_contract(
    data: bytes,
    reader: Any,
    chain: ChainReader | None,
    evidence: bytes | None,
    trust_roots: Sequence[bytes],
) -> FileVerdict:
    from evidence_chain.verify_contract import check_signatures, evidence_check, no_evidence_check

    checks = check_signatures(reader, trust_roots)
    if evidence is None:
        checks.append(no_evidence_check())
        return FileVerdict("contract", tuple(checks), verdict_of(checks), None)
    found = verify_file(evidence, chain=chain, trust_roots=trust_roots)
    if found.kind not in ("report", "bundle"):
        raise ValidationError(
            "--report/--bundle must be a certificate of evidence or an evidence bundle"
        )
    checks += found.checks
    checks.append(evidence_check(hashlib.sha256(data).hexdigest(), found.bundle))
    return FileVerdict(
        "contract", tuple(checks), verdict_of(checks), found.bundle, found.informative, found.status
    )


def verify_file(
    data: bytes,
    *,
    rpc_url: str | None = None,
    document: bytes | None = None,
    chain: ChainReader | None = None,
    trust_roots: Sequence[bytes] = (),
    evidence: bytes | None = None,
) -> FileVerdict:
    """Verify a report PDF, a bundle or a signed contract (``evidence``: its certificate of
    evidence or bundle); ValidationError if it is none of them."""
    if chain is None and rpc_url:
        chain = rpc_reader(rpc_url)
    doc_sha = hashlib.sha256(document).hexdigest() if document is not None else None
    if _looks_like_pdf(data):
        try:
            reader = _pdf_reader(data)
        except ValidationError as exc:
            damaged = _damaged(data, exc)
            if damaged is None:
                raise
            return damaged
        if evidence is None and _is_report(data, reader):
            return _verify_report(data, reader, chain, doc_sha, trust_roots)
        return _verify_contract(data, reader, chain, evidence, trust_roots)
    if evidence is not None:
        raise ValidationError("--report/--bundle go with a signed contract (a PDF)")
    bundle = parse_bundle(data)
    result = verify_bundle(bundle, chain=chain, document_sha256=doc_sha)
    return FileVerdict(
        "bundle",
        result.checks,
        result.verdict,
        bundle,
        result.informative,
        bundle_lifecycle(bundle),
    )


# --------------------------------------------------------------------------- command


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's default exit status 2 means INCOMPLETE
        """Print the usage and exit with status 64."""
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sealtrail-verify",
        description=(
            "Verify a Sealtrail certificate-of-evidence PDF, an evidence bundle or a signed "
            "contract offline (also: python -m evidence_chain.verify)."
        ),
        epilog="Exit status: 0 VERIFIED, 1 FAILED, 2 INCOMPLETE, 64 usage or unreadable file.",
    )
    parser.add_argument(
        "file",
        help="a certificate-of-evidence PDF, an evidence bundle (JSON) or a signed contract (PDF)",
    )
    parser.add_argument("--rpc", metavar="URL", help="JSON-RPC endpoint of the anchor's chain")
    parser.add_argument(
        "--document", metavar="PDF", help="check this document's SHA-256 is in the evidence"
    )
    parser.add_argument(
        "--trust",
        metavar="ROOT.pem",
        action="append",
        default=[],
        help="a root certificate the report's signature must chain to (repeatable)",
    )
    evidence = parser.add_mutually_exclusive_group()
    evidence.add_argument(
        "--report",
        metavar="PDF",
        help="with a signed contract: its certificate of evidence, to check the contract is in it",
    )
    evidence.add_argument(
        "--bundle",
        metavar="JSON",
        help="with a signed contract: its evidence bundle, to check the contract is in it",
    )
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    return parser


_MARK = {True: "\u2713", False: "\u2717", None: "\u2013"}


def _read(path: str, what: str) -> bytes:
    try:
        p = Path(path)
        if p.stat().st_size > MAX_PDF_BYTES:
            raise ValidationError(f"{what} {path} is over {MAX_PDF_BYTES} bytes")
        return p.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def printable(value: Any, limit: int = 200) -> str:
    """A value from the file, safe on a terminal: JSON, control and format characters escaped
    (no escape sequence or bidirectional override from a file reaches the screen), shortened."""
    import unicodedata

    text = json.dumps(value, ensure_ascii=False)
    text = "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text
    )
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier; print each check and the verdict; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        data = _read(args.file, "file")
        document = _read(args.document, "document") if args.document else None
        roots = [_read(p, "trust root") for p in args.trust]
        given = args.report or args.bundle
        evidence = _read(given, "evidence") if given else None
        result = verify_file(
            data, rpc_url=args.rpc, document=document, trust_roots=roots, evidence=evidence
        )
    except ValidationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return EXIT[result.verdict]
    width = max(len(c.name) for c in result.checks)
    for check in result.checks:
        print(f"{_MARK[check.ok]} {check.name.ljust(width)}  {check.detail}")
    if result.informative:
        print("\ninformative, as the file states it (no check covers these fields):")
        field_width = max(len(name) for name, _ in result.informative)
        for name, value in result.informative:
            print(f"  {name.ljust(field_width)}  {printable(value)}")
    counts = {ok: sum(1 for c in result.checks if c.ok is ok) for ok in (True, False, None)}
    print(
        f"\n{result.verdict}: {result.kind}, {len(result.checks)} checks: "
        f"{counts[True]} held, {counts[False]} failed, {counts[None]} not checked"
    )
    if result.verdict == FAILED:
        failed = ", ".join(c.name for c in result.checks if c.ok is False)
        print(f"failed: {failed}")
    print(result.line("en", printable))
    print(result.line("zh", printable))
    return EXIT[result.verdict]


if __name__ == "__main__":
    sys.exit(main())
