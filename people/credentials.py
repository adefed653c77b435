"""Secrets of people: password hashing (argon2id), random tokens, TOTP and recovery codes.

Passwords are hashed with argon2-cffi's defaults (argon2id, RFC 9106 low-memory profile),
and rehashed on login when those parameters change. Session ids, one-time links and recovery
codes are random (256 bits, 256 bits, 60 bits) and stored as SHA-256. A TOTP secret must be
read back to check a code, so it is sealed with AES-256-GCM under a key derived from the
master key, bound to the person's public id.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from evidence_chain.errors import IntegrityError, ValidationError
from evidence_chain.keystore import MasterKey

PASSWORD_MIN = 10
PASSWORD_MAX = 256
EMAIL_MAX = 254
RECOVERY_CODES = 10
TOTP_ISSUER = "Sealtrail"
_SEAL_MAGIC = b"SPT1"
_SEAL_INFO = b"sealtrail person totp v1"
_NONCE_LEN = 12
_hasher = PasswordHasher()
# Checked against when the email is unknown, so that a wrong address costs as much time as a
# wrong password and does not reveal which addresses have an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def sha256(value: str) -> bytes:
    """The stored form of a random token, session id or recovery code."""
    return hashlib.sha256(value.encode("utf-8")).digest()


def new_token() -> str:
    """A 256-bit random token, URL-safe."""
    return secrets.token_urlsafe(32)


def normalize_email(value: str) -> str:
    """An email address trimmed and lower-cased; ValidationError unless it looks like one."""
    email = (value or "").strip().lower()
    local, _, domain = email.partition("@")
    if (
        not local
        or "." not in domain
        or len(email) > EMAIL_MAX
        or any(c.isspace() or c in "<>,;\"'" for c in email)
    ):
        raise ValidationError(
            "enter a valid email address", details={"field": "email", "reason": "email"}
        )
    return email


def email_digest(email: str) -> str:
    """SHA-256 (hex) of a normalised email address: what the evidence log keeps of it."""
    return hashlib.sha256(normalize_email(email).encode("utf-8")).hexdigest()


def check_password_policy(password: str, email: str) -> None:
    """ValidationError unless ``password`` is 10-256 characters and not the email address."""
    if len(password) < PASSWORD_MIN:
        raise ValidationError(
            f"a password has at least {PASSWORD_MIN} characters",
            details={"field": "password", "reason": "password_short", "min": PASSWORD_MIN},
        )
    if len(password) > PASSWORD_MAX:
        raise ValidationError(
            f"a password has at most {PASSWORD_MAX} characters",
            details={"field": "password", "reason": "password_long", "max": PASSWORD_MAX},
        )
    if password.strip().lower() == email.lower():
        raise ValidationError(
            "the password must not be your email address",
            details={"field": "password", "reason": "password_email"},
        )


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None: checked against a dummy hash, False)."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's."""
    return _hasher.check_needs_rehash(stored)


# --- TOTP --------------------------------------------------------------------------------


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def totp_counter(secret: str, code: str, now: datetime, last_counter: int | None) -> int | None:
    """The time step a 6-digit ``code`` is valid for (one step of drift either way), or None.

    A code whose step is not after ``last_counter`` is refused, so a code is used only once.
    """
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if last_counter is not None and step <= last_counter:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def seal_totp(secret: str, person_id: str, master: MasterKey) -> bytes:
    """Encrypt a TOTP secret: ``SPT1 || nonce || AES-256-GCM``, bound to the person."""
    nonce = secrets.token_bytes(_NONCE_LEN)
    aead = AESGCM(master.derive(_SEAL_INFO))
    return _SEAL_MAGIC + nonce + aead.encrypt(nonce, secret.encode(), _aad(person_id))


def open_totp(blob: bytes, person_id: str, master: MasterKey) -> str:
    """Decrypt a sealed TOTP secret (IntegrityError with another key or a swapped row)."""
    blob = bytes(blob)
    if not blob.startswith(_SEAL_MAGIC) or len(blob) < len(_SEAL_MAGIC) + _NONCE_LEN + 16:
        raise IntegrityError("not a sealed TOTP secret", details={"person": person_id})
    nonce = blob[len(_SEAL_MAGIC) : len(_SEAL_MAGIC) + _NONCE_LEN]
    try:
        clear = AESGCM(master.derive(_SEAL_INFO)).decrypt(
            nonce, blob[len(_SEAL_MAGIC) + _NONCE_LEN :], _aad(person_id)
        )
    except InvalidTag:
        raise IntegrityError(
            "the TOTP secret does not open with this master key", details={"person": person_id}
        ) from None
    return clear.decode()


def _aad(person_id: str) -> bytes:
    return _SEAL_MAGIC + person_id.encode()


def new_recovery_codes() -> list[str]:
    """Fresh recovery codes, ``xxxxx-xxxxx`` of base32 (50 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(7)).decode().lower()[:10]
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalize_recovery_code(code: str) -> str:
    """A recovery code as typed, in its stored form (lower case, one dash, no spaces)."""
    raw = "".join(c for c in code.lower() if c.isalnum())
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else raw
