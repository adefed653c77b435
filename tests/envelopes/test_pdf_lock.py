"""Envelope signing and voiding hold the PDF lock for in-memory PDF work only: while a
party's signature or a VOID copy waits on the time-stamping authority, others validate."""

from __future__ import annotations

from typing import Any

from signing.pades import PDF_LOCK
from signing.validate import validate_pdf
from tests.envelopes.conftest import Mailbox
from tests.envelopes.helpers import create, one_party_spec, sign_party
from tests.signing.slow_tsa import WAIT, serve_slow_tsa, while_waiting_on_the_tsa


def test_a_signature_waiting_on_the_tsa_does_not_hold_up_other_pdf_work(
    client: Any, auth: dict[str, str], contract_pdf: bytes, mailbox: Mailbox, envelopes: Any
) -> None:
    service = envelopes.signing
    roots = service.ca.trust_roots()
    env = create(client, auth, one_party_spec(), contract_pdf).get_json()
    client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth)
    reports: list[Any] = []
    with serve_slow_tsa(service.tsa.respond) as slow:
        service.timestamper = slow.timestamper  # this instance's own TSA, behind a slow link
        signed, took = while_waiting_on_the_tsa(
            slow,
            lambda: sign_party(envelopes, mailbox, "dana@example.test"),
            lambda: reports.append(validate_pdf(contract_pdf, roots)),
        )
    assert took < WAIT, "validation waited for a signature's time-stamp request"
    assert reports and not reports[0].signatures
    assert not isinstance(signed, Exception), signed
    pdf = client.get(f"/api/v1/envelopes/{env['id']}/documents/1", headers=auth).data
    report = validate_pdf(pdf, roots)
    assert report.all_valid and len(report.signatures) == 1, report.summary()
    assert not PDF_LOCK.held()


def test_voiding_does_not_hold_the_lock_while_it_time_stamps(
    client: Any, auth: dict[str, str], contract_pdf: bytes, mailbox: Mailbox, envelopes: Any
) -> None:
    service = envelopes.signing
    env = create(client, auth, one_party_spec(), contract_pdf).get_json()
    client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth)
    sign_party(envelopes, mailbox, "dana@example.test")
    reports: list[Any] = []
    with serve_slow_tsa(service.tsa.respond) as slow:
        service.timestamper = slow.timestamper
        voided, took = while_waiting_on_the_tsa(
            slow,
            lambda: client.post(
                f"/api/v1/envelopes/{env['id']}/void", json={"reason": "typo"}, headers=auth
            ),
            lambda: reports.append(validate_pdf(contract_pdf, service.ca.trust_roots())),
        )
    assert took < WAIT, "validation waited for the VOID copy's time-stamp request"
    assert not isinstance(voided, Exception), voided
    assert voided.status_code == 200 and voided.get_json()["status"] == "voided"
    void = client.get(f"/api/v1/envelopes/{env['id']}/documents/1?version=void", headers=auth)
    stamps = validate_pdf(void.data, service.ca.trust_roots()).doc_timestamps
    assert len(stamps) == 2 and all(s.intact and s.valid and s.trusted for s in stamps)
