"""The one way the web edge finds the instance's services.

The application factory stores the process's :class:`runtime.services.Services` on
``app.extensions`` (built on first use when none were given, so ``flask --app app init``
works before the instance exists); blueprints, pages and CLI commands call :func:`services`.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app

from evidence_chain.config import Settings
from runtime.services import Services, build_services

EXTENSION = "sealtrail"
SETTINGS = "SEALTRAIL_SETTINGS"
# Two threads of a worker may ask for the services at once before they exist: the lock makes
# sure the process builds them once (one engine, one pool), not once per racing thread.
_BUILD_LOCK = threading.Lock()


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
                found = build_services(settings(app))
                app.extensions[EXTENSION] = found
    assert isinstance(found, Services)
    return found


def close(app: Flask) -> None:
    """Release the services of ``app`` if they were built (tests, embedding)."""
    found = app.extensions.pop(EXTENSION, None)
    if isinstance(found, Services):
        found.close()


def _app(app: Flask | None) -> Flask:
    if app is not None:
        return app
    return current_app._get_current_object()  # type: ignore[attr-defined]
