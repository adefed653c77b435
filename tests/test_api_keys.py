"""API keys: listed (never shown again), issued, revoked at once; another tenant's is a 404."""

from __future__ import annotations

from typing import Any

from evidence_chain.tenants import create_tenant, hash_key
from web.cli import tenant_group


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_list_issue_and_revoke_over_the_api(client: Any, tenant: Any) -> None:
    _ref, first = tenant
    listed = client.get("/api/v1/keys", headers=_bearer(first))
    assert listed.status_code == 200
    (only,) = listed.get_json()["keys"]
    assert only["prefix"] == first[:10]
    assert only["current"] is True and only["active"] is True
    assert first not in listed.get_data(as_text=True)  # the key itself is never shown again

    made = client.post("/api/v1/keys", json={"name": "CI pipeline"}, headers=_bearer(first))
    assert made.status_code == 201
    second = made.get_json()["key"]
    assert second.startswith("stk_") and made.get_json()["name"] == "CI pipeline"
    assert client.get("/api/v1/keys", headers=_bearer(second)).status_code == 200

    revoked = client.delete(f"/api/v1/keys/{second[:10]}", headers=_bearer(first))
    assert revoked.status_code == 200
    assert revoked.get_json()["active"] is False and revoked.get_json()["revoked_at"]
    # a 401 from the very next request: nothing keeps the revoked key alive
    answer = client.get("/api/v1/keys", headers=_bearer(second))
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "unauthorized"
    keys = {
        k["prefix"]: k
        for k in client.get("/api/v1/keys", headers=_bearer(first)).get_json()["keys"]
    }
    assert keys[second[:10]]["active"] is False
    assert keys[first[:10]]["active"] is True


def test_a_key_may_revoke_itself_but_not_the_last_one(client: Any, tenant: Any) -> None:
    _ref, first = tenant
    last = client.delete(f"/api/v1/keys/{first[:10]}", headers=_bearer(first))
    assert last.status_code == 409
    assert last.get_json()["error"]["code"] == "last_key"
    assert client.get("/api/v1/keys", headers=_bearer(first)).status_code == 200

    second = client.post("/api/v1/keys", headers=_bearer(first)).get_json()["key"]
    assert client.delete(f"/api/v1/keys/{first[:10]}", headers=_bearer(first)).status_code == 200
    assert client.get("/api/v1/keys", headers=_bearer(first)).status_code == 401
    assert client.get("/api/v1/keys", headers=_bearer(second)).status_code == 200


def test_another_tenants_key_is_not_found(client: Any, instance: Any, tenant: Any) -> None:
    _ref, mine = tenant
    _other, theirs = create_tenant(instance.engine, "Other Platform")
    client.post("/api/v1/keys", headers=_bearer(theirs))  # they have two: not the last one
    answer = client.delete(f"/api/v1/keys/{theirs[:10]}", headers=_bearer(mine))
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/keys", headers=_bearer(theirs)).status_code == 200
    prefixes = [
        k["prefix"] for k in client.get("/api/v1/keys", headers=_bearer(mine)).get_json()["keys"]
    ]
    assert prefixes == [mine[:10]]


def test_bad_bodies_are_400(client: Any, auth: dict[str, str]) -> None:
    assert client.post("/api/v1/keys", json={"nam": "x"}, headers=auth).status_code == 400
    assert client.post("/api/v1/keys", json={"name": "x" * 101}, headers=auth).status_code == 400
    assert client.post("/api/v1/keys", json={"name": 5}, headers=auth).status_code == 400


def test_last_used_is_recorded_at_most_once_a_minute(
    client: Any, instance: Any, tenant: Any
) -> None:
    from sqlalchemy import select

    from evidence_chain.tenants import API_KEY

    _ref, key = tenant

    def last_used() -> Any:
        with instance.engine.connect() as conn:
            return conn.execute(
                select(API_KEY.c.last_used_at).where(API_KEY.c.key_hash == hash_key(key))
            ).scalar_one()

    assert last_used() is None
    client.get("/api/v1/keys", headers=_bearer(key))
    first = last_used()
    assert first is not None
    client.get("/api/v1/keys", headers=_bearer(key))
    assert last_used() == first  # no second write within the minute
    listed = client.get("/api/v1/keys", headers=_bearer(key)).get_json()["keys"][0]
    assert listed["last_used_at"] is not None


def test_cli_lists_and_revokes(app: Any, instance: Any) -> None:
    runner = app.test_cli_runner()
    made = runner.invoke(args=["tenant", "create", "Cli Co"])
    assert made.exit_code == 0, made.output
    tenant_id = made.output.split()[1]
    first = made.output.strip().splitlines()[-1]
    second = runner.invoke(args=["tenant", "add-key", tenant_id, "--name", "backup"]).output.strip()

    listing = runner.invoke(args=["tenant", "keys", tenant_id])
    assert listing.exit_code == 0
    lines = listing.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [first[:10], second[:10]]
    assert "backup" in lines[1] and "never" in lines[1] and lines[1].endswith("active")
    assert first not in listing.output and second not in listing.output

    client = app.test_client()
    assert client.get("/api/v1/keys", headers=_bearer(second)).status_code == 200
    out = runner.invoke(args=["tenant", "revoke-key", second[:10]])
    assert out.exit_code == 0, out.output
    assert "revoked" in out.output
    assert client.get("/api/v1/keys", headers=_bearer(second)).status_code == 401

    refused = runner.invoke(args=["tenant", "revoke-key", first[:10]])
    assert refused.exit_code == 1 and "last_key" in refused.output
    assert client.get("/api/v1/keys", headers=_bearer(first)).status_code == 200
    forced = runner.invoke(args=["tenant", "revoke-key", first[:10], "--allow-last"])
    assert forced.exit_code == 0, forced.output
    assert client.get("/api/v1/keys", headers=_bearer(first)).status_code == 401

    unknown = runner.invoke(args=["tenant", "revoke-key", "stk_nothere"])
    assert unknown.exit_code == 1 and "not_found" in unknown.output
    assert runner.invoke(args=["tenant", "keys", "tn_nothere"]).exit_code == 1
    assert "revoke-key" in tenant_group.commands


def test_openapi_documents_the_key_endpoints(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/keys"]) == {"get", "post"}
    assert "409" in paths["/api/v1/keys/{prefix}"]["delete"]["responses"]


def test_recording_a_use_never_waits_for_a_writer(client: Any, instance: Any, tenant: Any) -> None:
    """A key's first request while another transaction holds the write lock is served at once;
    its use is recorded by a later request."""
    import threading
    import time

    from sqlalchemy import text

    _ref, key = tenant
    answered: dict[str, Any] = {}

    def ask() -> None:
        started = time.perf_counter()
        answered["status"] = client.get("/api/v1/keys", headers=_bearer(key)).status_code
        answered["seconds"] = time.perf_counter() - started

    with instance.engine.begin() as writer:  # BEGIN IMMEDIATE on SQLite: the write lock
        writer.execute(text("UPDATE log_state SET tree_size = tree_size WHERE id = 1"))
        asker = threading.Thread(target=ask)
        asker.start()
        asker.join(timeout=10)
        assert not asker.is_alive(), "the request waited for the writer's transaction"
    assert answered["status"] == 200
    assert answered["seconds"] < 5
    listed = client.get("/api/v1/keys", headers=_bearer(key)).get_json()["keys"][0]
    assert listed["last_used_at"] is not None
