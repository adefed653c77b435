"""The service's own two-level certificate authority.

:meth:`CertificateAuthority.generate` and :meth:`~CertificateAuthority.save` make, once, in one
directory (see :mod:`signing.authority` for when)::

    root.pem / root.key.enc          self-signed root CA (pathLen 1), ECDSA P-256
    issuing.pem / issuing.key.enc    issuing CA signed by the root (pathLen 0)
    revocations.json                 revoked serials of both CAs

:meth:`CertificateAuthority.load` opens them and refuses a set that does not fit together.
Keys are sealed with :mod:`evidence_chain.keystore`; every file is mode 0600. End-entity and TSA
certificates carry a CRL distribution point (``{base_url}/pki/crl``), the issuing CA carries
``{base_url}/pki/root-crl``, so a relying party can check every non-root link of the chain
and pyHanko can embed both CRLs into the DSS for long-term validation (PAdES B-LT).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPublicKeyTypes,
    PrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from evidence_chain.errors import ConfigurationError, KeyDecryptionError, ValidationError
from evidence_chain.keystore import MasterKey, decrypt_private_key, encrypt_private_key
from evidence_chain.private_files import (
    create_private_file,
    file_lock,
    make_private_dir,
    write_private_file,
)

__all__ = [
    "DOCUMENT_SIGNING_EKU",
    "CertificateAuthority",
    "Identity",
    "SignerIdentity",
    "new_signer_key",
]

Clock = Callable[[], dt.datetime]

# RFC 9336 id-kp-documentSigning; emailProtection is kept beside it because NSS (pdfsig,
# Thunderbird, Firefox) checks PDF signers for the e-mail signer usage.
DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
_ORGANIZATION_IDENTIFIER = ObjectIdentifier("2.5.4.97")

_PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")
_ROOT_YEARS = 20
_ISSUING_YEARS = 10
_CRL_DAYS = 7


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_signer_key() -> ec.EllipticCurvePrivateKey:
    """Return a fresh ECDSA P-256 key, the engine's default for signers."""
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class Identity:
    """Who a certificate is issued to: a natural person or an organisation.

    ``organization_identifier`` is written as the ETSI EN 319 412-1 organizationIdentifier
    (e.g. ``NTRCN-91110000XXXXXXXXXX`` for a Chinese unified social credit code);
    ``serial_number`` is the subject serialNumber (e.g. a masked ID number for a person).
    """

    common_name: str
    kind: Literal["person", "organization"] = "person"
    organization: str | None = None
    organizational_unit: str | None = None
    country: str | None = "CN"
    serial_number: str | None = None
    organization_identifier: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        if not self.common_name.strip():
            raise ValidationError("identity needs a common name")
        if self.country is not None and len(self.country) != 2:
            raise ValidationError("country must be a two-letter ISO 3166 code")
        for label, value in (
            ("serial_number", self.serial_number),
            ("organization_identifier", self.organization_identifier),
        ):
            # both are PrintableString in X.520
            if value is not None and not set(value) <= _PRINTABLE:
                raise ValidationError(f"{label} may use only A-Z a-z 0-9 and ' ()+,-./:=?")

    def x509_name(self) -> x509.Name:
        """Return the subject distinguished name for this identity."""
        attrs: list[x509.NameAttribute] = []
        if self.country:
            attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, self.country.upper()))
        org = self.organization or (self.common_name if self.kind == "organization" else None)
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        if self.organizational_unit:
            attrs.append(
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, self.organizational_unit)
            )
        if self.organization_identifier:
            attrs.append(x509.NameAttribute(_ORGANIZATION_IDENTIFIER, self.organization_identifier))
        if self.serial_number:
            attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, self.serial_number))
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, self.common_name))
        if self.email:
            attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, self.email))
        return x509.Name(attrs)


@dataclass(frozen=True)
class SignerIdentity:
    """A signing key with its certificate and the chain up to (and including) the root."""

    private_key: PrivateKeyTypes = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


