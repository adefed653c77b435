"""The instance's signing authority on disk: made once, then only opened.

Files under ``EVIDENCE_HOME`` (files 0600, folders 0700)::

    keys/master.key                   the master key (base64), unless EVIDENCE_MASTER_KEY is set
    pki/root.pem, root.key.enc        self-signed root CA
    pki/issuing.pem, issuing.key.enc  issuing CA, signed by the root
    pki/tsa.pem, tsa.key.enc          the time-stamping authority, certified by the issuing CA
    pki/service-signer.json           the certificate and sealed key the service signs its
                                      certificates of evidence with, issued by the issuing CA
    pki/revocations.json              revoked serials, from the first revocation on

:func:`create_authority` makes whatever of it is missing, once, before any worker starts
(``runtime.setup.initialise``: gunicorn's ``on_starting`` and
``flask --app app init``): under the instance's inter-process lock, each file written whole
and linked into place, none ever replaced. Every other process only opens it with
:func:`load_authority`, which refuses an incomplete or inconsistent set with a
ConfigurationError naming the file: each key must open with the master key and be the private
half of its certificate, and each certificate must be signed by the one above it. A worker
therefore never makes a key or a CA of its own, and two workers can never disagree on them.

The one thing renewed while the service runs is the service signer's end-entity certificate,
when it nears expiry or is revoked (:func:`current_service_signer`), under the same lock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID

from evidence_chain.config import Settings
from evidence_chain.errors import ConfigurationError
from evidence_chain.keystore import (
    MasterKey,
    configured_master_key,
    decrypt_private_key,
    encrypt_private_key,
    load_master_key,
    master_key_path,
)
from evidence_chain.private_files import (
    create_private_file,
    instance_lock,
    make_private_dir,
    write_private_file,
)
from signing.errors import KeyDecryptionError
from signing.pki import (
    CertificateAuthority,
    Identity,
    SignerIdentity,
    load_certificate_file,
    load_sealed_key_file,
    require_issued_by,
    require_key_pair,
)

__all__ = [
    "Authority",
    "AuthorityPaths",
    "create_authority",
    "current_service_signer",
    "load_authority",
]

Clock = Callable[[], dt.datetime]
_RENEW_BEFORE = dt.timedelta(days=1)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class AuthorityPaths:
    """Where the files of an instance's signing authority live."""

    home: Path
    master_key: Path
    pki: Path

    @classmethod
    def of(cls, settings: Settings) -> AuthorityPaths:
        """The paths of the instance configured by ``settings``."""
        return cls(settings.home, master_key_path(settings), settings.home / "pki")

    @property
    def issuing_cert(self) -> Path:
        """The issuing CA's certificate (PEM), which certifies the TSA and every signer."""
        return CertificateAuthority.files(self.pki)["issuing"]

    @property
    def tsa_cert(self) -> Path:
        """The time-stamping certificate (PEM)."""
        return self.pki / "tsa.pem"

    @property
    def tsa_key(self) -> Path:
        """The time-stamping key, sealed with the master key."""
        return self.pki / "tsa.key.enc"

    @property
    def service_signer(self) -> Path:
        """The service signer's certificate and sealed key (JSON)."""
        return self.pki / "service-signer.json"

    def sealed_files(self) -> list[Path]:
        """Every file that holds a key sealed with the master key."""
        ca = CertificateAuthority.files(self.pki)
        return [ca["root key"], ca["issuing key"], self.tsa_key, self.service_signer]


@dataclass(frozen=True)
class Authority:
    """An opened, checked signing authority."""

    master: MasterKey
    ca: CertificateAuthority
    tsa_certificate: x509.Certificate
    tsa_key: PrivateKeyTypes = field(repr=False)
    service_signer: SignerIdentity


# --- the master key -------------------------------------------------------------------------


def _create_or_load_master(paths: AuthorityPaths, settings: Settings) -> MasterKey:
    configured = configured_master_key(settings)
    if configured is not None:
        return configured
    if paths.master_key.exists():
        return MasterKey.load(paths.master_key)
    sealed = [str(p) for p in paths.sealed_files() if p.exists()]
    if sealed:
        raise ConfigurationError(
            f"the master key {paths.master_key} is missing but {', '.join(sealed)} are sealed "
            "with one: restore it from its backup or set EVIDENCE_MASTER_KEY"
        )
    return MasterKey.create(paths.master_key)


# --- the time-stamping authority and the service signer ---------------------------------------


def _load_tsa(
    paths: AuthorityPaths, ca: CertificateAuthority, master: MasterKey
) -> tuple[x509.Certificate, PrivateKeyTypes]:
    missing = [str(p) for p in (paths.tsa_cert, paths.tsa_key) if not p.exists()]
    if missing:
        raise ConfigurationError(
            f"incomplete signing authority: {', '.join(missing)} missing; run "
            "`flask --app app init`"
        )
    cert = load_certificate_file(paths.tsa_cert)
    key = load_sealed_key_file(paths.tsa_key, master)
    require_key_pair(cert, key, paths.tsa_cert, paths.tsa_key)
    require_issued_by(cert, ca.issuing_cert, paths.tsa_cert, paths.issuing_cert)
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise ConfigurationError(
            f"{paths.tsa_cert} is not a time-stamping certificate (RFC 3161 needs the critical "
            "extended key usage timeStamping, alone)"
        )
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigurationError(f"{paths.tsa_key} is not an ECDSA key")
    return cert, key


