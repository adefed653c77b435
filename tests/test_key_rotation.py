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

    too_short = runner.invoke(args=["tenant", "revoke-key", tenant, "stk_"])
    assert too_short.exit_code == 1 and "first 10 characters" in too_short.output
    revoked = runner.invoke(args=["tenant", "revoke-key", tenant, old[:10]])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked 1 key(s)" in revoked.stdout
    r = client.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    r = client.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {new}"})
    assert r.status_code == 200
    again = runner.invoke(args=["tenant", "revoke-key", tenant, old[:10]])
    assert again.exit_code == 1 and "no active key" in again.output
    other = runner.invoke(args=["tenant", "revoke-key", "tn_0000000000000000", new[:10]])
    assert other.exit_code == 1 and "no tenant" in other.output
