"""Webhooks: endpoints of a tenant, their deliveries, and replay.

Thin: parse the request, call one :class:`webhooks.service.WebhookService` method,
render. Another tenant's endpoint or delivery is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from evidence_chain.errors import ValidationError
from web.auth import current_tenant, require_tenant
from web.bodies import json_object
from web.context import services
from web.params import int_arg, int_schema
from webhooks.service import EVENTS, STATUSES

bp = Blueprint("webhooks", __name__)
MAX_PAGE = 200


def _limit() -> int:
    return int_arg("limit", default=50, minimum=1, maximum=MAX_PAGE) or 50


@bp.post("/api/v1/webhooks")
@require_tenant
def create_webhook() -> tuple[Response, int]:
    """Register an endpoint; the answer carries its secret, which is never shown again."""
    body = json_object()
    unknown = sorted(set(body) - {"url", "events"})
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
    endpoint, secret = services().webhooks.create_endpoint(
        current_tenant().id, body.get("url"), body.get("events", "*")
    )
    return jsonify({**endpoint.to_json(), "secret": secret}), 201


@bp.get("/api/v1/webhooks")
@require_tenant
def list_webhooks() -> Response:
    """The tenant's endpoints."""
    items = services().webhooks.endpoints(current_tenant().id)
    return jsonify({"webhooks": [e.to_json() for e in items]})


@bp.get("/api/v1/webhooks/<endpoint_id>")
@require_tenant
def get_webhook(endpoint_id: str) -> Response:
    """One endpoint."""
    return jsonify(services().webhooks.endpoint(current_tenant().id, endpoint_id).to_json())


@bp.delete("/api/v1/webhooks/<endpoint_id>")
@require_tenant
def delete_webhook(endpoint_id: str) -> tuple[str, int]:
    """Delete an endpoint; its queued deliveries are given up."""
    services().webhooks.delete_endpoint(current_tenant().id, endpoint_id)
    return "", 204


@bp.post("/api/v1/webhooks/<endpoint_id>/rotate-secret")
@require_tenant
def rotate_secret(endpoint_id: str) -> Response:
    """Replace the endpoint's secret at once; the answer carries the new one, shown once."""
    endpoint, secret = services().webhooks.rotate_secret(current_tenant().id, endpoint_id)
    return jsonify({**endpoint.to_json(), "secret": secret})


@bp.post("/api/v1/webhooks/<endpoint_id>/test")
@require_tenant
def test_webhook(endpoint_id: str) -> tuple[Response, int]:
    """Send a ``ping`` to the endpoint now; the answer is the delivery with its attempt."""
    delivery = services().webhooks.test(current_tenant().id, endpoint_id)
    return jsonify(delivery.to_json()), 201


@bp.get("/api/v1/webhooks/<endpoint_id>/deliveries")
@require_tenant
def list_deliveries(endpoint_id: str) -> Response:
    """The endpoint's deliveries, newest first (``?status=&before=&limit=``)."""
    limit = _limit()
    items = services().webhooks.deliveries(
        current_tenant().id,
        endpoint_id,
        status=request.args.get("status") or None,
        before=request.args.get("before") or None,
        limit=limit,
    )
    return jsonify(
        {
            "deliveries": [d.to_json() for d in items],
            "next_before": items[-1].id if len(items) == limit else None,
        }
    )


@bp.get("/api/v1/webhook-deliveries/<delivery_id>")
@require_tenant
def get_delivery(delivery_id: str) -> Response:
    """One delivery with its attempts."""
    return jsonify(services().webhooks.delivery(current_tenant().id, delivery_id).to_json())


@bp.post("/api/v1/webhook-deliveries/<delivery_id>/replay")
@require_tenant
def replay_delivery(delivery_id: str) -> tuple[Response, int]:
    """Queue a new delivery of the same event and payload; it records what it replays."""
    delivery = services().webhooks.replay(current_tenant().id, delivery_id)
    return jsonify(delivery.to_json()), 202


def init_app(app: Flask) -> None:
    """Register this module's routes and commands."""
    app.register_blueprint(bp)


