"""The certificate of evidence of a completed envelope, checked as a court would check it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from evidence_chain.verify import verify_file
from tests.envelopes.conftest import Mailbox, three_party_spec
from tests.envelopes.test_service import CTX, WHO, _sign_as


def test_a_completed_envelope_has_a_certificate_that_names_parties_steps_and_documents(
    envelopes: Any,
    client: Any,
    auth: dict[str, str],
    tenant: Any,
    seal_id: str,
    contract_pdf: bytes,
    mailbox: Mailbox,
    instance: Any,
    tmp_path: Path,
) -> None:
    t = tenant[0]
    env = envelopes.create(t, three_party_spec(seal_id), [("contract.pdf", contract_pdf)], WHO)
    envelopes.send(t, env["id"], WHO)
    alice = mailbox.token("alice@example.test")
    envelopes.open_link(alice, CTX)
    _sign_as(envelopes, mailbox, "alice@example.test", alice)
    bob = mailbox.token("bob@example.test")
    bob_text = next(f.id for f in envelopes.signer_view(bob).fields if f.kind == "text")
    _sign_as(envelopes, mailbox, "bob@example.test", bob, texts={bob_text: "Buyer"})
    carol = mailbox.token("carol@example.test")
    _sign_as(envelopes, mailbox, "carol@example.test", carol)
    _name, final_pdf = envelopes.download(carol, CTX)
    instance.ledger.sign_checkpoint()

    subject = f"envelope:{env['id']}"
    resp = client.get(f"/api/v1/subjects/{subject}/report.pdf", headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    report = tmp_path / "certificate.pdf"
    report.write_bytes(resp.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(report), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "Supply contract 2026-17",
        "Alice Zhang",
        "Bob Li",
        "Example Trading Co. Ltd.",
        "203.0.113.7",
        "pytest-browser/1.0",
    ):
        assert expected in text, expected
    events = client.get(f"/api/v1/subjects/{subject}/events", headers=auth).get_json()["events"]
    types = {e["record"]["type"] for e in events}
    assert {"envelope.created", "envelope.sent", "envelope.code_accepted", "envelope.signed"} <= (
        types
    )
    assert "envelope.completed" in types
    flat = text.replace("\n", " ")
    for event in events:  # every step's leaf hash is printed
        assert event["leaf_hash"] in flat.replace(" ", "") or event["leaf_hash"] in flat

    # The bundle names each signer's certificate, with its PEM, as the PDF's signatures carry.
    bundle = client.get(f"/api/v1/subjects/{subject}/bundle", headers=auth).get_json()
    signed = envelopes.signing.validate_document(final_pdf)
    in_pdf = {s.signer_cert_sha256 for s in signed.signatures}
    assert {c["sha256"] for c in bundle["certificates"]} == in_pdf
    assert all(c["pem"].startswith("-----BEGIN CERTIFICATE-----") for c in bundle["certificates"])

    # The public verify page reads the final contract, document time-stamp included.
    page = client.post(
        "/api/v1/verify", data=final_pdf, headers={"Content-Type": "application/pdf"}
    )
    assert page.status_code == 200, page.get_data(as_text=True)
    result = page.get_json()
    assert result["verdict"] != "FAILED", result

    # The court's check: the report and the final contract, without the service. With
    # anchoring off, only the on-chain step is left open (INCOMPLETE, never FAILED).
    verdict = verify_file(resp.data, document=final_pdf)
    failed = [c for c in verdict.checks if c.ok is False]
    assert failed == [], failed
    assert verdict.verdict == "INCOMPLETE"
    assert any(c.name == "document.hash" and c.ok for c in verdict.checks)
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(final_pdf)
    run = subprocess.run(
        [sys.executable, "-m", "evidence_chain.verify", str(report), "--document", str(contract)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "document.hash" in run.stdout
