"""Subjects are the platforms' own identifiers, in any script: NFC-normalised at intake,
bounded in UTF-8 bytes, free of control and invisible characters (docs/evidence-record.md)."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any
from urllib.parse import quote

import pytest

from evidence_chain.core.canonical import canonicalize

CONTRACT = "合同-2026/上海-001"


def _event(subject: Any, n: int = 0) -> dict[str, Any]:
    return {
        "type": "contract.signed",
        "subject": subject,
        "occurred_at": "2026-11-21T08:00:00+08:00",
        "data": {"n": n},
    }


def _push(client: Any, auth: dict[str, str], subject: Any, n: int = 0) -> Any:
    return client.post("/api/v1/events", json=_event(subject, n), headers=auth)


@pytest.mark.parametrize(
    "subject",
    [
        "合同-001",
        CONTRACT,
        "Vertrag Nr. 5 (München)",
        "договор №17",
        "x" * 256,  # 256 bytes: the bound
        "合" * 85,  # 255 bytes
        "contract-42",  # what was accepted before still is, unchanged
        "envelope:env_7QK2",
    ],
)
def test_printable_unicode_subjects_are_accepted_as_sent(client, auth, subject):
    r = _push(client, auth, subject)
    assert r.status_code == 201, r.get_data(as_text=True)
    event_id = r.get_json()["receipts"][0]["event_id"]
    record = client.get(f"/api/v1/events/{event_id}", headers=auth).get_json()["record"]
    assert record["subject"] == subject


@pytest.mark.parametrize(
    ("subject", "why"),
    [
        ("", "0 bytes"),
        ("x" * 257, "257 bytes"),
        ("合" * 86, "258 bytes"),
        (" 合同-001", "whitespace"),
        ("合同-001\u3000", "whitespace"),  # the ideographic space is whitespace too
        ("合同\n001", "U+000A (Cc)"),
        ("合同\u200b001", "U+200B (Cf)"),  # zero-width space: invisible
        ("合同\u202e100", "U+202E (Cf)"),  # right-to-left override: shows another number
        ("合同\u2028001", "U+2028 (Zl)"),
        ("合同\ue000", "U+E000 (Co)"),
        ("合同\U000e0001", "U+E0001 (Cf)"),
        (42, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_subjects_with_what_cannot_be_read_or_is_too_long_are_refused(
    client, auth, instance, subject, why
):
    r = _push(client, auth, subject)
    assert r.status_code == 400, r.get_data(as_text=True)
    error = r.get_json()["error"]
    assert error["code"] == "invalid_request" and error["details"] == {"field": "subject"}
    assert why in error["message"]
    assert instance.ledger.tree_size() == 0  # nothing half-written


def test_subjects_are_recorded_in_nfc_and_found_however_they_are_composed(client, auth, instance):
    composed = "Café-合同-1"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    first = _push(client, auth, decomposed, 0).get_json()["receipts"][0]
    second = _push(client, auth, composed, 1).get_json()["receipts"][0]
    got = client.get(f"/api/v1/events/{first['event_id']}", headers=auth).get_json()
    # The record carries the NFC form, and its leaf is the hash of that form.
    assert got["record"]["subject"] == composed
    leaf = hashlib.sha256(b"\x00" + canonicalize(got["record"])).hexdigest()
    assert leaf == first["leaf_hash"]
    # Both spellings are one subject: one chain of two records.
    second_record = client.get(f"/api/v1/events/{second['event_id']}", headers=auth).get_json()
    assert second_record["record"]["subject_seq"] == 1
    assert second_record["record"]["prev_leaf_hash"] == first["leaf_hash"]

    instance.ledger.sign_checkpoint()
    for spelling in (composed, decomposed):
        path = quote(spelling, safe="")
        events = client.get(f"/api/v1/subjects/{path}/events", headers=auth).get_json()
        assert events["subject"] == composed and len(events["events"]) == 2
        bundle = client.get(f"/api/v1/subjects/{path}/bundle", headers=auth).get_json()
        assert bundle["subject"] == composed and len(bundle["events"]) == 2


def test_a_chinese_subject_in_the_url_path_with_or_without_encoded_slashes(client, auth, instance):
    assert _push(client, auth, CONTRACT).status_code == 201
    instance.ledger.sign_checkpoint()
    for path in (quote(CONTRACT, safe=""), quote(CONTRACT, safe="/"), CONTRACT):
        r = client.get(f"/api/v1/subjects/{path}/bundle?download=1", headers=auth)
        assert r.status_code == 200, (path, r.get_data(as_text=True))
        assert CONTRACT.encode("utf-8") in r.get_data()  # UTF-8 text, not \\u escapes
        assert r.get_json()["subject"] == CONTRACT
        disposition = r.headers["Content-Disposition"]
        assert disposition.startswith('attachment; filename="evidence-bundle-')
        assert disposition.isascii()
        assert "filename*=UTF-8''" + quote("evidence-bundle-合同-2026_上海-001.json") in disposition


def test_the_signing_api_takes_a_chinese_subject_and_refuses_a_bad_one(client, auth, instance):
    from tests.signing.conftest import make_pdf
    from tests.test_signing_api import make_seal, sign

    pdf, seal = make_pdf(1), make_seal(client, auth)["id"]
    spot = [{"kind": "explicit", "page": 1, "x": 99, "y": 99}]
    bad = sign(client, auth, pdf, seal, spot, subject="合同\u200b001")
    assert bad.status_code == 400
    assert bad.get_json()["error"]["details"] == {"field": "subject"}
    ok = sign(client, auth, pdf, seal, spot, subject=unicodedata.normalize("NFD", "Café-合同-7"))
    assert ok.status_code == 200, ok.get_data(as_text=True)
    instance.ledger.sign_checkpoint()
    events = client.get(f"/api/v1/subjects/{quote('Café-合同-7')}/events", headers=auth)
    assert events.status_code == 200 and events.get_json()["subject"] == "Café-合同-7"
