"""Instance configuration, read from the environment once at start-up.

Everything has a default that runs the embedded instance (SQLite and a local chain under
``EVIDENCE_HOME``); a deployment overrides what it needs. Tests pass a mapping instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evidence_chain.errors import ConfigurationError

MIB = 1024 * 1024
DEFAULT_RATE_LIMITS = {
    "api": "1200/minute",
    "verify": "30/minute;300/hour",
    "tsa": "60/minute",
    "signer": "30/minute",
    "public": "300/minute",
    "auth_failures": "10/minute;100/hour",
}
"""Per API key (``api``) or per client address (the others); see ``web/limits.py``."""


def _env_int(env: Mapping[str, Any], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def _env_float(env: Mapping[str, Any], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None


def _env_bool(env: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def _rate_limit(env: Mapping[str, Any], group: str) -> str:
    raw = env.get(f"EVIDENCE_RATE_LIMIT_{group.upper()}")
    return str(raw).strip() if raw else DEFAULT_RATE_LIMITS[group]


def normalize_database_url(url: str) -> str:
    """Return a SQLAlchemy URL, selecting the psycopg 3 driver for plain PostgreSQL URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    """All settings of one instance."""

    home: Path
    database_url: str
    log_origin: str | None = None
    log_key_file: Path | None = None
    checkpoint_interval: float = 2.0
    max_body_bytes: int = 1 * MIB
    max_batch: int = 1000
    scheduler_enabled: bool = True
    public_base_url: str = "http://127.0.0.1:8000"
    anchoring_enabled: bool = True
    chain_rpc_url: str | None = None
    chain_id: int | None = None
    contract_address: str | None = None
    anchor_key: str | None = field(default=None, repr=False)
    anchor_keystore: Path | None = None
    anchor_keystore_password: str | None = field(default=None, repr=False)
    anchor_interval: float = 30.0
    watch_interval: float = 2.0
    chain_confirmations_setting: int | None = None
    max_fee_gwei: float = 200.0
    tx_timeout: float = 180.0
    chain_port: int = 8545
    blob_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "Sealtrail <no-reply@sealtrail.invalid>"
    smtp_starttls: bool = False
    smtp_timeout: float = 15.0
    sms_url: str | None = field(default=None, repr=False)
    """The SMS gateway's HTTP endpoint (``EVIDENCE_SMS_URL``; docs/envelopes.md, SMS)."""
    sms_token: str | None = field(default=None, repr=False)
    sms_timeout: float = 10.0
    webhook_allow_private: bool = False
    rate_limits_enabled: bool = True
    rate_limit_storage: str = field(default="memory://", repr=False)
    rate_limit_api: str = DEFAULT_RATE_LIMITS["api"]
    rate_limit_verify: str = DEFAULT_RATE_LIMITS["verify"]
    rate_limit_tsa: str = DEFAULT_RATE_LIMITS["tsa"]
    rate_limit_signer: str = DEFAULT_RATE_LIMITS["signer"]
    rate_limit_public: str = DEFAULT_RATE_LIMITS["public"]
    rate_limit_auth_failures: str = DEFAULT_RATE_LIMITS["auth_failures"]
    trusted_proxies: int = 0
    max_public_upload_bytes: int = 10 * MIB
    session_key: str | None = field(default=None, repr=False)
    master_key: str | None = field(default=None, repr=False)
    metrics_token: str | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key_path(self) -> Path:
        """Where the Ed25519 log key lives."""
        return self.log_key_file or self.home / "keys" / "log_ed25519.pem"

    @property
    def session_key_path(self) -> Path:
        """Where the signer pages' session key lives when EVIDENCE_SESSION_KEY is not set."""
        return self.home / "session.key"

    @property
    def run_dir(self) -> Path:
        """Where the running service keeps its runtime files: gunicorn's pid file and control
        socket (one folder per instance, so two instances on one machine never share them)."""
        return self.home / "run"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def local_chain(self) -> bool:
        """True when no RPC URL is configured: the embedded anvil node under ``home`` is used."""
        return not self.chain_rpc_url

    @property
    def chain_confirmations(self) -> int:
        """Blocks after which an anchor counts as confirmed: 1 on the local chain, else 12."""
        if self.chain_confirmations_setting is not None:
            return self.chain_confirmations_setting
        return 1 if self.local_chain else 12

    @property
    def chain_dir(self) -> Path:
        """Where the local chain keeps its state and deployment record."""
        return self.home / "chain"

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some settings replaced."""
        return replace(self, **changes)


def load_settings(env: Mapping[str, Any] | None = None) -> Settings:
    """Build settings from a mapping (default: the process environment)."""
    source: Mapping[str, Any] = os.environ if env is None else env
    home = Path(str(source.get("EVIDENCE_HOME") or "./var")).resolve()
    db_url = str(source.get("DATABASE_URL") or "")
    if not db_url:
        db_url = f"sqlite:///{home / 'sealtrail.db'}"
    port = _env_int(source, "PORT", 8000)
    key_file = source.get("EVIDENCE_LOG_KEY_FILE")
    keystore = source.get("EVIDENCE_ANCHOR_KEYSTORE")
    password = source.get("EVIDENCE_ANCHOR_KEYSTORE_PASSWORD")
    password_file = source.get("EVIDENCE_ANCHOR_KEYSTORE_PASSWORD_FILE")
    if not password and password_file:
        try:
            password = Path(str(password_file)).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read EVIDENCE_ANCHOR_KEYSTORE_PASSWORD_FILE: {exc}"
            ) from None
    if keystore and not password:
        raise ConfigurationError(
            "EVIDENCE_ANCHOR_KEYSTORE needs EVIDENCE_ANCHOR_KEYSTORE_PASSWORD or "
            "EVIDENCE_ANCHOR_KEYSTORE_PASSWORD_FILE"
        )
    confirmations = source.get("EVIDENCE_CHAIN_CONFIRMATIONS")
    chain_id = source.get("EVIDENCE_CHAIN_ID")
    return Settings(
        home=home,
        database_url=normalize_database_url(db_url),
        log_origin=(
            str(source["EVIDENCE_LOG_ORIGIN"]) if source.get("EVIDENCE_LOG_ORIGIN") else None
        ),
        log_key_file=Path(str(key_file)).resolve() if key_file else None,
        checkpoint_interval=_env_float(source, "EVIDENCE_CHECKPOINT_INTERVAL", 2.0),
        max_body_bytes=_env_int(source, "EVIDENCE_MAX_BODY_BYTES", 1 * MIB),
        max_batch=_env_int(source, "EVIDENCE_MAX_BATCH", 1000),
        scheduler_enabled=_env_bool(source, "EVIDENCE_SCHEDULER", True),
        public_base_url=str(source.get("EVIDENCE_PUBLIC_URL") or f"http://127.0.0.1:{port}").rstrip(
            "/"
        ),
        anchoring_enabled=_env_bool(source, "EVIDENCE_ANCHORING", True),
        chain_rpc_url=str(source.get("EVIDENCE_CHAIN_RPC_URL") or "") or None,
        chain_id=_env_int(source, "EVIDENCE_CHAIN_ID", 0) if chain_id else None,
        contract_address=str(source.get("EVIDENCE_CONTRACT_ADDRESS") or "") or None,
        anchor_key=str(source.get("EVIDENCE_ANCHOR_KEY") or "") or None,
        anchor_keystore=Path(str(keystore)).resolve() if keystore else None,
        anchor_keystore_password=str(password) if password else None,
        anchor_interval=_env_float(source, "EVIDENCE_ANCHOR_INTERVAL", 30.0),
        watch_interval=_env_float(source, "EVIDENCE_CHAIN_WATCH_INTERVAL", 2.0),
        chain_confirmations_setting=(
            _env_int(source, "EVIDENCE_CHAIN_CONFIRMATIONS", 1) if confirmations else None
        ),
        max_fee_gwei=_env_float(source, "EVIDENCE_MAX_FEE_GWEI", 200.0),
        tx_timeout=_env_float(source, "EVIDENCE_TX_TIMEOUT", 180.0),
        chain_port=_env_int(source, "EVIDENCE_CHAIN_PORT", 8545),
        blob_url=str(source.get("EVIDENCE_BLOB_URL") or "") or None,
        smtp_host=str(source.get("EVIDENCE_SMTP_HOST") or "") or None,
        smtp_port=_env_int(source, "EVIDENCE_SMTP_PORT", 25),
        smtp_user=str(source.get("EVIDENCE_SMTP_USER") or "") or None,
        smtp_password=str(source.get("EVIDENCE_SMTP_PASSWORD") or "") or None,
        session_key=str(source.get("EVIDENCE_SESSION_KEY") or "") or None,
        master_key=str(source.get("EVIDENCE_MASTER_KEY") or "") or None,
        metrics_token=str(source.get("EVIDENCE_METRICS_TOKEN") or "") or None,
        smtp_from=str(source.get("EVIDENCE_SMTP_FROM") or "Sealtrail <no-reply@sealtrail.invalid>"),
        smtp_starttls=_env_bool(source, "EVIDENCE_SMTP_STARTTLS", False),
        smtp_timeout=_env_float(source, "EVIDENCE_SMTP_TIMEOUT", 15.0),
        sms_url=str(source.get("EVIDENCE_SMS_URL") or "") or None,
        sms_token=str(source.get("EVIDENCE_SMS_TOKEN") or "") or None,
        sms_timeout=_env_float(source, "EVIDENCE_SMS_TIMEOUT", 10.0),
        webhook_allow_private=_env_bool(source, "EVIDENCE_WEBHOOK_ALLOW_PRIVATE", False),
        rate_limits_enabled=_env_bool(source, "EVIDENCE_RATE_LIMITS", True),
        rate_limit_storage=str(source.get("EVIDENCE_RATE_LIMIT_STORAGE") or "memory://"),
        rate_limit_api=_rate_limit(source, "api"),
        rate_limit_verify=_rate_limit(source, "verify"),
        rate_limit_tsa=_rate_limit(source, "tsa"),
        rate_limit_signer=_rate_limit(source, "signer"),
        rate_limit_public=_rate_limit(source, "public"),
        rate_limit_auth_failures=_rate_limit(source, "auth_failures"),
        trusted_proxies=_env_int(source, "EVIDENCE_TRUSTED_PROXIES", 0),
        max_public_upload_bytes=_env_int(source, "EVIDENCE_MAX_PUBLIC_UPLOAD_BYTES", 10 * MIB),
    )
