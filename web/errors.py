"""The one place where errors become HTTP: a table of statuses, and the JSON error envelope.

``{"error": {"code": ..., "message": ..., "details": {...}}}``, the code being the error's own
and the status the one :data:`STATUSES` gives its class (the nearest listed class in its
ancestry). The domain and the core raise errors that know nothing of HTTP. Anything
unexpected is logged with its traceback and answered with a 500 envelope that says nothing of
the internals.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from evidence_chain import errors as E
from reports.errors import UnsupportedFileError
from signing.envelopes.rules import IllegalTransitionError

log = logging.getLogger(__name__)

STATUSES: dict[type[E.EvidenceError], int] = {
    E.EvidenceError: 500,
    E.ValidationError: 400,
    E.CanonicalizationError: 400,
    E.AuthenticationError: 401,
    E.ForbiddenError: 403,
    E.NotFoundError: 404,
    E.ConflictError: 409,
    IllegalTransitionError: 409,  # an envelope or party action its state does not allow
    E.GoneError: 410,
    E.PayloadTooLargeError: 413,
    UnsupportedFileError: 415,
    E.VerificationError: 422,
    E.RateLimitedError: 429,
    E.IntegrityError: 500,
    E.ConfigurationError: 500,
    E.ChainError: 503,
    E.StorageUnavailableError: 503,
}
"""The HTTP status of each error class; a subclass answers with its nearest listed ancestor's."""

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def status_of(exc: E.EvidenceError) -> int:
    """The HTTP status that answers ``exc``: its class's, or its nearest listed ancestor's."""
    for cls in type(exc).__mro__:
        status = STATUSES.get(cls)
        if status is not None:
            return status
    return 500


def envelope(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    """A JSON error response in the service's envelope."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(E.EvidenceError)
    def _evidence_error(exc: E.EvidenceError) -> Response:
        status = status_of(exc)
        if status >= 500:
            log.error("%s: %s %s", exc.code, exc.message, exc.details)
        response = envelope(status, exc.code, exc.message, exc.details)
        retry_after = exc.details.get("retry_after")
        if isinstance(retry_after, int) and not isinstance(retry_after, bool):
            response.headers["Retry-After"] = str(max(retry_after, 0))
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = HTTP_CODES.get(status, "http_error")
        message = exc.description or exc.name
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"the request body is larger than the limit of {limit} bytes"
            return envelope(status, code, message, {"limit": limit})
        response = envelope(status, code, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error")
        return envelope(500, "internal_error", "an internal error occurred; it has been logged")
