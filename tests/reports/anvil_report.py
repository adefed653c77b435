"""A real certificate of evidence, anchored on a real anvil node: what the tamper sweeps
start from."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization

from evidence_chain.anchoring.chain import Signer, Web3Chain
from evidence_chain.config import load_settings
from evidence_chain.events import parse_event
from evidence_chain.tenants import create_tenant
from evidence_chain.verify import extract_bundle, rpc_reader
from runtime.services import build_services
from runtime.setup import initialise
from tests.chain.anvil import DEV_PRIVATE_KEY, anvil_available, start_anvil
from tests.chain.conftest import require_tool
from tests.reports.bundle_fixtures import SUBJECT, doc_hash, push


@dataclass(frozen=True)
class AnvilReport:
    """A signed report, its bundle, the service's root certificate and a reader of the chain."""

    pdf: bytes
    bundle_json: bytes
    root_pem: bytes
    rpc_url: str
    reader: Any


def _signed_step(signer: Any) -> dict[str, Any]:
    """A signing step naming a certificate the service's CA issued (its PEM goes in the bundle)."""
    cert = signer.certificate
    return {
        "type": "document.signed",
        "subject": SUBJECT,
        "occurred_at": "2026-11-21T09:30:00Z",
        "data": {
            "sha256_before": doc_hash("contract"),
            "sha256_after": doc_hash("contract, signed"),
            "certificate": {
                "serial": format(cert.serial_number, "x"),
                "sha256": cert.fingerprint(hashes.SHA256()).hex(),
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
            },
        },
    }


@contextlib.contextmanager
def anvil_report(database_url: str, tmp_path: Path) -> Iterator[AnvilReport]:
    """Start anvil, deploy the contract, record a subject, anchor it, issue its report."""
    from reports.service import issue_report
    from signing.pki import Identity
    from signing.service import SigningService

    require_tool(anvil_available(), "node_modules/.bin/anvil")
    with start_anvil() as node:
        address = Web3Chain.http(node.rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
        settings = load_settings(
            {
                "EVIDENCE_HOME": str(tmp_path / "home"),
                "DATABASE_URL": database_url,
                "EVIDENCE_SCHEDULER": "false",
                "EVIDENCE_LOG_ORIGIN": "sealtrail.test/tamper",
                "EVIDENCE_CHAIN_RPC_URL": node.rpc_url,
                "EVIDENCE_CHAIN_ID": "31337",
                "EVIDENCE_CONTRACT_ADDRESS": address,
                "EVIDENCE_ANCHOR_KEY": DEV_PRIVATE_KEY,
                "EVIDENCE_CHAIN_CONFIRMATIONS": "1",
            }
        )
        initialise(settings)
        inst = build_services(settings)
        try:
            tenant, _ = create_tenant(inst.engine, "Tamper Platform")
            signing = SigningService.from_env(settings, inst.engine, inst.ledger)
            signer = signing.signer_for(tenant.id, Identity("Alice Zhang", email="a@example.com"))
            push(inst, tenant, 4)
            inst.ledger.append(tenant.id, tenant.public_id, [parse_event(_signed_step(signer))])
            assert inst.anchorer is not None
            assert inst.anchorer.anchor_now(timeout=60) is not None
            issued = issue_report(inst, signing, tenant, SUBJECT)
            assert issued.verdict.verdict == "VERIFIED", issued.verdict.failed()
            bundle_json = extract_bundle(issued.pdf)
            assert hashlib.sha256(bundle_json).hexdigest() == issued.report.bundle_sha256
            root = signing.ca.trust_roots()[-1].public_bytes(serialization.Encoding.PEM)
            yield AnvilReport(issued.pdf, bundle_json, root, node.rpc_url, rpc_reader(node.rpc_url))
        finally:
            inst.close()
