"""The one way the web edge finds the instance's services.

The application factory stores the process's :class:`runtime.services.Services` on
``app.extensions`` (built on first use when none were given, so ``flask --app app init``
works before the instance exists); blueprints, pages and CLI commands call :func:`services`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from evidence_chain.config import Settings

if TYPE_CHECKING:  # imported when first built: a command that needs no service stays fast
    from collections.abc import Callable

    from sqlalchemy import Engine

    from evidence_chain.anchoring.service import Anchorer
    from evidence_chain.ledger import Ledger
    from runtime.services import Services
    from signing.service import SigningService

EXTENSION = "sealtrail"
PARTS = "sealtrail.parts"
SETTINGS = "SEALTRAIL_SETTINGS"
# Two threads of a worker may ask for the services at once before they exist: the lock makes
# sure the process builds them once (one engine, one pool), not once per racing thread. It is
# re-entrant because a part is built from other parts (the ledger from the engine).
_BUILD_LOCK = threading.RLock()


def install(app: Flask, settings: Settings, built: Services | None = None) -> None:
    """Attach the instance to ``app``: its settings, and its services when already built."""
    app.config[SETTINGS] = settings
    if built is not None:
        app.extensions[EXTENSION] = built


def settings(app: Flask | None = None) -> Settings:
    """The settings of ``app`` (by default the current application)."""
    found = _app(app).config[SETTINGS]
    assert isinstance(found, Settings)
    return found


def services(app: Flask | None = None) -> Services:
    """The services of ``app`` (by default the current application), built on first use."""
    app = _app(app)
    found = app.extensions.get(EXTENSION)
    if found is None:
        with _BUILD_LOCK:
            found = app.extensions.get(EXTENSION)
            if found is None:
                from runtime.services import build_services

                found = build_services(settings(app))
                app.extensions[EXTENSION] = found
    return found


def engine(app: Flask | None = None) -> Engine:
    """The instance's database engine (its schema checked), for commands that need nothing
    else: no keys, signing authority or chain are opened, nor their libraries imported."""
    from runtime.services import open_database

    return _part(app, "engine", lambda a: open_database(settings(a)))


def ledger(app: Flask | None = None) -> Ledger:
    """The evidence log alone (engine and log key), for commands that need no other service."""
    from runtime.services import open_ledger

    return _part(app, "ledger", lambda a: open_ledger(settings(a), engine(a)))


def anchorer(app: Flask | None = None) -> Anchorer | None:
    """The anchoring service alone (None when anchoring is disabled), without the signing
    service and the rest: for the chain commands."""

    def build(a: Flask) -> Anchorer | None:
        from runtime.services import build_anchorer

        config = settings(a)
        return build_anchorer(config, engine(a), ledger(a)) if config.anchoring_enabled else None

    return _part(app, "anchorer", build)


def signing(app: Flask | None = None) -> SigningService:
    """The signing service alone (its CA and TSA open on first use), without the chain."""

    def build(a: Flask) -> SigningService:
        from signing.service import SigningService

        return SigningService.from_env(settings(a), engine(a), ledger(a))

    return _part(app, "signing", build)


def _part(app: Flask | None, name: str, build: Callable[[Flask], Any]) -> Any:
    """One part of the services: the built services' own when they exist, otherwise made
    once for this application (a command's process) and kept beside them."""
    app = _app(app)
    built = app.extensions.get(EXTENSION)
    if built is not None:
        return getattr(built, name)
    with _BUILD_LOCK:
        parts: dict[str, Any] = app.extensions.setdefault(PARTS, {})
        if name not in parts:
            parts[name] = build(app)
        return parts[name]


def close(app: Flask) -> None:
    """Release the services of ``app`` if they were built (tests, embedding)."""
    found: Any = app.extensions.pop(EXTENSION, None)
    if found is not None:
        found.close()
    parts: dict[str, Any] = app.extensions.pop(PARTS, {})
    if "engine" in parts:
        parts["engine"].dispose()


def _app(app: Flask | None) -> Flask:
    if app is not None:
        return app
    return current_app._get_current_object()  # type: ignore[attr-defined]
