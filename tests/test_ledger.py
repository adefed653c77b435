"""The ledger below the API: storage-backed proofs, checkpoint rules, audit and tamper detection."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import text

from evidence_chain.core import merkle
from evidence_chain.core.note import verify_checkpoint
from evidence_chain.errors import IntegrityError
from evidence_chain.events import parse_event


def make_events(n: int, subjects: int = 3) -> list[Any]:
    return [
        parse_event(
            {
                "type": "step",
                "subject": f"s{i % subjects}",
                "occurred_at": "2026-11-21T00:00:00Z",
                "data": {"i": i},
            }
        )
        for i in range(n)
    ]


@pytest.fixture
def filled(instance: Any, tenant: Any) -> list[Any]:
    """A ledger with 37 leaves over three checkpoints (5, 20, 37)."""
    ref, _ = tenant
    receipts = []
    for n in (5, 15, 17):
        receipts += instance.ledger.append(ref.id, ref.public_id, make_events(n))
        instance.ledger.sign_checkpoint()
    return receipts


def leaves_of(instance: Any) -> list[bytes]:
    with instance.engine.connect() as conn:
        rows = conn.execute(text("SELECT leaf_hash FROM ledger_entry ORDER BY leaf_index")).all()
    return [bytes(r.leaf_hash) for r in rows]


def test_storage_proofs_equal_the_in_memory_core_for_every_size(instance, tenant):
    ref, _ = tenant
    rng = random.Random(7)
    sizes = []
    total = 0
    while total < 70:
        n = rng.randint(1, 9)
        instance.ledger.append(ref.id, ref.public_id, make_events(n))
        total += n
        sizes.append(total)
        instance.ledger.sign_checkpoint()
    leaves = leaves_of(instance)
    ledger = instance.ledger
    for size in sizes:
        assert ledger.root_at(size) == merkle.root_hash(leaves[:size])
        assert ledger.checkpoint(size).root == merkle.root_hash(leaves[:size])
    with instance.engine.connect() as conn:
        for size in sizes:
            for index in range(size):
                got = ledger._range_hashes(conn, merkle.inclusion_proof_ranges(index, size))
                assert got == merkle.inclusion_proof(index, leaves[:size])
        for i, first in enumerate(sizes):
            for second in sizes[i:]:
                got = ledger._range_hashes(conn, merkle.consistency_proof_ranges(first, second))
                assert got == merkle.consistency_proof(first, leaves[:second])


def test_appending_stores_about_two_nodes_per_leaf(instance, tenant):
    ref, _ = tenant
    for _ in range(10):
        instance.ledger.append(ref.id, ref.public_id, make_events(100))
    with instance.engine.connect() as conn:
        nodes = conn.execute(text("SELECT count(*) FROM tree_node")).scalar_one()
    # A perfect subtree is stored once when completed: n leaves + (n - popcount(n)) parents.
    assert nodes == 1000 + (1000 - bin(1000).count("1"))


def test_checkpoints_are_signed_notes_in_c2sp_form(instance, filled):
    cp = instance.ledger.latest_checkpoint()
    lines = cp.note.split("\n")
    assert lines[0] == "sealtrail.test/log"
    assert lines[1] == "37"
    assert lines[3] == ""
    assert lines[4].startswith("— sealtrail.test/log ")
    body = verify_checkpoint(cp.note, instance.ledger.key.verifier_key)
    assert body.tree_size == 37 and body.root == cp.root


def test_log_key_file_is_private(settings, instance):
    mode = settings.key_path.stat().st_mode & 0o777
    assert mode == 0o600


def test_refuses_to_sign_a_checkpoint_inconsistent_with_the_last(instance, tenant, filled):
    ref, _ = tenant
    # Rewrite history behind the service's back: change a completed subtree of the old tree.
    with instance.engine.begin() as conn:
        conn.execute(
            text("UPDATE tree_node SET hash = :h WHERE level = 5 AND idx = 0"), {"h": b"\x11" * 32}
        )
    instance.ledger.append(ref.id, ref.public_id, make_events(3))
    with pytest.raises(IntegrityError, match="not consistent"):
        instance.ledger.sign_checkpoint()
    assert instance.ledger.latest_checkpoint().tree_size == 37


def run_audit(app: Any) -> Any:
    return app.test_cli_runner().invoke(args=["ledger", "audit"])


def test_audit_passes_on_an_untouched_log(app, filled):
    result = run_audit(app)
    assert result.exit_code == 0, result.output
    assert "37 leaves" in result.output and "3 checkpoints" in result.output
    assert "audit passed" in result.output


def test_audit_names_the_first_altered_record(app, instance, filled):
    with instance.engine.begin() as conn:
        record = conn.execute(
            text("SELECT record FROM ledger_entry WHERE leaf_index = 11")
        ).scalar_one()
        conn.execute(
            text("UPDATE ledger_entry SET record = :r WHERE leaf_index = 11"),
            {"r": record.replace('"data":{"i":', '"data":{"i":9')},
        )
    result = run_audit(app)
    assert result.exit_code == 1
    assert "first problem: leaf 11:" in result.output
    # The altered record no longer matches the signed checkpoints either.
    assert "checkpoint 20" in result.output and "checkpoint 37" in result.output
    assert "checkpoint 5:" not in result.output


def test_audit_catches_a_record_and_leaf_hash_rewritten_together(app, instance, filled):
    with instance.engine.begin() as conn:
        record = conn.execute(
            text("SELECT record FROM ledger_entry WHERE leaf_index = 2")
        ).scalar_one()
        forged = record.replace('"data":{"i":', '"data":{"i":9')
        conn.execute(
            text("UPDATE ledger_entry SET record = :r, leaf_hash = :h WHERE leaf_index = 2"),
            {"r": forged, "h": merkle.leaf_hash(forged.encode())},
        )
    result = run_audit(app)
    assert result.exit_code == 1
    # The leaf hash matches the forged record, but the next record of the subject still
    # links to the original, the stored tree disagrees and the signed roots no longer match.
    assert "first problem: leaf 7: breaks the chain of subject 's2'" in result.output
    assert "tree node (level 0, index 2)" in result.output
    assert "checkpoint 5: signed root" in result.output


def test_audit_and_proofs_catch_an_altered_node(app, instance, tenant, client, auth, filled):
    with instance.engine.begin() as conn:
        conn.execute(
            text("UPDATE tree_node SET hash = :h WHERE level = 1 AND idx = 3"), {"h": b"\x22" * 32}
        )
    result = run_audit(app)
    assert result.exit_code == 1
    assert "tree node (level 1, index 3)" in result.output
    # Leaf 4 needs node (1, 3) = leaves 6..7 in its proof: the service refuses to serve it.
    with pytest.raises(IntegrityError):
        instance.ledger.inclusion_proof(tenant[0].id, filled[4].event_id)
    response = client.get(f"/api/v1/events/{filled[4].event_id}/proof", headers=auth)
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "integrity_violation"


def test_audit_and_proofs_catch_an_altered_checkpoint(app, instance, tenant, client, auth, filled):
    with instance.engine.begin() as conn:
        conn.execute(
            text("UPDATE checkpoint SET root = :r WHERE tree_size = 37"), {"r": b"\x33" * 32}
        )
    result = run_audit(app)
    assert result.exit_code == 1
    assert "checkpoint 37" in result.output
    response = client.get(f"/api/v1/events/{filled[0].event_id}/proof", headers=auth)
    assert response.get_json()["error"]["code"] == "integrity_violation"


def test_audit_catches_a_deleted_leaf(app, instance, filled):
    with instance.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entry WHERE leaf_index = 30"))
    result = run_audit(app)
    assert result.exit_code == 1
    assert "first problem: leaf 30: missing" in result.output


def test_audit_catches_a_checkpoint_note_signed_by_another_key(app, instance, filled):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from evidence_chain.core.note import Checkpoint, sign_checkpoint

    cp = instance.ledger.checkpoint(20)
    forged = sign_checkpoint(
        Checkpoint("sealtrail.test/log", 20, cp.root),
        "sealtrail.test/log",
        Ed25519PrivateKey.generate(),
    )
    with instance.engine.begin() as conn:
        conn.execute(text("UPDATE checkpoint SET note = :n WHERE tree_size = 20"), {"n": forged})
    result = run_audit(app)
    assert result.exit_code == 1
    assert "checkpoint 20" in result.output and "signature" in result.output


def test_audit_reads_the_log_in_pages(instance, filled):
    """Small pages give the same verdict and counts as one page (keyset pagination)."""
    whole = instance.ledger.audit()
    paged = instance.ledger.audit(batch=4)
    assert whole.ok and paged.ok
    assert (paged.leaves_checked, paged.nodes_checked, paged.checkpoints_checked) == (37, 71, 3)
    with instance.engine.begin() as conn:
        conn.execute(
            text("UPDATE tree_node SET hash = :h WHERE level = 0 AND idx = 33"), {"h": b"\x44" * 32}
        )
    paged = instance.ledger.audit(batch=4)
    assert any("tree node (level 0, index 33)" in p for p in paged.problems)
