"""The signing authority is made once, by ``initialise``, and every other process only opens
it: an incomplete or inconsistent set is refused, naming the file, and never repaired by
replacing what is there."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from evidence_chain.config import Settings, load_settings
from evidence_chain.errors import ConfigurationError
from evidence_chain.keystore import MasterKey, encrypt_private_key
from runtime.services import build_services
from runtime.setup import initialise
from signing.authority import (
    AuthorityPaths,
    current_service_signer,
    load_authority,
)
from signing.pki import CertificateAuthority, Identity

ROOT = Path(__file__).resolve().parents[2]
FILES = (
    "keys/master.key",
    "pki/root.pem",
    "pki/root.key.enc",
    "pki/issuing.pem",
    "pki/issuing.key.enc",
    "pki/tsa.pem",
    "pki/tsa.key.enc",
    "pki/service-signer.json",
    "session.key",
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh instance on SQLite only: the authority lives in files, whatever the database."""
    return load_settings(
        {
            "EVIDENCE_HOME": str(tmp_path / "home"),
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_ANCHORING": "false",
        }
    )


def snapshot(home: Path) -> dict[str, bytes]:
    """The bytes of every authority file."""
    return {name: (home / name).read_bytes() for name in FILES}


def openssl_verify(pki: Path, leaf: Path) -> subprocess.CompletedProcess[str]:
    """What a relying party runs: does ``leaf`` chain to the root through the issuing CA?"""
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(pki / "root.pem"), "-untrusted",
         str(pki / "issuing.pem"), str(leaf)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def test_initialise_makes_the_whole_authority_once(settings: Settings, tmp_path: Path) -> None:
    initialise(settings)
    home = settings.home
    made = snapshot(home)
    for name in FILES:
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((home / "pki").stat().st_mode) == 0o700
    assert openssl_verify(home / "pki", home / "pki" / "tsa.pem").returncode == 0
    signer = json.loads((home / "pki" / "service-signer.json").read_text())
    (tmp_path / "signer.pem").write_text(signer["certificate"])
    assert openssl_verify(home / "pki", tmp_path / "signer.pem").returncode == 0
    initialise(settings)  # idempotent: nothing is made again, nothing replaced
    assert snapshot(home) == made
    assert not [p for p in home.rglob("*.tmp")]
    opened = load_authority(settings)
    assert opened.tsa_certificate.public_bytes(serialization.Encoding.PEM) == made["pki/tsa.pem"]


