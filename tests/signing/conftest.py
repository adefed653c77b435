"""Shared fixtures: one CA, one TSA and a few signers per test session (key generation is slow)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from evidence_chain.config import Settings
from evidence_chain.keystore import MasterKey
from signing.authority import create_authority
from signing.pki import CertificateAuthority, Identity, SignerIdentity
from signing.tsa import InProcessTimeStamper, TimeStampAuthority

VECTORS = Path(__file__).parent / "vectors"


@dataclass(frozen=True)
class Pki:
    master: MasterKey
    ca: CertificateAuthority
    tsa: TimeStampAuthority
    directory: Path

    def timestamper(self) -> InProcessTimeStamper:
        return InProcessTimeStamper(self.tsa)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    home = tmp_path_factory.mktemp("instance")
    settings = Settings(
        home=home, database_url="sqlite://", public_base_url="https://sealtrail.test"
    )
    authority = create_authority(settings, name="Sealtrail Test")
    tsa = TimeStampAuthority(authority.tsa_certificate, authority.tsa_key, authority.ca.chain)
    return Pki(authority.master, authority.ca, tsa, home / "pki")


@pytest.fixture(scope="session")
def alice(pki: Pki) -> SignerIdentity:
    return pki.ca.new_signer(
        Identity("Alice Zhang", email="alice@example.com", serial_number="PID-110101-XXXX-0011")
    )


@pytest.fixture(scope="session")
def acme(pki: Pki) -> SignerIdentity:
    return pki.ca.new_signer(
        Identity(
            "示例科技有限公司",
            kind="organization",
            organization_identifier="NTRCN-91110000MA01ABCD2X",
        )
    )


@pytest.fixture(scope="session")
def bob(pki: Pki) -> SignerIdentity:
    return pki.ca.new_signer(Identity("Bob Li", organization="Bob Trading Co."))


def make_pdf(pages: int = 3, size: tuple[float, float] = A4) -> bytes:
    """A plain contract-like PDF with ``pages`` pages."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    for i in range(pages):
        c.setFont("Helvetica", 14)
        c.drawString(72, size[1] - 72, f"Purchase contract - page {i + 1} of {pages}")
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="session")
def contract() -> bytes:
    return make_pdf(3)


@pytest.fixture(scope="session")
def one_page() -> bytes:
    return make_pdf(1)


@pytest.fixture(scope="session")
def simple_seal() -> bytes:
    """A 40 mm red ring as a one-page PDF (independent of signing.seals)."""
    size = 40 * 72 / 25.4
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(size, size))
    c.setStrokeColorRGB(0.83, 0, 0)
    c.setLineWidth(3)
    c.circle(size / 2, size / 2, size / 2 - 2)
    c.save()
    return buf.getvalue()


@pytest.fixture
def sign_kwargs(pki: Pki) -> Callable[[], dict[str, object]]:
    def make() -> dict[str, object]:
        return {"timestamper": pki.timestamper(), "crls": pki.ca.crls()}

    return make
