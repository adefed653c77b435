"""The calling tenant's API keys: list, issue (the key shown once), revoke by prefix.

Thin: parse, call :mod:`evidence_chain.tenants`, render. Another tenant's prefix is a 404,
exactly like one that does not exist. The last active key is not revoked (409 ``last_key``):
issue the new key first, then revoke the old one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from evidence_chain.errors import ValidationError
from evidence_chain.tenants import issue_key, list_keys, revoke_key
from web.auth import current_tenant, require_tenant
from web.bodies import json_object
from web.context import services
from web.openapi_parts import ERRORS, json_response, ref

bp = Blueprint("keys", __name__)


@bp.get("/api/v1/keys")
@require_tenant
def get_keys() -> Response:
    """Every key of the tenant, revoked ones too; ``current`` marks the one asking."""
    tenant = current_tenant()
    keys = list_keys(services().engine, tenant.id)
    return jsonify(
        {"keys": [{**k.to_json(), "current": k.prefix == tenant.key_prefix} for k in keys]}
    )


@bp.post("/api/v1/keys")
@require_tenant
def create_key() -> tuple[Response, int]:
    """Issue a key; the answer carries it, and it is never shown again."""
    body = json_object(empty_ok=True)
    unknown = sorted(set(body) - {"name"})
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
    info, key = issue_key(services().engine, current_tenant().id, body.get("name"))
    return jsonify({**info.to_json(), "key": key}), 201


@bp.delete("/api/v1/keys/<prefix>")
@require_tenant
def delete_key(prefix: str) -> Response:
    """Revoke the key: from the next request on, it is a 401."""
    info, _tenant = revoke_key(services().engine, prefix, tenant_id=current_tenant().id)
    return jsonify(info.to_json())


def init_app(app: Flask) -> None:
    """Register this module's routes."""
    app.register_blueprint(bp)


# --- OpenAPI -------------------------------------------------------------------------------------

_ERROR = ref("Error")
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
_WHEN = {"type": ["string", "null"], "format": "date-time"}
_KEY = {
    "type": "object",
    "required": ["prefix", "name", "active", "created_at", "last_used_at", "revoked_at"],
    "properties": {
        "prefix": {
            "type": "string",
            "pattern": "^stk_",
            "description": "The key's first 10 characters",
        },
        "name": {"type": ["string", "null"], "maxLength": 100},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": {
            **_WHEN,
            "description": "Last request with the key, recorded to the minute",
        },
        "revoked_at": _WHEN,
    },
}
_PREFIX = {
    "name": "prefix",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 16},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/keys": {
        "get": {
            "summary": "The tenant's API keys (never the keys themselves)",
            "security": _SECURITY,
            "responses": {
                "200": json_response(
                    {
                        "type": "object",
                        "required": ["keys"],
                        "properties": {
                            "keys": {
                                "type": "array",
                                "items": {
                                    "allOf": [
                                        _KEY,
                                        {
                                            "type": "object",
                                            "properties": {"current": {"type": "boolean"}},
                                        },
                                    ]
                                },
                            }
                        },
                    },
                    "The keys, oldest first; `current` is the key of this request",
                ),
                "401": ERRORS["401"],
            },
        },
        "post": {
            "summary": "Issue an API key (shown once, in this answer)",
            "security": _SECURITY,
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"name": {"type": "string", "maxLength": 100}},
                        }
                    }
                },
            },
            "responses": {
                "201": json_response(
                    {
                        "allOf": [
                            _KEY,
                            {
                                "type": "object",
                                "required": ["key"],
                                "properties": {
                                    "key": {
                                        "type": "string",
                                        "pattern": "^stk_",
                                        "description": "The key; shown only in this response",
                                    }
                                },
                            },
                        ]
                    },
                    "The new key",
                ),
                "400": ERRORS["400"],
                "401": ERRORS["401"],
            },
        },
    },
    "/api/v1/keys/{prefix}": {
        "delete": {
            "summary": "Revoke an API key; from the next request on it is refused (401)",
            "security": _SECURITY,
            "parameters": [_PREFIX],
            "responses": {
                "200": json_response(_KEY, "The key, revoked (revoking twice changes nothing)"),
                "401": ERRORS["401"],
                "404": ERRORS["404"],
                "409": json_response(
                    _ERROR,
                    "`last_key`: the tenant's last active key (issue a new one first); or "
                    "several old keys share the prefix",
                ),
            },
        }
    },
}