# --- OpenAPI -------------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = _json(_ref("Error"), "Error envelope")
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
_EVENTS_SCHEMA = {
    "oneOf": [
        {"const": "*"},
        {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "enum": [*EVENTS, "*"]},
        },
    ],
    "description": 'The events to receive: "*" (all) or a list of names',
}
_ENDPOINT = {
    "type": "object",
    "required": ["id", "url", "events", "active", "secret_prefix", "created_at"],
    "properties": {
        "id": {"type": "string", "pattern": "^whk_"},
        "url": {"type": "string", "format": "uri"},
        "events": _EVENTS_SCHEMA,
        "active": {"type": "boolean"},
        "secret_prefix": {"type": "string", "description": "The secret's first characters"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
_WITH_SECRET = {
    "allOf": [
        _ENDPOINT,
        {
            "type": "object",
            "required": ["secret"],
            "properties": {
                "secret": {
                    "type": "string",
                    "pattern": "^whsec_",
                    "description": "The signing secret; shown only in this response",
                }
            },
        },
    ]
}
_ATTEMPT = {
    "type": "object",
    "properties": {
        "attempted_at": {"type": "string", "format": "date-time"},
        "status_code": {"type": ["integer", "null"]},
        "duration_ms": {"type": "integer"},
        "error": {"type": ["string", "null"]},
    },
}
_DELIVERY = {
    "type": "object",
    "required": ["id", "endpoint", "event", "status", "attempts", "payload", "created_at"],
    "properties": {
        "id": {"type": "string", "pattern": "^whd_"},
        "endpoint": {"type": "string"},
        "event": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "attempts": {"type": "integer"},
        "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
        "last_status_code": {"type": ["integer", "null"]},
        "last_error": {"type": ["string", "null"]},
        "replay_of": {"type": ["string", "null"], "description": "The delivery replayed"},
        "created_at": {"type": "string", "format": "date-time"},
        "delivered_at": {"type": ["string", "null"], "format": "date-time"},
        "payload": {"type": "object", "description": "The event's data"},
        "attempt_log": {"type": "array", "items": _ATTEMPT},
    },
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_COMMON = {"401": _ERROR, "404": _ERROR}

# Paths this module adds to the OpenAPI document (web/openapi.py merges them).
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/webhooks": {
        "post": {
            "summary": "Register a webhook endpoint (the response shows its secret once)",
            "security": _SECURITY,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["url"],
                            "properties": {
                                "url": {"type": "string", "description": "http or https"},
                                "events": _EVENTS_SCHEMA,
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": _json(_WITH_SECRET, "The endpoint and its secret"),
                "400": _ERROR,
                "401": _ERROR,
            },
        },
        "get": {
            "summary": "The tenant's webhook endpoints",
            "security": _SECURITY,
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"webhooks": {"type": "array", "items": _ENDPOINT}},
                    },
                    "Endpoints",
                ),
                "401": _ERROR,
            },
        },
    },
    "/api/v1/webhooks/{id}": {
        "parameters": [_ID],
        "get": {
            "summary": "One webhook endpoint",
            "security": _SECURITY,
            "responses": {"200": _json(_ENDPOINT, "The endpoint"), **_COMMON},
        },
        "delete": {
            "summary": "Delete an endpoint; its queued deliveries are given up",
            "security": _SECURITY,
            "responses": {"204": {"description": "Deleted"}, **_COMMON},
        },
    },
    "/api/v1/webhooks/{id}/rotate-secret": {
        "parameters": [_ID],
        "post": {
            "summary": "Replace the endpoint's secret (the response shows the new one once)",
            "security": _SECURITY,
            "responses": {"200": _json(_WITH_SECRET, "The endpoint and its new secret"), **_COMMON},
        },
    },
    "/api/v1/webhooks/{id}/test": {
        "parameters": [_ID],
        "post": {
            "summary": "Send a ping event to the endpoint now",
            "security": _SECURITY,
            "responses": {"201": _json(_DELIVERY, "The ping delivery and its attempt"), **_COMMON},
        },
    },
    "/api/v1/webhooks/{id}/deliveries": {
        "parameters": [_ID],
        "get": {
            "summary": "The endpoint's deliveries, newest first",
            "security": _SECURITY,
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(STATUSES)},
                },
                {"name": "before", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": int_schema(1, MAX_PAGE, default=50),
                },
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "deliveries": {"type": "array", "items": _DELIVERY},
                            "next_before": {"type": ["string", "null"]},
                        },
                    },
                    "A page of deliveries",
                ),
                "400": _ERROR,
                **_COMMON,
            },
        },
    },
    "/api/v1/webhook-deliveries/{id}": {
        "parameters": [_ID],
        "get": {
            "summary": "One delivery with its attempts",
            "security": _SECURITY,
            "responses": {"200": _json(_DELIVERY, "The delivery"), **_COMMON},
        },
    },
    "/api/v1/webhook-deliveries/{id}/replay": {
        "parameters": [_ID],
        "post": {
            "summary": "Queue a new delivery of the same event and payload",
            "security": _SECURITY,
            "responses": {
                "202": _json(_DELIVERY, "The new delivery (replay_of names the original)"),
                "409": _ERROR,
                **_COMMON,
            },
        },
    },
}
