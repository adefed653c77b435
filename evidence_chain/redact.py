"""Secrets out of every log line: signing links, API keys, tokens and credentials in URLs.

The database keeps only hashes of signer-link tokens and API keys; a log line that printed
them would undo that. :func:`redact` rewrites a line so that what follows a secret-bearing
route (``/sign/<token>``), the value of a secret-named query parameter (``?token=``,
``?key=``, ``?code=`` ...), the user and password of a URL (``https://user:pw@host``), a
provider key in an RPC URL's path (``https://host/v3/<key>``), an API key (``stk_...``) and a
webhook secret (``whsec_...``) are replaced by ``[redacted]``, keeping the route's prefix so
the line still says what was asked.

:class:`RedactingFilter` applies it to a log record (its message, arguments, exception text
and stack) and :func:`install` puts the filter on handlers: the application installs it on
the root logger's handlers and Flask's, the gunicorn logger class of ``gunicorn.conf.py`` on
the access and error logs. Standard library only, so every layer can use it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "[redacted]"

# Routes whose next path segment is a bearer secret (the signer's link; invitation and
# password links if the service ever grows them).
_SECRET_ROUTES = ("sign", "invite", "invitation", "set-password", "reset-password", "verify-email")
_ROUTE = re.compile(
    r"(/(?:" + "|".join(re.escape(r) for r in _SECRET_ROUTES) + r")/)([^/?#\s\"']+)",
    re.IGNORECASE,
)
# Query parameters (and form-like key=value pairs in URLs) whose value is a secret.
_SECRET_PARAMS = (
    "token",
    "key",
    "code",
    "secret",
    "password",
    "passwd",
    "pwd",
    "api_key",
    "apikey",
    "api-key",
    "access_token",
    "refresh_token",
    "id_token",
    "auth",
    "authorization",
    "signature",
    "sig",
    "session",
    "otp",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
)
_PARAM = re.compile(
    r"([?&;](?:" + "|".join(re.escape(p) for p in _SECRET_PARAMS) + r")=)([^&;#\s\"']*)",
    re.IGNORECASE,
)
# Absolute URLs are found with a bounded, linear pattern and taken apart by
# :func:`_redact_url` (no backtracking over a long line): the user and password of the
# authority; a provider key as a path segment (``/v2/<key>``, ``/v3/<key>`` of Infura, Alchemy
# and alike; a long key right after the host, QuickNode-style); any segment that looks like a
# random token (20+ characters mixing upper case, lower case and digits, as in webhook URLs
# ``…/services/T0/B0/<token>``). Hex hashes and UUIDs (one case only) are left alone.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,20}://[^\s\"'<>]{1,4096}")
_SEGMENT = re.compile(r"[A-Za-z0-9_\-]+")
_VERSION = re.compile(r"v[0-9]{1,3}")
# The service's own secrets, wherever they appear.
_API_KEY = re.compile(r"\b(stk_)[A-Za-z0-9_\-]{8,}")
_WEBHOOK_SECRET = re.compile(r"\b(whsec_)[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(\bBearer[ \t]{1,16})([A-Za-z0-9_\-.~+/=]{8,})", re.IGNORECASE)

_RULES: tuple[re.Pattern[str], ...] = (_ROUTE, _PARAM, _API_KEY, _WEBHOOK_SECRET, _BEARER)


def _token_like(segment: str, previous: str, index: int) -> bool:
    if not _SEGMENT.fullmatch(segment):
        return False
    if _VERSION.fullmatch(previous) and len(segment) >= 16:
        return True
    has_digit = any(c.isdigit() for c in segment)
    has_upper = any(c.isupper() for c in segment)
    has_lower = any(c.islower() for c in segment)
    if index == 1 and len(segment) >= 24 and has_digit and (has_upper or has_lower):
        return True
    return len(segment) >= 20 and has_digit and has_upper and has_lower


def _redact_url(match: re.Match[str]) -> str:
    url = match.group(0)
    scheme, _, rest = url.partition("://")
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        authority = MASK + "@" + authority.rpartition("@")[2]
    path_end = min((i for i in (tail.find(c) for c in "?#") if i >= 0), default=len(tail))
    segments = tail[:path_end].split("/")
    for i in range(1, len(segments)):
        if _token_like(segments[i], segments[i - 1], i):
            segments[i] = MASK
    return f"{scheme}://{authority}{'/'.join(segments)}{tail[path_end:]}"


def redact(text: str) -> str:
    """``text`` with every secret this module knows replaced by ``[redacted]``."""
    if not text:
        return text
    text = _URL.sub(_redact_url, text)
    for rule in _RULES:
        text = rule.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrite a record before any handler formats it: message, exception text and stack.

    The message is formatted with its arguments first (``record.getMessage()``) and stored
    back without arguments, so a secret passed as an argument is redacted too. A filter never
    drops a record: it returns True.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; keep it."""
        if getattr(record, "_sealtrail_redacted", False):
            return True  # a record reaching several handlers is rewritten once
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log it as it is, do not lose the line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._sealtrail_redacted = True
        return True


_FILTER = RedactingFilter()


def install(handlers: Iterable[logging.Handler]) -> None:
    """Put the redacting filter on each handler (once)."""
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(_FILTER)


def install_on_loggers(*loggers: logging.Logger) -> None:
    """Put the redacting filter on every handler of each logger (root: ``logging.getLogger()``)."""
    for logger in loggers:
        install(logger.handlers)
