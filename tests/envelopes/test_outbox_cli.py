"""``flask outbox --to`` finds a recipient's messages however the address is capitalised:
addresses are stored in lower case, the argument is matched the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evidence_chain.config import Settings, load_settings
from tests.envelopes.helpers import create, one_party_spec


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """No mail server: every message is kept in the outbox for the operator to read."""
    return load_settings(
        {
            "EVIDENCE_HOME": str(tmp_path / "home"),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.test/log",
            "EVIDENCE_ANCHORING": "false",
            "EVIDENCE_PUBLIC_URL": "https://sign.example.test",
        }
    )


def test_outbox_matches_the_address_in_any_case(
    app: Any, client: Any, auth: dict[str, str], contract_pdf: bytes
) -> None:
    spec = one_party_spec(email="Alice-A@Example.com", name="Alice A")
    env = create(client, auth, spec, contract_pdf).get_json()
    assert client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth).status_code == 200
    runner = app.test_cli_runner()
    for typed in ("Alice-A@example.com", "ALICE-A@EXAMPLE.COM", " alice-a@example.com "):
        out = runner.invoke(args=["outbox", "--to", typed, "--json"])
        assert out.exit_code == 0, out.output
        messages = [json.loads(line) for line in out.output.splitlines()]
        assert len(messages) == 1, (typed, out.output)
        assert messages[0]["to"] == "alice-a@example.com"
        assert messages[0]["status"] == "kept"
        assert "/sign/" in messages[0]["body"]
    text = runner.invoke(args=["outbox", "--to", "Alice-A@example.com"]).output
    assert "email to alice-a@example.com" in text
