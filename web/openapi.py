"""The OpenAPI 3.1 description of the JSON API, served at ``/api/v1/openapi.json``.

The paths of the core API are written here; the other API modules declare theirs beside their
routes (``OPENAPI_PATHS``) and this module merges them. Shared pieces live in
:mod:`web.openapi_parts`, so those modules never import this one.
"""

from __future__ import annotations

from typing import Any

from web.openapi_parts import (
    ERRORS,
    HEX32,
    RATE_LIMITED,
    SUBJECT,
    SUBJECT_DESCRIPTION,
    SUBJECT_PATH,
    TOO_LARGE,
    retry_later,
)
from web.openapi_parts import json_response as _json
from web.openapi_parts import ref as _ref
from web.params import int_schema


def openapi_document(server_url: str) -> dict[str, Any]:
    """Build the document for a server reachable at ``server_url``."""
    return with_limits(_document(server_url))


def with_limits(doc: dict[str, Any]) -> dict[str, Any]:
    """Add the answers of the rate limits and the body limits to every operation they apply
    to: 429 (with Retry-After) to all but ``/healthz``, 413 to every operation with a body."""
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if path != "/healthz":
                own = responses.get("429")
                responses["429"] = (
                    {
                        **own,
                        "description": f"{own['description']}; or {RATE_LIMITED['description']}",
                        "headers": RATE_LIMITED["headers"],
                    }
                    if own
                    else RATE_LIMITED
                )
            if "requestBody" in operation or method in ("post", "put", "patch"):
                responses.setdefault("413", TOO_LARGE)
    return doc


