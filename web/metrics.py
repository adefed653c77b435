"""``GET /metrics``: the instance's health for Prometheus, behind a bearer token.

Off unless ``EVIDENCE_METRICS_TOKEN`` is set (404 then): the figures say how busy each tenant
is, and a reverse proxy on the same machine would make a "loopback only" rule meaningless. The
scraper sends ``Authorization: Bearer <token>``. Each worker answers repeated scrapes from the
last result for a few seconds (:class:`runtime.metrics.MetricsCache`), so a scrape is cheap.
"""

from __future__ import annotations

import hmac
import threading
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, request

from evidence_chain.errors import AuthenticationError, NotFoundError
from web.context import services, settings
from web.openapi_parts import ERRORS

if TYPE_CHECKING:
    from runtime.metrics import MetricsCache

bp = Blueprint("metrics", __name__)
CACHE = "sealtrail.metrics"
# Two threads of a worker may scrape before the cache exists: build it once per application.
_CACHE_LOCK = threading.Lock()


def _cache() -> MetricsCache:
    from runtime.metrics import MetricsCache  # with what it reads (web3 among it): on first use

    app = current_app
    found = app.extensions.get(CACHE)
    if found is None:
        with _CACHE_LOCK:
            found = app.extensions.get(CACHE)
            if found is None:
                found = MetricsCache(services())
                app.extensions[CACHE] = found
    assert isinstance(found, MetricsCache)
    return found


@bp.get("/metrics")
def metrics() -> Response:
    """Gauges of the log, anchoring, alarms, the outbox and webhooks (Prometheus text format)."""
    token = settings().metrics_token
    if not token:
        raise NotFoundError("metrics are off: set EVIDENCE_METRICS_TOKEN to turn them on")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8")
    ):
        raise AuthenticationError("send the metrics token as 'Authorization: Bearer <token>'")
    from runtime.metrics import CONTENT_TYPE

    response = Response(_cache().render(), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


OPENAPI_PATHS: dict[str, Any] = {
    "/metrics": {
        "get": {
            "summary": "Health gauges in Prometheus' text format (docs/operations.md)",
            "description": (
                "Off (404) unless EVIDENCE_METRICS_TOKEN is set; send it as a bearer token. "
                "Values are read from the database, so every worker gives the same figures; "
                "each worker reuses its last answer for 5 seconds."
            ),
            "security": [{"metricsToken": []}],
            "responses": {
                "200": {
                    "description": "The exposition (text/plain; version=0.0.4)",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                **ERRORS,
            },
        }
    }
}


def init_app(app: Flask) -> None:
    """Register the endpoint."""
    app.register_blueprint(bp)
