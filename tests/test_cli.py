"""The operator commands as an operator runs them (``flask --app app ...`` in a process of its
own): the answer alone on stdout, as JSON with ``--json``; nothing of the log below WARNING."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidence_chain.config import Settings
from evidence_chain.events import parse_event
from tests.service import BIN, ROOT, service_env

NAME = "上海合同签署平台"


@pytest.fixture
def run(tmp_path: Path, database_url: str) -> Any:
    """Run one command against a fresh instance; return (stdout, stderr), failing on exit != 0."""
    home = tmp_path / "home"
    env = service_env(home, database_url, EVIDENCE_LOG_ORIGIN="sealtrail.test/cli")

    def flask(*args: str, code: int = 0) -> tuple[str, str]:
        out = subprocess.run(
            [str(BIN / "flask"), "--app", "app", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == code, out.stdout + out.stderr
        return out.stdout, out.stderr

    flask.env = env  # type: ignore[attr-defined]
    return flask


def _quiet(stderr: str) -> None:
    """No log line below WARNING (Alembic's INFO lines, the development-key notice)."""
    assert " INFO " not in stderr and "alembic" not in stderr, stderr


def test_init_answers_with_the_instance_and_nothing_else(run: Any) -> None:
    out, err = run("init", "--json")
    _quiet(err)
    assert err == ""
    body = json.loads(out)
    assert set(body) == {"home", "log_origin", "log_key", "root_ca_sha256"}
    assert body["log_origin"] == "sealtrail.test/cli"
    assert body["log_key"].startswith("sealtrail.test/cli+")
    assert len(body["root_ca_sha256"]) == 64
    again, err = run("init")  # idempotent; the text form names the same instance
    assert err == ""
    assert again.splitlines()[1].split()[-1] == "sealtrail.test/cli"


def test_tenant_commands_print_only_what_they_say(run: Any) -> None:
    run("init")
    out, err = run("tenant", "create", NAME)
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("tenant tn_") and lines[0].endswith(NAME)
    first_key = lines[2]
    assert first_key.startswith("stk_")

    out, err = run("tenant", "create", "Acme", "--json")
    assert err == ""
    created = json.loads(out)
    assert set(created) == {"id", "name", "api_key"} and created["name"] == "Acme"
    assert created["api_key"].startswith("stk_") and created["api_key"] != first_key

    out, err = run("tenant", "add-key", created["id"])
    assert err == "" and out.count("\n") == 1 and out.startswith("stk_")
    out, _ = run("tenant", "add-key", created["id"], "--name", "批处理", "--json")
    added = json.loads(out)
    assert added["id"] == created["id"] and added["name"] == "批处理"
    assert set(added) == {"id", "name", "api_key"}

    out, err = run("tenant", "keys", created["id"], "--json")
    assert err == ""
    keys = json.loads(out)["keys"]
    assert len(keys) == 3 and all(k["active"] for k in keys)
    assert set(keys[0]) == {"prefix", "name", "active", "created_at", "last_used_at", "revoked_at"}
    assert added["api_key"].startswith(keys[-1]["prefix"])
    out, _ = run("tenant", "revoke-key", keys[-1]["prefix"], "--json")
    revoked = json.loads(out)
    assert revoked["key"]["prefix"] == keys[-1]["prefix"] and revoked["key"]["active"] is False

    out, err = run("tenant", "list", "--json")
    assert err == ""
    assert NAME.encode() in out.encode()  # Chinese as UTF-8 text, not \\u escapes
    tenants = json.loads(out)["tenants"]
    assert [t["name"] for t in tenants] == [NAME, "Acme"]
    assert all(set(t) == {"id", "name"} for t in tenants)
    assert tenants[1]["id"] == created["id"]
    out, _ = run("tenant", "list")
    assert out.splitlines()[1] == f"{created['id']}\tAcme"

    _, err = run("tenant", "add-key", "tn_nobody", code=1)
    assert "Traceback" not in err and "no tenant 'tn_nobody'" in err

    out, err = run("tenant", "settings", created["id"], "--json")
    assert err == "" and json.loads(out) == {
        "id": created["id"],
        "language": "en",
        "time_zone": "UTC",
        "public_detail": False,
    }
    out, _ = run(
        "tenant",
        "settings",
        created["id"],
        "--language",
        "zh",
        "--time-zone",
        "Asia/Shanghai",
        "--public-detail",
    )
    assert out.splitlines() == ["language\tzh", "time_zone\tAsia/Shanghai", "public_detail\ttrue"]
    _, err = run("tenant", "settings", created["id"], "--time-zone", "Mars/Olympus", code=1)
    assert "Traceback" not in err and "IANA time zone" in err


def test_ledger_commands_answer_in_json(run: Any) -> None:
    run("init")
    out, err = run("ledger", "checkpoint", "--json")
    assert err == "" and json.loads(out) == {"signed": False, "checkpoint": None}

    from evidence_chain.config import load_settings
    from evidence_chain.tenants import create_tenant
    from runtime.services import build_services

    settings: Settings = load_settings(run.env)
    inst = build_services(settings)
    try:
        tenant, _ = create_tenant(inst.engine, "Ledger")
        event = {"type": "t", "subject": "s", "occurred_at": "2026-11-21T00:00:00Z"}
        inst.ledger.append(tenant.id, tenant.public_id, [parse_event(event)] * 2)
    finally:
        inst.close()

    out, err = run("ledger", "checkpoint", "--json")
    assert err == ""
    body = json.loads(out)
    assert body["signed"] is True
    assert set(body["checkpoint"]) == {"tree_size", "root", "checkpoint"}
    assert body["checkpoint"]["tree_size"] == 2

    out, err = run("ledger", "audit", "--json")
    assert err == ""
    assert json.loads(out) == {
        "ok": True,
        "tree_size": 2,
        "leaves_checked": 2,
        "nodes_checked": json.loads(out)["nodes_checked"],
        "checkpoints_checked": 1,
        "problems": [],
    }


def test_commands_refuse_an_instance_that_was_never_initialised(run: Any) -> None:
    _, err = run("tenant", "list", code=1)
    assert "flask --app app init" in err and "Traceback" not in err


def test_chain_commands_say_when_anchoring_is_off(run: Any) -> None:
    run("init")
    _, err = run("chain", "status", "--json", code=1)
    assert "anchoring is disabled" in err
