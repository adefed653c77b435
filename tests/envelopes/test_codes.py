"""Links and one-time codes: expiry (410), wrong codes (locked, 429), resend throttle, outbox."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

import pytest

from evidence_chain.errors import GoneError, RateLimitedError, VerificationError
from signing.envelopes.service import RequestContext
from tests.envelopes.conftest import Mailbox
from tests.envelopes.helpers import create, one_party_spec

CTX = RequestContext("203.0.113.5", "pytest/1.0")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _sent(client: Any, auth: dict[str, str], pdf: bytes, **spec: Any) -> dict[str, Any]:
    env = create(client, auth, {**one_party_spec(), **spec}, pdf).get_json()
    assert client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth).status_code == 200
    return dict(env)


def _later(envelopes: Any, delta: dt.timedelta) -> None:
    now = dt.datetime.now(dt.UTC)
    envelopes.clock = lambda: now + delta


def _events(client: Any, auth: dict[str, str], env_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/subjects/envelope:{env_id}/events", headers=auth)
    return [e["record"] for e in r.get_json()["events"]]


def test_expired_link_is_410_and_the_envelope_expires(
    client: Any, auth: dict[str, str], contract_pdf: bytes, mailbox: Mailbox, envelopes: Any
) -> None:
    env = _sent(client, auth, contract_pdf, expires_in_days=1)
    token = mailbox.token("dana@example.test")
    assert client.get(f"/sign/{token}").status_code == 200
    _later(envelopes, dt.timedelta(days=1, seconds=1))
    page = client.get(f"/sign/{token}")
    assert page.status_code == 410
    with pytest.raises(GoneError):
        envelopes.request_code(token, CTX)
    detail = client.get(f"/api/v1/envelopes/{env['id']}", headers=auth).get_json()
    assert detail["status"] == "expired"
    assert (
        "already expired"
        in client.post(f"/api/v1/envelopes/{env['id']}/withdraw", headers=auth).get_json()["error"][
            "message"
        ]
    )
    types = [e["type"] for e in _events(client, auth, env["id"])]
    assert types.count("envelope.expired") == 1
    assert (
        client.get("/api/v1/envelopes?status=expired", headers=auth).get_json()["envelopes"][0][
            "id"
        ]
        == env["id"]
    )


def test_the_expiry_job_expires_overdue_envelopes(
    client: Any, auth: dict[str, str], contract_pdf: bytes, envelopes: Any
) -> None:
    due = _sent(client, auth, contract_pdf, expires_in_days=1)
    later = _sent(client, auth, contract_pdf, expires_in_days=3)
    _later(envelopes, dt.timedelta(days=2))
    assert envelopes.expire_due() == 1
    assert envelopes.expire_due() == 0  # idempotent
    statuses = {
        e["id"]: e["status"]
        for e in client.get("/api/v1/envelopes", headers=auth).get_json()["envelopes"]
    }
    assert statuses == {due["id"]: "expired", later["id"]: "sent"}


def test_wrong_code_five_times_over_the_signer_page(
    client: Any, auth: dict[str, str], contract_pdf: bytes, mailbox: Mailbox
) -> None:
    env = _sent(client, auth, contract_pdf)
    token = mailbox.token("dana@example.test")
    csrf = CSRF.search(client.get(f"/sign/{token}").get_data(as_text=True))
    assert csrf
    form = {"csrf_token": csrf.group(1)}
    assert client.post(f"/sign/{token}/code", data=form).status_code in (200, 303)
    code = mailbox.code("dana@example.test")
    wrong = f"{(int(code) + 7) % 10**6:06d}"
    statuses = [
        client.post(f"/sign/{token}/verify", data={**form, "code": wrong}).status_code
        for _ in range(5)
    ]
    assert statuses == [422, 422, 422, 422, 429]
    # locked: even the right code is refused now, and no new code is sent
    assert client.post(f"/sign/{token}/verify", data={**form, "code": code}).status_code == 429
    assert client.post(f"/sign/{token}/code", data=form).status_code == 429
    types = [e["type"] for e in _events(client, auth, env["id"])]
    assert types.count("envelope.code_rejected") == 5
    assert types.count("envelope.locked") == 1
    assert "envelope.code_accepted" not in types
    detail = client.get(f"/api/v1/envelopes/{env['id']}", headers=auth).get_json()
    assert detail["parties"][0]["code_locked"] is True


def test_code_expires_after_ten_minutes_and_resend_is_throttled(
    client: Any, auth: dict[str, str], contract_pdf: bytes, mailbox: Mailbox, envelopes: Any
) -> None:
    _sent(client, auth, contract_pdf)
    token = mailbox.token("dana@example.test")
    envelopes.request_code(token, CTX)
    with pytest.raises(RateLimitedError) as exc:
        envelopes.request_code(token, CTX)
    assert 0 < exc.value.details["retry_after"] <= 60
    code = mailbox.code("dana@example.test")
    _later(envelopes, dt.timedelta(minutes=10, seconds=1))
    with pytest.raises(VerificationError) as old:
        envelopes.verify_code(token, code, CTX)
    assert "request a new one" in old.value.message
    before = len(mailbox.to("dana@example.test"))
    envelopes.request_code(token, CTX)  # the throttle has passed
    fresh = mailbox.code("dana@example.test", before)
    envelopes.verify_code(token, fresh, CTX)
    assert envelopes.signer_view(token).code_verified
    with pytest.raises(VerificationError):  # single use
        envelopes.verify_code(token, fresh, CTX)


def test_codes_are_never_in_responses_or_logs(
    client: Any,
    auth: dict[str, str],
    contract_pdf: bytes,
    mailbox: Mailbox,
    envelopes: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    env = _sent(client, auth, contract_pdf)
    token = mailbox.token("dana@example.test")
    envelopes.request_code(token, CTX)
    code = mailbox.code("dana@example.test")
    seen = json.dumps(client.get(f"/api/v1/envelopes/{env['id']}", headers=auth).get_json())
    seen += json.dumps(_events(client, auth, env["id"]))
    seen += client.get(f"/sign/{token}").get_data(as_text=True)
    # our own log lines (the test's mail server, aiosmtpd's "mail.log", logs what it receives)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert "message 2 (email) sent" in ours  # the code was mailed, and logged without it
    seen += ours
    assert code not in seen
    assert token not in ours


def test_sms_and_the_outbox_command(
    app: Any, client: Any, auth: dict[str, str], contract_pdf: bytes, envelopes: Any
) -> None:
    phone = "+8613800001234"
    _sent(
        client,
        auth,
        contract_pdf,
        parties=[
            {
                "name": "Fang Wu",
                "phone": phone,
                "fields": [{"kind": "signature", "page": 1, "x": 72, "y": 72}],
            }
        ],
    )
    runner = app.test_cli_runner()
    out = runner.invoke(args=["outbox", "--to", phone, "--json"])
    assert out.exit_code == 0, out.output
    (link_msg,) = [json.loads(line) for line in out.output.splitlines()]
    assert link_msg["channel"] == "sms" and link_msg["to"] == phone
    token = re.search(r"/sign/([A-Za-z0-9_-]+)", link_msg["body"])
    assert token
    view = envelopes.signer_view(token.group(1))
    assert view.code_channel == "sms" and view.code_destination == "+86*******1234"
    envelopes.request_code(token.group(1), CTX)
    text = runner.invoke(args=["outbox", "--to", phone]).output
    code = re.search(r"signing code is (\d{6})", text)
    assert code and "sms to +8613800001234" in text
    envelopes.verify_code(token.group(1), code.group(1), CTX)
    assert runner.invoke(args=["outbox", "--to", "nobody@example.test"]).output.strip() == (
        "the outbox is empty"
    )


def test_the_scheduler_job_expires_envelopes(
    client: Any, auth: dict[str, str], contract_pdf: bytes, instance: Any
) -> None:
    from sqlalchemy import update

    from runtime.jobs import scheduled_jobs
    from signing.envelopes.models import Envelope

    env = _sent(client, auth, contract_pdf, expires_in_days=1)
    job = {job.id: job for job in scheduled_jobs(instance)}["envelope-expiry"]
    assert job.id == "envelope-expiry" and job.func() == 0
    table = Envelope.__table__  # type: ignore[attr-defined]
    with instance.engine.begin() as conn:  # as if the day had passed
        conn.execute(
            update(table)
            .where(table.c.public_id == env["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert job.func() == 1
    detail = client.get(f"/api/v1/envelopes/{env['id']}", headers=auth).get_json()
    assert detail["status"] == "expired"
    assert _events(client, auth, env["id"])[-1]["actor"] == {"role": "system", "name": "sealtrail"}
