"""The document-hash index: filled on append in the same transaction, backfilled by its
migration, and a document located in the log with a proof the page can show."""

from __future__ import annotations

import hashlib
from typing import Any

from alembic import command
from sqlalchemy import delete, func, select

from evidence_chain import db
from evidence_chain.documents import DOCREF, document_refs, find_documents, locate
from evidence_chain.events import parse_event
from evidence_chain.tenants import create_tenant

ORIGINAL = hashlib.sha256(b"contract v1").hexdigest()
SIGNED = hashlib.sha256(b"contract v1 signed").hexdigest()
ANNEX = hashlib.sha256(b"annex").hexdigest()


def event(subject: str, data: Any, type_: str = "document.signed") -> Any:
    return parse_event(
        {"type": type_, "subject": subject, "occurred_at": "2026-11-21T09:00:00Z", "data": data}
    )


def test_refs_come_from_the_named_keys_only():
    assert document_refs({"step": 1, "document_sha256": ORIGINAL}) == []
    assert document_refs("text") == []
    assert document_refs({"sha256": ORIGINAL.upper()}) == []  # only lowercase hex counts
    assert document_refs({"sha256": ORIGINAL}, "envelope.completed") == [
        (bytes.fromhex(ORIGINAL), "final")
    ]
    refs = document_refs(
        {
            "sha256_before": ORIGINAL,
            "sha256_after": SIGNED,
            "sha256": "not-a-hash",
            "certificate": {"sha256": ANNEX},
            "documents": [{"sha256": ANNEX, "role": "final"}, {"sha256": ORIGINAL}, "x"],
        }
    )
    assert refs == [
        (bytes.fromhex(ORIGINAL), "original"),
        (bytes.fromhex(SIGNED), "signed"),
        (bytes.fromhex(ANNEX), "final"),
        (bytes.fromhex(ORIGINAL), "document"),
    ]


def test_append_indexes_documents_in_the_same_transaction(instance):
    acme, _ = create_tenant(instance.engine, "Acme")
    other, _ = create_tenant(instance.engine, "Other")
    receipts = instance.ledger.append(
        acme.id,
        acme.public_id,
        [
            event("envelope:1", {"note": "sent"}, "envelope.sent"),
            event("envelope:1", {"sha256_before": ORIGINAL, "sha256_after": SIGNED}),
            event("envelope:1", {"documents": [{"sha256": SIGNED, "role": "final"}]}),
        ],
    )
    instance.ledger.append(other.id, other.public_id, [event("deal-9", {"sha256": ORIGINAL})])
    hits = find_documents(instance.engine, bytes.fromhex(SIGNED))
    assert [(h.tenant, h.subject, h.leaf_index, h.role) for h in hits] == [
        (acme.public_id, "envelope:1", receipts[1].leaf_index, "signed"),
        (acme.public_id, "envelope:1", receipts[2].leaf_index, "final"),
    ]
    hits = find_documents(instance.engine, bytes.fromhex(ORIGINAL))
    assert [(h.tenant_name, h.subject, h.role) for h in hits] == [
        ("Acme", "envelope:1", "original"),
        ("Other", "deal-9", "document"),
    ]
    assert find_documents(instance.engine, bytes.fromhex(ANNEX)) == []


def test_migration_backfills_existing_records(settings, instance):
    acme, _ = create_tenant(instance.engine, "Acme")
    instance.ledger.append(
        acme.id,
        acme.public_id,
        [event(f"s{i}", {"sha256_after": SIGNED} if i % 3 == 0 else {"i": i}) for i in range(30)],
    )
    with instance.engine.connect() as conn:
        before = sorted(
            (bytes(r.sha256), r.leaf_index, r.tenant_id, r.subject, r.role)
            for r in conn.execute(select(DOCREF))
        )
    assert len(before) == 10
    with instance.engine.begin() as conn:
        conn.execute(delete(DOCREF))
    cfg = db.alembic_config(settings.database_url)
    command.downgrade(cfg, "0004_reports")
    command.upgrade(cfg, "head")
    with instance.engine.connect() as conn:
        after = sorted(
            (bytes(r.sha256), r.leaf_index, r.tenant_id, r.subject, r.role)
            for r in conn.execute(select(DOCREF))
        )
        assert conn.execute(select(func.count()).select_from(DOCREF)).scalar_one() == 10
    assert after == before


def test_locate_proves_the_leaf_and_shows_only_its_subject(instance):
    acme, _ = create_tenant(instance.engine, "Acme")
    instance.ledger.append(
        acme.id,
        acme.public_id,
        [
            event("envelope:1", {"note": "sent"}, "envelope.sent"),
            event("envelope:2", {"secret": "another subject"}, "envelope.sent"),
            event("envelope:1", {"sha256_before": ORIGINAL, "sha256_after": SIGNED}),
        ],
    )
    (pending,) = locate(instance, bytes.fromhex(SIGNED))
    assert pending.proof_ok is None and pending.tree_size is None
    instance.ledger.sign_checkpoint()
    (placement,) = locate(instance, bytes.fromhex(SIGNED))
    assert placement.proof_ok is True, placement.proof_detail
    assert placement.tree_size == 3 and placement.hit.leaf_index == 2
    assert placement.anchor is None and "not yet anchored" in placement.proof_detail
    assert [s.type for s in placement.steps] == ["envelope.sent", "document.signed"]
    assert [s.leaf_index for s in placement.steps] == [0, 2]
    body = placement.to_json()
    assert "another subject" not in str(body)
    assert body["tenant"] == {"id": acme.public_id, "name": "Acme"}
