"""Helpers for the bundle and verifier tests: events with documents and certificates, a
chain double, and report-like PDFs (a bundle embedded with pyHanko, signed by a test PKI)."""

from __future__ import annotations

import copy
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence_chain.core.bundle import BUNDLE_ATTACHMENT
from evidence_chain.core.onchain import (
    CHECKPOINT_ANCHORED_TOPIC,
    ChainBlock,
    ChainLog,
    ChainReceipt,
    block_time_text,
)
from evidence_chain.errors import ChainError
from evidence_chain.events import parse_event
from evidence_chain.ledger import SignedCheckpoint
from evidence_chain.tenants import TenantRef
from runtime.services import Services

SUBJECT = "envelope:env_7QK2"


def doc_hash(label: str) -> str:
    """A document SHA-256 derived from a label, so tests can name documents."""
    return hashlib.sha256(label.encode()).hexdigest()


def event_body(i: int, subject: str = SUBJECT) -> dict[str, Any]:
    """The i-th event of a contract's life: created, signed steps with documents, completed."""
    data: dict[str, Any]
    if i == 0:
        etype = "envelope.created"
        data = {"documents": [{"sha256": doc_hash("original"), "name": "合同.pdf"}]}
    elif i % 10 == 3:
        etype = "document.signed"
        data = {
            "sha256_before": doc_hash(f"before-{i}"),
            "sha256_after": doc_hash(f"after-{i}"),
            "certificate": {
                "serial": f"{i:x}",
                "sha256": doc_hash(f"cert-{i}"),
                "subject": f"CN=Signer {i}",
                "issuer": "CN=Sealtrail Test CA",
            },
        }
    else:
        etype = "envelope.viewed"
        data = {"step": i, "ip": "203.0.113.7"}
    return {
        "type": etype,
        "subject": subject,
        "occurred_at": "2026-11-21T09:00:00Z",
        "actor": {"email": f"user{i}@example.com"},
        "data": data,
    }


def push(
    instance: Services, tenant: TenantRef, n: int, *, subject: str = SUBJECT, start: int = 0
) -> None:
    """Append ``n`` events of a subject (in one request), interleaved with another subject's."""
    events = []
    for i in range(start, start + n):
        events.append(parse_event(event_body(i, subject)))
        events.append(parse_event(event_body(i, "envelope:other")))
    instance.ledger.append(tenant.id, tenant.public_id, events)


def checkpoint(instance: Services) -> SignedCheckpoint:
    """Sign a checkpoint of the current tree (as the scheduler would)."""
    cp = instance.ledger.sign_checkpoint()
    assert cp is not None
    return cp


@dataclass
class ChainDouble:
    """An in-process stand-in for the chain (a ChainReader): roots anchored per (contract, log
    id, size), and the transaction and block of each anchor."""

    served: int = 31337
    down: bool = False
    roots: dict[tuple[str, bytes, int], bytes] = field(default_factory=dict)
    receipts: dict[bytes, ChainReceipt] = field(default_factory=dict)
    blocks: dict[int, ChainBlock] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    label: str = "the test chain"

    def anchor(
        self,
        contract: str,
        log_id: bytes,
        tree_size: int,
        root: bytes,
        *,
        block_number: int = 12,
        timestamp: int = 1_795_251_612,  # 2026-11-21T09:00:12Z
    ) -> dict[str, Any]:
        """Store a root, as EvidenceAnchor.anchor would in a transaction mined in
        ``block_number``; return the anchor's transaction fields as a bundle states them."""
        from web3 import Web3

        self.roots[(contract.lower(), log_id, tree_size)] = root
        tx_hash = hashlib.sha256(b"tx" + log_id + tree_size.to_bytes(8, "big")).digest()
        block_hash = hashlib.sha256(b"block" + block_number.to_bytes(8, "big")).digest()
        event = ChainLog(
            Web3.to_checksum_address(contract),
            (CHECKPOINT_ANCHORED_TOPIC, log_id, tree_size.to_bytes(32, "big")),
            root,
        )
        self.receipts[tx_hash] = ChainReceipt(True, block_number, block_hash, (event,))
        self.blocks[block_number] = ChainBlock(block_number, block_hash, timestamp)
        return {
            "tx_hash": "0x" + tx_hash.hex(),
            "block_number": block_number,
            "block_hash": "0x" + block_hash.hex(),
            "block_time": block_time_text(timestamp),
        }

    def _up(self, *call: Any) -> None:
        self.calls.append(call)
        if self.down:
            raise ChainError("connection refused")

    def chain_id(self) -> int:
        """The chain id served."""
        self._up("chain_id")
        return self.served

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes | None:
        """rootAt: 32 zero bytes where nothing is anchored."""
        self._up("root_at", contract, log_id, tree_size)
        return self.roots.get((contract.lower(), log_id, tree_size), bytes(32))

    def receipt(self, tx_hash: bytes) -> ChainReceipt | None:
        """The receipt of an anchoring transaction, None for any other hash."""
        self._up("receipt", tx_hash)
        return self.receipts.get(tx_hash)

    def block(self, number: int) -> ChainBlock | None:
        """A block holding an anchoring transaction, None for any other number."""
        self._up("block", number)
        return self.blocks.get(number)


