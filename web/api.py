"""The JSON API, version 1. Thin: parse, call one domain function, render."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from evidence_chain.errors import NotFoundError, NotYetCheckpointedError, ValidationError
from evidence_chain.events import normalize_subject, parse_events
from web.auth import current_tenant, require_tenant
from web.bodies import json_body
from web.context import services
from web.openapi import openapi_document
from web.params import int_arg

bp = Blueprint("api", __name__)
MAX_PAGE = 1000
"""The largest page of anchors or of a subject's events."""


def _bool_arg(name: str) -> bool:
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ValidationError(
        f"query parameter {name!r} must be true or false", details={"field": name}
    )


def _hexes(items: list[bytes]) -> list[str]:
    return [h.hex() for h in items]


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness and readiness: the database answers and the log is readable."""
    inst = services()
    latest = inst.ledger.latest_checkpoint()
    return jsonify(
        {
            "status": "ok",
            "tree_size": inst.ledger.tree_size(),
            "checkpoint_size": latest.tree_size if latest else 0,
        }
    )


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document(request.host_url.rstrip("/")))


@bp.get("/api/v1/log")
def log_info() -> Response:
    """The log's origin and the note verifier key its checkpoints are signed with."""
    ledger = services().ledger
    return jsonify({"origin": ledger.key.origin, "public_key": ledger.key.verifier_key})


@bp.post("/api/v1/events")
@require_tenant
def push_events() -> tuple[Response, int]:
    """Append one event or a batch; 201 once every record is committed."""
    inst = services()
    events = parse_events(json_body(), inst.settings.max_batch)
    tenant = current_tenant()
    receipts = inst.ledger.append(tenant.id, tenant.public_id, events)
    return jsonify({"receipts": [r.to_json() for r in receipts]}), 201


@bp.get("/api/v1/events/<event_id>")
@require_tenant
def get_event(event_id: str) -> Response:
    """One event: its leaf and the exact record that was hashed."""
    event = services().ledger.get_event(current_tenant().id, event_id)
    return jsonify(
        {
            "event_id": event.event_id,
            "leaf_index": event.leaf_index,
            "leaf_hash": event.leaf_hash.hex(),
            "record": event.record,
        }
    )


@bp.get("/api/v1/events/<event_id>/proof")
@require_tenant
def event_proof(event_id: str) -> Response:
    """An inclusion proof of the event, with the on-chain anchor that covers it (if any yet).

    By default the proof is against the smallest on-chain anchor covering the event
    (confirmed ones first), so it does not change once that anchor is confirmed; before any
    anchor covers the event, against the latest checkpoint. ``?tree_size=N`` names the
    checkpoint; ``?anchored=true`` proves against the latest confirmed anchor's tree.
    """
    inst = services()
    tree_size = int_arg("tree_size", minimum=1)
    if tree_size is None and not _bool_arg("anchored"):
        event = inst.ledger.get_event(current_tenant().id, event_id)
        covering = inst.anchors.covering(event.leaf_index + 1)
        if covering is not None:
            tree_size = covering.tree_size
    if _bool_arg("anchored"):
        if tree_size is not None:
            raise ValidationError(
                "give either 'tree_size' or 'anchored=true', not both",
                details={"field": "anchored"},
            )
        confirmed = inst.anchors.latest(("confirmed",))
        if confirmed is None:
            raise NotFoundError("no confirmed anchor yet; retry within a minute")
        tree_size = confirmed.tree_size
    try:
        proof = inst.ledger.inclusion_proof(current_tenant().id, event_id, tree_size)
    except NotYetCheckpointedError as exc:
        # The checkpoint job runs every EVIDENCE_CHECKPOINT_INTERVAL seconds.
        exc.details["retry_after"] = max(1, math.ceil(inst.settings.checkpoint_interval))
        raise
    anchor = inst.anchors.covering(proof.tree_size)
    consistency = None
    if anchor is not None and anchor.tree_size > proof.tree_size:
        consistency = _hexes(inst.ledger.consistency_proof(proof.tree_size, anchor.tree_size).proof)
    return jsonify(
        {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": proof.leaf_hash.hex(),
            "inclusion_proof": _hexes(proof.proof),
            "root": proof.checkpoint.root.hex(),
            "checkpoint": proof.checkpoint.note,
            "anchor": anchor.to_json() if anchor is not None else None,
            "consistency_proof": consistency,
        }
    )


