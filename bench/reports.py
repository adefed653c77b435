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

from bench.instance import fresh
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


class _ReadOnce:
    """A chain reader that asks the chain once per distinct question."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.label = inner.label
        self.answers: dict[tuple[Any, ...], Any] = {}

    def _ask(self, *question: Any) -> Any:
        if question not in self.answers:
            self.answers[question] = getattr(self.inner, question[0])(*question[1:])
        return self.answers[question]

    def chain_id(self) -> int:
        return int(self._ask("chain_id"))

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes | None:
        return self._ask("root_at", contract, log_id, tree_size)

    def receipt(self, tx_hash: bytes) -> Any:
        return self._ask("receipt", tx_hash)

    def block(self, number: int) -> Any:
        return self._ask("block", number)


LARGE = 1000
LARGE_REPORTS = 10


def _rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


def _large_subject() -> tuple[float, float]:
    """Median ms of a 1,000-event certificate, and the process's growth over ten of them
    (measured after a first one, which loads fonts, keys and libraries)."""
    with fresh() as (inst, tenant):
        events = [
            parse_event(
                {
                    "type": "party.viewed" if i % 2 else "party.code_verified",
                    "subject": SUBJECT,
                    "occurred_at": f"2026-11-20T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                    "actor": {"name": "张三", "email": "zhangsan@example.cn"},
                    "data": {"ip": f"198.51.100.{i % 7}", "code_channel": "sms"},
                }
            )
            for i in range(LARGE)
        ]
        inst.ledger.append(tenant.id, tenant.public_id, events)
        inst.ledger.sign_checkpoint()
        issue_report(inst, inst.signing, tenant, SUBJECT)
        start = _rss_mib()
        times = []
        for _ in range(LARGE_REPORTS):
            t0 = time.perf_counter()
            issue_report(inst, inst.signing, tenant, SUBJECT)
            times.append(time.perf_counter() - t0)
        grown = _rss_mib() - start
    return statistics.median(times) * 1000, grown


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
            # The chain read once: verification time without the RPC round trips.
            chain = _ReadOnce(web3_reader(rig.w3))
            verify_file(pdf, chain=chain, trust_roots=[root])
            checks, offline = [], ""
            for _ in range(VERIFICATIONS):
                t0 = time.perf_counter()
                result = verify_file(pdf, chain=chain, trust_roots=[root])
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
    big_ms, grown = _large_subject()
    print(
        f"   report, {LARGE:,} events (summary timeline, full list in the bundle): median "
        f"{big_ms:.0f} ms of {LARGE_REPORTS} (target < 1,500); the process grew {grown:.1f} MiB "
        f"over those {LARGE_REPORTS} (target < 20)"
    )
    failures = []
    if big_ms >= 1500:
        failures.append(f"reports: a {LARGE}-event certificate takes {big_ms:.0f} ms")
    if grown >= 20:
        failures.append(f"reports: {LARGE_REPORTS} large certificates kept {grown:.1f} MiB")
    if verdict != "VERIFIED":
        failures.append(f"reports: the anchored report's verdict is {verdict}, not VERIFIED")
    if offline != "VERIFIED":
        failures.append(f"reports: the offline verifier says {offline}, not VERIFIED")
    return failures
