"""Sealtrail's Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask.logging import default_handler

from evidence_chain import redact
from evidence_chain.config import Settings, load_settings

if TYPE_CHECKING:
    from runtime.services import Services


def create_app(
    config: Mapping[str, Any] | Settings | None = None, *, services: Services | None = None
) -> Flask:
    """Build the application.

    ``config`` is a mapping of the same names as the environment (``EVIDENCE_HOME``,
    ``DATABASE_URL``, ...) or a ready :class:`Settings`; by default the environment is read.
    ``services`` are the process's already built services (``wsgi`` shares them with the
    scheduler); without them they are built on first use, so CLI commands such as ``init``
    work before the instance exists. Either way ``web.context.services()`` finds them.
    """
    if services is not None:
        settings = services.settings
    else:
        settings = config if isinstance(config, Settings) else load_settings(config)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # JSON answers are UTF-8 text: Chinese is sent as its characters, not as \uXXXX escapes.
    # (Only presentation: records are hashed over their RFC 8785 form, never over this.)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # Every line through the root's handlers (the app's, werkzeug's, the libraries') and
    # Flask's own handler: signer-link tokens, API keys and URL credentials never reach a log.
    # (The process's log itself is set up by runtime.logs: wsgi, gunicorn's master, commands.)
    redact.install_on_loggers(logging.getLogger())
    redact.install([default_handler])

    from web import cli, context

    context.install(app, settings, services)
    if _serves_requests():
        _register_routes(app, settings)
    cli.init_app(app)  # last: it also makes every registered command report errors cleanly
    return app


def _serves_requests() -> bool:
    """Whether this app will answer requests (or list its routes).

    The ``flask`` command loads the app a first time to find an operator command
    (``tenant list``, ``backup``...): that process never answers a request, so it skips the
    routes, their templates and the libraries behind them, and starts in about half the time.
    Serving (gunicorn, ``flask run``), ``flask routes``, ``flask shell`` and tests load the
    app outside that lookup and get every route.
    """
    import click
    from flask.cli import FlaskGroup

    ctx = click.get_current_context(silent=True)
    return ctx is None or not isinstance(ctx.command, FlaskGroup)


def _register_routes(app: Flask, settings: Settings) -> None:
    """Every blueprint, error handler and rate limit of the HTTP service."""
    from web import (
        api,
        api_docs,
        console_auth,
        console_contracts,
        console_pages,
        envelopes_api,
        errors,
        keys_api,
        limits,
        metrics,
        params,
        reports_api,
        signer_page,
        signing_api,
        tenant_api,
        verify_page,
        webhooks_api,
    )

    errors.init_app(app)
    params.init_app(app)
    api.init_app(app)
    api_docs.init_app(app)
    signing_api.init_app(app)
    reports_api.init_app(app)
    verify_page.init_app(app)
    envelopes_api.init_app(app)
    signer_page.init_app(app)
    webhooks_api.init_app(app)
    console_auth.init_app(app)
    console_pages.init_app(app)
    console_contracts.init_app(app)
    metrics.init_app(app)
    keys_api.init_app(app)
    tenant_api.init_app(app)
    limits.init_app(app, settings)  # after every route: it puts each one in its group