CONTRACT = "0x" + "5f" * 20


def anchored(bundle: dict[str, Any], chain: ChainDouble) -> dict[str, Any]:
    """A copy of an unanchored bundle with an anchor of its own checkpoint on the double."""
    out = copy.deepcopy(bundle)
    cp = out["checkpoint"]
    log_id = bytes.fromhex(out["log"]["log_id"])
    where = chain.anchor(CONTRACT, log_id, cp["tree_size"], bytes.fromhex(cp["root"]))
    out["anchor"] = {
        "chain_id": chain.served,
        "contract": CONTRACT,
        "log_id": out["log"]["log_id"],
        "tree_size": cp["tree_size"],
        "root": cp["root"],
        **where,
        "status": "confirmed",
        "confirmations": 2,
    }
    return out


def to_bytes(bundle: dict[str, Any]) -> bytes:
    """The bundle as a file."""
    return json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8")


def check(verdict: Any, name: str) -> Any:
    """The check called ``name`` of a verdict."""
    found = [c for c in verdict.checks if c.name == name]
    assert len(found) == 1, [c.name for c in verdict.checks]
    return found[0]


# --------------------------------------------------------------------------- report PDFs


@dataclass(frozen=True)
class ReportPki:
    """A CA, a TSA and a report signer from the signing engine's PKI."""

    ca: Any
    tsa: Any
    signer: Any

    def root_pem(self) -> bytes:
        """The root certificate, PEM."""
        from cryptography.hazmat.primitives import serialization

        return bytes(self.ca.chain[-1].public_bytes(serialization.Encoding.PEM))


def make_pki(directory: Path) -> ReportPki:
    """A fresh CA, TSA and one organization signer (slow: make it once per session)."""
    from signing.pki import CertificateAuthority, Identity
    from signing.tsa import TimeStampAuthority

    ca = CertificateAuthority.generate(
        directory, name="Sealtrail Test", base_url="https://sealtrail.test"
    )
    tsa = TimeStampAuthority.create(ca)
    signer = ca.new_signer(Identity("Sealtrail Evidence Reports", kind="organization"))
    return ReportPki(ca, tsa, signer)


def report_pdf(bundle_bytes: bytes, pki: ReportPki, *, attach: bool = True) -> bytes:
    """A report-like PDF: one page, the bundle embedded, signed PAdES B-LT by the test PKI."""
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from signing.pades import SignOptions, sign_pdf
    from signing.tsa import InProcessTimeStamper

    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4)
    page.drawString(72, 760, "Certificate of evidence (test)")
    page.showPage()
    page.save()
    writer = IncrementalPdfFileWriter(io.BytesIO(buf.getvalue()))
    if attach:
        data = embed.EmbeddedFileObject.from_file_data(
            writer, bundle_bytes, mime_type="application/json"
        )
        spec = embed.FileSpec(
            file_spec_string=BUNDLE_ATTACHMENT,
            file_name=BUNDLE_ATTACHMENT,
            embedded_data=data,
            description="Evidence bundle",
        )
        embed.embed_file(writer, spec)
    out = io.BytesIO()
    writer.write(out)
    result = sign_pdf(
        out.getvalue(),
        pki.signer,
        None,
        [],
        SignOptions(level="B-LT", certify=True),
        timestamper=InProcessTimeStamper(pki.tsa),
        crls=pki.ca.crls(),
        trust_roots=pki.ca.trust_roots(),
    )
    return result.signed_pdf