@bp.get("/api/v1/chain")
def chain_info() -> Response:
    """The chain anchoring uses: network, contract, submitter, last anchor, pending, alarms."""
    inst = services()
    if inst.anchorer is None:
        return jsonify({"enabled": False, "alarms": inst.anchors.alarms()})
    return jsonify(inst.anchorer.status())


@bp.get("/api/v1/anchors")
def anchors() -> Response:
    """Anchors newest first, paged by tree size (``?before=&limit=``)."""
    before = int_arg("before")
    limit = int_arg("limit", default=100, minimum=1, maximum=MAX_PAGE) or 100
    items = services().anchors.page(before=before, limit=limit)
    body: dict[str, Any] = {"anchors": [a.to_json() for a in items], "next_before": None}
    if len(items) == limit:
        body["next_before"] = items[-1].tree_size
    return jsonify(body)


@bp.get("/api/v1/anchors/<int:tree_size>")
def anchor_at(tree_size: int) -> Response:
    """One anchor with its history: every transaction sent for it."""
    records = services().anchors
    anchor = records.get(tree_size)
    return jsonify(
        {
            **anchor.to_json(),
            "note": anchor.note,
            "attempts": [a.to_json() for a in records.attempts(anchor.id)],
        }
    )


@bp.get("/api/v1/checkpoints/latest")
def latest_checkpoint() -> Response:
    """The newest signed checkpoint."""
    cp = services().ledger.latest_checkpoint()
    if cp is None:
        raise NotFoundError("no checkpoint has been signed yet")
    return jsonify(cp.to_json())


@bp.get("/api/v1/checkpoints/<int:tree_size>")
def checkpoint_at(tree_size: int) -> Response:
    """The checkpoint signed at exactly this tree size."""
    return jsonify(services().ledger.checkpoint(tree_size).to_json())


@bp.get("/api/v1/proofs/consistency")
def consistency() -> Response:
    """A consistency proof between two signed checkpoints."""
    first = int_arg("first", minimum=1)
    second = int_arg("second", minimum=1)
    if first is None or second is None:
        raise ValidationError(
            "query parameters 'first' and 'second' (tree sizes) are required",
            details={"field": "first" if first is None else "second"},
        )
    proof = services().ledger.consistency_proof(first, second)
    return jsonify(
        {
            "first": first,
            "second": second,
            "proof": _hexes(proof.proof),
            "first_root": proof.first.root.hex(),
            "second_root": proof.second.root.hex(),
        }
    )


@bp.get("/api/v1/subjects/<path:subject>/events")
@require_tenant
def subject_events(subject: str) -> Response:
    """A subject's events in chain order, each with its link to the previous one."""
    subject = normalize_subject(subject)
    after = int_arg("after")
    limit = int_arg("limit", default=1000, minimum=1, maximum=MAX_PAGE) or 1000
    events = services().ledger.subject_events(
        current_tenant().id, subject, after=-1 if after is None else after, limit=limit
    )
    if not events and after is None:
        raise NotFoundError(f"no events for subject {subject!r}", details={"subject": subject})
    items = [
        {
            "event_id": e.event_id,
            "leaf_index": e.leaf_index,
            "leaf_hash": e.leaf_hash.hex(),
            "subject_seq": e.record["subject_seq"],
            "prev_leaf_hash": e.record["prev_leaf_hash"],
            "record": e.record,
        }
        for e in events
    ]
    body: dict[str, Any] = {"subject": subject, "events": items, "next_after": None}
    if len(items) == limit:
        body["next_after"] = items[-1]["subject_seq"]
    return jsonify(body)


def init_app(app: Flask) -> None:
    """Register the API blueprint."""
    app.register_blueprint(bp)
