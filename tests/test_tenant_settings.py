"""A tenant's settings over the API: what a platform reads and changes, each change an event
of its own subject, every bad value a 400 that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from evidence_chain.tenants import create_tenant
from tests.test_api import assert_error


def test_settings_default_to_english_utc_and_private(client: Any, auth: Any, tenant: Any) -> None:
    body = client.get("/api/v1/tenant", headers=auth).get_json()
    assert body == {
        "id": tenant[0].public_id,
        "name": tenant[0].name,
        "language": "en",
        "time_zone": "UTC",
        "public_detail": False,
    }


def test_a_change_is_answered_kept_and_logged(client: Any, auth: Any, tenant: Any, instance: Any):
    response = client.patch(
        "/api/v1/tenant",
        json={"language": "zh", "time_zone": "Asia/Shanghai", "public_detail": True},
        headers=auth,
    )
    assert response.status_code == 200
    assert response.get_json()["language"] == "zh"
    again = client.get("/api/v1/tenant", headers=auth).get_json()
    assert (again["language"], again["time_zone"], again["public_detail"]) == (
        "zh",
        "Asia/Shanghai",
        True,
    )
    (event,) = instance.ledger.subject_events(tenant[0].id, f"tenant:{tenant[0].public_id}")
    assert event.record["type"] == "tenant.settings_changed"
    assert event.record["data"] == {
        "changed": {"language": "zh", "time_zone": "Asia/Shanghai", "public_detail": True}
    }
    assert event.record["actor"] == {"kind": "api_key", "key_prefix": tenant[1][:10]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "fr"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": 8}, "time_zone"),
        ({"public_detail": "yes"}, "public_detail"),
        ({"name": "Renamed"}, "name"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_and_changes_nothing(
    client: Any, auth: Any, tenant: Any, instance: Any, body: dict[str, Any], field: str
) -> None:
    error = assert_error(
        client.patch("/api/v1/tenant", json=body, headers=auth), 400, "invalid_request"
    )
    assert error["details"]["field"] == field
    assert client.get("/api/v1/tenant", headers=auth).get_json()["language"] == "en"
    assert instance.ledger.subject_events(tenant[0].id, f"tenant:{tenant[0].public_id}") == []


def test_each_tenant_sees_and_changes_only_its_own(client: Any, auth: Any, instance: Any) -> None:
    other, other_key = create_tenant(instance.engine, "Other")
    client.patch("/api/v1/tenant", json={"public_detail": True}, headers=auth)
    theirs = client.get("/api/v1/tenant", headers={"Authorization": f"Bearer {other_key}"})
    assert theirs.get_json()["id"] == other.public_id
    assert theirs.get_json()["public_detail"] is False
    assert client.get("/api/v1/tenant").status_code == 401
