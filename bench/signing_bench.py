"""PAdES signing throughput at B-LT on one core, and validating a three-signature document."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from signing.pades import Placement, SignOptions, sign_pdf
from signing.pki import CertificateAuthority, Identity
from signing.seals import SealSpec, draw_seal
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from signing.validate import validate_pdf
from tests.signing.conftest import make_pdf

SIGNATURES = 20


def run() -> list[str]:
    """Sign a 3-page contract 20 times at B-LT, then validate a document with 3 signatures."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    with tempfile.TemporaryDirectory() as tmp:
        ca = CertificateAuthority.generate(
            Path(tmp), name="Sealtrail Bench", base_url="http://127.0.0.1:8000"
        )
        tsa = TimeStampAuthority.create(ca)
        signers = [ca.new_signer(Identity(f"Signer {i}")) for i in range(3)]
        seal = draw_seal(SealSpec(kind="official", text="上海示例科技有限公司"))
        contract = make_pdf(3)
        kwargs = {"timestamper": InProcessTimeStamper(tsa), "crls": ca.crls()}
        times = []
        for _ in range(SIGNATURES):
            t0 = time.perf_counter()
            sign_pdf(
                contract,
                signers[0],
                seal,
                [Placement.explicit(3, 400, 80)],
                SignOptions(certify=False),
                **kwargs,  # type: ignore[arg-type]
            )
            times.append(time.perf_counter() - t0)
        doc = contract
        for signer in signers:
            doc = sign_pdf(
                doc,
                signer,
                seal,
                [Placement.explicit(3, 60 + 150 * signers.index(signer), 80)],
                SignOptions(certify=False),
                **kwargs,  # type: ignore[arg-type]
            ).signed_pdf
        validations = []
        for _ in range(5):
            t0 = time.perf_counter()
            report = validate_pdf(doc, ca.trust_roots())
            validations.append(time.perf_counter() - t0)
    rate = SIGNATURES / sum(times)
    ok = report.all_valid and len(report.signatures) == 3
    print(
        f"   B-LT signatures, 3-page PDF, one core: {rate:.1f}/s "
        f"(median {statistics.median(times) * 1000:.0f} ms; aim >= 10/s)"
    )
    print(
        f"   validating 3 signatures: median {statistics.median(validations) * 1000:.0f} ms; "
        f"all valid: {ok}"
    )
    failures = []
    if rate < 10:
        failures.append(f"signing: {rate:.1f} signatures/s, aim 10")
    if not ok:
        failures.append("signing: the three-signature document did not validate")
    return failures
