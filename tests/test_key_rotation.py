"""Rotating an API key as the operations guide says: add a key, move to it, revoke the old one."""

from __future__ import annotations

from typing import Any


def test_add_then_revoke_a_key(app: Any, client: Any) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(args=["tenant", "create", "Rotating Platform"])
    old = created.stdout.strip().splitlines()[-1]
    tenant = created.stdout.split()[1]
    assert tenant.startswith("tn_")
    new = runner.invoke(args=["tenant", "add-key", tenant]).stdout.strip().splitlines()[-1]
    for key in (old, new):
        r = client.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200

    revoked = runner.invoke(args=["tenant", "revoke-key", old[:10]])
    assert revoked.exit_code == 0, revoked.output
    assert tenant in revoked.stdout and old[:10] in revoked.stdout
    r = client.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    r = client.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {new}"})
    assert r.status_code == 200
    listed = runner.invoke(args=["tenant", "keys", tenant]).stdout
    assert old[:10] in listed and new[:10] in listed and "revoked" in listed
