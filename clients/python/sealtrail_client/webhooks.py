"""Checking that a webhook came from Sealtrail: ``Sealtrail-Signature: t=<unix>,v1=<hex>``
where ``v1 = HMAC-SHA256(secret, f"{t}." + raw body)`` (docs/webhooks.md)."""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["verify_signature"]


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """True when ``header`` signs the raw ``body`` with ``secret`` within ``tolerance``
    seconds of ``now``; compared in constant time; any of several ``v1`` may match."""
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return any(hmac.compare_digest(expected, c) for c in candidates)
