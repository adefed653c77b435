"""JSON answers are UTF-8 text: Chinese travels as its characters, never as \\u escapes."""

from __future__ import annotations

import json
from typing import Any

NAME = "张三"
TEXT = "上海合同签署"


def _event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "contract.signed",
        "subject": "contract-7",
        "occurred_at": "2026-11-21T08:00:00+08:00",
        "actor": {"name": NAME},
        "data": {"title": TEXT},
    }
    body.update(overrides)
    return body


def _is_utf8_json(response: Any) -> bytes:
    assert response.mimetype == "application/json"
    raw: bytes = response.get_data()
    assert b"\\u" not in raw, raw[:200]
    return raw


def test_records_and_bundles_carry_chinese_as_utf8_text(client, auth, instance):
    pushed = client.post("/api/v1/events", json=_event(), headers=auth)
    assert pushed.status_code == 201
    event_id = pushed.get_json()["receipts"][0]["event_id"]

    got = client.get(f"/api/v1/events/{event_id}", headers=auth)
    raw = _is_utf8_json(got)
    assert NAME.encode("utf-8") in raw and TEXT.encode("utf-8") in raw
    # The round trip gives back exactly what was sent.
    record = json.loads(raw.decode("utf-8"))["record"]
    assert record["actor"] == {"name": NAME} and record["data"] == {"title": TEXT}

    instance.ledger.sign_checkpoint()
    bundle = client.get("/api/v1/subjects/contract-7/bundle", headers=auth)
    raw = _is_utf8_json(bundle)
    assert TEXT.encode("utf-8") in raw
    assert json.loads(raw)["events"][0]["record"]["data"]["title"] == TEXT


def test_the_error_envelope_carries_chinese_as_utf8_text(client, auth):
    body = _event()
    body["备注"] = "x"  # an unknown field, named back in the error
    response = client.post("/api/v1/events", json=body, headers=auth)
    assert response.status_code == 400
    raw = _is_utf8_json(response)
    assert "备注".encode() in raw
    assert json.loads(raw)["error"]["details"]["field"] == "备注"
