"""Automatic reminders: asked for when the envelope is made, sent by the scheduled job exactly
as often as the envelope asks (on a fake clock), each an event, and never once signed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from runtime.jobs import scheduled_jobs
from tests.envelopes.conftest import LINK, Mailbox
from tests.envelopes.helpers import create, one_party_spec
from tests.test_api import assert_error


def _reminded(client: Any, auth: dict[str, str], env_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/subjects/envelope:{env_id}/events", headers=auth)
    return [
        e["record"] for e in r.get_json()["events"] if e["record"]["type"] == "envelope.reminded"
    ]


def test_reminders_fire_exactly_as_often_as_the_envelope_asks(
    client: Any,
    auth: dict[str, str],
    contract_pdf: bytes,
    mailbox: Mailbox,
    envelopes: Any,
    instance: Any,
) -> None:
    spec = {**one_party_spec(), "reminders": {"every_days": 2}}
    env = create(client, auth, spec, contract_pdf).get_json()
    assert env["reminders"] == {"every_days": 2}
    assert client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth).status_code == 200
    first_link = mailbox.token("dana@example.test")
    start = dt.datetime.now(dt.UTC)
    job = {j.id: j for j in scheduled_jobs(instance)}["envelope-reminders"]

    def at(delta: dt.timedelta) -> int:
        envelopes.clock = lambda: start + delta
        return int(job.func())

    assert at(dt.timedelta(days=1)) == 0  # not yet
    assert at(dt.timedelta(days=2, minutes=1)) == 1  # due
    assert at(dt.timedelta(days=2, minutes=6)) == 0  # the job runs again: not twice
    assert at(dt.timedelta(days=3, hours=23)) == 0
    assert at(dt.timedelta(days=4, minutes=2)) == 1  # two days after the last one
    reminded = _reminded(client, auth, env["id"])
    assert len(reminded) == 2
    assert all(r["data"]["automatic"] is True for r in reminded)
    assert reminded[0]["actor"] == {"role": "system", "name": "automatic reminder"}
    # each reminder is a new link (the earlier one stops working), in both languages
    latest = mailbox.wait_for("dana@example.test", LINK, after=2).group(2)
    assert latest != first_link
    subjects = [m["Subject"] for m in mailbox.to("dana@example.test")]
    assert sum("Reminder" in s and "提醒" in s for s in subjects) == 2


def test_no_reminder_without_asking_nor_once_finished(
    client: Any, auth: dict[str, str], contract_pdf: bytes, envelopes: Any, instance: Any
) -> None:
    plain = create(client, auth, one_party_spec(), contract_pdf).get_json()
    assert plain["reminders"] is None
    client.post(f"/api/v1/envelopes/{plain['id']}/send", headers=auth)
    asked = create(
        client, auth, {**one_party_spec(), "reminders": {"every_days": 1}}, contract_pdf
    ).get_json()
    client.post(f"/api/v1/envelopes/{asked['id']}/send", headers=auth)
    client.post(f"/api/v1/envelopes/{asked['id']}/withdraw", headers=auth, json={})
    start = dt.datetime.now(dt.UTC)
    envelopes.clock = lambda: start + dt.timedelta(days=5)
    assert envelopes.remind_due() == 0
    assert _reminded(client, auth, plain["id"]) == []
    assert _reminded(client, auth, asked["id"]) == []


@pytest.mark.parametrize(
    ("reminders", "field"),
    [
        ({"every_days": 0}, "reminders.every_days"),
        ({"every_days": 31}, "reminders.every_days"),
        ({"every_days": "2"}, "reminders.every_days"),
        ({"every": 2}, "reminders"),
        (3, "reminders"),
    ],
)
def test_a_bad_reminder_setting_is_a_400(
    client: Any, auth: dict[str, str], contract_pdf: bytes, reminders: Any, field: str
) -> None:
    answer = create(client, auth, {**one_party_spec(), "reminders": reminders}, contract_pdf)
    assert assert_error(answer, 400, "invalid_request")["details"]["field"] == field
