from __future__ import annotations

import os
import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from evidence_chain.errors import ConfigurationError
from evidence_chain.keystore import MasterKey
from signing.pki import DOCUMENT_SIGNING_EKU, CertificateAuthority, Identity, SignerIdentity
from tests.signing.conftest import Pki


def test_reopening_gives_the_same_ca(pki: Pki) -> None:
    again = CertificateAuthority.load(pki.directory, pki.master)
    assert again.root_cert == pki.ca.root_cert
    assert again.issuing_cert == pki.ca.issuing_cert


def test_files_are_private_and_keys_sealed(pki: Pki) -> None:
    for name in ("root.pem", "issuing.pem", "root.key.enc", "issuing.key.enc", "tsa.key.enc"):
        path = pki.directory / name
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name
    assert b"PRIVATE KEY" not in (pki.directory / "root.key.enc").read_bytes()
    with pytest.raises(ConfigurationError, match=r"root\.key\.enc cannot be opened with"):
        CertificateAuthority.load(pki.directory, MasterKey.generate())


def test_chain_links(pki: Pki) -> None:
    root, issuing = pki.ca.root_cert, pki.ca.issuing_cert
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    dp = issuing.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp[0].full_name[0].value == "https://sealtrail.test/pki/root-crl"


def test_organisation_certificate(pki: Pki, acme: SignerIdentity) -> None:
    cert = acme.certificate
    cert.verify_directly_issued_by(pki.ca.issuing_cert)
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "示例科技有限公司"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "示例科技有限公司"
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
    org_id = subject.get_attributes_for_oid(ObjectIdentifier("2.5.4.97"))[0].value
    assert org_id == "NTRCN-91110000MA01ABCD2X"
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DOCUMENT_SIGNING_EKU in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp[0].full_name[0].value == "https://sealtrail.test/pki/crl"
    assert acme.chain == (pki.ca.issuing_cert, pki.ca.root_cert)


def test_person_certificate(alice: SignerIdentity) -> None:
    subject = alice.certificate.subject
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "PID-110101-XXXX-0011"
    assert subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value == "alice@example.com"
    san = alice.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.RFC822Name) == ["alice@example.com"]
    assert not subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)


def test_tsa_certificate_has_only_time_stamping(pki: Pki) -> None:
    eku = pki.tsa.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_revocation_is_listed_and_persisted(tmp_path) -> None:
    master = MasterKey.generate()
    ca = CertificateAuthority.generate(tmp_path)
    ca.save(master)
    signer = ca.new_signer(Identity("Carol"))
    serial = signer.certificate.serial_number
    assert not ca.is_revoked(serial)
    ca.revoke(serial, x509.ReasonFlags.key_compromise)
    reopened = CertificateAuthority.load(tmp_path, master)
    assert reopened.is_revoked(serial)
    crl = x509.load_der_x509_crl(reopened.crl())
    assert crl.is_signature_valid(ca.issuing_cert.public_key())  # type: ignore[arg-type]
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    root_crl = x509.load_der_x509_crl(reopened.root_crl())
    assert root_crl.is_signature_valid(ca.root_cert.public_key())  # type: ignore[arg-type]
    assert len(list(root_crl)) == 0


@pytest.mark.parametrize("kwargs", [{"common_name": " "}, {"common_name": "X", "country": "CHN"}])
def test_identity_rejects_bad_subjects(kwargs: dict[str, str]) -> None:
    from evidence_chain.errors import ValidationError

    with pytest.raises(ValidationError):
        Identity(**kwargs)  # type: ignore[arg-type]


def test_serial_number_must_be_printable() -> None:
    from evidence_chain.errors import ValidationError

    with pytest.raises(ValidationError):
        Identity("Dan", serial_number="110101-****")