def _create_tsa(paths: AuthorityPaths, ca: CertificateAuthority, master: MasterKey) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue_tsa_certificate(key.public_key())
    # the key first: a certificate on disk always has its key beside it
    create_private_file(paths.tsa_key, encrypt_private_key(key, master))
    create_private_file(paths.tsa_cert, cert.public_bytes(serialization.Encoding.PEM))


def _service_signer_record(signer: SignerIdentity, master: MasterKey) -> bytes:
    pem = signer.certificate.public_bytes(serialization.Encoding.PEM)
    record = {
        "certificate": pem.decode("ascii"),
        "key": encrypt_private_key(signer.private_key, master).hex(),
    }
    return json.dumps(record).encode("utf-8")


def _new_service_signer(ca: CertificateAuthority) -> SignerIdentity:
    org = ca.issuing_cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    name = f"{str(org[0].value) if org else 'Sealtrail'} evidence service"
    return ca.new_signer(Identity(name, kind="organization"))


def _load_service_signer(
    paths: AuthorityPaths, ca: CertificateAuthority, master: MasterKey
) -> SignerIdentity:
    path = paths.service_signer
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        cert = x509.load_pem_x509_certificate(str(stored["certificate"]).encode("ascii"))
        key = decrypt_private_key(bytes.fromhex(str(stored["key"])), master)
    except FileNotFoundError:
        raise ConfigurationError(
            f"incomplete signing authority: {path} missing; run `flask --app app init`"
        ) from None
    except KeyDecryptionError as exc:
        raise ConfigurationError(
            f"{path} cannot be opened with the master key: {exc.message}"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"{path} is not a service signer record: {exc}") from None
    require_key_pair(cert, key, path, path)
    require_issued_by(cert, ca.issuing_cert, path, paths.issuing_cert)
    return SignerIdentity(key, cert, ca.chain)


def _usable(signer: SignerIdentity, ca: CertificateAuthority, now: dt.datetime) -> bool:
    cert = signer.certificate
    return cert.not_valid_after_utc > now + _RENEW_BEFORE and not ca.is_revoked(cert.serial_number)


def current_service_signer(
    settings: Settings, ca: CertificateAuthority, master: MasterKey, clock: Clock = _utcnow
) -> SignerIdentity:
    """The service signer, renewed (under the instance lock, replaced whole) when it is within
    a day of expiry or revoked; whichever process renews it first, the others use its one."""
    paths = AuthorityPaths.of(settings)
    signer = _load_service_signer(paths, ca, master)
    if _usable(signer, ca, clock()):
        return signer
    with instance_lock(paths.home):
        signer = _load_service_signer(paths, ca, master)
        if _usable(signer, ca, clock()):
            return signer
        signer = _new_service_signer(ca)
        write_private_file(paths.service_signer, _service_signer_record(signer, master))
        return signer


# --- the whole authority ----------------------------------------------------------------------


def _load(paths: AuthorityPaths, settings: Settings, master: MasterKey) -> Authority:
    ca = CertificateAuthority.load(paths.pki, master, base_url=settings.public_base_url)
    tsa_cert, tsa_key = _load_tsa(paths, ca, master)
    return Authority(master, ca, tsa_cert, tsa_key, _load_service_signer(paths, ca, master))


def create_authority(settings: Settings, *, name: str = "Sealtrail") -> Authority:
    """Make whatever of the signing authority is missing, check all of it, and return it.

    Idempotent. Runs under the exclusive instance lock and never replaces a file; a set it
    cannot complete without replacing something (a CA folder with files missing, a TSA key
    without its certificate) is refused with a ConfigurationError naming the files.
    """
    paths = AuthorityPaths.of(settings)
    with instance_lock(paths.home):
        make_private_dir(paths.pki)
        master = _create_or_load_master(paths, settings)
        ca_files = CertificateAuthority.files(paths.pki)
        if not any(p.exists() for p in ca_files.values()):
            below = [
                str(p) for p in (paths.tsa_cert, paths.tsa_key, paths.service_signer) if p.exists()
            ]
            if below:
                raise ConfigurationError(
                    f"{', '.join(below)} exist but the certificate authority that issued them "
                    f"is missing from {paths.pki}: restore it from its backup"
                )
            ca = CertificateAuthority.generate(
                paths.pki, name=name, base_url=settings.public_base_url
            )
            ca.save(master)
        ca = CertificateAuthority.load(paths.pki, master, base_url=settings.public_base_url)
        if not paths.tsa_cert.exists() and not paths.tsa_key.exists():
            _create_tsa(paths, ca, master)
        if not paths.service_signer.exists():
            create_private_file(
                paths.service_signer, _service_signer_record(_new_service_signer(ca), master)
            )
        return _load(paths, settings, master)


def load_authority(settings: Settings) -> Authority:
    """Open the signing authority made by :func:`create_authority`, checking every file."""
    paths = AuthorityPaths.of(settings)
    with instance_lock(paths.home, shared=True):
        if not settings.master_key and not paths.master_key.exists():
            raise ConfigurationError(
                f"no signing authority at {paths.home}: the master key {paths.master_key} is "
                "missing (run `flask --app app init`, or set EVIDENCE_MASTER_KEY)"
            )
        return _load(paths, settings, load_master_key(settings))
