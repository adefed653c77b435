"""Envelopes: contracts sent to several parties who sign in order.

Thin: parse the request, call one :class:`signing.envelopes.EnvelopeService` method, render.
Creating an envelope takes either ``multipart/form-data`` (one or more ``documents`` files
and a ``spec`` part holding the JSON spec) or a JSON body (the spec with
``"documents": [{"name", "content_base64"}]``); see docs/envelopes.md.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import Blueprint, Flask, Request, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from evidence_chain.errors import PayloadTooLargeError, ValidationError
from signing.envelopes.rules import STATUSES as ENVELOPE_STATUSES
from signing.envelopes.search import MAX_QUERY, Filters
from web.auth import current_tenant, require_tenant
from web.bodies import json_object, parse_text
from web.context import services
from web.params import date_arg, int_arg, int_schema, text_arg

if TYPE_CHECKING:  # pyHanko and the rest of the signing engine load on first use, not here
    from signing.envelopes.service import EnvelopeService, InitiatorContext, RequestContext

bp = Blueprint("envelopes", __name__)
MAX_UA = 512
MULTIPART_OVERHEAD = 1024 * 1024
MAX_DOCUMENTS_TOTAL = 10
MAX_PAGE = 200
MAX_PAGE_NUMBER = 100_000


def service() -> EnvelopeService:
    """The app's envelope service."""
    return services().envelopes


def _ctx(req: Request) -> RequestContext:
    from signing.envelopes.service import RequestContext

    ua = req.headers.get("User-Agent")
    return RequestContext(ip=req.remote_addr, user_agent=ua[:MAX_UA] if ua else None)


def _who(req: Request) -> InitiatorContext:
    """The initiator: the prefix of its API key (as stored with the key), and the request."""
    from signing.envelopes.service import InitiatorContext

    key = req.headers.get("Authorization", "").partition(" ")[2].strip()
    return InitiatorContext(key_prefix=key[:10] or None, request=_ctx(req))


def _json_body() -> dict[str, Any]:
    return json_object(empty_ok=True, require_type=False)


def _reason(body: dict[str, Any]) -> Any:
    unknown = sorted(set(body) - {"reason"})
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
    return body.get("reason")


def _documents_from_multipart(limit: int) -> tuple[Any, list[tuple[str, bytes]]]:
    request.max_content_length = limit * MAX_DOCUMENTS_TOTAL + MULTIPART_OVERHEAD
    try:
        files = request.files.getlist("documents")
        raw_spec = request.form.get("spec")
    except RequestEntityTooLarge:
        raise PayloadTooLargeError(
            "the upload is larger than the limit", details={"limit": limit}
        ) from None
    if raw_spec is None:
        raise ValidationError("the 'spec' part (JSON) is required", details={"field": "spec"})
    spec = parse_text(raw_spec, "spec", "spec")
    docs = []
    for item in files:
        data = item.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLargeError(
                f"document {item.filename!r} is larger than {limit} bytes",
                details={"limit": limit},
            )
        docs.append((item.filename or "", data))
    return spec, docs


