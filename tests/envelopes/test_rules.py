"""The envelope state machine: every (state, action) of the table, on stored envelopes.

The expected table is written out here on its own (it is the one docs/envelopes.md shows), so
a change to ``signing/envelopes/rules.py`` that the documentation does not follow fails.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from signing.envelopes.models import Envelope, EnvelopeParty
from signing.envelopes.rules import (
    EnvelopeAction,
    EnvelopeStatus,
    IllegalTransitionError,
    PartyAction,
    PartyStatus,
)
from tests.envelopes.helpers import create, one_party_spec

ENVELOPE = Envelope.__table__  # type: ignore[attr-defined]
PARTY = EnvelopeParty.__table__  # type: ignore[attr-defined]
REMOVED = "(removed)"

EXPECTED: dict[tuple[str, str], str] = {
    ("draft", "send"): "sent",
    ("draft", "delete"): REMOVED,
    ("sent", "remind"): "sent",
    ("sent", "first_signature"): "in_progress",
    ("sent", "decline"): "declined",
    ("sent", "withdraw"): "withdrawn",
    ("sent", "expire"): "expired",
    ("in_progress", "remind"): "in_progress",
    ("in_progress", "complete"): "completed",
    ("in_progress", "decline"): "declined",
    ("in_progress", "withdraw"): "withdrawn",
    ("in_progress", "expire"): "expired",
    ("completed", "void"): "voided",
}
STATES = ["draft", "sent", "in_progress", "completed", "declined", "withdrawn", "expired", "voided"]
ACTIONS = [
    "send",
    "remind",
    "first_signature",
    "complete",
    "decline",
    "withdraw",
    "expire",
    "void",
    "delete",
]
EXPECTED_PARTY = {("pending", "sign"): "signed", ("pending", "decline"): "declined"}


def _allowed(state: str) -> list[str]:
    return [a for a in ACTIONS if (state, a) in EXPECTED]


def test_states_and_actions_are_those_of_the_code() -> None:
    assert [s.value for s in EnvelopeStatus] == STATES
    assert [a.value for a in EnvelopeAction] == ACTIONS
    assert [s.value for s in PartyStatus] == ["pending", "signed", "declined"]
    assert [a.value for a in PartyAction] == ["sign", "decline"]


def test_every_cell_of_the_envelope_table_on_a_stored_envelope(
    client: Any, auth: dict[str, str], contract_pdf: bytes, envelopes: Any
) -> None:
    env_id = create(client, auth, one_party_spec(), contract_pdf).get_json()["id"]
    engine = envelopes.engine
    with engine.connect() as conn:
        row_id = conn.execute(select(ENVELOPE.c.id).where(ENVELOPE.c.public_id == env_id)).scalar()

    def stored() -> Any:
        with engine.connect() as conn:
            return conn.execute(select(ENVELOPE).where(ENVELOPE.c.id == row_id)).one()

    walked = 0
    for state in STATES:
        for action in ACTIONS:
            with engine.begin() as conn:
                conn.execute(update(ENVELOPE).where(ENVELOPE.c.id == row_id).values(status=state))
            before = stored()
            expected = EXPECTED.get((state, action))
            if expected == REMOVED:
                # deleting removes the rows (the API test deletes a draft); no status is set
                with pytest.raises(AssertionError), engine.begin() as conn:
                    envelopes._advance(conn, row_id, state, EnvelopeAction(action))
            elif expected is not None:
                with engine.begin() as conn:
                    got = envelopes._advance(conn, row_id, state, EnvelopeAction(action))
                assert got == expected, (state, action)
                after = stored()
                assert after.status == expected, (state, action)
                assert after.version == before.version + 1
            else:
                with pytest.raises(IllegalTransitionError) as exc, engine.begin() as conn:
                    envelopes._advance(conn, row_id, state, EnvelopeAction(action))
                err = exc.value
                assert err.code == "conflict"
                assert err.details == {
                    "status": state,
                    "action": action,
                    "allowed": _allowed(state),
                }, (state, action)
                for allowed in _allowed(state):
                    assert allowed in err.message, (state, action, err.message)
                if not _allowed(state):
                    assert "allows no further action" in err.message
                assert stored().status == state and stored().version == before.version
            walked += 1
    assert walked == len(STATES) * len(ACTIONS)


def test_a_transition_from_a_state_no_longer_stored_is_refused(
    client: Any, auth: dict[str, str], contract_pdf: bytes, envelopes: Any
) -> None:
    env_id = create(client, auth, one_party_spec(), contract_pdf).get_json()["id"]
    engine = envelopes.engine
    with engine.begin() as conn:
        row_id = conn.execute(select(ENVELOPE.c.id).where(ENVELOPE.c.public_id == env_id)).scalar()
        conn.execute(update(ENVELOPE).where(ENVELOPE.c.id == row_id).values(status="completed"))
    # the caller believes it is in progress; the row says completed: the table answers for that
    with pytest.raises(IllegalTransitionError) as exc, engine.begin() as conn:
        envelopes._advance(conn, row_id, "in_progress", EnvelopeAction.COMPLETE)
    assert exc.value.details["status"] == "completed"
    assert exc.value.details["allowed"] == ["void"]
    with engine.connect() as conn:
        assert conn.execute(select(ENVELOPE.c.status).where(ENVELOPE.c.id == row_id)).scalar() == (
            "completed"
        )


def test_every_cell_of_the_party_table_on_a_stored_party(
    client: Any, auth: dict[str, str], contract_pdf: bytes, envelopes: Any
) -> None:
    env_id = create(client, auth, one_party_spec(), contract_pdf).get_json()["id"]
    engine = envelopes.engine
    with engine.connect() as conn:
        env_row = conn.execute(select(ENVELOPE.c.id).where(ENVELOPE.c.public_id == env_id))
        party_id = conn.execute(
            select(PARTY.c.id).where(PARTY.c.envelope_id == env_row.scalar())
        ).scalar()
    for state in ("pending", "signed", "declined"):
        for action in ("sign", "decline"):
            with engine.begin() as conn:
                conn.execute(update(PARTY).where(PARTY.c.id == party_id).values(status=state))
            expected = EXPECTED_PARTY.get((state, action))
            if expected is not None:
                with engine.begin() as conn:
                    got = envelopes._advance_party(conn, party_id, state, PartyAction(action))
                assert got == expected
            else:
                with pytest.raises(IllegalTransitionError) as exc, engine.begin() as conn:
                    envelopes._advance_party(conn, party_id, state, PartyAction(action))
                assert exc.value.details == {"status": state, "action": action, "allowed": []}
                assert f"you have already {state}" in exc.value.message
            with engine.connect() as conn:
                now = conn.execute(select(PARTY.c.status).where(PARTY.c.id == party_id)).scalar()
            assert now == (expected or state)


def test_the_documented_table_is_the_table() -> None:
    text = (Path(__file__).parents[2] / "docs" / "envelopes.md").read_text(encoding="utf-8")
    header = re.search(r"^\| state \\ action \|(.+)\|$", text, re.M)
    assert header is not None
    columns = [c.strip() for c in header.group(1).split("|")]
    assert columns == ACTIONS
    documented: dict[tuple[str, str], str] = {}
    for state in STATES:
        row = re.search(rf"^\| {state} \|(.*)\|$", text[header.end() :], re.M)
        assert row is not None, state
        for action, cell in zip(ACTIONS, row.group(1).split("|"), strict=True):
            if cell.strip():
                documented[(state, action)] = cell.strip()
    assert documented == EXPECTED
