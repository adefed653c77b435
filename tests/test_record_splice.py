"""The record spliced under the sequencer is byte for byte the RFC 8785 form of the record."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_chain.core.canonical import canonicalize
from evidence_chain.errors import ValidationError
from evidence_chain.events import EventInput, build_record, prepare, record_bytes

scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12)
floats = st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(
    scalars | floats,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    actor=values,
    data=st.dictionaries(st.text(max_size=8), values, max_size=5),
    subject=st.text(min_size=1, max_size=20),
    kind=st.text(min_size=1, max_size=10),
    occurred=st.text(max_size=30),
    seq=st.integers(0, 2**40),
    prev=st.none() | st.binary(min_size=32, max_size=32),
)
def test_the_spliced_record_is_its_canonical_form(
    actor: Any, data: Any, subject: str, kind: str, occurred: str, seq: int, prev: bytes | None
) -> None:
    event = EventInput(kind, subject, occurred, actor, data, None)
    event_id = "0190a9b2-7c3e-7d41-8a5b-2f0e6c1d9e77"
    received = "2026-11-23T10:00:00.123456Z"
    prepared = prepare("tn_0123456789abcdef", event, event_id, None)
    record = build_record(
        tenant="tn_0123456789abcdef",
        event_id=event_id,
        event=event,
        subject_seq=seq,
        prev_leaf_hash=prev,
        received_at=received,
    )
    assert record_bytes(prepared, seq, prev, received) == canonicalize(record)


def test_data_without_a_canonical_form_is_refused_before_sequencing() -> None:
    event = EventInput("t", "s", "2026-11-23T10:00:00Z", None, {"x": "\ud800"}, None)
    with pytest.raises(ValidationError) as caught:
        prepare("tn_1", event, "id", 3)
    assert caught.value.details["index"] == 3
