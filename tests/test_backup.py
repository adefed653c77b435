"""Backup and restore of a whole instance, as an operator runs them: ``flask --app app backup``
while the service is in use, the old instance wiped, ``restore`` into a fresh EVIDENCE_HOME and
database, then ``ledger audit``, a proof checked against the root anchored on a real anvil node,
and a certificate of evidence checked with the command-line verifier."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, text

from evidence_chain.anchoring.chain import Signer, Web3Chain
from evidence_chain.config import Settings, load_settings, normalize_database_url
from evidence_chain.core import merkle
from evidence_chain.core.bundle import log_id
from evidence_chain.core.note import verify_checkpoint
from runtime.setup import initialise
from tests.chain.anvil import DEV_PRIVATE_KEY, anvil_available, start_anvil
from tests.chain.conftest import require_tool
from tests.conftest import PG_URL
from tests.envelopes.helpers import one_party_spec
from tests.signing.conftest import make_pdf
from tests.test_signing_api import make_seal, sign

ROOT = Path(__file__).resolve().parents[1]
ORIGIN = "sealtrail.test/backup"


@pytest.fixture
def second_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty database on the same backend as ``database_url``: where we restore."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'sealtrail.db'}"
        return
    assert PG_URL
    base = normalize_database_url(PG_URL)
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def chain_settings(home: Path, database_url: str, rpc_url: str, contract: str) -> Settings:
    return load_settings(
        {
            "EVIDENCE_HOME": str(home),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": ORIGIN,
            "EVIDENCE_CHAIN_RPC_URL": rpc_url,
            "EVIDENCE_CHAIN_ID": "31337",
            "EVIDENCE_CONTRACT_ADDRESS": contract,
            "EVIDENCE_ANCHOR_KEY": DEV_PRIVATE_KEY,
            "EVIDENCE_CHAIN_CONFIRMATIONS": "1",
        }
    )


def make_app(settings: Settings) -> Any:
    from app import create_app

    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def cli(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def push(client: Any, auth: dict[str, str], n: int, subject: str) -> list[dict[str, Any]]:
    events = [
        {
            "type": "step",
            "subject": subject,
            "occurred_at": "2026-11-21T09:00:00Z",
            "data": {"n": i, "note": "第" + str(i) + "步"},
        }
        for i in range(n)
    ]
    r = client.post("/api/v1/events", json={"events": events}, headers=auth)
    assert r.status_code == 201, r.get_data(as_text=True)
    return list(r.get_json()["receipts"])


def check_proof(proof: dict[str, Any], verifier_key: str) -> bytes:
    """Check a proof as an integrator would; return the root it proves inclusion in."""
    body = verify_checkpoint(proof["checkpoint"], verifier_key)
    merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(h) for h in proof["inclusion_proof"]],
        body.root,
    )
    return body.root


def modes(folder: Path) -> set[str]:
    """Every file or folder under ``folder`` that others could read."""
    loose = set()
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            loose.add(f"{path} {mode:o}")
    return loose


def test_backup_restore_round_trip(database_url: str, second_database: str, tmp_path: Path) -> None:
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    with start_anvil() as node:
        contract = Web3Chain.http(node.rpc_url).deploy(Signer.from_hex(DEV_PRIVATE_KEY))
        old = chain_settings(tmp_path / "old", database_url, node.rpc_url, contract)
        initialise(old)
        app = make_app(old)
        out = cli(app, "tenant", "create", "Backup Platform")
        api_key = out.output.strip().splitlines()[-1]
        auth = {"Authorization": f"Bearer {api_key}"}
        client = app.test_client()
        receipts = push(client, auth, 20, "contract-7")
        pdf = make_pdf(2)
        seal = make_seal(client, auth)
        signed = sign(
            client, auth, pdf, seal["id"], [{"kind": "explicit", "page": 1, "x": 72, "y": 72}]
        )
        assert signed.status_code == 200, signed.get_data(as_text=True)
        envelope = client.post(
            "/api/v1/envelopes",
            json={
                **one_party_spec(),
                "documents": [
                    {"name": "lease.pdf", "content_base64": base64.b64encode(pdf).decode()}
                ],
            },
            headers=auth,
        )
        assert envelope.status_code == 201, envelope.get_data(as_text=True)
        env_id = envelope.get_json()["id"]
        anchored = cli(app, "chain", "anchor-now", "--timeout", "60")
        assert anchored.exit_code == 0, anchored.output
        tree_size = client.get("/api/v1/checkpoints/latest").get_json()["tree_size"]
        before = client.get(f"/api/v1/events/{receipts[3]['event_id']}/proof", headers=auth)
        verifier_key = client.get("/api/v1/log").get_json()["public_key"]
        root_before = check_proof(before.get_json(), verifier_key)

        dest = tmp_path / "backups" / "b1"
        made = cli(app, "backup", str(dest), "--json")
        assert made.exit_code == 0, made.output
        summary = json.loads(made.stdout)
        assert summary["tree_size"] == tree_size
        assert summary["last_checkpoint"]["tree_size"] == tree_size
        assert summary["last_anchored_tree_size"] == tree_size
        assert modes(dest) == set()
        manifest = json.loads((dest / "manifest.json").read_text())
        names = {f["path"] for f in manifest["files"]}
        blob = hashlib.sha256(pdf).hexdigest()
        assert f"files/blobs/{blob[:2]}/{blob[2:4]}/{blob}" in names
        for name in ("files/keys/master.key", "files/keys/log_ed25519.pem", "files/session.key"):
            assert name in names
        assert any(n.startswith("files/pki/") for n in names)
        assert manifest["format_version"] == 1
        assert manifest["database"]["last_checkpoint"]["root"] == root_before.hex()

        # Events acknowledged after the backup, then anchored: lost by the restore.
        lost = push(client, auth, 5, "contract-7")
        assert cli(app, "chain", "anchor-now", "--timeout", "60").exit_code == 0
        from web.context import close

        close(app)
        shutil.rmtree(old.home)  # the machine is gone

        new = chain_settings(tmp_path / "new", second_database, node.rpc_url, contract)
        restored_app = make_app(new)
        done = cli(restored_app, "restore", str(dest))
        # restored and audited; the chain holds a larger checkpoint of this log: exit 2, said so
        assert done.exit_code == 2, done.output
        assert "audit:      passed" in done.stdout
        assert "chain_ahead_of_log" in done.output and f"only {tree_size} entries" in done.output
        close(restored_app)

        app2 = make_app(new)
        audit = cli(app2, "ledger", "audit")
        assert audit.exit_code == 0, audit.output
        assert f"tree size {tree_size}:" in audit.stdout
        assert modes(new.home) == set()
        client2 = app2.test_client()
        proof = client2.get(f"/api/v1/events/{receipts[3]['event_id']}/proof", headers=auth)
        assert proof.status_code == 200, proof.get_data(as_text=True)
        assert client2.get("/api/v1/log").get_json()["public_key"] == verifier_key
        root = check_proof(proof.get_json(), verifier_key)
        anchor = proof.get_json()["anchor"]
        assert anchor is not None and anchor["tree_size"] == tree_size
        on_chain = Web3Chain.http(node.rpc_url).root_at(contract, log_id(ORIGIN), tree_size)
        assert root == on_chain == root_before
        gone = client2.get(f"/api/v1/events/{lost[0]['event_id']}/proof", headers=auth)
        assert gone.status_code == 404
        document = client2.get(f"/api/v1/envelopes/{env_id}/documents/1", headers=auth)
        assert document.status_code == 200 and document.data == pdf
        status = cli(app2, "chain", "status")
        assert status.exit_code == 2 and "chain_ahead_of_log" in status.output
        # A certificate issued after the restore verifies with the command-line verifier.
        report = client2.get("/api/v1/subjects/contract-7/report.pdf", headers=auth)
        assert report.status_code == 200, report.get_data(as_text=True)
        (tmp_path / "report.pdf").write_bytes(report.data)
        from web.context import services

        with app2.app_context():
            ca_root = services().signing.ca.trust_roots()[-1]
        (tmp_path / "root.pem").write_bytes(ca_root.public_bytes(serialization.Encoding.PEM))
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "evidence_chain.verify",
                str(tmp_path / "report.pdf"),
                "--rpc",
                node.rpc_url,
                "--trust",
                str(tmp_path / "root.pem"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert "\nVERIFIED" in run.stdout
        # the log grows again, but the chain vouches for a larger, different tree: anchoring
        # stops with the alarm instead of waiting or crashing
        push(client2, auth, 1, "contract-7")
        blocked = cli(app2, "chain", "anchor-now", "--timeout", "30")
        assert blocked.exit_code == 1, blocked.output
        assert "cannot be anchored" in blocked.output and "missing from the log" in blocked.output

        close(app2)


def test_restore_refuses_a_used_instance_and_an_altered_backup(
    settings: Settings, tmp_path: Path
) -> None:
    initialise(settings)
    app = make_app(settings)
    cli(app, "tenant", "create", "P")
    dest = tmp_path / "b"
    assert cli(app, "backup", str(dest)).exit_code == 0
    assert cli(app, "backup", str(dest)).exit_code == 1  # never into an existing folder

    refused = cli(app, "restore", str(dest))
    assert refused.exit_code == 1 and "not empty" in refused.output
    cli(app, "tenant", "create", "Q")  # after the backup: replaced by --force
    from web.context import close

    close(app)
    forced = make_app(settings)
    replaced = cli(forced, "restore", str(dest), "--force")
    assert replaced.exit_code == 0, replaced.output
    assert "audit:      passed" in replaced.stdout
    listed = cli(forced, "tenant", "list").stdout
    assert "\tP" in listed and "\tQ" not in listed
    close(forced)

    copy = tmp_path / "altered"
    shutil.copytree(dest, copy)
    key = copy / "files" / "session.key"
    key.write_bytes(b"x" * 64)
    fresh = settings.with_overrides(
        home=tmp_path / "fresh",
        database_url=(
            f"sqlite:///{tmp_path / 'fresh' / 'sealtrail.db'}"
            if settings.is_sqlite
            else settings.database_url
        ),
    )
    other = make_app(fresh)
    bad = cli(other, "restore", str(copy))
    assert bad.exit_code == 1 and "files/session.key: altered" in bad.output
    assert not (tmp_path / "fresh" / "pki").exists()
    (copy / "manifest.json").unlink()
    assert "not a complete backup" in cli(other, "restore", str(copy)).output


def test_documents_in_an_object_store_stay_there(settings: Settings, tmp_path: Path) -> None:
    from runtime.backup import BackupError, restore_backup, take_backup

    initialise(settings)
    stored = settings.with_overrides(blob_url="s3://evidence-docs/prod")
    (settings.home / "blobs" / "aa").mkdir(parents=True)
    (settings.home / "blobs" / "aa" / ("a" * 64)).write_bytes(b"left over")
    backup = take_backup(stored, tmp_path / "b")
    assert backup.manifest["blob_store"] == "s3://evidence-docs/prod"
    assert not any(f["path"].startswith("files/blobs/") for f in backup.manifest["files"])
    fresh = stored.with_overrides(
        home=tmp_path / "fresh",
        blob_url=None,
        database_url=(
            f"sqlite:///{tmp_path / 'fresh' / 'sealtrail.db'}"
            if settings.is_sqlite
            else settings.database_url
        ),
    )
    with pytest.raises(BackupError, match="EVIDENCE_BLOB_URL"):
        restore_backup(fresh, backup.path)
