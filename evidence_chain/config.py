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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key_path(self) -> Path:
        """Where the Ed25519 log key lives."""
        return self.log_key_file or self.home / "keys" / "log_ed25519.pem"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

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
    )
