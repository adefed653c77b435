"""A 10,000-event subject end to end: its bundle over the API verifies with the offline
checks, and its certificate of evidence is issued, summarised and verifies too."""

from __future__ import annotations

from typing import Any

import pytest

from evidence_chain.core.bundle import verify_bundle
from evidence_chain.events import parse_event
from evidence_chain.verify import verify_file

pytestmark = pytest.mark.slow
SUBJECT = "合同-大型-10000"
EVENTS = 10_000


def test_a_ten_thousand_event_subject_end_to_end(
    client: Any, auth: Any, instance: Any, tenant: Any
) -> None:
    ref = tenant[0]
    for start in range(0, EVENTS, 1000):
        batch = [
            parse_event(
                {
                    "type": "party.viewed" if i % 3 else "party.signed",
                    "subject": SUBJECT,
                    "occurred_at": f"2026-11-20T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                    "actor": {"name": "张三", "email": "z@example.cn"},
                    "data": {"step": i},
                }
            )
            for i in range(start, start + 1000)
        ]
        instance.ledger.append(ref.id, ref.public_id, batch)
    instance.ledger.sign_checkpoint()

    answer = client.get(f"/api/v1/subjects/{SUBJECT}/bundle", headers=auth)
    assert answer.status_code == 200
    bundle = answer.get_json()
    assert len(bundle["events"]) == EVENTS
    verdict = verify_bundle(bundle)
    assert not [c for c in verdict.checks if c.ok is False]
    assert verdict.verdict == "INCOMPLETE"  # every check that can be made holds; no anchor here

    report = client.get(f"/api/v1/subjects/{SUBJECT}/report.pdf", headers=auth)
    assert report.status_code == 200 and report.headers["X-Report-Verdict"] == "INCOMPLETE"
    checked = verify_file(report.data)
    assert not [c for c in checked.checks if c.ok is False]
    assert checked.bundle is not None and len(checked.bundle["events"]) == EVENTS
