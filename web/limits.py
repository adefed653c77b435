"""Rate limits (Flask-Limiter): per API key for the API, per client address for the public
endpoints and for failed authentication; one table here says which endpoint counts where.

- ``api``, per API key: every endpoint that needs a key, and ``POST /api/v1/verify`` when
  one is sent (``EVIDENCE_RATE_LIMIT_API``);
- ``verify``, per address: ``POST /verify``, ``POST /api/v1/verify``,
  ``POST /verify/report.pdf`` and the lookups ``GET /verify?report=`` or ``?document=``
  (``EVIDENCE_RATE_LIMIT_VERIFY``);
- ``tsa``, per address: ``POST /tsa`` (``EVIDENCE_RATE_LIMIT_TSA``);
- ``signer``, per address: the signer page's POSTs, code, verify, sign and decline
  (``EVIDENCE_RATE_LIMIT_SIGNER``);
- ``public``, per address: every other endpoint (the signer page and its images, checkpoints,
  proofs, anchors, PKI, the offline verifier, the OpenAPI) (``EVIDENCE_RATE_LIMIT_PUBLIC``);
- ``auth-failures``, per address: requests with a wrong or revoked API key
  (``EVIDENCE_RATE_LIMIT_AUTH_FAILURES``); over it, every request with a key is a 429.

``/healthz`` is never limited (load balancers probe it). A limit breached is a 429 with
``Retry-After`` (seconds): the JSON error envelope with code ``rate_limited`` on the API, a
page in Chinese and English on the HTML pages. Each group counts across all its endpoints.
The key of an API-key bucket is a hash of the key, never the key.

Storage: ``memory://`` by default (each gunicorn worker counts for itself), or Redis with
``EVIDENCE_RATE_LIMIT_STORAGE=redis://...`` (one count for every worker and machine); the
reasoning is in ``docs/operations.md``. If Redis becomes unreachable the limiter falls back to
memory and says so in the log, rather than refusing every request.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import RateLimitItem, parse_many
from markupsafe import escape
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from evidence_chain.config import Settings
from evidence_chain.errors import ConfigurationError
from web.errors import envelope

log = logging.getLogger(__name__)

EXTENSION = "sealtrail.limits"
EXEMPT = frozenset({"api.healthz"})
VERIFY = frozenset({"verify.verify_submit", "verify.verify_api", "verify.verify_report_pdf"})
LOOKUP = "verify.verify_form"  # counted as a verification when it looks something up
TSA = frozenset({"signing.timestamp"})
SIGNER_POSTS = frozenset(
    {"signer.request_code", "signer.verify_code", "signer.sign", "signer.decline"}
)
OPTIONAL_KEY = frozenset({"verify.verify_api"})  # public, or counted per key when one is sent
HTML_BLUEPRINTS = frozenset({"signer"})
HTML_ENDPOINTS = frozenset(
    {
        "verify.verify_form",
        "verify.verify_submit",
        "verify.verify_report_pdf",
        "verify.offline_verifier",
    }
)


class TooManyFailures(TooManyRequests):
    """Too many requests with a wrong API key from this address."""

    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(description="too many requests with a wrong API key from this address")
        self.wait_seconds = retry_after
        self.limit_text = limit


def client_address() -> str:
    """The client's address: the peer, or (behind ``EVIDENCE_TRUSTED_PROXIES`` proxies) the
    address those proxies put in ``X-Forwarded-For``, as ProxyFix has already applied."""
    return request.remote_addr or "unknown"


def bearer() -> str | None:
    """The API key the request sends, if any."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def _key_bucket() -> str:
    key = bearer()
    if key is None:
        return "addr:" + client_address()
    return "key:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _address_bucket() -> str:
    return "addr:" + client_address()


@dataclass(frozen=True)
class RateLimits:
    """The app's limiter, its limits and the failed-authentication counter."""

    limiter: Limiter
    enabled: bool
    auth_failures: tuple[RateLimitItem, ...]
    auth_failures_text: str

    def check_auth_failures(self) -> None:
        """TooManyFailures if this address sent too many wrong keys lately."""
        if not self.enabled:
            return
        strategy = self.limiter.limiter
        address = client_address()
        for item in self.auth_failures:
            try:
                allowed = strategy.test(item, "auth-failures", address)
                if not allowed:
                    reset, _remaining = strategy.get_window_stats(item, "auth-failures", address)
            except Exception as exc:  # storage down: let the request through, as the limiter does
                log.warning("rate limit storage unreachable (%s); not counting wrong keys", exc)
                return
            if not allowed:
                raise TooManyFailures(_seconds_until(reset), self.auth_failures_text)

    def record_auth_failure(self) -> None:
        """Count a wrong key from this address."""
        if not self.enabled:
            return
        strategy = self.limiter.limiter
        try:
            for item in self.auth_failures:
                strategy.hit(item, "auth-failures", client_address())
        except Exception as exc:  # storage down: the 401 stands, uncounted
            log.warning("rate limit storage unreachable (%s); not counting wrong keys", exc)