def _documents_from_json(limit: int) -> tuple[Any, list[tuple[str, bytes]]]:
    request.max_content_length = (limit * 4 // 3 + 4) * MAX_DOCUMENTS_TOTAL + MULTIPART_OVERHEAD
    try:
        body = json_object(require_type=False)
    except RequestEntityTooLarge:
        raise PayloadTooLargeError(
            "the request is larger than the limit", details={"limit": limit}
        ) from None
    spec = dict(body)
    raw_docs = spec.pop("documents", None)
    if not isinstance(raw_docs, list):
        raise ValidationError(
            'documents must be a list of {"name", "content_base64"}',
            details={"field": "documents"},
        )
    docs = []
    for i, item in enumerate(raw_docs):
        if not isinstance(item, dict) or not isinstance(item.get("content_base64"), str):
            raise ValidationError(
                f"documents[{i}] needs content_base64", details={"field": f"documents[{i}]"}
            )
        name = item.get("name") or ""
        if not isinstance(name, str):
            raise ValidationError(f"documents[{i}].name must be a string")
        try:
            data = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(
                f"documents[{i}].content_base64 is not base64",
                details={"field": f"documents[{i}]"},
            ) from None
        docs.append((name, data))
    return spec, docs


@bp.post("/api/v1/envelopes")
@require_tenant
def create_envelope() -> tuple[Response, int]:
    """Create a draft envelope from PDF documents and a spec of parties and fields."""
    svc = service()
    limit = svc.signing.max_document_bytes
    if (request.mimetype or "").startswith("multipart/form-data"):
        spec, docs = _documents_from_multipart(limit)
    elif request.is_json:
        spec, docs = _documents_from_json(limit)
    else:
        raise ValidationError(
            "send multipart/form-data (documents + spec) or JSON with base64 documents",
            details={"content_type": request.content_type},
        )
    body = svc.create(current_tenant(), spec, docs, _who(request))
    return jsonify(body), 201


def search_filters() -> Filters:
    """The search of a request's query string: ``q``, ``status`` (one or several, by commas
    or repeated), ``from``, ``to`` (dates or ISO 8601 times), ``party``; 400 on bad input."""
    statuses: list[str] = []
    for raw in request.args.getlist("status"):
        if len(raw) > 100:
            raise ValidationError("status is too long", details={"field": "status"})
        statuses += [s.strip() for s in raw.split(",") if s.strip()]
    return Filters(
        q=text_arg("q", maximum=MAX_QUERY),
        status=tuple(dict.fromkeys(statuses)),
        created_from=date_arg("from"),
        created_to=date_arg("to", end_of_day=True),
        party=text_arg("party", maximum=MAX_QUERY),
    )


@bp.get("/api/v1/envelopes")
@require_tenant
def list_envelopes() -> Response:
    """The tenant's envelopes, newest first, found by ``q``, ``status``, ``from``, ``to``,
    ``party``; paged by ``cursor`` (or ``after``) and ``limit``, or by ``page`` and ``limit``."""
    limit = int_arg("limit", default=50, minimum=1, maximum=MAX_PAGE) or 50
    page = int_arg("page", minimum=1, maximum=MAX_PAGE_NUMBER)
    cursor = text_arg("cursor", maximum=40) or text_arg("after", maximum=40)
    if page is not None and cursor is not None:
        raise ValidationError("give either page or cursor, not both", details={"field": "page"})
    found = service().search(
        current_tenant(),
        search_filters(),
        cursor=cursor,
        page=page,
        limit=limit,
        total=page is not None,
    )
    body: dict[str, Any] = {
        "envelopes": found.items,
        "next_cursor": found.next_cursor,
        "next_after": found.next_cursor,
    }
    if page is not None:
        body["page"] = page
        body["total"] = found.total
    return jsonify(body)


@bp.get("/api/v1/envelopes/<envelope_id>")
@require_tenant
def get_envelope(envelope_id: str) -> Response:
    """One envelope with the status of every party."""
    return jsonify(service().get(current_tenant(), envelope_id))


@bp.delete("/api/v1/envelopes/<envelope_id>")
@require_tenant
def delete_envelope(envelope_id: str) -> tuple[str, int]:
    """Delete a draft."""
    service().delete(current_tenant(), envelope_id)
    return "", 204


@bp.post("/api/v1/envelopes/<envelope_id>/send")
@require_tenant
def send_envelope(envelope_id: str) -> Response:
    """Send a draft: the first group of parties gets its links."""
    return jsonify(service().send(current_tenant(), envelope_id, _who(request)))


@bp.post("/api/v1/envelopes/<envelope_id>/remind")
@require_tenant
def remind_envelope(envelope_id: str) -> Response:
    """Send fresh links to the parties whose turn it is (or to ``{"parties": [...]}``)."""
    body = _json_body()
    unknown = sorted(set(body) - {"parties"})
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
    parties = body.get("parties")
    if parties is not None and (
        not isinstance(parties, list) or not all(isinstance(p, str) for p in parties)
    ):
        raise ValidationError("parties must be a list of party ids", details={"field": "parties"})
    reminded = service().remind(current_tenant(), envelope_id, _who(request), parties)
    return jsonify({"reminded": reminded})


@bp.post("/api/v1/envelopes/<envelope_id>/withdraw")
@require_tenant
def withdraw_envelope(envelope_id: str) -> Response:
    """Withdraw a sent or in-progress envelope, with an optional reason."""
    reason = _reason(_json_body())
    return jsonify(service().withdraw(current_tenant(), envelope_id, reason, _who(request)))


@bp.post("/api/v1/envelopes/<envelope_id>/void")
@require_tenant
def void_envelope(envelope_id: str) -> Response:
    """Void a completed envelope (reason required); VOID copies are issued."""
    reason = _reason(_json_body())
    return jsonify(service().void(current_tenant(), envelope_id, reason, _who(request)))


def attachment(name: str) -> str:
    """A Content-Disposition for a document's own name: an ASCII ``filename`` for every client
    and, for a name beyond ASCII (租赁合同.pdf), the UTF-8 ``filename*`` (RFC 6266). A header
    is Latin-1: the name itself in it would fail under a real server."""
    ascii_name = (
        "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in name).strip()
        or "document.pdf"
    )
    header = f'attachment; filename="{ascii_name}"'
    if not name.isascii():
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


@bp.get("/api/v1/envelopes/<envelope_id>/documents/<int:n>")
@require_tenant
def envelope_document(envelope_id: str, n: int) -> Response:
    """A document's PDF: ``?version=current`` (default), ``original`` or ``void``."""
    version = request.args.get("version") or "current"
    name, pdf, sha = service().document(current_tenant(), envelope_id, n, version, _who(request))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(name)
    response.headers["X-Sealtrail-Sha256"] = sha
    return response


# --- OpenAPI ----------------------------------------------------------------------------------

_ERR = {"$ref": "#/components/schemas/Error"}


def _err(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": _ERR}}}


def _ok(text: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": schema or {}}}}


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_SEC: list[dict[str, list[str]]] = [{"bearer": []}]
_COMMON = {"401": _err("Missing or unknown API key"), "404": _err("No such envelope")}
_REASON = {
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"reason": {"type": "string"}}}
        }
    }
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/envelopes": {
        "post": {
            "summary": "Create a draft envelope (documents, parties, order, fields, expiry)",
            "security": _SEC,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "documents": {
                                    "type": "array",
                                    "items": {"type": "string", "format": "binary"},
                                },
                                "spec": {"type": "string", "description": "JSON spec"},
                            },
                            "required": ["documents", "spec"],
                        }
                    },
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "description": "the spec plus documents: [{name, content_base64}]",
                        }
                    },
                },
            },
            "responses": {
                "201": _ok("The draft with its parties and fields"),
                "400": _err("Invalid spec or document"),
                "413": _err("A document is too large"),
                **_COMMON,
            },
        },
        "get": {
            "summary": "Search envelopes, newest first",
            "description": (
                "Every parameter is optional. `q` finds words (substrings, any case, Chinese "
                "included) in the title, the envelope id and the parties' names, emails and "
                "organisations; `party` looks in the parties only. Page with `cursor` (the "
                "`next_cursor` of the previous answer: stable while envelopes are added) or "
                "with `page` (from 1, the answer then holds `total`)."
            ),
            "security": _SEC,
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": MAX_QUERY},
                },
                {
                    "name": "status",
                    "in": "query",
                    "description": "one status, or several separated by commas",
                    "schema": {
                        "type": "string",
                        "maxLength": 100,
                        "examples": ["sent,in_progress"],
                    },
                    "x-enum": list(ENVELOPE_STATUSES),
                },
                {
                    "name": "from",
                    "in": "query",
                    "description": "created at or after (a date, or an ISO 8601 time)",
                    "schema": {"type": "string", "maxLength": 40},
                },
                {
                    "name": "to",
                    "in": "query",
                    "description": "created at or before (a date counts whole)",
                    "schema": {"type": "string", "maxLength": 40},
                },
                {
                    "name": "party",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": MAX_QUERY},
                },
                {"name": "cursor", "in": "query", "schema": {"type": "string", "maxLength": 40}},
                {
                    "name": "after",
                    "in": "query",
                    "deprecated": True,
                    "schema": {"type": "string", "maxLength": 40},
                },
                {"name": "page", "in": "query", "schema": int_schema(1, MAX_PAGE_NUMBER)},
                {"name": "limit", "in": "query", "schema": int_schema(1, MAX_PAGE, default=50)},
            ],
            "responses": {
                "200": _ok(
                    "envelopes, next_cursor (null on the last page); page and total with page"
                ),
                "400": _err("Unknown status, bad date, text too long, limit out of range"),
                **_COMMON,
            },
        },
    },
    "/api/v1/envelopes/{id}": {
        "get": {
            "summary": "An envelope with the status of every party",
            "security": _SEC,
            "parameters": [_ID],
            "responses": {"200": _ok("The envelope"), **_COMMON},
        },
        "delete": {
            "summary": "Delete a draft",
            "security": _SEC,
            "parameters": [_ID],
            "responses": {
                "204": {"description": "Deleted"},
                "409": _err("Not a draft"),
                **_COMMON,
            },
        },
    },
    "/api/v1/envelopes/{id}/send": {
        "post": {
            "summary": "Send a draft to its first group of parties",
            "security": _SEC,
            "parameters": [_ID],
            "responses": {"200": _ok("The envelope"), "409": _err("Not a draft"), **_COMMON},
        }
    },
    "/api/v1/envelopes/{id}/remind": {
        "post": {
            "summary": "Send fresh links to the parties whose turn it is",
            "security": _SEC,
            "parameters": [_ID],
            "responses": {
                "200": _ok("reminded party ids"),
                "400": _err("Not a list of party ids"),
                "409": _err("Not sent or in progress"),
                "429": {
                    **_err("Reminded less than a minute ago"),
                    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}},
                },
                **_COMMON,
            },
        }
    },
    "/api/v1/envelopes/{id}/withdraw": {
        "post": {
            "summary": "Withdraw before completion",
            "security": _SEC,
            "parameters": [_ID],
            "requestBody": _REASON,
            "responses": {
                "200": _ok("The envelope"),
                "400": _err("Unknown field or reason not a string"),
                "409": _err("Illegal"),
                **_COMMON,
            },
        }
    },
    "/api/v1/envelopes/{id}/void": {
        "post": {
            "summary": "Void a completed envelope; VOID copies are issued",
            "security": _SEC,
            "parameters": [_ID],
            "requestBody": _REASON,
            "responses": {
                "200": _ok("The envelope"),
                "400": _err("Reason missing, unknown field"),
                "409": _err("Not completed"),
                **_COMMON,
            },
        }
    },
    "/api/v1/envelopes/{id}/documents/{n}": {
        "get": {
            "summary": "A document's PDF: current (default), original or void",
            "security": _SEC,
            "parameters": [
                _ID,
                {"name": "n", "in": "path", "required": True, "schema": int_schema(1)},
                {
                    "name": "version",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["current", "original", "void"]},
                },
            ],
            "responses": {
                "200": {
                    "description": "The PDF",
                    "content": {"application/pdf": {"schema": {"type": "string"}}},
                },
                "400": _err("Unknown version, or n out of range"),
                **_COMMON,
            },
        }
    },
}


def init_app(app: Flask) -> None:
    """Register this module's routes."""
    app.register_blueprint(bp)
