"""``/api/docs``: the API reference, Swagger UI rendered from ``/api/v1/openapi.json``.

Swagger UI comes from the npm package ``swagger-ui-dist`` (pinned in package.json), copied
into ``web/static/apidocs`` by ``npm run build:apidocs`` and served by this service: no CDN.
The page has the console's strict CSP: scripts from this origin only (the start-up code is
a file, not inline), styles from this origin (Swagger UI sets element styles through the
DOM, which CSP does not restrict), the document fetched from this origin, no framing.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template
from flask_babel import gettext as _

from web.console_base import lang_attr

bp = Blueprint(
    "apidocs",
    __name__,
    template_folder="templates",
    static_folder="static/apidocs",
    static_url_path="/api/docs/static",
)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


@bp.get("/api/docs", strict_slashes=False)
def api_docs() -> Response:
    """The browsable API reference."""
    body = render_template(
        "apidocs/index.html",
        lang=lang_attr(),
        title=_("Sealtrail API reference"),
        intro=_(
            "Every endpoint of the JSON API, with its parameters, answers and errors. "
            "Requests take an API key: Authorization: Bearer <key>. The document itself:"
        ),
        noscript=_("This reference needs JavaScript. The OpenAPI document is linked above."),
    )
    return current_app.make_response((body, 200))


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.vary.add("Accept-Language")
    return response


def init_app(app: Flask) -> None:
    """Register the reference's page and its static files."""
    app.register_blueprint(bp)