def _seconds_until(reset: float) -> int:
    return max(1, math.ceil(reset - time.time()))


def _parse(name: str, value: str) -> tuple[RateLimitItem, ...]:
    try:
        return tuple(parse_many(value))
    except ValueError:
        raise ConfigurationError(
            f"{name} must be rate limits such as '30/minute;300/hour', got {value!r}"
        ) from None


def rate_limits(app: Flask | None = None) -> RateLimits:
    """The rate limits of ``app`` (by default the current application)."""
    found = (app or current_app).extensions[EXTENSION]
    assert isinstance(found, RateLimits)
    return found


def init_app(app: Flask, settings: Settings) -> None:
    """Trust the configured proxies, build the limiter and put every endpoint in its group.

    Call after every blueprint is registered: the limits wrap the registered views.
    """
    if settings.trusted_proxies > 0:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    limits = {
        "api": settings.rate_limit_api,
        "verify": settings.rate_limit_verify,
        "tsa": settings.rate_limit_tsa,
        "signer": settings.rate_limit_signer,
        "public": settings.rate_limit_public,
    }
    for group, value in limits.items():
        _parse(f"EVIDENCE_RATE_LIMIT_{group.upper()}", value)
    auth_failures = _parse("EVIDENCE_RATE_LIMIT_AUTH_FAILURES", settings.rate_limit_auth_failures)
    origin = settings.log_origin or str(settings.home)
    limiter = Limiter(
        _address_bucket,
        app=app,
        storage_uri=settings.rate_limit_storage,
        strategy="sliding-window-counter",
        headers_enabled=False,  # Retry-After and the limit headers go on the 429 only
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="sealtrail:" + hashlib.sha256(origin.encode()).hexdigest()[:12],
        enabled=settings.rate_limits_enabled,
    )
    app.extensions[EXTENSION] = RateLimits(
        limiter, settings.rate_limits_enabled, auth_failures, settings.rate_limit_auth_failures
    )

    def shared(group: str, key_func: Callable[[], str], **kw: Any) -> Any:
        return limiter.shared_limit(limits[group], scope=group, key_func=key_func, **kw)

    def has_key() -> bool:
        return bearer() is not None

    def no_key() -> bool:
        return bearer() is None

    def plain_form() -> bool:
        return not (request.args.get("report") or request.args.get("document"))

    for endpoint, view in list(app.view_functions.items()):
        wrapped: Any
        if endpoint in EXEMPT:
            wrapped = limiter.exempt(view)
        elif getattr(view, "requires_tenant", False):
            wrapped = shared("api", _key_bucket)(view)
        elif endpoint in OPTIONAL_KEY:
            wrapped = shared("verify", _address_bucket, exempt_when=has_key)(
                shared("api", _key_bucket, exempt_when=no_key)(view)
            )
        elif endpoint in VERIFY:
            wrapped = shared("verify", _address_bucket)(view)
        elif endpoint == LOOKUP:
            wrapped = shared("verify", _address_bucket, exempt_when=plain_form)(view)
        elif endpoint in TSA:
            wrapped = shared("tsa", _address_bucket)(view)
        elif endpoint in SIGNER_POSTS:
            wrapped = shared("signer", _address_bucket)(view)
        else:
            wrapped = shared("public", _address_bucket)(view)
        app.view_functions[endpoint] = wrapped

    app.register_error_handler(TooManyRequests, _too_many)


def _too_many(exc: TooManyRequests) -> Response:
    """429: the envelope (API) or a bilingual page (HTML), with Retry-After in seconds."""
    retry_after: int
    if isinstance(exc, TooManyFailures):
        retry_after, limit = exc.wait_seconds, exc.limit_text
        scope = "auth-failures"
    elif isinstance(exc, RateLimitExceeded):
        current = rate_limits().limiter.current_limit
        retry_after = _seconds_until(current.reset_at) if current else 60
        limit = str(exc.limit.limit)
        scope = str(exc.limit.scope or "")
    else:  # a 429 from elsewhere: keep what it says
        return envelope(429, "too_many_requests", exc.description or "too many requests")
    if _wants_html():
        response = Response(_page(retry_after), status=429, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
    else:
        response = envelope(
            429,
            "rate_limited",
            f"too many requests; try again in {retry_after} seconds",
            {"limit": limit, "scope": scope, "retry_after": retry_after},
        )
    response.headers["Retry-After"] = str(retry_after)
    return response


def _wants_html() -> bool:
    return request.blueprint in HTML_BLUEPRINTS or request.endpoint in HTML_ENDPOINTS


def _page(retry_after: int) -> str:
    seconds = escape(str(retry_after))
    return f"""<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>请求过于频繁 · Too many requests</title></head>
<body>
<main>
<h1>请求过于频繁 <span lang="en">· Too many requests</span></h1>
<p>您在短时间内发送了太多请求。请在 {seconds} 秒后重试。</p>
<p lang="en">Too many requests came from your address in a short time. Please try again in
{seconds} seconds.</p>
</main>
</body>
</html>
"""
