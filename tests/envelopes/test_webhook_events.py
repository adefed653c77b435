"""Every envelope status change queues a webhook delivery in the same transaction."""

from __future__ import annotations

from typing import Any

import pytest

from evidence_chain.config import Settings
from tests.envelopes.conftest import Mailbox
from tests.envelopes.helpers import create, one_party_spec, sign_party


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The endpoint is on this machine (nothing is delivered here: the job does not run)."""
    return settings.with_overrides(webhook_allow_private=True)


def test_status_changes_queue_webhooks(
    client: Any, auth: dict[str, str], contract_pdf: bytes, mailbox: Mailbox, envelopes: Any
) -> None:
    hook = client.post(
        "/api/v1/webhooks", json={"url": "https://localhost:8443/sealtrail"}, headers=auth
    )
    assert hook.status_code == 201, hook.get_json()
    env = create(client, auth, one_party_spec(), contract_pdf).get_json()
    client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth)
    sign_party(envelopes, mailbox, "dana@example.test")
    client.post(f"/api/v1/envelopes/{env['id']}/void", json={"reason": "test"}, headers=auth)
    other = create(client, auth, one_party_spec(), contract_pdf).get_json()
    client.post(f"/api/v1/envelopes/{other['id']}/send", headers=auth)
    client.post(f"/api/v1/envelopes/{other['id']}/withdraw", headers=auth)

    r = client.get(f"/api/v1/webhooks/{hook.get_json()['id']}/deliveries", headers=auth)
    deliveries = list(reversed(r.get_json()["deliveries"]))
    seen = [(d["event"], d["payload"]["envelope"]["id"]) for d in deliveries]
    assert seen == [
        ("envelope.sent", env["id"]),
        ("party.signed", env["id"]),
        ("envelope.in_progress", env["id"]),
        ("envelope.completed", env["id"]),
        ("envelope.voided", env["id"]),
        ("envelope.sent", other["id"]),
        ("envelope.withdrawn", other["id"]),
    ]
    statuses = [d["payload"]["envelope"]["status"] for d in deliveries]
    assert statuses[0] == "sent" and statuses[4] == "voided" and statuses[6] == "withdrawn"
    assert deliveries[1]["payload"]["party"]["name"] == "Dana Ng"
