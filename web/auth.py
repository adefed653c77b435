"""API key authentication: ``Authorization: Bearer KEY`` resolves the request's tenant."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from evidence_chain.errors import AuthenticationError
from evidence_chain.tenants import TenantRef, authenticate
from web.context import services

F = TypeVar("F", bound=Callable[..., Any])


def require_tenant(view: F) -> F:
    """Decorate a view so it runs only for a request with a valid API key."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise AuthenticationError("send your API key as 'Authorization: Bearer <key>'")
        g.tenant = authenticate(services().engine, key.strip())
        return view(*args, **kwargs)

    return cast(F, wrapper)


def current_tenant() -> TenantRef:
    """The tenant authenticated for this request."""
    return cast(TenantRef, g.tenant)