def _document(server_url: str) -> dict[str, Any]:
    tree_size = {"name": "tree_size", "in": "query", "schema": int_schema(1)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sealtrail evidence API",
            "version": "1.0.0",
            "description": (
                "Append-only RFC 9162 evidence log with signed checkpoints (C2SP "
                "tlog-checkpoint). Hashes are lowercase hex. Errors use the envelope "
                '{"error": {"code", "message", "details"}}.'
            ),
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "metricsToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "EVIDENCE_METRICS_TOKEN (GET /metrics only)",
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "details"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {"type": "object"},
                            },
                        }
                    },
                },
                "Event": {
                    "type": "object",
                    "required": ["type", "subject", "occurred_at"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"type": "string", "maxLength": 128, "example": "contract.signed"},
                        "subject": SUBJECT,
                        "occurred_at": {"type": "string", "format": "date-time"},
                        "actor": {"oneOf": [{"type": "string"}, {"type": "object"}]},
                        "data": {"type": "object"},
                        "idempotency_key": {"type": "string", "maxLength": 200},
                    },
                },
                "Receipt": {
                    "type": "object",
                    "properties": {
                        "event_id": {"type": "string", "format": "uuid"},
                        "leaf_index": {"type": "integer"},
                        "leaf_hash": HEX32,
                    },
                },
                "Anchor": {
                    "type": "object",
                    "description": "A checkpoint anchored on chain. Chain values (log_id, "
                    "tx_hash, block_hash) are 0x-prefixed as Ethereum clients show them; "
                    "log_id = SHA-256(origin).",
                    "properties": {
                        "chain_id": {"type": "integer"},
                        "contract": {"type": "string"},
                        "log_id": {"type": "string"},
                        "tx_hash": {"type": ["string", "null"]},
                        "block_number": {"type": ["integer", "null"]},
                        "block_hash": {"type": ["string", "null"]},
                        "block_timestamp": {"type": ["string", "null"], "format": "date-time"},
                        "tree_size": {"type": "integer"},
                        "root": HEX32,
                        "confirmations": {"type": "integer"},
                        "status": {
                            "enum": [
                                "pending",
                                "mined",
                                "confirmed",
                                "reorged",
                                "superseded",
                                "failed",
                            ]
                        },
                    },
                },
                "Checkpoint": {
                    "type": "object",
                    "properties": {
                        "tree_size": {"type": "integer"},
                        "root": HEX32,
                        "checkpoint": {"type": "string", "description": "C2SP signed note"},
                    },
                },
            },
        },
        "paths": {
            "/healthz": {"get": {"summary": "Health", "responses": {"200": {"description": "OK"}}}},
            "/api/v1/log": {
                "get": {
                    "summary": "The log's origin and checkpoint verifier key",
                    "responses": {"200": {"description": "origin and public_key (vkey)"}},
                }
            },
            "/api/v1/events": {
                "post": {
                    "summary": "Push one event or a batch of up to 1,000",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        _ref("Event"),
                                        {
                                            "type": "object",
                                            "required": ["events"],
                                            "properties": {
                                                "events": {
                                                    "type": "array",
                                                    "minItems": 1,
                                                    "maxItems": 1000,
                                                    "items": _ref("Event"),
                                                }
                                            },
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "receipts": {"type": "array", "items": _ref("Receipt")}
                                },
                            },
                            "Committed; one receipt per event, in order",
                        ),
                        "409": _json(_ref("Error"), "Idempotency key reused with another body"),
                        "413": _json(_ref("Error"), "Body over 1 MiB"),
                        **ERRORS,
                    },
                }
            },
            "/api/v1/events/{event_id}": {
                "get": {
                    "summary": "An event and the exact record whose JCS bytes were hashed",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "event_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "event_id, leaf_index, leaf_hash, record"},
                        **ERRORS,
                    },
                }
            },
            "/api/v1/events/{event_id}/proof": {
                "get": {
                    "summary": "Inclusion proof against the latest or the named checkpoint",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "event_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        tree_size,
                        {
                            "name": "anchored",
                            "in": "query",
                            "schema": {"type": "boolean"},
                            "description": "Prove against the latest confirmed anchor's tree size",
                        },
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "leaf_index": {"type": "integer"},
                                    "tree_size": {"type": "integer"},
                                    "leaf_hash": HEX32,
                                    "inclusion_proof": {"type": "array", "items": HEX32},
                                    "root": HEX32,
                                    "checkpoint": {"type": "string"},
                                    "anchor": {"oneOf": [_ref("Anchor"), {"type": "null"}]},
                                    "consistency_proof": {
                                        "oneOf": [
                                            {"type": "array", "items": HEX32},
                                            {"type": "null"},
                                        ],
                                        "description": "From tree_size to the anchor's tree "
                                        "size, when the anchored tree is larger",
                                    },
                                },
                            },
                            "Inclusion proof; the on-chain anchor covering it (null while none)",
                        ),
                        "409": retry_later(
                            "not_yet_checkpointed: no signed checkpoint covers the event yet; "
                            "Retry-After is the checkpoint interval"
                        ),
                        **ERRORS,
                    },
                }
            },
            "/api/v1/chain": {
                "get": {
                    "summary": "The chain: network, contract, submitter, last anchor, pending, "
                    "alarms",
                    "responses": {"200": {"description": "Anchoring status"}},
                }
            },
            "/api/v1/anchors": {
                "get": {
                    "summary": "Anchors newest first",
                    "parameters": [
                        {"name": "before", "in": "query", "schema": int_schema(0)},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": int_schema(1, 1000, default=100),
                        },
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "anchors": {"type": "array", "items": _ref("Anchor")},
                                    "next_before": {"type": ["integer", "null"]},
                                },
                            },
                            "A page of anchors",
                        ),
                        "400": ERRORS["400"],
                    },
                }
            },
            "/api/v1/anchors/{tree_size}": {
                "get": {
                    "summary": "One anchor and every transaction sent for it",
                    "parameters": [
                        {
                            "name": "tree_size",
                            "in": "path",
                            "required": True,
                            "schema": int_schema(1),
                        }
                    ],
                    "responses": {
                        "200": _json(_ref("Anchor"), "Anchor with attempts"),
                        "400": ERRORS["400"],
                        "404": ERRORS["404"],
                    },
                }
            },
            "/api/v1/checkpoints/latest": {
                "get": {
                    "summary": "The newest signed checkpoint",
                    "responses": {
                        "200": _json(_ref("Checkpoint"), "Checkpoint"),
                        "404": ERRORS["404"],
                    },
                }
            },
            "/api/v1/checkpoints/{tree_size}": {
                "get": {
                    "summary": "The checkpoint signed at a tree size",
                    "parameters": [
                        {
                            "name": "tree_size",
                            "in": "path",
                            "required": True,
                            "schema": int_schema(1),
                        }
                    ],
                    "responses": {
                        "200": _json(_ref("Checkpoint"), "Checkpoint"),
                        "400": ERRORS["400"],
                        "404": ERRORS["404"],
                    },
                }
            },
            "/api/v1/proofs/consistency": {
                "get": {
                    "summary": "Consistency proof between two signed checkpoints",
                    "parameters": [
                        {
                            "name": "first",
                            "in": "query",
                            "required": True,
                            "schema": int_schema(1),
                        },
                        {
                            "name": "second",
                            "in": "query",
                            "required": True,
                            "schema": int_schema(1),
                        },
                    ],
                    "responses": {
                        "200": {"description": "first, second, proof, first_root, second_root"},
                        "400": ERRORS["400"],
                        "404": ERRORS["404"],
                    },
                }
            },
            "/api/v1/subjects/{subject}/events": {
                "get": {
                    "summary": "A subject's events in chain order with their links",
                    "security": [{"bearer": []}],
                    "parameters": [
                        SUBJECT_PATH,
                        {"name": "after", "in": "query", "schema": int_schema(0)},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": int_schema(1, 1000, default=1000),
                        },
                    ],
                    "responses": {"200": {"description": "subject, events, next_after"}, **ERRORS},
                }
            },
            **SIGNING_PATHS,
            **_module_paths(),
        },
    }