def load_certificate_file(path: Path) -> x509.Certificate:
    """Read a PEM certificate; ConfigurationError naming the file if it is not one."""
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise ConfigurationError(f"{path} is missing") from None
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not a PEM certificate: {exc}") from None


def load_sealed_key_file(path: Path, master_key: MasterKey) -> PrivateKeyTypes:
    """Open a key sealed by :mod:`evidence_chain.keystore`; ConfigurationError naming the file."""
    try:
        return decrypt_private_key(path.read_bytes(), master_key)
    except FileNotFoundError:
        raise ConfigurationError(f"{path} is missing") from None
    except (KeyDecryptionError, ValueError) as exc:
        raise ConfigurationError(
            f"{path} cannot be opened with the master key (keys/master.key or "
            f"EVIDENCE_MASTER_KEY): {exc}"
        ) from None


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def require_key_pair(
    cert: x509.Certificate, key: PrivateKeyTypes, cert_path: Path, key_path: Path
) -> None:
    """ConfigurationError unless ``key`` is the private half of ``cert``'s public key."""
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        raise ConfigurationError(f"{key_path} is not the private key of {cert_path}")


def require_ca(cert: x509.Certificate, path: Path) -> None:
    """ConfigurationError unless ``cert`` is a CA certificate."""
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise ConfigurationError(f"{path} is not a CA certificate")


def require_issued_by(
    cert: x509.Certificate, issuer: x509.Certificate, cert_path: Path, issuer_path: Path
) -> None:
    """ConfigurationError unless ``issuer`` signed ``cert`` (names and signature)."""
    try:
        cert.verify_directly_issued_by(issuer)
    except InvalidSignature:
        why = "its signature does not verify with the issuer's key"
    except (ValueError, TypeError) as exc:
        why = str(exc)
    else:
        return
    raise ConfigurationError(
        f"{cert_path} was not issued by {issuer_path} ({why}): the certificates on disk do "
        "not form one chain"
    )


def _ski(public_key: CertificateIssuerPublicKeyTypes) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


def _crl_dp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


