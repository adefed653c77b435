"""Poppler's pdfsig (NSS) must accept our signatures, and trust them once our root is trusted.

pdfsig does not validate /DocTimeStamp entries ("Unable to validate this type of signature"),
so only /Sig signatures are asserted. Each signature here is made by a different certificate:
pdfsig 22.12 reports "Unknown issue with Certificate" for the second of two signatures made
with the same certificate (NSS re-importing a temporary certificate), whatever the producer.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from signing.pades import Placement
from signing.pki import SignerIdentity
from signing.seals import SealSpec, draw_seal
from tests.signing.conftest import Pki
from tests.signing.helpers import sign


def _tool(name: str) -> str:
    path = shutil.which(name) or (
        f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None
    )
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI (Debian packages poppler-utils, libnss3-tools)")
        pytest.skip(f"{name} not installed (Debian packages poppler-utils, libnss3-tools)")
    return path


def _blocks(output: str) -> dict[str, str]:
    """Map field name -> that signature's block of pdfsig output."""
    out = {}
    for block in re.split(r"^Signature #\d+:\n", output, flags=re.M)[1:]:
        name = re.search(r"Signature Field Name: (.+)", block)
        assert name, block
        out[name.group(1).strip()] = block
    return out


@pytest.fixture(scope="module")
def signed_three_times(
    pki: Pki, alice: SignerIdentity, acme: SignerIdentity, bob: SignerIdentity, contract: bytes
) -> bytes:
    official = draw_seal(SealSpec("contract", "示例科技有限公司"))
    name = draw_seal(SealSpec("personal", "张三"))
    first = sign(pki, contract, acme, official, [Placement.riding()], certify=False)
    second = sign(pki, first.signed_pdf, alice, name, [Placement.every_page(420, 60, pages=[1, 3])])
    third = sign(
        pki, second.signed_pdf, bob, official, [Placement.explicit(3, 100, 100)], level="B-LTA"
    )
    return third.signed_pdf


def test_pdfsig_reports_every_signature_valid(signed_three_times: bytes, tmp_path: Path) -> None:
    pdfsig = _tool("pdfsig")
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_three_times)
    run = subprocess.run(
        [pdfsig, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    blocks = _blocks(run.stdout)
    sigs = {k: v for k, v in blocks.items() if not k.startswith("Timestamp-")}
    assert sorted(sigs) == ["Signature1", "Signature2", "Signature3"], run.stdout
    for name, block in sigs.items():
        assert "Signature Validation: Signature is Valid." in block, (name, block)
        assert "ETSI.CAdES.detached" in block


def test_pdfsig_trusts_our_root_from_an_nss_database(
    signed_three_times: bytes, pki: Pki, tmp_path: Path
) -> None:
    pdfsig = _tool("pdfsig")
    certutil = _tool("certutil")
    nss = tmp_path / "nss"
    nss.mkdir()
    root = tmp_path / "root.pem"
    root.write_bytes(pki.ca.root_cert.public_bytes(serialization.Encoding.PEM))
    db = f"sql:{nss}"
    subprocess.run([certutil, "-N", "-d", db, "--empty-password"], check=True, timeout=60)
    subprocess.run(
        [certutil, "-A", "-d", db, "-n", "Sealtrail Test Root", "-t", "CT,C,C", "-i", str(root)],
        check=True,
        timeout=60,
    )
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_three_times)
    run = subprocess.run(
        [pdfsig, "-nssdir", db, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    sigs = {k: v for k, v in _blocks(run.stdout).items() if not k.startswith("Timestamp-")}
    assert len(sigs) == 3, run.stdout
    for name, block in sigs.items():
        assert "Signature is Valid." in block, (name, block)
        assert "Certificate Validation: Certificate is Trusted." in block, (name, block)
