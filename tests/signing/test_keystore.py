from __future__ import annotations

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from evidence_chain.errors import ConfigurationError
from evidence_chain.keystore import (
    ENV_VAR,
    MAGIC,
    MasterKey,
    decrypt_private_key,
    encrypt_private_key,
)
from signing.errors import KeyDecryptionError


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_roundtrip_ec_and_rsa(ec_key: ec.EllipticCurvePrivateKey) -> None:
    master = MasterKey.generate()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for key in (ec_key, rsa_key):
        blob = encrypt_private_key(key, master)
        assert blob.startswith(MAGIC)
        back = decrypt_private_key(blob, master)
        assert back.private_numbers() == key.private_numbers()  # type: ignore[union-attr]


def test_envelope_is_randomised_and_hides_the_key(ec_key: ec.EllipticCurvePrivateKey) -> None:
    master = MasterKey.generate()
    a, b = encrypt_private_key(ec_key, master), encrypt_private_key(ec_key, master)
    assert a != b
    assert b"PRIVATE KEY" not in a


def test_wrong_master_or_tampering_is_refused(ec_key: ec.EllipticCurvePrivateKey) -> None:
    master = MasterKey.generate()
    blob = encrypt_private_key(ec_key, master)
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(blob, MasterKey.generate())
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(bytes(tampered), master)
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(b"-----BEGIN PRIVATE KEY-----", master)


def test_create_makes_a_0600_file_that_load_reads_and_create_never_replaces(tmp_path) -> None:
    path = tmp_path / "sub" / "master.key"
    first = MasterKey.create(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert MasterKey.load(path) == first
    with pytest.raises(FileExistsError):
        MasterKey.create(path)
    assert MasterKey.load(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temporary file left


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        (None, 0o600, "is missing"),
        (b"", 0o600, "is empty"),  # what a reader racing a non-atomic writer used to see
        (b"c2hvcnQ=\n", 0o600, "must be 32 bytes"),
        (b"\xff\xfe", 0o600, "is empty or unreadable"),
        (base64.b64encode(bytes(32)), 0o644, "readable by others"),
    ],
)
def test_load_refuses_a_missing_empty_short_or_open_key_file(
    tmp_path, content: bytes | None, mode: int, message: str
) -> None:
    path = tmp_path / "master.key"
    if content is not None:
        path.write_bytes(content)
        path.chmod(mode)
    with pytest.raises(ConfigurationError, match=message) as caught:
        MasterKey.load(path)
    assert str(path) in caught.value.message


def test_environment_value_is_read() -> None:
    key = MasterKey.generate()
    assert MasterKey.from_env({ENV_VAR: key.to_base64()}) == key
    assert MasterKey.from_env({}) is None


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_bad_master_key_values(value: str) -> None:
    with pytest.raises(ConfigurationError):
        MasterKey.from_base64(value)


def test_master_key_is_not_printed() -> None:
    key = MasterKey.generate()
    assert key.to_base64() not in repr(key)
