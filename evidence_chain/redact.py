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
# user:password@ (or a bare token@) in any scheme://authority.
_USERINFO = re.compile(r"([a-z][a-z0-9+.\-]*://)([^/@\s\"']+)@", re.IGNORECASE)
# A provider key as a path segment of an absolute URL: ``/v2/<key>``, ``/v3/<key>`` (Infura,
# Alchemy and alike) or any long segment mixing letters and digits right after the host
# (QuickNode-style ``https://name.example/<key>/``).
_VERSIONED_KEY = re.compile(r"(://[^/\s\"']+(?:/[^/\s\"'?#]+)*?/v\d+/)([A-Za-z0-9_\-]{16,})")
_HOST_KEY = re.compile(
    r"(://[^/\s\"']+/)(?=[A-Za-z0-9_\-]*[0-9])(?=[A-Za-z0-9_\-]*[A-Za-z])([A-Za-z0-9_\-]{24,})(?=[/?#\s\"']|$)"
)
# The service's own secrets, wherever they appear.
_API_KEY = re.compile(r"\b(stk_)[A-Za-z0-9_\-]{8,}")
_WEBHOOK_SECRET = re.compile(r"\b(whsec_)[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(\bBearer\s+)([A-Za-z0-9_\-.~+/=]{8,})", re.IGNORECASE)

_RULES: tuple[re.Pattern[str], ...] = (
    _ROUTE,
    _PARAM,
    _USERINFO,
    _VERSIONED_KEY,
    _HOST_KEY,
    _API_KEY,
    _WEBHOOK_SECRET,
    _BEARER,
)


def redact(text: str) -> str:
    """``text`` with every secret this module knows replaced by ``[redacted]``."""
    if not text:
        return text
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
