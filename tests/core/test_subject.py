"""A subject's lifecycle status and the versions of its files, derived from its records alone."""

from __future__ import annotations

from typing import Any

import pytest

from evidence_chain.core.subject import lifecycle_of, recorded_versions, verdict_line


def rec(etype: str, at: str, seq: int, **data: Any) -> dict[str, Any]:
    return {
        "type": etype,
        "occurred_at": at,
        "subject_seq": seq,
        "actor": {"name": "Bob Li", "email": "bob@example.com"},
        "data": data,
    }


SIGNED = [
    rec("envelope.created", "2026-11-20T09:00:00.000000Z", 0),
    rec("envelope.sent", "2026-11-20T09:01:00.000000Z", 1),
    rec("envelope.signed", "2026-11-21T10:00:00.000000Z", 2),
]
DONE = [*SIGNED, rec("envelope.completed", "2026-11-21T10:00:01.000000Z", 3)]


@pytest.mark.parametrize(
    ("records", "state", "at", "reason"),
    [
        (SIGNED, "in_progress", "2026-11-21T10:00:00.000000Z", None),
        (DONE, "completed", "2026-11-21T10:00:01.000000Z", None),
        (
            [*DONE, rec("envelope.downloaded", "2026-11-22T08:00:00.000000Z", 4)],
            "completed",
            "2026-11-21T10:00:01.000000Z",
            None,
        ),
        (
            [*DONE, rec("envelope.voided", "2026-11-23T10:00:00.000000Z", 4, reason="wrong")],
            "voided",
            "2026-11-23T10:00:00.000000Z",
            "wrong",
        ),
        (
            [*SIGNED, rec("envelope.withdrawn", "2026-11-22T07:00:00.000000Z", 3, reason=None)],
            "withdrawn",
            "2026-11-22T07:00:00.000000Z",
            None,
        ),
        (
            [*SIGNED, rec("envelope.declined", "2026-11-22T07:00:00.000000Z", 3, reason="price")],
            "declined",
            "2026-11-22T07:00:00.000000Z",
            "price",
        ),
        (
            [*SIGNED, rec("envelope.expired", "2026-12-04T09:00:00.000000Z", 3)],
            "expired",
            "2026-12-04T09:00:00.000000Z",
            None,
        ),
        # Pushed events: the platform's own names, by their last word.
        ([rec("contract.signing_completed", "2026-11-21T10:00:00Z", 0)], "completed", None, None),
        ([rec("contract:cancelled", "2026-11-21T10:00:00Z", 0)], "voided", None, None),
        ([rec("doc/incomplete", "2026-11-21T10:00:00Z", 0)], "in_progress", None, None),
    ],
)
def test_the_status_is_the_latest_record_that_sets_one(
    records: list[dict[str, Any]], state: str, at: str | None, reason: str | None
) -> None:
    status = lifecycle_of(records, "envelope:env_1")
    assert status.state == state
    if at is not None:
        assert status.at == at
    assert status.reason == reason


def test_sentences_in_both_languages_beside_the_verdict() -> None:
    status = lifecycle_of(
        [*DONE, rec("envelope.voided", "2026-11-23T10:00:00.000000Z", 4, reason="超出预算")],
        "envelope:env_1",
    )
    assert verdict_line("VERIFIED", status) == (
        "VERIFIED: the evidence is intact; the contract was VOIDED on 2026-11-23 10:00 UTC "
        '(reason: "超出预算")'
    )
    assert verdict_line("VERIFIED", status, "zh") == (
        "已核验（VERIFIED）：证据完整；该合同已于 2026-11-23 10:00 UTC 作废（VOIDED）"
        '（原因："超出预算"）'
    )
    declined = lifecycle_of([*SIGNED, rec("envelope.declined", "2026-11-22T07:00:00Z", 3)])
    assert 'was DECLINED on 2026-11-22 07:00 UTC by "Bob Li"' in declined.sentence()
    assert verdict_line("FAILED", declined).startswith("FAILED: a check failed")
    assert "cannot be relied on" in verdict_line("FAILED", declined)


def test_the_versions_of_a_file_name_the_step_the_signer_and_the_certificate() -> None:
    sha = "ab" * 32
    records = [
        (
            7,
            {
                "type": "envelope.signed",
                "occurred_at": "2026-11-21T10:00:00.000000Z",
                "actor": {"name": "Alice Zhang"},
                "data": {
                    "documents": [
                        {
                            "n": 1,
                            "sha256_before": "cd" * 32,
                            "sha256_after": sha,
                            "certificate": {"subject": "CN=Alice Zhang"},
                        }
                    ]
                },
            },
        ),
        (9, {"type": "envelope.completed", "data": {"documents": [{"sha256": sha}]}}),
    ]
    found = recorded_versions(records, sha.upper())
    assert [(v.role, v.event_type, v.leaf_index) for v in found] == [
        ("signed", "envelope.signed", 7),
        ("final", "envelope.completed", 9),
    ]
    assert found[0].describe() == (
        "the signed version in step envelope.signed (leaf 7, 2026-11-21 10:00 UTC) by "
        '"Alice Zhang", certificate "CN=Alice Zhang"'
    )
    assert recorded_versions(records, "ee" * 32) == []
