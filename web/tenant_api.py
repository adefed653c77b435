"""The calling tenant's account: its name and settings (language, time zone, public detail).

Thin: parse, call :mod:`evidence_chain.tenant_settings`, render. A change is logged as an
event of ``tenant:<public id>`` naming the API key that made it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from evidence_chain.tenant_settings import LANGUAGES, get_settings, update_settings
from web.auth import current_tenant, require_tenant
from web.bodies import json_object
from web.context import services
from web.openapi_parts import ERRORS, json_response, ref

bp = Blueprint("tenant", __name__)


def _view() -> dict[str, Any]:
    tenant = current_tenant()
    settings = get_settings(services().engine, tenant.id)
    return {"id": tenant.public_id, "name": tenant.name, **settings.to_json()}


@bp.get("/api/v1/tenant")
@require_tenant
def get_tenant() -> Response:
    """The tenant's id, name and settings."""
    return jsonify(_view())


@bp.patch("/api/v1/tenant")
@require_tenant
def patch_tenant() -> Response:
    """Change some settings; the answer is the whole account as it now is."""
    tenant = current_tenant()
    changes = json_object()
    update_settings(
        services().engine,
        services().ledger,
        tenant.id,
        changes,
        actor={"kind": "api_key", "key_prefix": tenant.key_prefix},
    )
    return jsonify(_view())


def init_app(app: Flask) -> None:
    """Register this module's routes."""
    app.register_blueprint(bp)


# --- OpenAPI -------------------------------------------------------------------------------------

_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
_SETTINGS = {
    "language": {
        "type": "string",
        "enum": list(LANGUAGES),
        "description": "Language of the tenant's certificates of evidence and emails",
    },
    "time_zone": {
        "type": "string",
        "description": "IANA time zone of the times in them (UTC is shown beside)",
        "example": "Asia/Shanghai",
    },
    "public_detail": {
        "type": "boolean",
        "description": "Whether a public lookup of one of the tenant's documents (/verify) shows "
        "its subject and timeline; off: only that it is recorded, when, under which anchor, "
        "and its status",
    },
}
_ACCOUNT = {
    "type": "object",
    "required": ["id", "name", *_SETTINGS],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}, **_SETTINGS},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/tenant": {
        "get": {
            "summary": "The calling tenant's account and settings",
            "security": _SECURITY,
            "responses": {
                "200": json_response(_ACCOUNT, "The account"),
                "401": ERRORS["401"],
            },
        },
        "patch": {
            "summary": "Change the tenant's settings (logged as a tenant.settings_changed event)",
            "security": _SECURITY,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": _SETTINGS,
                        }
                    }
                },
            },
            "responses": {
                "200": json_response(_ACCOUNT, "The account as it now is"),
                "400": json_response(ref("Error"), "Unknown field or invalid value"),
                "401": ERRORS["401"],
            },
        },
    }
}