def _module_paths() -> dict[str, Any]:
    """The paths that the other API modules declare beside their routes."""
    from web import (
        envelopes_api,
        keys_api,
        metrics,
        reports_api,
        tenant_api,
        verify_page,
        webhooks_api,
    )

    paths: dict[str, Any] = {}
    for module in (
        reports_api,
        verify_page,
        envelopes_api,
        webhooks_api,
        keys_api,
        tenant_api,
        metrics,
    ):
        paths.update(module.OPENAPI_PATHS)
    return paths


def _multipart(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


_BINARY = {"type": "string", "format": "binary"}
_SIGNING_ERRORS = {
    **ERRORS,
    "413": _json(_ref("Error"), "The document is larger than EVIDENCE_MAX_DOCUMENT_BYTES"),
}
_SEAL_ID = {"name": "seal_id", "in": "path", "required": True, "schema": {"type": "string"}}

SIGNING_PATHS: dict[str, Any] = {
    "/api/v1/seals": {
        "post": {
            "summary": "Draw a seal (JSON) or upload a picture of one (multipart 'image')",
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "kind": {
                                    "enum": [
                                        "official",
                                        "contract",
                                        "finance",
                                        "invoice",
                                        "legal_representative",
                                        "personal",
                                    ]
                                },
                                "text": {"type": "string"},
                                "subtext": {"type": "string"},
                                "code": {"type": "string"},
                                "size_mm": {"type": ["number", "array"]},
                                "colour": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
                            },
                        }
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "image": _BINARY,
                                "kind": {"type": "string"},
                                "text": {"type": "string"},
                                "width_mm": {"type": "number"},
                            },
                            "required": ["image"],
                        }
                    },
                },
            },
            "responses": {
                "201": {"description": "The seal, with its preview_url"},
                "413": _json(_ref("Error"), "The picture is larger than 10 MiB"),
                **ERRORS,
            },
        },
        "get": {
            "summary": "The tenant's seals, oldest first (?after=<seal id>&limit=)",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "after", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": int_schema(1, 1000, default=100)},
            ],
            "responses": {"200": {"description": "seals, next_after"}, **ERRORS},
        },
    },
    "/api/v1/seals/{seal_id}": {
        "get": {
            "summary": "One seal",
            "security": [{"bearer": []}],
            "parameters": [_SEAL_ID],
            "responses": {"200": {"description": "The seal"}, **ERRORS},
        }
    },
    "/api/v1/seals/{seal_id}/preview.png": {
        "get": {
            "summary": "The seal as a transparent PNG",
            "security": [{"bearer": []}],
            "parameters": [_SEAL_ID],
            "responses": {
                "200": {"description": "PNG", "content": {"image/png": {"schema": _BINARY}}},
                **ERRORS,
            },
        }
    },
    "/api/v1/documents/sign": {
        "post": {
            "summary": "Sign a PDF (PAdES B-LT or B-LTA) with a seal; logged as document.signed",
            "description": (
                "placements: JSON list of {kind: explicit, page, x, y} | {kind: field, name} | "
                "{kind: every_page, x, y} | {kind: riding, y}. The first signature certifies "
                "the document unless certify=false; after a certifying signature later signers "
                "sign fields it reserved (reserve_fields). Headers X-Sealtrail-Sha256-Before, "
                "X-Sealtrail-Sha256-After, X-Sealtrail-Event-Id."
            ),
            "security": [{"bearer": []}],
            "requestBody": _multipart(
                {
                    "document": _BINARY,
                    "seal_id": {"type": "string"},
                    "placements": {"type": "string", "description": "JSON list"},
                    "signer": {
                        "type": "string",
                        "description": "JSON {name, organization, organization_identifier, email}",
                    },
                    "level": {"enum": ["B-LT", "B-LTA"]},
                    "watermark": {"type": "string"},
                    "qr": {"type": "boolean"},
                    "subject": {
                        **SUBJECT,
                        "description": "Default document:<SHA-256 of the PDF>. "
                        + SUBJECT_DESCRIPTION,
                    },
                    "certify": {"type": "boolean"},
                    "reserve_fields": {
                        "type": "string",
                        "description": "JSON list of {name, page, x, y, width, height}",
                    },
                },
                ["document", "seal_id", "placements"],
            ),
            "responses": {
                "200": {
                    "description": "The signed PDF",
                    "content": {"application/pdf": {"schema": _BINARY}},
                },
                **_SIGNING_ERRORS,
            },
        }
    },
    "/api/v1/documents/validate": {
        "post": {
            "summary": "Validate every signature and document time-stamp of a PDF",
            "security": [{"bearer": []}],
            "requestBody": _multipart({"document": _BINARY}, ["document"]),
            "responses": {
                "200": {"description": "signatures, doc_timestamps, all_valid, summary"},
                **_SIGNING_ERRORS,
            },
        }
    },
    "/tsa": {
        "post": {
            "summary": "RFC 3161 time-stamping authority (public)",
            "requestBody": {
                "required": True,
                "content": {"application/timestamp-query": {"schema": _BINARY}},
            },
            "responses": {
                "200": {
                    "description": "TimeStampResp (DER); a malformed request is answered with "
                    "a TimeStampResp whose status is rejection",
                    "content": {"application/timestamp-reply": {"schema": _BINARY}},
                },
                "413": _json(_ref("Error"), "Larger than the request size limit"),
                "415": _json(_ref("Error"), "Not Content-Type: application/timestamp-query"),
            },
        }
    },
    "/pki/ca": {
        "get": {
            "summary": "Root and issuing CA certificates (PEM bundle)",
            "responses": {"200": {"description": "PEM"}},
        }
    },
    "/pki/crl": {
        "get": {
            "summary": "Issuing CA's CRL (DER)",
            "responses": {"200": {"description": "application/pkix-crl"}},
        }
    },
    "/pki/root-crl": {
        "get": {
            "summary": "Root CA's CRL (DER)",
            "responses": {"200": {"description": "application/pkix-crl"}},
        }
    },
}