class CertificateAuthority:
    """Root + issuing CA stored in one directory, keys sealed with the master key."""

    def __init__(
        self,
        directory: Path,
        root_cert: x509.Certificate,
        root_key: PrivateKeyTypes,
        issuing_cert: x509.Certificate,
        issuing_key: PrivateKeyTypes,
        base_url: str,
        clock: Clock = _utcnow,
    ) -> None:
        self.directory = directory
        self.root_cert = root_cert
        self.issuing_cert = issuing_cert
        self._root_key = root_key
        self._issuing_key = issuing_key
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self._lock = threading.Lock()

    # --- construction -------------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        directory: str | Path,
        *,
        name: str = "Sealtrail",
        base_url: str = "http://localhost:5000",
        clock: Clock = _utcnow,
    ) -> CertificateAuthority:
        """Make a new root and issuing CA in memory, to be kept in ``directory`` by :meth:`save`."""
        now = clock()
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Root CA"),
            ]
        )
        root_cert = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=365 * _ROOT_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(_ski(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        issuing_key = ec.generate_private_key(ec.SECP256R1())
        issuing_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Issuing CA"),
            ]
        )
        issuing_cert = (
            x509.CertificateBuilder()
            .subject_name(issuing_name)
            .issuer_name(root_name)
            .public_key(issuing_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=365 * _ISSUING_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(_ski(issuing_key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                critical=False,
            )
            .add_extension(_crl_dp(f"{base_url.rstrip('/')}/pki/root-crl"), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        return cls(Path(directory), root_cert, root_key, issuing_cert, issuing_key, base_url, clock)

    @staticmethod
    def files(directory: str | Path) -> dict[str, Path]:
        """The four files of a CA in ``directory``, by role."""
        d = Path(directory)
        return {
            "root": d / "root.pem",
            "root key": d / "root.key.enc",
            "issuing": d / "issuing.pem",
            "issuing key": d / "issuing.key.enc",
        }

    def save(self, master_key: MasterKey) -> None:
        """Write the CA's four files (0600) into its directory, never replacing one.

        FileExistsError if any of them exists; ``root.pem`` is written last.
        """
        paths = self.files(self.directory)
        make_private_dir(self.directory)
        create_private_file(paths["root key"], encrypt_private_key(self._root_key, master_key))
        create_private_file(
            paths["issuing key"], encrypt_private_key(self._issuing_key, master_key)
        )
        create_private_file(
            paths["issuing"], self.issuing_cert.public_bytes(serialization.Encoding.PEM)
        )
        create_private_file(paths["root"], self.root_cert.public_bytes(serialization.Encoding.PEM))

    @classmethod
    def load(
        cls,
        directory: str | Path,
        master_key: MasterKey,
        *,
        base_url: str = "http://localhost:5000",
        clock: Clock = _utcnow,
    ) -> CertificateAuthority:
        """Open the CA kept in ``directory``; ConfigurationError naming the file that is missing
        or does not fit (a key that does not open or match, an issuing CA not signed by the root).
        """
        paths = cls.files(directory)
        missing = [str(p) for p in paths.values() if not p.exists()]
        if missing:
            raise ConfigurationError(
                f"incomplete certificate authority in {directory}: {', '.join(missing)} "
                "missing; run `flask --app app init`, or restore the folder from its backup"
            )
        root_cert = load_certificate_file(paths["root"])
        issuing_cert = load_certificate_file(paths["issuing"])
        root_key = load_sealed_key_file(paths["root key"], master_key)
        issuing_key = load_sealed_key_file(paths["issuing key"], master_key)
        require_key_pair(root_cert, root_key, paths["root"], paths["root key"])
        require_key_pair(issuing_cert, issuing_key, paths["issuing"], paths["issuing key"])
        require_ca(root_cert, paths["root"])
        require_issued_by(root_cert, root_cert, paths["root"], paths["root"])
        require_ca(issuing_cert, paths["issuing"])
        require_issued_by(issuing_cert, root_cert, paths["issuing"], paths["root"])
        return cls(Path(directory), root_cert, root_key, issuing_cert, issuing_key, base_url, clock)

    # --- issuance -----------------------------------------------------------------------

    @property
    def chain(self) -> tuple[x509.Certificate, x509.Certificate]:
        """The issuing CA and the root, in path order."""
        return (self.issuing_cert, self.root_cert)

    @property
    def crl_url(self) -> str:
        """Where the issuing CA's CRL is published."""
        return f"{self.base_url}/pki/crl"

    def _leaf_builder(
        self, subject: x509.Name, public_key: CertificateIssuerPublicKeyTypes, days: int
    ) -> x509.CertificateBuilder:
        now = self.clock()
        not_after = min(now + dt.timedelta(days=days), self.issuing_cert.not_valid_after_utc)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.issuing_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_ski(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.issuing_cert.public_key()  # type: ignore[arg-type]
                ),
                critical=False,
            )
            .add_extension(_crl_dp(self.crl_url), critical=False)
        )

    def issue_end_entity(
        self,
        subject: Identity,
        public_key: CertificateIssuerPublicKeyTypes,
        *,
        validity_days: int = 730,
    ) -> x509.Certificate:
        """Issue a document-signing certificate for a person or an organisation."""
        builder = self._leaf_builder(subject.x509_name(), public_key, validity_days)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        ).add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        if subject.email:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(subject.email)]), critical=False
            )
        return builder.sign(self._issuing_key, hashes.SHA256())  # type: ignore[arg-type]

    def issue_tsa_certificate(
        self, public_key: CertificateIssuerPublicKeyTypes, *, name: str | None = None
    ) -> x509.Certificate:
        """Issue a time-stamping certificate (critical EKU timeStamping only, RFC 3161 2.3)."""
        org = self.issuing_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        org_name = str(org[0].value) if org else "Sealtrail"
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name),
                x509.NameAttribute(
                    NameOID.COMMON_NAME, name or f"{org_name} Time-Stamping Authority"
                ),
            ]
        )
        builder = self._leaf_builder(subject, public_key, 365 * 5)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        return builder.sign(self._issuing_key, hashes.SHA256())  # type: ignore[arg-type]

    def new_signer(self, subject: Identity, *, validity_days: int = 730) -> SignerIdentity:
        """Make a fresh key, certify it for ``subject`` and bundle it with the chain."""
        key = new_signer_key()
        cert = self.issue_end_entity(subject, key.public_key(), validity_days=validity_days)
        return SignerIdentity(private_key=key, certificate=cert, chain=self.chain)

    # --- revocation ---------------------------------------------------------------------

    @property
    def _revocations_path(self) -> Path:
        return self.directory / "revocations.json"

    def _load_revocations(self) -> dict[str, dict[str, dict[str, str]]]:
        try:
            data: dict[str, dict[str, dict[str, str]]] = json.loads(
                self._revocations_path.read_text(encoding="utf-8")
            )
        except FileNotFoundError:
            data = {}
        data.setdefault("issuing", {})
        data.setdefault("root", {})
        return data

    def revoke(
        self,
        serial: int,
        reason: x509.ReasonFlags = x509.ReasonFlags.unspecified,
        *,
        issuer: Literal["issuing", "root"] = "issuing",
    ) -> None:
        """Record ``serial`` (issued by the issuing CA, or by the root) as revoked."""
        if serial <= 0:
            raise ValidationError("certificate serial numbers are positive")
        if reason in (x509.ReasonFlags.remove_from_crl,):
            raise ValidationError("removeFromCRL is not a revocation reason")
        # The thread lock orders this process's revocations; the file lock, other processes'
        # (a worker and `flask pki revoke` may revoke at the same moment).
        with self._lock, file_lock(self.directory / "revocations.lock"):
            data = self._load_revocations()
            key = format(serial, "x")
            if key not in data[issuer]:
                data[issuer][key] = {
                    "reason": reason.value,
                    "revoked_at": self.clock().isoformat(),
                }
                write_private_file(
                    self._revocations_path,
                    json.dumps(data, indent=1, sort_keys=True).encode("utf-8"),
                )

    def is_revoked(self, serial: int, *, issuer: Literal["issuing", "root"] = "issuing") -> bool:
        """Whether ``serial`` has been revoked by ``issuer``."""
        return format(serial, "x") in self._load_revocations()[issuer]

    def _build_crl(
        self,
        issuer_cert: x509.Certificate,
        issuer_key: PrivateKeyTypes,
        entries: dict[str, dict[str, str]],
    ) -> bytes:
        now = self.clock()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer_cert.subject)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + dt.timedelta(days=_CRL_DAYS))
            # seconds since the epoch: monotonic without a stored counter
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    issuer_cert.public_key()  # type: ignore[arg-type]
                ),
                critical=False,
            )
        )
        for serial_hex, info in sorted(entries.items()):
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial_hex, 16))
                .revocation_date(dt.datetime.fromisoformat(info["revoked_at"]))
            )
            reason = x509.ReasonFlags(info["reason"])
            if reason is not x509.ReasonFlags.unspecified:
                revoked = revoked.add_extension(x509.CRLReason(reason), critical=False)
            builder = builder.add_revoked_certificate(revoked.build())
        crl = builder.sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
        return crl.public_bytes(serialization.Encoding.DER)

    def crl(self) -> bytes:
        """Return the issuing CA's current CRL (DER), published at :attr:`crl_url`."""
        return self._build_crl(
            self.issuing_cert, self._issuing_key, self._load_revocations()["issuing"]
        )

    def root_crl(self) -> bytes:
        """Return the root CA's current CRL (DER), covering issuing CA certificates."""
        return self._build_crl(self.root_cert, self._root_key, self._load_revocations()["root"])

    def crls(self) -> list[bytes]:
        """Both CRLs, which together cover every non-root certificate of a chain."""
        return [self.crl(), self.root_crl()]

    def trust_roots(self) -> Sequence[x509.Certificate]:
        """The anchors a relying party should trust: the root only."""
        return [self.root_cert]


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def new_serial() -> int:
    """A random positive 159-bit serial number (RFC 5280 allows up to 20 octets)."""
    return secrets.randbits(159) | 1
