"""One CSRF token per browser session for the server-rendered forms (the signer's page and the
console): made on first use, kept in the session cookie under the page's own key, sent back as
the form field ``csrf_token`` and compared in constant time."""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

FIELD = "csrf_token"


def token(key: str) -> str:
    """This session's token under ``key``, made on first use."""
    value = session.get(key)
    if not isinstance(value, str) or len(value) < 32:
        value = secrets.token_urlsafe(32)
        session[key] = value
    return value


def renew(key: str) -> None:
    """A new token under ``key`` (after a login, so a token seen before it is worthless)."""
    session[key] = secrets.token_urlsafe(32)


def posted_matches(key: str) -> bool:
    """Whether this request's form carries the session's token (True for anything not a POST)."""
    if request.method != "POST":
        return True
    expected = session.get(key)
    sent = request.form.get(FIELD, "")
    return isinstance(expected, str) and bool(sent) and hmac.compare_digest(expected, sent)
