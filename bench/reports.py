"""Certificates of evidence: issuing one for a subject of 100 events, and verifying it offline."""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader

from evidence_chain.events import parse_event
from evidence_chain.tenants import authenticate
from evidence_chain.verify import verify_file, web3_reader
from reports.service import issue_report
from tests.anchoring.conftest import make_rig
from web.context import services

EVENTS = 100
REPORTS = 5
VERIFICATIONS = 10
SUBJECT = "envelope:env_bench0100"


def run() -> list[str]:
    """Issue certificates of a 100-event anchored subject; verify the last one offline."""
    with tempfile.TemporaryDirectory() as tmp:
        rigs = make_rig(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp) / "home")
        rig = next(rigs)
        try:
            tenant = authenticate(rig.instance.engine, rig.auth["Authorization"].split()[1])
            events = [
                parse_event(
                    {
                        "type": "party.viewed" if i % 2 else "party.code_verified",
                        "subject": SUBJECT,
                        "occurred_at": f"2026-11-20T09:{i // 60:02d}:{i % 60:02d}Z",
                        "actor": {"name": "张三", "email": "zhangsan@example.cn"},
                        "data": {"ip": f"198.51.100.{i % 7}", "code_channel": "sms"},
                    }
                )
                for i in range(EVENTS)
            ]
            rig.instance.ledger.append(tenant.id, tenant.public_id, events)
            rig.instance.ledger.sign_checkpoint()
            rig.anchorer.anchor_latest()
            rig.anchorer.watch()
            rig.mine(2)
            rig.anchorer.watch()
            service = services(rig.app).signing
            service.service_signer()  # the one-off key and certificate are not per report
            times, pdf, verdict = [], b"", ""
            for _ in range(REPORTS):
                t0 = time.perf_counter()
                issued = issue_report(rig.instance, service, tenant, SUBJECT)
                times.append(time.perf_counter() - t0)
                pdf, verdict = issued.pdf, issued.verdict.verdict
            root = service.ca.root_cert.public_bytes(serialization.Encoding.PEM)
            # The on-chain root read once: verification time without the RPC round trip.
            read = web3_reader(rig.w3)
            cache: dict[Any, bytes | None] = {}

            def chain_root(chain_id: int, contract: str, log_id: bytes, size: int) -> bytes | None:
                key = (chain_id, contract, log_id, size)
                if key not in cache:
                    cache[key] = read(chain_id, contract, log_id, size)
                return cache[key]

            verify_file(pdf, chain_root=chain_root, trust_roots=[root])
            checks, offline = [], ""
            for _ in range(VERIFICATIONS):
                t0 = time.perf_counter()
                result = verify_file(pdf, chain_root=chain_root, trust_roots=[root])
                checks.append(time.perf_counter() - t0)
                offline = result.verdict
        finally:
            next(rigs, None)  # closes the instance
    pages = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"]
    print(
        f"   report, {EVENTS} events: median {statistics.median(times) * 1000:.0f} ms "
        f"of {REPORTS} (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); "
        f"{len(pdf) / 1024:.0f} KiB, {pages} pages, verdict {verdict}"
    )
    print(
        f"   offline verification of that report (chain read excluded): p50 "
        f"{statistics.median(checks) * 1000:.0f} ms of {VERIFICATIONS}; verdict {offline}"
    )
    failures = []
    if verdict != "VERIFIED":
        failures.append(f"reports: the anchored report's verdict is {verdict}, not VERIFIED")
    if offline != "VERIFIED":
        failures.append(f"reports: the offline verifier says {offline}, not VERIFIED")
    return failures
