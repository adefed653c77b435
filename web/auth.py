"""API key authentication: ``Authorization: Bearer KEY`` resolves the request's tenant."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from evidence_chain.errors import AuthenticationError
from evidence_chain.tenants import TenantRef, authenticate
from web.context import services
from web.limits import rate_limits

F = TypeVar("F", bound=Callable[..., Any])


def require_tenant(view: F) -> F:
    """Decorate a view so it runs only for a request with a valid API key."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise AuthenticationError("send your API key as 'Authorization: Bearer <key>'")
        g.tenant = authenticate_key(key.strip())
        return view(*args, **kwargs)

    wrapper.requires_tenant = True  # type: ignore[attr-defined]  # counted per key (web/limits)
    return cast(F, wrapper)


def authenticate_key(key: str) -> TenantRef:
    """The tenant of ``key``; a wrong key counts against the client's address, and an address
    over its limit of wrong keys gets a 429 whatever key it sends next (no oracle)."""
    limits = rate_limits()
    limits.check_auth_failures()
    try:
        return authenticate(services().engine, key)
    except AuthenticationError:
        limits.record_auth_failure()
        raise


def current_tenant() -> TenantRef:
    """The tenant authenticated for this request."""
    return cast(TenantRef, g.tenant)