def test_processes_initialising_at_once_make_one_authority(settings: Settings) -> None:
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from cryptography.hazmat.primitives import hashes
        from evidence_chain.config import Settings
        from signing.authority import create_authority
        made = create_authority(Settings(home=Path(sys.argv[1]), database_url="sqlite://"))
        root = made.ca.root_cert.fingerprint(hashes.SHA256()).hex()
        print(root, made.tsa_certificate.serial_number)
        """
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(settings.home)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    assert len({out for out, _ in outputs}) == 1, outputs  # one root and one TSA for all
    pki = settings.home / "pki"
    assert openssl_verify(pki, pki / "tsa.pem").returncode == 0
    root = x509.load_pem_x509_certificate((pki / "root.pem").read_bytes())
    assert outputs[0][0].split()[0] == root.fingerprint(hashes.SHA256()).hex()


def _foreign(home: Path, tmp_path: Path) -> tuple[CertificateAuthority, MasterKey]:
    """Another CA whose keys are sealed with this instance's master key: what two workers
    racing to create the authority left behind before it was made once, at start."""
    master = MasterKey.load(home / "keys" / "master.key")
    return CertificateAuthority.generate(tmp_path / "foreign"), master


def _tsa_of_another_ca(home: Path, tmp_path: Path) -> None:
    ca, master = _foreign(home, tmp_path)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue_tsa_certificate(key.public_key())
    (home / "pki" / "tsa.key.enc").write_bytes(encrypt_private_key(key, master))
    (home / "pki" / "tsa.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _issuing_ca_of_another_root(home: Path, tmp_path: Path) -> None:
    ca, master = _foreign(home, tmp_path)
    pki = home / "pki"
    (pki / "issuing.key.enc").write_bytes(encrypt_private_key(ca._issuing_key, master))
    (pki / "issuing.pem").write_bytes(ca.issuing_cert.public_bytes(serialization.Encoding.PEM))


def _service_signer_of_another_ca(home: Path, tmp_path: Path) -> None:
    ca, master = _foreign(home, tmp_path)
    signer = ca.new_signer(Identity("Sealtrail evidence service", kind="organization"))
    record = {
        "certificate": signer.certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "key": encrypt_private_key(signer.private_key, master).hex(),
    }
    (home / "pki" / "service-signer.json").write_text(json.dumps(record))


def _swap_keys(home: Path, tmp_path: Path) -> None:
    pki = home / "pki"
    tsa, issuing = (pki / "tsa.key.enc").read_bytes(), (pki / "issuing.key.enc").read_bytes()
    (pki / "tsa.key.enc").write_bytes(issuing)
    (pki / "issuing.key.enc").write_bytes(tsa)


DAMAGE: dict[str, tuple[Callable[[Path, Path], object], str]] = {
    "tsa certificate missing": (
        lambda home, tmp: (home / "pki" / "tsa.pem").unlink(),
        r"tsa\.pem missing",
    ),
    "tsa certified by another CA": (
        _tsa_of_another_ca,
        r"tsa\.pem was not issued by .*issuing\.pem",
    ),
    "issuing CA signed by another root": (
        _issuing_ca_of_another_root,
        r"issuing\.pem was not issued by .*root\.pem",
    ),
    "root certificate missing": (
        lambda home, tmp: (home / "pki" / "root.pem").unlink(),
        r"incomplete certificate authority .*root\.pem",
    ),
    "keys swapped": (_swap_keys, r"issuing\.key\.enc is not the private key of .*issuing\.pem"),
    "master key empty": (
        lambda home, tmp: (home / "keys" / "master.key").write_bytes(b""),
        r"master key .*master\.key is empty",
    ),
    "master key replaced": (
        lambda home, tmp: (home / "keys" / "master.key").write_text(
            MasterKey.generate().to_base64()
        ),
        r"root\.key\.enc cannot be opened with the master key",
    ),
    "master key open to others": (
        lambda home, tmp: (home / "keys" / "master.key").chmod(0o644),
        r"master\.key is readable by others",
    ),
    "service signer certified by another CA": (
        _service_signer_of_another_ca,
        r"service-signer\.json was not issued by .*issuing\.pem",
    ),
    "session key cut short": (
        lambda home, tmp: (home / "session.key").write_bytes(b"short"),
        r"session key .*session\.key holds 5 bytes",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_an_incomplete_or_inconsistent_set_is_refused_naming_the_file(
    settings: Settings, tmp_path: Path, damage: str
) -> None:
    initialise(settings)
    hurt, message = DAMAGE[damage]
    hurt(settings.home, tmp_path)
    before = {p: p.read_bytes() for p in settings.home.rglob("*") if p.is_file()}  # damaged
    with pytest.raises(ConfigurationError, match=message):
        build_services(settings)  # what every worker and command does first
    with pytest.raises(ConfigurationError, match=message):
        initialise(settings)  # init refuses too: it never replaces a file to make a set fit
    after = {p: p.read_bytes() for p in settings.home.rglob("*") if p.is_file()}
    assert kept(after) == kept(before)


def kept(files: dict[Path, bytes]) -> dict[Path, bytes]:
    """The files of the instance apart from the database, which opening it may touch."""
    return {p: b for p, b in files.items() if not p.name.startswith("sealtrail.db")}


def test_an_uninitialised_home_is_refused_and_nothing_is_made(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match=r"master key .*master\.key is missing"):
        load_authority(settings)
    assert not (settings.home / "pki").exists()
    assert not (settings.home / "keys").exists()


def test_the_master_key_setting_is_used_and_no_key_file_is_written(settings: Settings) -> None:
    master = MasterKey.generate()
    configured = settings.with_overrides(master_key=master.to_base64())
    initialise(configured)
    assert not (settings.home / "keys" / "master.key").exists()
    assert load_authority(configured).master == master
    with pytest.raises(ConfigurationError, match=r"master key .*master\.key is missing"):
        load_authority(settings)  # without the setting there is no key to open the CA with
    wrong = settings.with_overrides(master_key=MasterKey.generate().to_base64())
    with pytest.raises(ConfigurationError, match=r"root\.key\.enc cannot be opened"):
        load_authority(wrong)


def test_a_revoked_service_signer_is_renewed_once_for_all_threads(settings: Settings) -> None:
    initialise(settings)
    authority = load_authority(settings)
    old = authority.service_signer.certificate
    authority.ca.revoke(old.serial_number)
    renewed: list[x509.Certificate] = []
    barrier = threading.Barrier(4)

    def renew() -> None:
        barrier.wait()
        renewed.append(current_service_signer(settings, authority.ca, authority.master).certificate)

    threads = [threading.Thread(target=renew) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(renewed) == 4 and len(set(renewed)) == 1 and renewed[0] != old
    on_disk = load_authority(settings).service_signer.certificate
    assert on_disk == renewed[0]
    on_disk.verify_directly_issued_by(authority.ca.issuing_cert)
    paths = AuthorityPaths.of(settings)
    assert stat.S_IMODE(os.stat(paths.service_signer).st_mode) == 0o600
