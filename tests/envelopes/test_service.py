"""The envelope service directly: the lifecycle, codes, turns and the final document."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from evidence_chain.errors import (
    ForbiddenError,
    RateLimitedError,
    VerificationError,
)
from signing.envelopes.service import InitiatorContext, RequestContext
from tests.envelopes.conftest import Mailbox, three_party_spec

CTX = RequestContext("203.0.113.7", "pytest-browser/1.0")
WHO = InitiatorContext("stk_abcdef", RequestContext("198.51.100.2", "pytest-api/1.0"))


def _sign_as(envelopes: Any, mailbox: Mailbox, address: str, token: str, **kw: Any) -> Any:
    before = len(mailbox.to(address))
    envelopes.request_code(token, CTX)
    envelopes.verify_code(token, mailbox.code(address, before), CTX)
    return envelopes.sign(
        token, CTX, placements=kw.get("placements", {}), texts=kw.get("texts", {}), intent=True
    )


def test_three_parties_in_order(
    envelopes: Any, tenant: Any, seal_id: str, contract_pdf: bytes, mailbox: Mailbox
) -> None:
    t = tenant[0]
    env = envelopes.create(t, three_party_spec(seal_id), [("contract.pdf", contract_pdf)], WHO)
    assert env["status"] == "draft"
    env = envelopes.send(t, env["id"], WHO)
    assert env["status"] == "sent"
    alice = mailbox.token("alice@example.test")
    assert mailbox.to("bob@example.test") == []  # not his turn yet
    view = envelopes.open_link(alice, CTX)
    assert view.your_turn and view.party_status == "ready"
    with pytest.raises(ForbiddenError):
        envelopes.sign(alice, CTX, placements={}, texts={}, intent=True)
    view = _sign_as(envelopes, mailbox, "alice@example.test", alice)
    assert view.party_status == "signed" and view.envelope_status == "in_progress"
    bob = mailbox.token("bob@example.test")
    carol = mailbox.token("carol@example.test")
    bob_text = next(f.id for f in envelopes.signer_view(bob).fields if f.kind == "text")
    _sign_as(envelopes, mailbox, "bob@example.test", bob, texts={bob_text: "Buyer"})
    view = _sign_as(envelopes, mailbox, "carol@example.test", carol)
    assert view.envelope_status == "completed" and view.can_download
    _name, pdf = envelopes.download(carol, CTX)
    report = envelopes.signing.validate_document(pdf)
    assert len(report.signatures) == 3, report.summary()
    assert report.all_valid, report.summary()
    detail = envelopes.get(t, env["id"])
    assert detail["documents"][0]["sha256_current"] == hashlib.sha256(pdf).hexdigest()


def test_wrong_code_five_times_locks(
    envelopes: Any, tenant: Any, seal_id: str, contract_pdf: bytes, mailbox: Mailbox
) -> None:
    t = tenant[0]
    env = envelopes.create(t, three_party_spec(seal_id), [("c.pdf", contract_pdf)], WHO)
    envelopes.send(t, env["id"], WHO)
    alice = mailbox.token("alice@example.test")
    envelopes.request_code(alice, CTX)
    real = mailbox.code("alice@example.test")
    wrong = f"{(int(real) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(VerificationError) as exc:
            envelopes.verify_code(alice, wrong, CTX)
        assert exc.value.details["tries_left"] == left
    with pytest.raises(RateLimitedError):
        envelopes.verify_code(alice, wrong, CTX)
    with pytest.raises(RateLimitedError):
        envelopes.verify_code(alice, real, CTX)
    assert envelopes.signer_view(alice).code_locked
    # a reminder issues a new link and lifts the lock
    envelopes.remind(t, env["id"], WHO)
    fresh = mailbox.token("alice@example.test", 1)
    assert not envelopes.signer_view(fresh).code_locked
    with pytest.raises(RateLimitedError):  # but no new code within the resend interval
        envelopes.request_code(fresh, CTX)
